/**
 * Shared helpers for the CPU kernels: output allocation, operand access and strided
 * iteration over the innermost rows of a (possibly broadcast, permuted or sliced) view.
 * @module
 */
import type { Operand, Storage } from "../backend.ts";
import type { TypedArray } from "../dtype.ts";
import type { Aval } from "../aval.ts";
import { coalesce, sizeOf } from "../shape.ts";
import { allocArray } from "./buffers.ts";
import { arr, CpuStorage } from "./storage.ts";

/**
 * float32 strided copy row: `dst[d0 + j·ds] = src[s0 + j·ss]` for `j < n` (the inner loop
 * of permute/broadcastTo/slice/pad/concat); only ever called with Float32Array, so V8 keeps it
 * monomorphic.
 */
function copyRowF32(
  src: Float32Array,
  s0: number,
  ss: number,
  dst: Float32Array,
  d0: number,
  ds: number,
  n: number,
): void {
  if (ss === 1 && ds === 1) dst.set(src.subarray(s0, s0 + n), d0);
  else if (ss === 0 && ds === 1) dst.fill(src[s0]!, d0, d0 + n);
  else for (let j = 0; j < n; j++) dst[d0 + j * ds] = src[s0 + j * ss]!;
}

/** A zero-filled typed array of the right kind and length for `out` (maybe recycled). */
export function alloc(out: Aval): TypedArray {
  return allocArray(out.dtype, sizeOf(out.shape));
}

/** The typed array of input `i` (never write into it). */
export function input(inputs: readonly Operand[], i: number): TypedArray {
  return arr(inputs[i]!.storage);
}

/** Wraps a freshly written typed array as kernel output. */
export function wrap(data: TypedArray): Storage {
  return new CpuStorage(data);
}

/**
 * Called once per innermost row: `offs[k]` is operand k's element offset at the row start,
 * `n` the row length and `inner[k]` operand k's stride along the row. `offs` is reused
 * between calls, so read it, do not keep it.
 */
export type RowFn = (offs: readonly number[], n: number, inner: readonly number[]) => void;

/**
 * Walks `shape` in row-major order for several operands at once (each with its own element
 * strides and base offset) and calls `row` for every innermost row. Nothing is called when
 * the shape has a zero dimension; a scalar (or all-ones) shape gives one row of length 1.
 */
export function forEachRow(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
  bases: readonly number[],
  row: RowFn,
): void {
  const total = sizeOf(shape);
  if (total === 0) return;
  const k = strides.length;
  const c = coalesce(shape, strides);
  const nd = c.shape.length;
  const offs = bases.slice();
  if (nd === 0) {
    row(offs, 1, new Array<number>(k).fill(0));
    return;
  }
  const n = c.shape[nd - 1]!;
  const inner = c.strides.map((s) => s[nd - 1]!);
  const idx = new Array<number>(nd).fill(0);
  const rows = total / n;
  for (let r = 0; r < rows; r++) {
    row(offs, n, inner);
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      if (idx[d]! < c.shape[d]!) {
        for (let q = 0; q < k; q++) offs[q]! += c.strides[q]![d]!;
        break;
      }
      idx[d] = 0;
      for (let q = 0; q < k; q++) offs[q]! -= c.strides[q]![d]! * (c.shape[d]! - 1);
    }
  }
}

/**
 * Copies `shape` elements from `src` (read at `srcBase` with `srcStrides`) into `dst` (written
 * at `dstBase` with `dstStrides`). Both arrays must be of the same kind. Strides may be
 * negative (flip) or zero in the source (broadcast).
 */
export function copyStrided(
  src: TypedArray,
  srcBase: number,
  srcStrides: readonly number[],
  dst: TypedArray,
  dstBase: number,
  dstStrides: readonly number[],
  shape: readonly number[],
): void {
  if (src instanceof Float32Array && dst instanceof Float32Array) {
    forEachRow(shape, [srcStrides, dstStrides], [srcBase, dstBase], (offs, n, inner) => {
      copyRowF32(src, offs[0]!, inner[0]!, dst, offs[1]!, inner[1]!, n);
    });
    return;
  }
  forEachRow(shape, [srcStrides, dstStrides], [srcBase, dstBase], (offs, n, inner) => {
    const so = offs[0]!, ss = inner[0]!, d0 = offs[1]!, ds = inner[1]!;
    if (ss === 1 && ds === 1) {
      for (let j = 0; j < n; j++) dst[d0 + j] = src[so + j]!;
    } else {
      for (let j = 0; j < n; j++) dst[d0 + j * ds] = src[so + j * ss]!;
    }
  });
}

/**
 * Splits `shape` around `axis` into (outer, length, inner) sizes, so that the element at
 * (o, k, i) sits at `(o * length + k) * inner + i` in a contiguous array.
 */
export function splitAxis(
  shape: readonly number[],
  axis: number,
): { outer: number; len: number; inner: number } {
  return {
    outer: sizeOf(shape.slice(0, axis)),
    len: shape[axis]!,
    inner: sizeOf(shape.slice(axis + 1)),
  };
}
