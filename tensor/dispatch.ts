/**
 * `bind`: the single entry point through which every primitive is applied. It hands the
 * primitive to the innermost active autodiff trace among the inputs, or evaluates it eagerly
 * on the inputs' backend.
 * @module
 */
import { TesseraError } from "./errors.ts";
import type { Prim, PrimParams } from "./primitives.ts";
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
      throw new TesseraError(prim, `expected Tensor inputs, got ${typeof t}`);
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
  checkNumel(prim, aval.shape, aval.dtype);
  const backend = inputs[0]!.backend;
  for (const t of inputs) {
    if (t.backend !== backend) {
      throw new TesseraError(
        prim,
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
