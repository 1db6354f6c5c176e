/**
 * User-defined derivatives (`customVjp`) and rematerialisation (`checkpoint`).
 * @module
 */
import { TesseraError } from "../tensor/errors.ts";
import { scope } from "../tensor/memory.ts";
import { topTrace } from "../tensor/dispatch.ts";
import { Tensor } from "../tensor/tensor.ts";
import { isFloat } from "../tensor/dtype.ts";
import { zerosLike } from "../tensor/creation.ts";
import { lower, type VjpTrace } from "./trace.ts";
import { flattenAll, treeLeaves } from "./tree.ts";
import { vjp } from "./transforms.ts";

/**
 * Defines a function with a hand-written reverse-mode derivative (JAX's `custom_vjp`).
 * `fwd(...args)` returns `[output, residuals]`; `bwd(residuals, outputCotangent)` returns
 * one cotangent per argument (a pytree like the argument, or null for "no gradient").
 *
 * Under reverse mode the innermost `vjp`/`grad` uses `bwd`; outer transformations (grad of
 * grad) differentiate through `fwd` and `bwd` themselves, and forward mode (`jvp`)
 * differentiates through `f`. That makes `checkGrad` able to catch a wrong `bwd`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { customVjp, grad, mul, sum, tensor, exp, type Tensor } from "../mod.ts";
 * // exp with a hand-written gradient that reuses the output
 * const myExp = customVjp(
 *   (x: Tensor) => exp(x),
 *   (x: Tensor): [Tensor, Tensor] => { const y = exp(x); return [y, y]; },
 *   (y: Tensor, g: Tensor) => [mul(g, y)],
 * );
 * assert.deepEqual(await grad((x: Tensor) => sum(myExp(x)))(tensor([0])).toArray(), [1]);
 * ```
 */
export function customVjp<A extends unknown[], R, Res>(
  f: (...args: A) => R,
  fwd: (...args: A) => [R, Res],
  bwd: (residuals: Res, cotangent: R) => unknown[],
): (...args: A) => R {
  if (typeof f !== "function" || typeof fwd !== "function" || typeof bwd !== "function") {
    throw new TesseraError("customVjp", "f, fwd and bwd must all be functions");
  }
  return (...args: A): R => {
    const trace = topTrace(treeLeaves(args));
    if (!trace || trace.kind !== "vjp") return f(...args);
    const vt = trace as VjpTrace;
    const inFlat = flattenAll(args);
    const lowered = inFlat.rebuild(
      inFlat.leaves.map((l) => (l instanceof Tensor ? lower(l, vt) : l)),
    ) as A;
    const [out, res] = fwd(...lowered);
    const outFlat = flattenAll(out);
    const outTensors = outFlat.leaves.filter((l): l is Tensor => l instanceof Tensor);
    const inTensors = inFlat.leaves.filter((l): l is Tensor => l instanceof Tensor);
    const pullback = (cts: readonly (Tensor | null)[]): (Tensor | null)[] => {
      let k = 0;
      const ctTree = outFlat.rebuild(
        outFlat.leaves.map((l) => (l instanceof Tensor ? cts[k++] ?? zerosLike(l) : l)),
      ) as R;
      const grads = bwd(res, ctTree);
      if (!Array.isArray(grads) || grads.length !== args.length) {
        throw new TesseraError(
          "customVjp",
          `bwd must return an array with one cotangent per argument (${args.length}), got ${
            Array.isArray(grads) ? grads.length : typeof grads
          }`,
        );
      }
      const flat: (Tensor | null)[] = [];
      grads.forEach((g, i) => {
        const argLeaves = treeLeaves(args[i]);
        if (g === null || g === undefined) {
          argLeaves.forEach(() => flat.push(null));
          return;
        }
        const gl = treeLeaves(g);
        if (gl.length !== argLeaves.length) {
          throw new TesseraError(
            "customVjp",
            `bwd cotangent ${i} has ${gl.length} tensors, argument has ${argLeaves.length}`,
          );
        }
        gl.forEach((t, j) => {
          const a = argLeaves[j]!;
          if (t.ndim !== a.ndim || t.shape.some((d, q) => d !== a.shape[q])) {
            throw new TesseraError(
              "customVjp",
              `bwd cotangent ${i} has shape [${t.shape}], argument has [${a.shape}]`,
            );
          }
          flat.push(t);
        });
      });
      return flat;
    };
    const wrapped = vt.record(inTensors, outTensors, pullback, [lowered, out, res]);
    let k = 0;
    return outFlat.rebuild(
      outFlat.leaves.map((l) => (l instanceof Tensor ? wrapped[k++] : l)),
    ) as R;
  };
}

/**
 * Gradient checkpointing: `checkpoint(f)` computes the same values, but under reverse mode
 * keeps only its inputs and outputs and recomputes `f`'s intermediates during the backward
 * pass — trading compute for memory (JAX's `jax.checkpoint` / `remat`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkpoint, grad, sin, sum, tensor, type Tensor } from "../mod.ts";
 * const block = checkpoint((x: Tensor) => sin(sin(x)));
 * assert.deepEqual(await grad((x: Tensor) => sum(block(x)))(tensor([0])).toArray(), [1]);
 * ```
 */
export function checkpoint<A extends unknown[], R>(f: (...args: A) => R): (...args: A) => R {
  return customVjp(
    f,
    (...args: A) => [scope(() => f(...args)), args] as [R, A],
    (args: A, ct: R) => {
      // Differentiate with respect to the float leaves only (ints and bools pass through).
      const flat = flattenAll(args);
      const isDiff = (l: unknown): l is Tensor => l instanceof Tensor && isFloat(l.dtype);
      const floats = flat.leaves.filter(isDiff);
      const rerun = (...fs: Tensor[]): R => {
        let k = 0;
        return f(...(flat.rebuild(flat.leaves.map((l) => (isDiff(l) ? fs[k++] : l))) as A));
      };
      const [, pullback] = vjp(rerun, ...floats);
      const grads = pullback(ct) as Tensor[];
      let k = 0;
      const gradLeaves = flat.leaves.map((l) =>
        isDiff(l) ? grads[k++] : l instanceof Tensor ? zerosLike(l) : l
      );
      return flat.rebuild(gradLeaves) as unknown[];
    },
  );
}
