/**
 * `bind`: the single entry point through which every primitive is applied. It hands the
 * primitive to the innermost active autodiff trace among the inputs, or evaluates it eagerly
 * on the inputs' backend.
 * @module
 */
import type { FusedName, FusedParams } from "./backend.ts";
import type { Aval } from "./aval.ts";
import { TesseraError } from "./errors.ts";
import { opName, type Prim, type PrimParams } from "./primitives.ts";
import { abstractEval } from "./shape_rules.ts";
import { checkNumel } from "./shape.ts";
import { Tensor, type Trace } from "./tensor.ts";

/** The innermost trace among the inputs, or null when all are concrete. */
export function topTrace(inputs: readonly Tensor[]): Trace | null {
  let top: Trace | null = null;
  for (const t of inputs) {
    const tr = t.tracer?.trace;
    if (tr && (!top || tr.level > top.level)) top = tr;
  }
  return top;
}

/**
 * Applies primitive `prim`. Public ops call this after normalising their arguments; the
 * shape rule validates again, so bad input can never reach a kernel.
 */
export function bind<P extends Prim>(
  prim: P,
  inputs: readonly Tensor[],
  params: PrimParams[P],
): Tensor {
  for (const t of inputs) {
    if (!(t instanceof Tensor)) {
      throw new TesseraError(opName(prim, params), `expected Tensor inputs, got ${typeof t}`);
    }
  }
  const trace = topTrace(inputs);
  if (trace) return trace.process(prim, inputs, params);
  return evalEager(prim, inputs, params);
}

/** Evaluates a primitive on concrete tensors. */
export function evalEager<P extends Prim>(
  prim: P,
  inputs: readonly Tensor[],
  params: PrimParams[P],
): Tensor {
  const aval = abstractEval(prim, inputs, params);
  checkNumel(opName(prim, params), aval.shape, aval.dtype);
  const backend = inputs[0]!.backend;
  for (const t of inputs) {
    if (t.backend !== backend) {
      throw new TesseraError(
        opName(prim, params),
        `inputs live on different backends (${backend.name} and ${t.backend.name}); use toBackend()`,
      );
    }
  }
  // Layout-free primitives share storage instead of copying.
  if (prim === "reshape" || prim === "stopGradient") {
    return new Tensor(aval.shape, aval.dtype, backend, inputs[0]!.storage);
  }
  const operands = inputs.map((t) => ({ storage: t.storage, shape: t.shape, dtype: t.dtype }));
  const storage = backend.execute(prim, operands, params, aval);
  return new Tensor(aval.shape, aval.dtype, backend, storage);
}

/**
 * Runs composite `name` on `inputs`: when their backend has a fused kernel for it and no
 * autodiff trace is active among them, that kernel computes the value (`out` is the
 * composite's output aval); otherwise `composite()` runs its primitives. Under `grad`/`jvp`
 * the composite always runs, so the derivative is the composite's own and no fused kernel
 * needs a rule; a fused kernel must therefore give the composite's value (CPU gelu is
 * bit-exact), and a backend may add one kernel at a time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fusedOr } from "./dispatch.ts";
 * import { erf, mul, add, tensor } from "../mod.ts";
 * const x = tensor([0, 1]);
 * const composite = () => mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
 * const y = fusedOr("gelu", [x], {}, x, composite); // the CPU backend's fused kernel
 * assert.deepEqual(await y.toArray(), await composite().toArray());
 * ```
 */
export function fusedOr<F extends FusedName>(
  name: F,
  inputs: readonly Tensor[],
  params: FusedParams[F],
  out: Aval,
  composite: () => Tensor,
): Tensor {
  const backend = inputs[0]!.backend;
  const kernel = backend.fused?.[name];
  if (!kernel || topTrace(inputs) || inputs.some((t) => t.backend !== backend)) {
    return composite();
  }
  const operands = inputs.map((t) => ({ storage: t.storage, shape: t.shape, dtype: t.dtype }));
  return new Tensor(out.shape, out.dtype, backend, kernel(operands, params, out));
}
