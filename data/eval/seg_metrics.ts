/**
 * Semantic segmentation metrics as mmseg's `IoUMetric`: per-class intersection, union,
 * predicted and labelled pixel counts **summed over the whole data set** (not averaged per
 * image), then IoU = I/U and Acc = I/label per class, mIoU and mAcc as NaN-skipping means and
 * aAcc = ΣI/Σlabel. Pixels labelled `ignoreIndex` (255) are dropped; values outside
 * `0..C−1` are not counted (torch `histc` bounds). ADE-style maps go through
 * {@link reduceZeroLabel} first. Spec data-eval.md §3.2–3.4.
 *
 * @module
 */

import { TesseraError } from "../../tensor/errors.ts";
import { npSum } from "./np_sum.ts";

/** Per-class pixel counts of one image or of a whole set. */
export interface SegAreas {
  /** Correctly predicted pixels per class. */
  readonly intersect: Float64Array;
  /** pred + label − intersect per class. */
  readonly union: Float64Array;
  /** Predicted pixels per class. */
  readonly pred: Float64Array;
  /** Labelled pixels per class. */
  readonly label: Float64Array;
}

/**
 * mmseg's `reduce_zero_label`: 0 (unlabelled) → 255, every other value v → v − 1, and a
 * value that becomes 254 → 255.
 *
 * @param label a raw label map
 * @returns the reduced map (a new array)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reduceZeroLabel } from "./seg_metrics.ts";
 * assert.deepEqual([...reduceZeroLabel(Uint8Array.of(0, 1, 2, 255))], [255, 0, 1, 255]);
 * ```
 */
export function reduceZeroLabel(label: Uint8Array): Uint8Array {
  const out = new Uint8Array(label.length);
  for (let i = 0; i < label.length; i++) {
    const v = label[i]!;
    out[i] = v === 0 ? 255 : v - 1 === 254 ? 255 : v - 1;
  }
  return out;
}

/**
 * Per-class counts of one prediction against its label map (mmseg `intersect_and_union`).
 *
 * @param pred predicted class per pixel
 * @param label ground-truth class per pixel (`ignoreIndex` = not scored)
 * @param numClasses C
 * @param ignoreIndex label value to skip (default 255)
 * @returns the four histograms
 * @throws {TesseraError} (op `segAreas`) when the maps differ in length
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { segAreas } from "./seg_metrics.ts";
 * const a = segAreas(Uint8Array.of(0, 1, 1), Uint8Array.of(0, 0, 255), 2);
 * assert.deepEqual([...a.intersect], [1, 0]);
 * assert.deepEqual([...a.union], [2, 1]);
 * ```
 */
export function segAreas(
  pred: ArrayLike<number>,
  label: ArrayLike<number>,
  numClasses: number,
  ignoreIndex = 255,
): SegAreas {
  if (pred.length !== label.length) {
    throw new TesseraError(
      "segAreas",
      `prediction has ${pred.length} pixels, label map ${label.length}`,
    );
  }
  const C = numClasses;
  const intersect = new Float64Array(C), p = new Float64Array(C), l = new Float64Array(C);
  for (let i = 0; i < label.length; i++) {
    const y = label[i]!;
    if (y === ignoreIndex) continue;
    const x = pred[i]!;
    if (x >= 0 && x < C && Number.isInteger(x)) {
      p[x]!++;
      if (x === y) intersect[x]!++;
    }
    if (y >= 0 && y < C && Number.isInteger(y)) l[y]!++;
  }
  const union = new Float64Array(C);
  for (let c = 0; c < C; c++) union[c] = p[c]! + l[c]! - intersect[c]!;
  return { intersect, union, pred: p, label: l };
}

/**
 * Sums per-image counts into data-set totals.
 *
 * @param areas per-image counts, all with the same number of classes
 * @returns the totals
 * @throws {TesseraError} (op `sumSegAreas`) on an empty list or differing class counts
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { segAreas, sumSegAreas } from "./seg_metrics.ts";
 * const t = sumSegAreas([segAreas([0], [0], 2), segAreas([1], [0], 2)]);
 * assert.deepEqual([...t.label], [2, 0]);
 * ```
 */
export function sumSegAreas(areas: readonly SegAreas[]): SegAreas {
  const first = areas[0];
  if (!first) throw new TesseraError("sumSegAreas", "no images");
  const C = first.intersect.length;
  const out = {
    intersect: new Float64Array(C),
    union: new Float64Array(C),
    pred: new Float64Array(C),
    label: new Float64Array(C),
  };
  for (const [i, a] of areas.entries()) {
    if (a.intersect.length !== C) {
      throw new TesseraError(
        "sumSegAreas",
        `image ${i} has ${a.intersect.length} classes, not ${C}`,
      );
    }
    for (const k of ["intersect", "union", "pred", "label"] as const) {
      for (let c = 0; c < C; c++) out[k][c]! += a[k][c]!;
    }
  }
  return out;
}

/** The metrics of {@link segMetrics}, as fractions (mmseg prints them ×100). */
export interface SegMetrics {
  /** Pixel accuracy over labelled pixels. */
  readonly aAcc: number;
  /** Mean IoU over classes with a non-zero union. */
  readonly mIoU: number;
  /** Mean accuracy over classes present in the labels. */
  readonly mAcc: number;
  /** Per-class IoU (NaN: never predicted nor present). */
  readonly iou: Float64Array;
  /** Per-class accuracy (NaN: never present). */
  readonly acc: Float64Array;
}

/** numpy `nanmean`: NaNs replaced by 0, numpy's sum, divided by the count of the others. */
function nanmean(v: Float64Array): number {
  const z = v.map((x) => (Number.isNaN(x) ? 0 : x));
  const n = v.filter((x) => !Number.isNaN(x)).length;
  return n === 0 ? NaN : npSum(z) / n;
}

/**
 * mmseg's `total_area_to_metrics` for aAcc, mIoU and mAcc.
 *
 * @param total data-set totals ({@link sumSegAreas})
 * @returns the metrics
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { segAreas, segMetrics, sumSegAreas } from "./seg_metrics.ts";
 * // Class 2 is only predicted: IoU 0, counted in mIoU; its accuracy is NaN, skipped in mAcc.
 * const m = segMetrics(sumSegAreas([segAreas([0, 0, 2], [0, 0, 1], 3)]));
 * assert.deepEqual([...m.iou], [1, 0, 0]);
 * assert.equal(m.mIoU, 1 / 3);
 * assert.deepEqual([...m.acc], [1, 0, NaN]);
 * ```
 */
export function segMetrics(total: SegAreas): SegMetrics {
  const C = total.intersect.length;
  const iou = new Float64Array(C), acc = new Float64Array(C);
  let si = 0, sl = 0;
  for (let c = 0; c < C; c++) {
    iou[c] = total.intersect[c]! / total.union[c]!;
    acc[c] = total.intersect[c]! / total.label[c]!;
    si += total.intersect[c]!;
    sl += total.label[c]!;
  }
  return { aAcc: si / sl, mIoU: nanmean(iou), mAcc: nanmean(acc), iou, acc };
}

/**
 * A metric as mmseg prints it: `np.round(x * 100, 2)` (round half to even).
 *
 * @param x a fraction
 * @returns the percentage with 2 decimals
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mmsegPercent } from "./seg_metrics.ts";
 * assert.equal(mmsegPercent(0.8222222), 82.22);
 * ```
 */
export function mmsegPercent(x: number): number {
  const v = x * 100 * 100, f = Math.floor(v), d = v - f;
  const r = d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
  return r / 100;
}
