/**
 * COCO box and mask AP/AR, reproducing pycocotools' `COCOeval` (`evaluate`, `accumulate`,
 * `summarize`) number for number: 10 IoU thresholds and 101 recall points built like numpy's
 * `linspace`, per-(image, category) IoU on the top 100 detections, greedy matching with the
 * crowd and ignore rules, the precision envelope sampled at the recall points, and the
 * 12-number summary averaged with numpy's pairwise summation. Spec data-eval.md §1.
 *
 * @module
 */

import { TesseraError } from "../../tensor/errors.ts";
import { bboxIou, type IouMatrix, rleIou } from "../coco/iou.ts";
import type { CocoAnnotation, CocoDetection, CocoGt } from "../coco/json.ts";
import { segmentationToRle } from "../coco/json.ts";
import { rleFromBbox } from "../coco/polygon.ts";
import type { Rle } from "../coco/rle.ts";
import { type CocoEvalParams, cocoEvalParams, type ImageEval } from "./coco_params.ts";
import { accumulateCategory, summarizeCoco } from "./coco_summary.ts";

/** The result of {@link evaluateCoco}. */
export interface CocoEvalResult {
  /** What was matched: boxes or masks. */
  readonly iouType: "bbox" | "segm";
  /** The parameters used. */
  readonly params: CocoEvalParams;
  /** `[T, R, K, A, M]`. */
  readonly counts: readonly [number, number, number, number, number];
  /** precision[t][r][k][a][m], row-major; −1 where a category has no ground truth. */
  readonly precision: Float64Array;
  /** recall[t][k][a][m], row-major; −1 likewise. */
  readonly recall: Float64Array;
  /** AP, AP50, AP75, AP_s, AP_m, AP_l, AR@1, AR@10, AR@100, AR_s, AR_m, AR_l (−1: no entry). */
  readonly stats: readonly number[];
}

interface Gt {
  readonly ann: CocoAnnotation;
  readonly crowd: boolean;
  readonly rle?: Rle;
}

/**
 * Evaluates detections against a ground truth as pycocotools' `COCOeval(gt, dt, iouType)`
 * followed by `evaluate()`, `accumulate()` and `summarize()`.
 *
 * @param gt the ground truth
 * @param dts the loaded results (see `parseCocoResults`)
 * @param iouType `"bbox"` (default) or `"segm"`
 * @returns precision/recall arrays and the 12 summary numbers
 * @throws {TesseraError} (op `evaluateCoco`) for segm when a ground truth has no segmentation
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCocoGt, parseCocoResults } from "../coco/json.ts";
 * import { evaluateCoco } from "./coco_eval.ts";
 * const gt = parseCocoGt({
 *   images: [{ id: 1, width: 100, height: 100, file_name: "a.png" }],
 *   categories: [{ id: 1, name: "x" }],
 *   annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 50, 50], area: 2500, iscrowd: 0 }],
 * });
 * const dt = parseCocoResults([{ image_id: 1, category_id: 1, bbox: [0, 0, 50, 34], score: 0.9 }], gt);
 * const { stats } = evaluateCoco(gt, dt); // IoU 0.68: passes thresholds 0.50..0.65
 * // Bit for bit pycocotools' numbers: precision is tp / (tp + fp + 2⁻⁵²).
 * assert.deepEqual(stats.slice(0, 3), [0.39999999999999997, 0.9999999999999999, 0]);
 * ```
 */
export function evaluateCoco(
  gt: CocoGt,
  dts: readonly CocoDetection[],
  iouType: "bbox" | "segm" = "bbox",
): CocoEvalResult {
  return accumulateCoco(cocoImageEvals(gt, dts, iouType));
}

/**
 * pycocotools' `evaluate()` alone: the per-(category, area range, image) match records, which
 * {@link accumulateCoco} turns into AP/AR for any multiset of the images (a bootstrap draw:
 * data/eval/paired_metric.ts's `cocoAp`).
 */
export interface CocoImageEvals {
  readonly iouType: "bbox" | "segm";
  readonly params: CocoEvalParams;
  /** `evals[(k·A + a)·I + i]`, null where image i has neither ground truth nor detections of k. */
  readonly evals: readonly (ImageEval | null)[];
}

/**
 * The per-image part of {@link evaluateCoco} (pycocotools' `evaluate()`).
 *
 * @param gt the ground truth
 * @param dts the loaded results
 * @param iouType `"bbox"` (default) or `"segm"`
 * @returns the match records and the parameters
 * @throws {TesseraError} (op `evaluateCoco`) for segm when a ground truth has no segmentation
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCocoGt, parseCocoResults } from "../coco/json.ts";
 * import { accumulateCoco, cocoImageEvals } from "./coco_eval.ts";
 * const gt = parseCocoGt({
 *   images: [{ id: 1, width: 9, height: 9, file_name: "a.png" }],
 *   categories: [{ id: 1, name: "x" }],
 *   annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 5, 5], area: 25, iscrowd: 0 }],
 * });
 * const e = cocoImageEvals(gt, parseCocoResults([{ image_id: 1, category_id: 1, bbox: [0, 0, 5, 5], score: 1 }], gt));
 * assert.equal(e.evals.length, 1 * 4 * 1); // K · A · I
 * assert.ok(accumulateCoco(e).stats[0]! > 0.99);
 * ```
 */
export function cocoImageEvals(
  gt: CocoGt,
  dts: readonly CocoDetection[],
  iouType: "bbox" | "segm" = "bbox",
): CocoImageEvals {
  const p = cocoEvalParams(gt);
  const I = p.imgIds.length, K = p.catIds.length, A = p.areaRng.length;
  const T = p.iouThrs.length, maxDet = p.maxDets[p.maxDets.length - 1]!;
  const imgIdx = new Map(p.imgIds.map((id, i) => [id, i]));
  const catIdx = new Map(p.catIds.map((id, k) => [id, k]));
  // _prepare: buckets by (image, category), in file order.
  const gts = new Map<number, Gt[]>(), dtb = new Map<number, CocoDetection[]>();
  for (const ann of gt.dataset.annotations) {
    const key = catIdx.get(ann.category_id)! * I + imgIdx.get(ann.image_id)!;
    let rle: Rle | undefined;
    if (iouType === "segm") {
      if (ann.segmentation === undefined) {
        throw new TesseraError("evaluateCoco", `annotation id ${ann.id} has no segmentation`);
      }
      const im = gt.images.get(ann.image_id)!;
      rle = segmentationToRle(ann.segmentation, im.height, im.width);
    }
    const g: Gt = { ann, crowd: ann.iscrowd === 1, rle };
    const list = gts.get(key);
    if (list) list.push(g);
    else gts.set(key, [g]);
  }
  for (const d of dts) {
    const key = catIdx.get(d.category_id)! * I + imgIdx.get(d.image_id)!;
    const list = dtb.get(key);
    if (list) list.push(d);
    else dtb.set(key, [d]);
  }
  // evaluate: per (cat, image) the IoU of the top-100 detections; per area range the matching.
  const evals: (ImageEval | null)[] = new Array(K * A * I).fill(null);
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < I; i++) {
      const g = gts.get(k * I + i) ?? [], d0 = dtb.get(k * I + i) ?? [];
      if (g.length === 0 && d0.length === 0) continue;
      const d = stableByScore(d0).slice(0, maxDet);
      const ious = computeIou(gt, g, d, iouType);
      for (let a = 0; a < A; a++) {
        evals[(k * A + a) * I + i] = evaluateImg(g, d, ious, p.areaRng[a]!, p.iouThrs, T);
      }
    }
  }
  return { iouType, params: p, evals };
}

/**
 * pycocotools' `accumulate()` and `summarize()` of {@link cocoImageEvals}' records, over all the
 * images or over `draw` (image indices, repeats allowed: each repeat counts as another image).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCocoGt, parseCocoResults } from "../coco/json.ts";
 * import { accumulateCoco, cocoImageEvals } from "./coco_eval.ts";
 * const gt = parseCocoGt({
 *   images: [{ id: 1, width: 9, height: 9, file_name: "a.png" }, { id: 2, width: 9, height: 9, file_name: "b.png" }],
 *   categories: [{ id: 1, name: "x" }],
 *   annotations: [
 *     { id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 5, 5], area: 25, iscrowd: 0 },
 *     { id: 2, image_id: 2, category_id: 1, bbox: [0, 0, 5, 5], area: 25, iscrowd: 0 },
 *   ],
 * });
 * const dt = parseCocoResults([{ image_id: 1, category_id: 1, bbox: [0, 0, 5, 5], score: 1 }], gt);
 * const e = cocoImageEvals(gt, dt);
 * assert.ok(accumulateCoco(e, Int32Array.of(0, 0)).stats[0]! > 0.99); // image 1 twice
 * assert.equal(accumulateCoco(e, Int32Array.of(1)).stats[0], 0); // the missed one alone
 * ```
 */
export function accumulateCoco(e: CocoImageEvals, draw?: Int32Array): CocoEvalResult {
  const p = e.params;
  const I0 = p.imgIds.length, K = p.catIds.length, A = p.areaRng.length, T = p.iouThrs.length;
  let evals = e.evals, I = I0;
  if (draw) {
    I = draw.length;
    const picked: (ImageEval | null)[] = new Array(K * A * I);
    for (let ka = 0; ka < K * A; ka++) {
      for (let j = 0; j < I; j++) picked[ka * I + j] = e.evals[ka * I0 + draw[j]!]!;
    }
    evals = picked;
  }
  const R = p.recThrs.length, M = p.maxDets.length;
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  for (let k = 0; k < K; k++) {
    accumulateCategory(evals, k, I, A, p, precision, recall);
  }
  const counts = [T, R, K, A, M] as const;
  return {
    iouType: e.iouType,
    params: p,
    counts,
    precision,
    recall,
    stats: summarizeCoco(precision, recall, counts, p),
  };
}

/** Detections stably sorted by descending score (numpy `argsort(-s, kind="mergesort")`). */
function stableByScore<D extends { score: number }>(d: readonly D[]): D[] {
  return d.map((x, j) => [x, j] as const).sort((u, v) => v[0].score - u[0].score || u[1] - v[1])
    .map((u) => u[0]);
}

function computeIou(
  gt: CocoGt,
  g: readonly Gt[],
  d: readonly CocoDetection[],
  iouType: "bbox" | "segm",
): IouMatrix {
  const crowd = g.map((x) => x.crowd);
  if (iouType === "bbox") return bboxIou(d.map((x) => x.bbox), g.map((x) => x.ann.bbox), crowd);
  const dm = d.map((x) => {
    if (x.segmentation) return x.segmentation;
    const im = gt.images.get(x.image_id)!;
    return rleFromBbox(x.bbox, im.height, im.width); // loadRes' box-shaped polygon
  });
  return rleIou(dm, g.map((x) => x.rle!), crowd);
}

/** pycocotools `evaluateImg` for one (image, category, area range). */
function evaluateImg(
  g0: readonly Gt[],
  d: readonly CocoDetection[],
  ious: IouMatrix,
  [lo, hi]: readonly [number, number],
  iouThrs: Float64Array,
  T: number,
): ImageEval {
  // GT: ignore flag, stably reordered so non-ignored come first.
  const ig0 = g0.map((x) => x.crowd || x.ann.area < lo || x.ann.area > hi);
  const order = [...g0.keys()].filter((j) => !ig0[j]).concat([...g0.keys()].filter((j) => ig0[j]));
  const G = order.length, D = d.length, n = ious.gts;
  const gtIg = order.map((j) => ig0[j]!), crowd = order.map((j) => g0[j]!.crowd);
  const matched = new Uint8Array(T * D), ignored = new Uint8Array(T * D);
  if (G > 0 && D > 0) {
    const gtm = new Uint8Array(G);
    for (let t = 0; t < T; t++) {
      gtm.fill(0);
      for (let di = 0; di < D; di++) {
        let iou = Math.min(iouThrs[t]!, 1 - 1e-10), m = -1;
        for (let gi = 0; gi < G; gi++) {
          if (gtm[gi] && !crowd[gi]) continue;
          if (m > -1 && !gtIg[m] && gtIg[gi]) break;
          const v = ious.data[di * n + order[gi]!]!;
          if (v < iou) continue;
          iou = v;
          m = gi;
        }
        if (m === -1) continue;
        ignored[t * D + di] = gtIg[m] ? 1 : 0;
        matched[t * D + di] = 1;
        gtm[m] = 1;
      }
    }
  }
  for (let di = 0; di < D; di++) {
    const out = d[di]!.area < lo || d[di]!.area > hi;
    if (!out) continue;
    for (let t = 0; t < T; t++) if (!matched[t * D + di]) ignored[t * D + di] = 1;
  }
  return {
    scores: Float64Array.from(d, (x) => x.score),
    matched,
    ignored,
    npig: gtIg.filter((x) => !x).length,
  };
}
