/**
 * The second half of pycocotools' `COCOeval`: `accumulate` (per category, area range and
 * maxDets: score-sorted cumulative TP/FP, precision envelope, 101-point sampling) and
 * `summarize` (the 12 numbers and their printed lines).
 *
 * @module
 */

import type { CocoEvalParams, ImageEval } from "./coco_params.ts";
import { npSum } from "./np_sum.ts";

const EPS = 2.220446049250313e-16; // np.spacing(1)

/**
 * Fills `precision[t][r][k][a][m]` and `recall[t][k][a][m]` for category `k` (pycocotools
 * `accumulate`); entries stay −1 where no image has a record or no ground truth is
 * non-ignored.
 *
 * @param evals records indexed `(k·A + a)·I + i`, null where an (image, category) has neither
 *   ground truth nor detections
 * @param k the category index
 * @param I number of images
 * @param A number of area ranges
 * @param p the parameters
 * @param precision output, length T·R·K·A·M, pre-filled with −1
 * @param recall output, length T·K·A·M, pre-filled with −1
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cocoEvalParams } from "./coco_params.ts";
 * import { accumulateCategory } from "./coco_summary.ts";
 * const p = cocoEvalParams({ imgIds: [1], catIds: [1] });
 * // One image, one GT, one detection matched at every threshold, for each of 4 area ranges.
 * const rec = { scores: Float64Array.of(0.9), matched: new Uint8Array(10).fill(1),
 *   ignored: new Uint8Array(10), npig: 1 };
 * const precision = new Float64Array(10 * 101 * 4 * 3).fill(-1);
 * const recall = new Float64Array(10 * 4 * 3).fill(-1);
 * accumulateCategory([rec, rec, rec, rec], 0, 1, 4, p, precision, recall);
 * assert.equal(Math.min(...precision), 1 / (1 + 2 ** -52)); // tp / (tp + fp + ε)
 * assert.equal(Math.min(...recall), 1);
 * ```
 */
export function accumulateCategory(
  evals: readonly (ImageEval | null)[],
  k: number,
  I: number,
  A: number,
  p: CocoEvalParams,
  precision: Float64Array,
  recall: Float64Array,
): void {
  const T = p.iouThrs.length, R = p.recThrs.length, K = p.catIds.length, M = p.maxDets.length;
  for (let m = 0; m < M; m++) {
    const maxDet = p.maxDets[m]!;
    // The detections and their sorted order are the same for every area range.
    const first: (ImageEval | null)[] = [];
    for (let i = 0; i < I; i++) first.push(evals[(k * A) * I + i]!);
    const present = first.map((e, i) => (e ? i : -1)).filter((i) => i >= 0);
    if (present.length === 0) continue;
    let nAll = 0;
    for (const i of present) nAll += Math.min(maxDet, first[i]!.scores.length);
    // Concatenated in image order: the record's image and the detection's index in it.
    const srcImg = new Int32Array(nAll), srcDet = new Int32Array(nAll);
    const scores = new Float64Array(nAll);
    let q = 0;
    for (const i of present) {
      const e = first[i]!, n = Math.min(maxDet, e.scores.length);
      for (let d = 0; d < n; d++, q++) {
        srcImg[q] = i;
        srcDet[q] = d;
        scores[q] = e.scores[d]!;
      }
    }
    const order = Array.from({ length: nAll }, (_, j) => j)
      .sort((u, v) => scores[v]! - scores[u]! || u - v);
    const nd = order.length;
    for (let a = 0; a < A; a++) {
      let npig = 0;
      for (const i of present) npig += evals[(k * A + a) * I + i]!.npig;
      if (npig === 0) continue;
      const pr = new Float64Array(nd), rc = new Float64Array(nd);
      for (let t = 0; t < T; t++) {
        let tp = 0, fp = 0;
        for (let j = 0; j < nd; j++) {
          const o = order[j]!, d = srcDet[o]!;
          const e = evals[(k * A + a) * I + srcImg[o]!]!, D = e.scores.length;
          if (!e.ignored[t * D + d]) {
            if (e.matched[t * D + d]) tp++;
            else fp++;
          }
          rc[j] = tp / npig;
          pr[j] = tp / (fp + tp + EPS);
        }
        recall[((t * K + k) * A + a) * M + m] = nd ? rc[nd - 1]! : 0;
        for (let j = nd - 1; j > 0; j--) if (pr[j]! > pr[j - 1]!) pr[j - 1] = pr[j]!;
        const base = (t * R * K + k) * A * M + a * M + m, rStride = K * A * M;
        let j = 0;
        for (let r = 0; r < R; r++) {
          const thr = p.recThrs[r]!;
          while (j < nd && rc[j]! < thr) j++; // searchsorted(rc, thr, "left")
          precision[base + r * rStride] = j < nd ? pr[j]! : 0;
        }
      }
    }
  }
}

/**
 * numpy `mean(s[s > -1])` of a list of values, or −1 when none is > −1.
 *
 * @param values the selected entries in C order
 * @returns the mean as numpy computes it
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { meanValid } from "./coco_summary.ts";
 * assert.equal(meanValid([1, -1, 0]), 0.5);
 * assert.equal(meanValid([-1, -1]), -1);
 * ```
 */
export function meanValid(values: ArrayLike<number>): number {
  const v = Float64Array.from(values).filter((x) => x > -1);
  return v.length === 0 ? -1 : npSum(v) / v.length;
}

const STATS: readonly [ap: boolean, iou: number | null, area: string, maxDet: number][] = [
  [true, null, "all", 100],
  [true, 0.5, "all", 100],
  [true, 0.75, "all", 100],
  [true, null, "small", 100],
  [true, null, "medium", 100],
  [true, null, "large", 100],
  [false, null, "all", 1],
  [false, null, "all", 10],
  [false, null, "all", 100],
  [false, null, "small", 100],
  [false, null, "medium", 100],
  [false, null, "large", 100],
];

/**
 * The 12 summary numbers of pycocotools' `summarize` for detection.
 *
 * @param precision precision[t][r][k][a][m]
 * @param recall recall[t][k][a][m]
 * @param counts `[T, R, K, A, M]`
 * @param p the parameters
 * @returns AP, AP50, AP75, AP_s, AP_m, AP_l, AR@1, AR@10, AR@100, AR_s, AR_m, AR_l
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cocoEvalParams } from "./coco_params.ts";
 * import { summarizeCoco } from "./coco_summary.ts";
 * const p = cocoEvalParams({ imgIds: [1], catIds: [1] });
 * const s = summarizeCoco(new Float64Array(10 * 101 * 12).fill(-1), new Float64Array(120).fill(-1),
 *   [10, 101, 1, 4, 3], p);
 * assert.deepEqual(s, new Array(12).fill(-1)); // nothing to average
 * ```
 */
export function summarizeCoco(
  precision: Float64Array,
  recall: Float64Array,
  counts: readonly [number, number, number, number, number],
  p: CocoEvalParams,
): number[] {
  const [, R, K, A, M] = counts;
  return STATS.map(([ap, iou, area, maxDet]) => {
    const a = p.areaRngLbl.indexOf(area), m = p.maxDets.indexOf(maxDet);
    const ts = iou === null
      ? [...p.iouThrs.keys()]
      : [...p.iouThrs.keys()].filter((t) => p.iouThrs[t] === iou);
    const sel: number[] = [];
    if (a >= 0 && m >= 0) {
      for (const t of ts) {
        if (ap) {
          for (let r = 0; r < R; r++) {
            for (let k = 0; k < K; k++) {
              sel.push(precision[(((t * R + r) * K + k) * A + a) * M + m]!);
            }
          }
        } else for (let k = 0; k < K; k++) sel.push(recall[((t * K + k) * A + a) * M + m]!);
      }
    }
    return meanValid(sel);
  });
}

/** Python's `'{:0.3f}'.format(x)` (round half to even on the exact binary value). */
function fmt3(x: number): string {
  const s = Math.abs(x) * 16;
  if (Number.isInteger(s) && s % 2 === 1) {
    // Only odd multiples of 1/16 can sit exactly halfway between two thousandths.
    const v = Math.abs(x) * 1000, n = Math.floor(v);
    if (v - n === 0.5) return `${x < 0 ? "-" : ""}${((n % 2 === 0 ? n : n + 1) / 1000).toFixed(3)}`;
  }
  return x.toFixed(3);
}

/**
 * The 12 lines pycocotools' `summarize` prints.
 *
 * @param stats the 12 numbers
 * @returns the lines, e.g. ` Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.400`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatCocoSummary } from "./coco_summary.ts";
 * const lines = formatCocoSummary([0.4, 1, 0, -1, 0.4, -1, 0.4, 0.4, 0.4, -1, 0.4, -1]);
 * assert.equal(lines[0], " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.400");
 * assert.equal(lines[11], " Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = -1.000");
 * ```
 */
export function formatCocoSummary(stats: readonly number[]): string[] {
  return STATS.map(([ap, iou, area, maxDet], i) => {
    const title = (ap ? "Average Precision" : "Average Recall").padEnd(18);
    const iouStr = (iou === null ? "0.50:0.95" : iou.toFixed(2)).padEnd(9);
    return ` ${title} ${ap ? "(AP)" : "(AR)"} @[ IoU=${iouStr} | area=${area.padStart(6)} | ` +
      `maxDets=${String(maxDet).padStart(3)} ] = ${fmt3(stats[i]!)}`;
  });
}
