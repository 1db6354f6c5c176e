/**
 * Indexing kernels: `gather` along an axis and its adjoint `scatterAdd`.
 * @module
 */
import type { Kernel, Storage } from "../backend.ts";
import type { TypedArray } from "../dtype.ts";
import { TesseraError } from "../errors.ts";
import { alloc, input, splitAxis, wrap } from "./iter.ts";

/** Throws `op: index i out of range for axis a of size n` for the first bad index. */
function checkIndices(op: string, idx: TypedArray, axis: number, size: number): void {
  for (let t = 0; t < idx.length; t++) {
    const i = idx[t]!;
    if (i < 0 || i >= size) {
      throw new TesseraError(op, `index ${i} out of range for axis ${axis} of size ${size}`);
    }
  }
}

/**
 * `gather(axis)`: `out[...pre, ...idx, ...post] = x[...pre, indices[...idx], ...post]`.
 * Every index must lie in `[0, x.shape[axis])`.
 */
export const gatherKernel: Kernel<"gather"> = (inputs, params, out): Storage => {
  const x = input(inputs, 0), idx = input(inputs, 1);
  const { outer, len, inner } = splitAxis(inputs[0]!.shape, params.axis);
  checkIndices("gather", idx, params.axis, len);
  const o = alloc(out);
  const nIdx = idx.length;
  for (let p = 0; p < outer; p++) {
    for (let t = 0; t < nIdx; t++) {
      const src = (p * len + idx[t]!) * inner;
      const dst = (p * nIdx + t) * inner;
      for (let i = 0; i < inner; i++) o[dst + i] = x[src + i]!;
    }
  }
  return wrap(o);
};

/**
 * `scatterAdd(axis)`: a copy of `x` with `updates` (shaped like the matching gather output)
 * added at the indexed positions; repeated indices accumulate. float32 accumulates in
 * float64 and rounds once; integers wrap modulo 2^32.
 */
export const scatterAddKernel: Kernel<"scatterAdd"> = (inputs, params, out): Storage => {
  const x = input(inputs, 0), idx = input(inputs, 1), upd = input(inputs, 2);
  const { outer, len, inner } = splitAxis(inputs[0]!.shape, params.axis);
  checkIndices("scatterAdd", idx, params.axis, len);
  const o = alloc(out);
  const isInt = out.dtype === "int32" || out.dtype === "uint32";
  const acc = out.dtype === "float32" ? new Float64Array(x.length) : o;
  acc.set(x);
  const nIdx = idx.length;
  for (let p = 0; p < outer; p++) {
    for (let t = 0; t < nIdx; t++) {
      const dst = (p * len + idx[t]!) * inner;
      const src = (p * nIdx + t) * inner;
      if (isInt) {
        for (let i = 0; i < inner; i++) acc[dst + i] = (acc[dst + i]! + upd[src + i]!) | 0;
      } else {
        for (let i = 0; i < inner; i++) acc[dst + i] = acc[dst + i]! + upd[src + i]!;
      }
    }
  }
  if (acc !== o) o.set(acc);
  return wrap(o);
};
