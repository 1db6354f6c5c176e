/**
 * `argsort`: stable sort indices along an axis (bottom-up merge sort, no comparator closures).
 * @module
 */
import type { Kernel, Storage } from "../backend.ts";
import { alloc, input, splitAxis, wrap } from "./iter.ts";

/**
 * Stably sorts `idx[0..n)` by `keys[idx[·]]` (no NaN among them), ascending or descending,
 * using `tmp` (length ≥ n) as scratch. Returns whichever of `idx`/`tmp` holds the result.
 */
export function mergeSortIndices(
  idx: Int32Array,
  tmp: Int32Array,
  n: number,
  keys: Float64Array,
  descending: boolean,
): Int32Array {
  let src = idx, dst = tmp;
  for (let w = 1; w < n; w *= 2) {
    for (let lo = 0; lo < n; lo += 2 * w) {
      const mid = Math.min(lo + w, n), hi = Math.min(lo + 2 * w, n);
      let i = lo, j = mid, d = lo;
      while (i < mid && j < hi) {
        const ki = keys[src[i]!]!, kj = keys[src[j]!]!;
        // Take from the right run only when strictly before: ties keep input order.
        if (descending ? kj > ki : kj < ki) dst[d++] = src[j++]!;
        else dst[d++] = src[i++]!;
      }
      while (i < mid) dst[d++] = src[i++]!;
      while (j < hi) dst[d++] = src[j++]!;
    }
    const s = src;
    src = dst;
    dst = s;
  }
  return src;
}

/**
 * `argsort(axis, descending)`: int32 indices that stably sort each line along `axis`. NaN
 * sorts above every number: last when ascending, first when descending; equal keys keep
 * their original order in both directions.
 */
export const argsortKernel: Kernel<"argsort"> = (inputs, params, out): Storage => {
  const x = input(inputs, 0);
  const { outer, len, inner } = splitAxis(inputs[0]!.shape, params.axis);
  const o = alloc(out);
  const keys = new Float64Array(len);
  const idx = new Int32Array(len), tmp = new Int32Array(len), nans = new Int32Array(len);
  for (let p = 0; p < outer; p++) {
    for (let i = 0; i < inner; i++) {
      const base = p * len * inner + i;
      let m = 0, nn = 0;
      for (let k = 0; k < len; k++) {
        const v = x[base + k * inner]!;
        keys[k] = v;
        if (v !== v) nans[nn++] = k;
        else idx[m++] = k;
      }
      const sorted = mergeSortIndices(idx, tmp, m, keys, params.descending);
      // Ascending: numbers then NaNs; descending: NaNs then numbers.
      const numAt = params.descending ? nn : 0, nanAt = params.descending ? 0 : m;
      for (let k = 0; k < m; k++) o[base + (numAt + k) * inner] = sorted[k]!;
      for (let k = 0; k < nn; k++) o[base + (nanAt + k) * inner] = nans[k]!;
    }
  }
  return wrap(o);
};
