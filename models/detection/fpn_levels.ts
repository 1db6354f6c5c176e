/**
 * FPN level assignment of boxes (detectron2's `assign_boxes_to_levels`): which pyramid level
 * RoIAlign pools each proposal from.
 * @module
 */
import {
  add,
  boxArea,
  cast,
  div,
  equal,
  full,
  greaterEqual,
  scope,
  sqrt,
  sub,
  sum,
  type Tensor,
  TesseraError,
  where,
} from "../../tensor/mod.ts";
import { expectBoxes } from "./box_coder.ts";

/** Options of {@link fpnLevels}. */
export interface FpnLevelOptions {
  /** Smallest level (default 2). */
  minLevel?: number;
  /** Largest level (default 5). */
  maxLevel?: number;
  /** Box size mapped to `canonicalLevel` (default 224). */
  canonicalSize?: number;
  /** Level of a canonical box (default 4). */
  canonicalLevel?: number;
  /** Added inside the log (default 1e-8, detectron2). */
  eps?: number;
}

/**
 * FPN level of each box `[K, 4]` → int32 `[K]`:
 * `⌊canonicalLevel + log2(√area / canonicalSize + eps)⌋` clamped to `[minLevel, maxLevel]`
 * (detectron2 `assign_boxes_to_levels`; equals mmdet's finest_scale rule). Computed with
 * exact comparisons against powers of two, so boxes exactly at a boundary (e.g. 112 → P3)
 * never round down. A box with a NaN or ±Infinity coordinate gets level −1, which is no
 * level (detectron2 would compute garbage from the NaN): selecting boxes per level skips it
 * and indexing with it fails, rather than pooling a NaN box from some level.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fpnLevels } from "./fpn_levels.ts";
 * import { tensor } from "../../mod.ts";
 * const b = tensor([[0, 0, 224, 224], [0, 0, 112, 112], [0, 0, 32, 32], [0, 0, 900, 900]]);
 * assert.deepEqual(await fpnLevels(b).toArray(), [4, 3, 2, 5]);
 * assert.deepEqual(await fpnLevels(tensor([[NaN, 0, 10, 10]])).toArray(), [-1]);
 * ```
 */
export function fpnLevels(boxes: Tensor, opts: FpnLevelOptions = {}): Tensor {
  opts ??= {};
  return scope(() => {
    const op = "fpnLevels";
    expectBoxes(op, boxes);
    const lo = opts.minLevel ?? 2, hi = opts.maxLevel ?? 5;
    const k0 = opts.canonicalLevel ?? 4, s0 = opts.canonicalSize ?? 224, eps = opts.eps ?? 1e-8;
    if (![lo, hi, k0].every(Number.isInteger) || lo > hi || !(s0 > 0) || !(eps >= 0)) {
      throw new TesseraError(
        op,
        `invalid options minLevel=${lo} maxLevel=${hi} canonicalLevel=${k0} ` +
          `canonicalSize=${s0} eps=${eps}: need integer levels, minLevel <= maxLevel, ` +
          `canonicalSize > 0, eps >= 0`,
      );
    }
    const v = add(div(sqrt(boxArea(boxes)), s0), eps);
    let level = full(v.shape, lo, { dtype: "int32", backend: boxes.backend.name });
    for (let t = lo + 1; t <= hi; t++) {
      level = add(level, cast(greaterEqual(v, 2 ** (t - k0)), "int32"));
    }
    // x − x is 0 exactly when x is finite.
    const finite = equal(sum(sub(boxes, boxes), -1), 0);
    return where(finite, level, -1);
  });
}
