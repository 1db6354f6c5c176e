/**
 * numpy's float64 summation order, so means computed here equal numpy's bit for bit (the
 * evaluators' oracles are numpy programs: pycocotools, mmseg).
 *
 * @module
 */

/**
 * numpy's pairwise summation (`np.add.reduce` on a contiguous float64 array: blocks of ≤ 128
 * summed with 8 accumulators, larger ranges split in halves rounded to multiples of 8).
 *
 * @param a the values
 * @param lo first index (default 0)
 * @param n how many (default the rest)
 * @returns the sum, rounded as numpy rounds it
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { npSum } from "./np_sum.ts";
 * const a = [1e16, 1, 1, 1, 1, 1, 1, 1, 1];
 * assert.equal(npSum(a), 1e16 + 8); // numpy's np.sum(a); a plain loop gives 1e16
 * ```
 */
export function npSum(a: ArrayLike<number>, lo = 0, n = a.length - lo): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[lo + i]!;
    return res;
  }
  if (n <= 128) {
    const r = Array.from({ length: 8 }, (_, j) => a[lo + j]!);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j]! += a[lo + i + j]!;
    let res = ((r[0]! + r[1]!) + (r[2]! + r[3]!)) + ((r[4]! + r[5]!) + (r[6]! + r[7]!));
    for (; i < n; i++) res += a[lo + i]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return npSum(a, lo, n2) + npSum(a, lo + n2, n - n2);
}
