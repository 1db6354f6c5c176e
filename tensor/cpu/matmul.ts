/**
 * Batched matrix multiplication with optional transposes and NumPy-broadcast batch dims.
 * @module
 */
import type { Kernel, Storage } from "../backend.ts";
import { arrayFor, type DType, type TypedArray } from "../dtype.ts";
import { broadcastStrides, stridesOf } from "../shape.ts";
import { alloc, forEachRow, input, wrap } from "./iter.ts";

/**
 * Swaps the last two axes of a contiguous `[..., R, C]` array into a new contiguous
 * `[..., C, R]` array of the same dtype.
 */
export function transposeLast2(
  src: TypedArray,
  shape: readonly number[],
  dtype: DType,
): TypedArray {
  const r = shape[shape.length - 2]!, c = shape[shape.length - 1]!;
  const dst = arrayFor(dtype, src.length);
  const mat = r * c;
  const batches = mat === 0 ? 0 : src.length / mat;
  for (let b = 0; b < batches; b++) {
    const base = b * mat;
    for (let i = 0; i < r; i++) {
      const row = base + i * c;
      for (let j = 0; j < c; j++) dst[base + j * r + i] = src[row + j]!;
    }
  }
  return dst;
}

/** C[m×n] += A[m×k] · B[k×n] for contiguous row-major matrices at the given offsets (i-k-j). */
function mmFloat(
  a: TypedArray,
  ao: number,
  b: TypedArray,
  bo: number,
  c: TypedArray,
  co: number,
  m: number,
  k: number,
  n: number,
): void {
  for (let i = 0; i < m; i++) {
    const crow = co + i * n;
    for (let p = 0; p < k; p++) {
      const aip = a[ao + i * k + p]!;
      const brow = bo + p * n;
      for (let j = 0; j < n; j++) c[crow + j] = c[crow + j]! + aip * b[brow + j]!;
    }
  }
}

/** Integer variant of {@link mmFloat}: products and sums wrap modulo 2^32. */
function mmInt(
  a: TypedArray,
  ao: number,
  b: TypedArray,
  bo: number,
  c: TypedArray,
  co: number,
  m: number,
  k: number,
  n: number,
): void {
  for (let i = 0; i < m; i++) {
    const crow = co + i * n;
    for (let p = 0; p < k; p++) {
      const aip = a[ao + i * k + p]!;
      const brow = bo + p * n;
      for (let j = 0; j < n; j++) c[crow + j] = (c[crow + j]! + Math.imul(aip, b[brow + j]!)) | 0;
    }
  }
}

/**
 * `matmul`: a `[...batchA, M, K]` (`[..., K, M]` when transA) times b `[...batchB, K, N]`
 * (`[..., N, K]` when transB). Transposed operands are first copied to contiguous
 * `[M, K]`/`[K, N]` layout so the inner loop is stride-1. Accumulates in the output dtype.
 */
export const matmulKernel: Kernel<"matmul"> = (inputs, params, out): Storage => {
  const ao = inputs[0]!, bo = inputs[1]!;
  const nd = out.shape.length;
  const m = out.shape[nd - 2]!, n = out.shape[nd - 1]!;
  const k = params.transA ? ao.shape[ao.shape.length - 2]! : ao.shape[ao.shape.length - 1]!;
  const a = params.transA ? transposeLast2(input(inputs, 0), ao.shape, ao.dtype) : input(inputs, 0);
  const b = params.transB ? transposeLast2(input(inputs, 1), bo.shape, bo.dtype) : input(inputs, 1);
  const c = alloc(out);
  if (c.length === 0 || k === 0) return wrap(c);
  const batch = out.shape.slice(0, -2);
  const scale = (s: number[], by: number) => s.map((v) => v * by);
  const strides = [
    scale(broadcastStrides(ao.shape.slice(0, -2), batch), m * k),
    scale(broadcastStrides(bo.shape.slice(0, -2), batch), k * n),
    scale(stridesOf(batch), m * n),
  ];
  const mm = out.dtype === "int32" || out.dtype === "uint32" ? mmInt : mmFloat;
  forEachRow(batch, strides, [0, 0, 0], (offs, rows, inner) => {
    for (let r = 0; r < rows; r++) {
      mm(
        a,
        offs[0]! + r * inner[0]!,
        b,
        offs[1]! + r * inner[1]!,
        c,
        offs[2]! + r * inner[2]!,
        m,
        k,
        n,
      );
    }
  });
  return wrap(c);
};
