/**
 * The autodiff transformations: `vjp`, `grad`, `valueAndGrad`, `jvp`.
 * @module
 */
import { onesLike, zerosLike } from "../tensor/creation.ts";
import { isFloat } from "../tensor/dtype.ts";
import { fmtShape, fmtValue, TesseraError } from "../tensor/errors.ts";
import { beginScope, endScope, scope } from "../tensor/memory.ts";
import { Tensor } from "../tensor/tensor.ts";
import { enterLevel, exitLevel, JvpTrace, lower, VjpTrace } from "./trace.ts";
import { treeLeaves, treeMap } from "./tree.ts";

/** Which positional arguments to differentiate. */
export type Argnums = number | readonly number[];

function checkDiffLeaf(op: string, t: Tensor, where: string): void {
  if (!isFloat(t.dtype)) {
    throw new TesseraError(
      op,
      `cannot differentiate with respect to ${where} of dtype ${t.dtype}: only float32/float64 ` +
        `tensors are differentiable (pass it as a non-differentiated argument instead)`,
    );
  }
}

function normArgnums(op: string, argnums: Argnums, n: number): number[] {
  const list = typeof argnums === "number" ? [argnums] : [...argnums];
  for (const a of list) {
    if (!Number.isInteger(a) || a < 0 || a >= n) {
      throw new TesseraError(
        op,
        `argnums ${fmtValue(argnums)} out of range for ${n} arguments`,
      );
    }
  }
  return list;
}

interface VjpCore {
  out: unknown;
  aux: unknown;
  pullback: (ct: unknown) => unknown[];
  release: () => void;
}

function vjpCore(
  op: string,
  f: (...a: never[]) => unknown,
  args: unknown[],
  argnums: number[],
  hasAux: boolean,
): VjpCore {
  const trace = new VjpTrace(enterLevel());
  const leavesPerArg: Tensor[][] = [];
  let out: unknown, aux: unknown;
  beginScope();
  try {
    const wrapped = args.map((arg, i) => {
      if (!argnums.includes(i)) return arg;
      const leaves: Tensor[] = [];
      const w = treeMap((t) => {
        checkDiffLeaf(op, t, `argument ${i}`);
        const l = trace.leaf(t);
        leaves.push(l);
        return l;
      }, arg);
      leavesPerArg.push(leaves);
      return w;
    });
    const res = f(...(wrapped as never[]));
    if (hasAux) {
      if (!Array.isArray(res) || res.length !== 2) {
        throw new TesseraError(op, "with hasAux the function must return [output, aux]");
      }
      [out, aux] = res;
    } else out = res;
  } catch (e) {
    exitLevel();
    endScope(undefined);
    trace.release();
    throw e;
  }
  exitLevel();
  const outTracers = treeLeaves(out);
  const outLowered = treeMap((t) => lower(t, trace), out);
  const auxLowered = treeMap((t) => lower(t, trace), aux);
  endScope([outLowered, auxLowered]);
  const pullback = (ct: unknown): unknown[] => {
    const cts = treeLeaves(ct);
    if (cts.length !== outTracers.length) {
      throw new TesseraError(
        op,
        `cotangent has ${cts.length} tensors, output has ${outTracers.length}`,
      );
    }
    cts.forEach((c, i) => {
      const o = outTracers[i]!;
      if (c.dtype !== o.dtype || c.ndim !== o.ndim || c.shape.some((d, j) => d !== o.shape[j])) {
        throw new TesseraError(
          op,
          `cotangent ${i} is ${c.dtype} ${fmtShape(c.shape)}, output is ${o.dtype} ${
            fmtShape(o.shape)
          }`,
        );
      }
    });
    const allLeaves = leavesPerArg.flat();
    const grads = trace.backward(outTracers, cts, allLeaves);
    let k = 0;
    return argnums.map((i) => treeMap((t) => grads[k++] ?? zerosLike(t), args[i]));
  };
  return { out: outLowered, aux: auxLowered, pullback, release: () => trace.release() };
}

/**
 * Reverse mode: evaluates `f(...primals)` and returns its output with a pullback mapping an
 * output cotangent (same structure as the output) to one cotangent per argument. Arguments
 * are pytrees; their tensor leaves must be float. Intermediates kept for the pullback are
 * released after its first call (call it inside `scope` to free them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vjp, mul, tensor, onesLike, type Tensor } from "../mod.ts";
 * const [y, pullback] = vjp((x: Tensor) => mul(x, x), tensor([1, 2, 3]));
 * const [dx] = pullback(onesLike(y));
 * assert.deepEqual(await dx.toArray(), [2, 4, 6]);
 * ```
 */
export function vjp<A extends unknown[], R>(
  f: (...args: A) => R,
  ...primals: A
): [R, (cotangent: R) => A] {
  const core = vjpCore(
    "vjp",
    f as (...a: never[]) => unknown,
    primals,
    primals.map((_, i) => i),
    false,
  );
  const pullback = (ct: R): A => {
    const g = scope(() => core.pullback(ct));
    core.release();
    return g as A;
  };
  return [core.out as R, pullback];
}

/** Options of {@link grad} and {@link valueAndGrad}. */
export interface GradOptions {
  /** Argument(s) to differentiate (default 0). An array returns a tuple of gradients. */
  argnums?: Argnums;
  /** `f` returns `[scalar, aux]`; aux is returned alongside, not differentiated. */
  hasAux?: boolean;
}

function scalarOut(op: string, out: unknown): Tensor {
  if (!(out instanceof Tensor)) {
    throw new TesseraError(
      op,
      "the function must return a scalar Tensor (use hasAux to return extras)",
    );
  }
  if (out.size !== 1 || !isFloat(out.dtype)) {
    throw new TesseraError(
      op,
      `the function must return a float scalar, got ${out.dtype} ${fmtShape(out.shape)}`,
    );
  }
  return out;
}

/**
 * `valueAndGrad(f)(...args)` returns `[value, grads]` (or `[[value, aux], grads]` with
 * `hasAux`). `grads` has the structure of the differentiated argument (a tuple when
 * `argnums` is an array). Everything `f` created except the results is freed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { valueAndGrad, sum, mul, tensor, type Tensor } from "../mod.ts";
 * const [v, g] = valueAndGrad((x: Tensor) => sum(mul(x, x)))(tensor([1, 2]));
 * assert.equal(await v.item(), 5);
 * assert.deepEqual(await g.toArray(), [2, 4]);
 * ```
 */
export function valueAndGrad<A extends unknown[], V = Tensor, G = A[0]>(
  f: (...args: A) => unknown,
  opts: GradOptions = {},
): (...args: A) => [V, G] {
  return valueAndGradAs("valueAndGrad", f, opts);
}

function valueAndGradAs<A extends unknown[], V, G>(
  op: string,
  f: (...args: A) => unknown,
  opts: GradOptions | null,
): (...args: A) => [V, G] {
  opts ??= {};
  if (typeof f !== "function") throw new TesseraError(op, "f must be a function");
  return (...args: A) =>
    scope(() => {
      const nums = normArgnums(op, opts.argnums ?? 0, args.length);
      const core = vjpCore(op, f as (...a: never[]) => unknown, args, nums, opts.hasAux ?? false);
      try {
        const out = scalarOut(op, core.out);
        const grads = core.pullback(onesLike(out));
        const g = typeof (opts.argnums ?? 0) === "number" ? grads[0] : grads;
        return [opts.hasAux ? [out, core.aux] : out, g] as [V, G];
      } finally {
        core.release();
      }
    });
}

/**
 * `grad(f)(...args)`: the gradient of a scalar-valued `f` with respect to argument(s)
 * `argnums` (default 0), with the same structure as that argument. Composes: `grad(grad(f))`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { grad, mul, sum, tensor, type Tensor } from "../mod.ts";
 * const f = (x: Tensor) => sum(mul(mul(x, x), x)); // Σ x³
 * assert.deepEqual(await grad(f)(tensor([2])).toArray(), [12]);
 * // grad of grad: d²/dx² Σ x³ = 6x
 * assert.deepEqual(await grad((x: Tensor) => sum(grad(f)(x)))(tensor([2])).toArray(), [12]);
 * ```
 */
export function grad<A extends unknown[], G = A[0]>(
  f: (...args: A) => unknown,
  opts: Omit<GradOptions, "hasAux"> = {},
): (...args: A) => G {
  const vg = valueAndGradAs<A, Tensor, G>("grad", f, opts);
  return (...args: A) => {
    const [value, g] = vg(...args);
    value.dispose();
    return g;
  };
}

/** Checks two pytrees have the same containers and tensor positions (JAX's tree check). */
function sameStructure(op: string, a: unknown, b: unknown, path: string): void {
  const kind = (x: unknown) =>
    x instanceof Tensor
      ? "tensor"
      : Array.isArray(x)
      ? "array"
      : x !== null && typeof x === "object" &&
          Object.getPrototypeOf(x) === Object.prototype
      ? "object"
      : "leaf";
  const ka = kind(a), kb = kind(b);
  const fail = (why: string) => {
    throw new TesseraError(op, `primal and tangent differ in structure at ${path}: ${why}`);
  };
  if (ka !== kb && (ka === "tensor" || kb === "tensor" || ka !== "leaf" || kb !== "leaf")) {
    fail(`${ka} vs ${kb}`);
  }
  if (ka === "array") {
    const xa = a as unknown[], xb = b as unknown[];
    if (xa.length !== xb.length) fail(`array lengths ${xa.length} vs ${xb.length}`);
    xa.forEach((v, i) => sameStructure(op, v, xb[i], `${path}.${i}`));
  } else if (ka === "object") {
    const oa = a as Record<string, unknown>, ob = b as Record<string, unknown>;
    const keysA = Object.keys(oa).sort(), keysB = Object.keys(ob).sort();
    if (keysA.join(",") !== keysB.join(",")) fail(`keys [${keysA}] vs [${keysB}]`);
    for (const k of keysA) sameStructure(op, oa[k], ob[k], `${path}.${k}`);
  }
}

/**
 * Forward mode: returns `[f(...primals), J·tangents]`. `tangents` mirrors `primals` (one
 * pytree per argument, same shapes and dtypes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jvp, sin, tensor } from "../mod.ts";
 * const [y, dy] = jvp(sin, [tensor([0])], [tensor([1])]);
 * assert.deepEqual(await y.toArray(), [0]);
 * assert.deepEqual(await dy.toArray(), [1]);
 * ```
 */
export function jvp<A extends unknown[], R>(
  f: (...args: A) => R,
  primals: A,
  tangents: A,
): [R, R] {
  const op = "jvp";
  if (!Array.isArray(primals) || !Array.isArray(tangents) || primals.length !== tangents.length) {
    throw new TesseraError(
      op,
      "primals and tangents must be arrays of the same length (one entry per argument)",
    );
  }
  primals.forEach((p, i) => sameStructure(op, p, tangents[i], `argument ${i}`));
  return scope(() => {
    const trace = new JvpTrace(enterLevel());
    let out: R;
    try {
      const wrapped = primals.map((p, i) =>
        treeMap(
          (x, t) => {
            checkDiffLeaf(op, x, `argument ${i}`);
            if (
              t.dtype !== x.dtype || t.ndim !== x.ndim || t.shape.some((d, j) => d !== x.shape[j])
            ) {
              throw new TesseraError(
                op,
                `tangent ${t.dtype} ${fmtShape(t.shape)} does not match primal ${x.dtype} ${
                  fmtShape(x.shape)
                }`,
              );
            }
            return trace.wrap(x, t);
          },
          p,
          tangents[i],
        )
      );
      out = f(...(wrapped as A));
    } finally {
      exitLevel();
    }
    const primalOut = treeMap((t) => lower(t, trace), out);
    const tangentOut = treeMap((t) => {
      const tan = trace.tangentOf(t);
      return tan ?? zerosLike(t);
    }, out);
    return [primalOut, tangentOut] as [R, R];
  });
}
