/**
 * Matching of predictions (anchors, proposals) to ground-truth boxes by IoU (torchvision
 * `Matcher`, detectron2 `Matcher`; methods.md §12): IoU ≥ high → the best GT, < low →
 * background (−1), in between → ignored (−2); optionally each GT's best-IoU predictions (ties
 * included) keep their best GT ("low-quality matches", RPN). Then RPN-style labels
 * (1 fg, 0 bg, −1 ignored) and the matched GT box of each prediction.
 * @module
 */
import {
  argmax,
  boxIou,
  cast,
  equal,
  expandDims,
  full,
  gather,
  greaterEqual,
  less,
  max,
  maximum,
  scope,
  type Tensor,
  TesseraError,
  where,
  zeros,
} from "../../tensor/mod.ts";
import { expectBoxes } from "./box_coder.ts";

/**
 * Options of {@link matchBoxes} and {@link assignTargets}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { MatcherOptions } from "./matcher.ts";
 * const roi: MatcherOptions = { highThreshold: 0.5, lowThreshold: 0.5, allowLowQuality: false };
 * assert.equal(roi.highThreshold, 0.5);
 * ```
 */
export interface MatcherOptions {
  /** IoU at or above which a prediction is foreground (default 0.7, RPN). */
  highThreshold?: number;
  /** IoU below which a prediction is background (default 0.3, RPN). */
  lowThreshold?: number;
  /** Keep each GT's best predictions as matches (default true, RPN). */
  allowLowQuality?: boolean;
}

/**
 * int32 `[T]` match of each prediction for a quality matrix `[G, T]` (IoU of GT × prediction):
 * the best GT index, −1 below `lowThreshold`, −2 between the thresholds (G ≥ 1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matchBoxes } from "./matcher.ts";
 * import { tensor } from "../../mod.ts";
 * const iou = tensor([[0.9, 0.5, 0.1, 0.2], [0.1, 0.6, 0.0, 0.25]]);
 * assert.deepEqual(await matchBoxes(iou).toArray(), [0, -2, -1, -1]);
 * // low-quality: GT 1's best prediction (IoU 0.6) is kept
 * assert.deepEqual(await matchBoxes(iou, { allowLowQuality: true }).toArray(), [0, 1, -1, -1]);
 * ```
 */
export function matchBoxes(quality: Tensor, opts: MatcherOptions = {}): Tensor {
  opts ??= {};
  return scope(() => {
    const op = "matchBoxes";
    const hi = opts.highThreshold ?? 0.7, lo = opts.lowThreshold ?? 0.3;
    if (!(lo <= hi)) {
      throw new TesseraError(op, `lowThreshold ${lo} must be <= highThreshold ${hi}`);
    }
    if (quality.ndim !== 2 || quality.shape[0] === 0) {
      throw new TesseraError(op, `quality must be [G >= 1, T], got [${quality.shape}]`);
    }
    const vals = max(quality, 0);
    const best = cast(argmax(quality, 0), "int32");
    const neg = full(best.shape, -2, { dtype: "int32", backend: best.backend.name });
    let m = where(greaterEqual(vals, hi), best, where(less(vals, lo), -1, neg));
    if (opts.allowLowQuality ?? false) {
      const top = expandDims(max(quality, 1), 1); // [G, 1]
      const isTop = greaterEqual(max(cast(equal(quality, top), "int32"), 0), 1);
      m = where(isTop, best, m);
    }
    return m;
  });
}

/**
 * Result of {@link assignTargets}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Assignment } from "./matcher.ts";
 * const fg = (a: Assignment) => a.labels;
 * assert.equal(typeof fg, "function");
 * ```
 */
export interface Assignment {
  /** int32 `[T]`: matched GT index, −1 background, −2 ignored. */
  matches: Tensor;
  /** float `[T]`: 1 foreground, 0 background, −1 ignored. */
  labels: Tensor;
  /** `[T, 4]`: the matched GT box (GT 0 for unmatched, zeros when there is no GT). */
  matchedBoxes: Tensor;
}

/**
 * Matches predictions `[T, 4]` to GT boxes `[G, 4]` (torchvision RPN
 * `assign_targets_to_anchors`; G = 0 makes every prediction background).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assignTargets } from "./matcher.ts";
 * import { tensor } from "../../mod.ts";
 * const a = assignTargets(tensor([[0, 0, 10, 10]]), tensor([[0, 0, 10, 10], [0, 0, 10, 12], [20, 20, 30, 30]]));
 * assert.deepEqual(await a.labels.toArray(), [1, 1, 0]);
 * assert.deepEqual(await a.matches.toArray(), [0, 0, -1]);
 * ```
 */
export function assignTargets(
  gtBoxes: Tensor,
  predictions: Tensor,
  opts: MatcherOptions = {},
): Assignment {
  opts ??= {};
  return scope(() => {
    const op = "assignTargets";
    expectBoxes(op, gtBoxes, "gtBoxes");
    expectBoxes(op, predictions, "predictions");
    const t = predictions.shape[0]!;
    const be = predictions.backend.name, dtype = predictions.dtype;
    if (gtBoxes.shape[0] === 0) {
      return {
        matches: full([t], -1, { dtype: "int32", backend: be }),
        labels: zeros([t], { dtype, backend: be }),
        matchedBoxes: zeros([t, 4], { dtype, backend: be }),
      };
    }
    const matches = matchBoxes(boxIou(gtBoxes, predictions), {
      highThreshold: opts.highThreshold,
      lowThreshold: opts.lowThreshold,
      allowLowQuality: opts.allowLowQuality ?? true,
    });
    const fg = cast(greaterEqual(matches, 0), dtype);
    const labels = where(equal(matches, -2), -1, fg);
    const matchedBoxes = gather(gtBoxes, maximum(matches, 0), 0);
    return { matches, labels, matchedBoxes };
  });
}
