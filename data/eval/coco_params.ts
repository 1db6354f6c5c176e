/**
 * The parameters of COCO evaluation (pycocotools `Params.setDetParams`) and the per-image
 * record that `evaluateImg` hands to `accumulate`.
 *
 * @module
 */

/** numpy `linspace(a, b, n)`, bit for bit (the last value is `b` itself). */
function linspace(a: number, b: number, n: number): Float64Array {
  const out = new Float64Array(n), step = (b - a) / (n - 1);
  for (let i = 0; i < n - 1; i++) out[i] = a + i * step;
  out[n - 1] = b;
  return out;
}

/** The evaluation parameters (pycocotools `Params.setDetParams`). */
export interface CocoEvalParams {
  /** IoU thresholds `0.5:0.05:0.95` (T = 10). */
  readonly iouThrs: Float64Array;
  /** Recall points `0:0.01:1` (R = 101). */
  readonly recThrs: Float64Array;
  /** `[1, 10, 100]`. */
  readonly maxDets: readonly number[];
  /** all, small, medium, large: closed ranges on the annotation `area`. */
  readonly areaRng: readonly (readonly [number, number])[];
  /** `["all", "small", "medium", "large"]`. */
  readonly areaRngLbl: readonly string[];
  /** Sorted image ids evaluated (all of the ground truth). */
  readonly imgIds: readonly number[];
  /** Sorted category ids evaluated (all of the ground truth). */
  readonly catIds: readonly number[];
}

/**
 * The default parameters for a ground truth.
 *
 * @param gt the ground truth (its sorted image and category ids)
 * @returns the parameters
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cocoEvalParams } from "./coco_params.ts";
 * const p = cocoEvalParams({ imgIds: [1], catIds: [1] });
 * assert.equal(p.iouThrs[8], 0.8999999999999999); // as numpy's linspace, not 0.9
 * assert.equal(p.recThrs[35], 0.35000000000000003);
 * ```
 */
export function cocoEvalParams(
  gt: { readonly imgIds: readonly number[]; readonly catIds: readonly number[] },
): CocoEvalParams {
  return {
    iouThrs: linspace(0.5, 0.95, 10),
    recThrs: linspace(0, 1, 101),
    maxDets: [1, 10, 100],
    areaRng: [[0, 1e10], [0, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e10]],
    areaRngLbl: ["all", "small", "medium", "large"],
    imgIds: [...gt.imgIds],
    catIds: [...gt.catIds],
  };
}

/** One (image, category, area range) record of `evaluateImg`, as accumulate needs it. */
export interface ImageEval {
  /** Detection scores in descending order (top maxDets[-1]). */
  readonly scores: Float64Array;
  /** matched[t * D + d]: detection d is matched at threshold t. */
  readonly matched: Uint8Array;
  /** ignored[t * D + d]: detection d is ignored at threshold t. */
  readonly ignored: Uint8Array;
  /** Number of non-ignored ground truths. */
  readonly npig: number;
}
