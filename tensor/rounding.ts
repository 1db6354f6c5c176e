/**
 * Round half to even on host numbers, the one definition shared by the CPU kernels' `round`, the
 * data transforms (Python's `round`, as torchvision uses it) and the models' geometry (block
 * masks, anchors).
 * @module
 */

/**
 * Round half to even (banker's rounding), as NumPy, PyTorch and Python's `round` do.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { roundHalfEven } from "./rounding.ts";
 * assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.6].map(roundHalfEven), [0, 2, 2, -0, -2, 3]);
 * ```
 */
export function roundHalfEven(v: number): number {
  const r = Math.round(v); // rounds halves up (toward +∞)
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
