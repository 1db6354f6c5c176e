/**
 * Batched matrix multiplication with optional transposes and NumPy-broadcast batch dims.
 * @module
 */
import type { Kernel, Storage } from "../backend.ts";
import { arrayFor, type DType, type TypedArray } from "../dtype.ts";
import { broadcastStrides, stridesOf } from "../shape.ts";
import { alloc, forEachRow, input, wrap } from "./iter.ts";
import { fastGemm } from "./gemm.ts";

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

/**
 * C[m×n] += A[m×k] · B[k×n] for contiguous row-major matrices at the given offsets (i-k-j).
 * With `int`, products and sums wrap modulo 2^32 (int32/uint32).
 */
function mm(
  a: TypedArray,
  ao: number,
  b: TypedArray,
  bo: number,
  c: TypedArray,
  co: number,
  m: number,
  k: number,
  n: number,
  int: boolean,
): void {
  for (let i = 0; i < m; i++) {
    const crow = co + i * n;
    for (let p = 0; p < k; p++) {
      const aip = a[ao + i * k + p]!;
      const brow = bo + p * n;
      if (int) {
        for (let j = 0; j < n; j++) c[crow + j] = (c[crow + j]! + Math.imul(aip, b[brow + j]!)) | 0;
      } else {
        for (let j = 0; j < n; j++) c[crow + j] = c[crow + j]! + aip * b[brow + j]!;
      }
    }
  }
}

/**
 * The fast paths (`./gemm.ts`: native BLAS for float32/float64, else the WebAssembly GEMM for
 * float32) read transposed operands through strides (no copies), and a weight shared by the
 * whole batch (`[..., M, K] @ [K, N]`) is folded into one tall `[batch·M, K] @ [K, N]` product.
 * Returns undefined when no fast path applies.
 */
function fastMatmul(
  a: TypedArray,
  as: readonly number[],
  b: TypedArray,
  bs: readonly number[],
  transA: boolean,
  transB: boolean,
  outShape: readonly number[],
): TypedArray | undefined {
  const nd = outShape.length;
  const m = outShape[nd - 2]!, n = outShape[nd - 1]!;
  const k = transA ? as[as.length - 2]! : as[as.length - 1]!;
  const batch = outShape.slice(0, -2);
  const count = batch.reduce((x, y) => x * y, 1);
  const cSize = count * m * n;
  const base = {
    k,
    n,
    rsa: transA ? 1 : k,
    csa: transA ? m : 1,
    rsb: transB ? 1 : n,
    csb: transB ? k : 1,
  };
  const bBatch = bs.slice(0, -2).reduce((x, y) => x * y, 1);
  const aBatch = as.slice(0, -2).reduce((x, y) => x * y, 1);
  if (!transA && bBatch === 1 && aBatch === count) {
    return fastGemm(a, b, cSize, { ...base, m: count * m, offsets: new Int32Array(3) });
  }
  const sa = broadcastStrides(as.slice(0, -2), batch),
    sb = broadcastStrides(bs.slice(0, -2), batch);
  const offsets = new Int32Array(3 * count);
  const idx = new Array<number>(batch.length).fill(0);
  let ao = 0, bo = 0;
  for (let q = 0; q < count; q++) {
    offsets[3 * q] = ao * m * k;
    offsets[3 * q + 1] = bo * k * n;
    offsets[3 * q + 2] = q * m * n;
    for (let d = batch.length - 1; d >= 0; d--) {
      ao += sa[d]!;
      bo += sb[d]!;
      if (++idx[d]! < batch[d]!) break;
      ao -= sa[d]! * batch[d]!;
      bo -= sb[d]! * batch[d]!;
      idx[d] = 0;
    }
  }
  return fastGemm(a, b, cSize, { ...base, m, offsets });
}

/**
 * `matmul`: a `[...batchA, M, K]` (`[..., K, M]` when transA) times b `[...batchB, K, N]`
 * (`[..., N, K]` when transB). Transposed operands are first copied to contiguous
 * `[M, K]`/`[K, N]` layout so the inner loop is stride-1. Accumulates in the output dtype.
 * float32 and float64 go to the fast paths when available (`./gemm.ts`: native BLAS, else
 * WebAssembly SIMD for float32); the integer dtypes always use this reference loop.
 */
export const matmulKernel: Kernel<"matmul"> = (inputs, params, out): Storage => {
  const ao = inputs[0]!, bo = inputs[1]!;
  if (out.dtype === "float32" || out.dtype === "float64") {
    const fast = fastMatmul(
      input(inputs, 0),
      ao.shape,
      input(inputs, 1),
      bo.shape,
      params.transA,
      params.transB,
      out.shape,
    );
    if (fast) return wrap(fast);
  }
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
  const int = out.dtype === "int32" || out.dtype === "uint32";
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
        int,
      );
    }
  });
  return wrap(c);
};
