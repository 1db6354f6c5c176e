/**
 * Box and mask IoU matrices with COCO's crowd rule (maskApi `bbIou`, `rleIou`): against a
 * crowd ground truth the union is the detection's own area, so the IoU is the fraction of the
 * detection inside the crowd region.
 *
 * @module
 */

import { type Bbox, type Rle, rleArea, rleToBbox, walkRuns } from "./rle.ts";

/**
 * An IoU matrix: `data[d * gts + g]` is the IoU of detection `d` with ground truth `g`.
 */
export interface IouMatrix {
  /** Number of detections (rows). */
  readonly dts: number;
  /** Number of ground truths (columns). */
  readonly gts: number;
  /** Row-major values. */
  readonly data: Float64Array;
}

/**
 * Box IoU of every detection with every ground truth (maskApi `bbIou`). Boxes are
 * `[x, y, w, h]`, continuous, no "+1".
 *
 * @param dt detection boxes
 * @param gt ground-truth boxes
 * @param iscrowd per ground truth: crowd (union := detection area)
 * @returns the matrix
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bboxIou } from "./iou.ts";
 * const o = bboxIou([[0, 0, 50, 34]], [[0, 0, 50, 50], [0, 0, 100, 100]], [false, true]);
 * assert.deepEqual([...o.data], [0.68, 1]);
 * ```
 */
export function bboxIou(
  dt: readonly Readonly<Bbox>[],
  gt: readonly Readonly<Bbox>[],
  iscrowd: readonly boolean[],
): IouMatrix {
  const m = dt.length, n = gt.length, o = new Float64Array(m * n);
  for (let g = 0; g < n; g++) {
    const G = gt[g]!, ga = G[2] * G[3], crowd = iscrowd[g] === true;
    for (let d = 0; d < m; d++) {
      const D = dt[d]!, da = D[2] * D[3];
      const w = Math.min(D[2] + D[0], G[2] + G[0]) - Math.max(D[0], G[0]);
      if (w <= 0) continue;
      const h = Math.min(D[3] + D[1], G[3] + G[1]) - Math.max(D[1], G[1]);
      if (h <= 0) continue;
      const i = w * h, u = crowd ? da : da + ga - i;
      o[d * n + g] = i / u;
    }
  }
  return { dts: m, gts: n, data: o };
}

/**
 * Mask IoU of every detection with every ground truth (maskApi `rleIou`): 0 when the masks'
 * boxes do not overlap, −1 for masks of different sizes (as pycocotools), crowd rule as
 * {@link bboxIou}.
 *
 * @param dt detection masks
 * @param gt ground-truth masks
 * @param iscrowd per ground truth: crowd
 * @returns the matrix
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rleIou } from "./iou.ts";
 * import { rleEncode } from "./rle.ts";
 * const a = rleEncode([1, 1, 0, 0], 2, 2), b = rleEncode([1, 1, 1, 0], 2, 2);
 * assert.deepEqual([...rleIou([a], [b], [false]).data], [2 / 3]);
 * assert.deepEqual([...rleIou([b], [a], [true]).data], [2 / 3]); // |b ∩ a| / |b|
 * ```
 */
export function rleIou(
  dt: readonly Rle[],
  gt: readonly Rle[],
  iscrowd: readonly boolean[],
): IouMatrix {
  const m = dt.length, n = gt.length;
  const box = bboxIou(dt.map(rleToBbox), gt.map(rleToBbox), iscrowd);
  const o = box.data;
  for (let g = 0; g < n; g++) {
    const G = gt[g]!, crowd = iscrowd[g] === true;
    for (let d = 0; d < m; d++) {
      if (!(o[d * n + g]! > 0)) continue;
      const D = dt[d]!;
      if (D.h !== G.h || D.w !== G.w) {
        o[d * n + g] = -1;
        continue;
      }
      let i = 0, u = 0;
      walkRuns(D.counts, G.counts, (c, va, vb) => {
        if (va || vb) {
          u += c;
          if (va && vb) i += c;
        }
      });
      if (i === 0) u = 1;
      else if (crowd) u = rleArea(D);
      o[d * n + g] = i / u;
    }
  }
  return box;
}
