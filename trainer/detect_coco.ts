/**
 * Mask R-CNN predictions as COCO results and their scores, for `train.ts detect` (evaluation
 * during training) and `detect --eval`: the predictions of a loader's epoch as COCO results
 * ({@link predictCoco}), COCO's 12 numbers for boxes and masks ({@link cocoStats}), a COCO
 * folder's split with every problem a usage error naming `--data` ({@link openDetectSplit}),
 * its first images with their ground truth ({@link firstImages}), and a picture of the
 * predictions ({@link predictionsPicture}).
 * @module
 */
import { scope } from "../tensor/mod.ts";
import { maskRcnnPredict } from "../models/detection/mask_rcnn.ts";
import type { MaskRcnnConfig, MaskRcnnParams } from "../models/detection/mask_rcnn_model.ts";
import { cocoDetectionFolder, type CocoFolder, type DenseItem } from "../data/dense_folder.ts";
import type { DenseLoader } from "../data/dense_loader.ts";
import type { Dataset } from "../data/loader.ts";
import {
  type CocoGt,
  type CocoResult,
  parseCocoGt,
  parseCocoResults,
  rleFromJson,
  rleToJson,
} from "../data/coco/json.ts";
import { rleDecode, rleEncode } from "../data/coco/rle.ts";
import { evaluateCoco } from "../data/eval/coco_eval.ts";
import {
  drawDetections,
  type DrawnDetection,
  type RgbImage,
  tileImages,
} from "../data/detect_draw.ts";
import { errorDetail, UsageError } from "./flags.ts";
import { firstItems } from "./dense_loaders.ts";

/** The names of COCO's 12 summary numbers, in `stats` order. */
export const DETECT_STATS = [
  "AP",
  "AP50",
  "AP75",
  "APs",
  "APm",
  "APl",
  "AR1",
  "AR10",
  "AR100",
  "ARs",
  "ARm",
  "ARl",
] as const;

/**
 * Runs {@link maskRcnnPredict} over `loader`'s first epoch and returns COCO results (category
 * ids from `catIds`, boxes `[x, y, w, h]`, masks thresholded at 0.5 and RLE-encoded); null
 * when `stopped()` turns true between batches.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { predictCoco } from "./detect_coco.ts";
 * assert.equal(typeof predictCoco, "function"); // exercised end to end by tests/cli/detect_eval_test.ts
 * ```
 */
export async function predictCoco(
  params: MaskRcnnParams,
  cfg: MaskRcnnConfig,
  loader: DenseLoader,
  catIds: readonly number[],
  stopped: () => boolean = () => false,
): Promise<CocoResult[] | null> {
  const results: CocoResult[] = [];
  for await (const batch of loader.epoch(0)) {
    try {
      await scope(async () => {
        const dets = await maskRcnnPredict(params, batch.images, batch.imageSizes, cfg);
        for (const [i, det] of dets.entries()) {
          const [h, w] = batch.imageSizes[i]!;
          const boxes = await det.boxes.data(), scores = await det.scores.data();
          const labels = await det.labels.data(), masks = await det.masks.data();
          for (let j = 0; j < scores.length; j++) {
            const [x1, y1, x2, y2] = boxes.subarray(4 * j, 4 * j + 4) as Float32Array;
            const m = new Uint8Array(h * w);
            for (let q = 0; q < m.length; q++) m[q] = masks[j * h * w + q]! >= 0.5 ? 1 : 0;
            results.push({
              image_id: batch.imageIds[i]!,
              category_id: catIds[labels[j]! - 1]!,
              score: scores[j]!,
              bbox: [x1!, y1!, x2! - x1!, y2! - y1!],
              segmentation: rleToJson(rleEncode(m, h, w)),
            });
          }
        }
      });
    } finally {
      batch.dispose();
    }
    if (stopped()) return null;
  }
  return results;
}

/**
 * The 12 COCO numbers of `results` against `gt` for boxes and masks, as `bbox_AP`, …,
 * `segm_ARl`, plus `detections` (the count).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cocoStats } from "./detect_coco.ts";
 * import { parseCocoGt } from "../data/coco/json.ts";
 * const gt = parseCocoGt({
 *   images: [{ id: 1, height: 4, width: 4 }],
 *   categories: [{ id: 1, name: "a" }],
 *   annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 2, 2], area: 4, iscrowd: 0, segmentation: [[0, 0, 2, 0, 2, 2, 0, 2]] }],
 * });
 * import { rleToJson } from "../data/coco/json.ts";
 * import { rleEncode } from "../data/coco/rle.ts";
 * const seg = rleToJson(rleEncode(Uint8Array.of(1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 4, 4));
 * const m = cocoStats(gt, [{ image_id: 1, category_id: 1, score: 1, bbox: [0, 0, 2, 2], segmentation: seg }]);
 * assert.equal(m.detections, 1);
 * assert.ok(m.bbox_AP! > 0.999 && m.segm_AP! > 0.999); // a perfect match (AP 1 up to rounding)
 * ```
 */
export function cocoStats(gt: CocoGt, results: readonly CocoResult[]): Record<string, number> {
  const m: Record<string, number> = { detections: results.length };
  for (const type of ["bbox", "segm"] as const) {
    const dts = parseCocoResults(
      type === "bbox"
        ? results.map(({ segmentation: _s, ...r }) => r)
        : results.map(({ bbox: _b, ...r }) => r),
      gt,
    );
    const { stats } = evaluateCoco(gt, dts, type);
    DETECT_STATS.forEach((n, k) => m[`${type}_${n}`] = stats[k]!);
  }
  return m;
}

/**
 * A COCO folder's split, every problem (missing files, malformed JSON, no images) a
 * {@link UsageError} naming `--data`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openDetectSplit } from "./detect_coco.ts";
 * await assert.rejects(openDetectSplit("/no/such/dir", "val"), /--data \/no\/such\/dir: /);
 * ```
 */
export async function openDetectSplit(dir: string, split: string): Promise<CocoFolder> {
  try {
    const ds = await cocoDetectionFolder(dir, split);
    if (ds.length === 0) throw new Error(`the ${split} split has no images`);
    return ds;
  } catch (e) {
    throw new UsageError(`--data ${dir}: ${errorDetail(e)}`);
  }
}

/**
 * The first `n` items of `ds` and their ground truth (null: all).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { firstImages } from "./detect_coco.ts";
 * assert.equal(typeof firstImages, "function"); // used on real folders by detect and detect --eval
 * ```
 */
export function firstImages(
  ds: CocoFolder,
  n: number | null,
): { set: Dataset<DenseItem>; gt: CocoGt } {
  const set = firstItems(ds, n), length = set.length;
  if (length === ds.length) return { set, gt: ds.gt };
  const keep = new Set(ds.imgIds.slice(0, length));
  const d = ds.gt.dataset;
  const gt = parseCocoGt({
    ...d,
    images: d.images.filter((im) => keep.has(im.id)),
    annotations: d.annotations.filter((a) => keep.has(a.image_id)),
  });
  return { set, gt };
}

/**
 * A picture of `results` on the first `show` images of `set`: each image with the detections
 * of score at least `minScore` (boxes, masks, category name and score, colour by the index in
 * `catIds`), tiled 3 a row; null when `show` is 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCocoGt } from "../data/coco/json.ts";
 * import { predictionsPicture } from "./detect_coco.ts";
 * const image = { data: new Uint8Array(4 * 4 * 3), height: 4, width: 4, channels: 3 };
 * const set = { length: 1, get: () => Promise.resolve({ imageId: 1, sample: { image } }) };
 * const gt = parseCocoGt({ images: [{ id: 1, height: 4, width: 4 }], categories: [{ id: 1, name: "a" }], annotations: [] });
 * const pic = await predictionsPicture(set as never, [], gt, [1], 1, 0.5);
 * assert.deepEqual([pic!.height, pic!.width], [8, 8]);
 * assert.equal(await predictionsPicture(set as never, [], gt, [1], 0, 0.5), null);
 * ```
 */
export async function predictionsPicture(
  set: Dataset<DenseItem>,
  results: readonly CocoResult[],
  gt: CocoGt,
  catIds: readonly number[],
  show: number,
  minScore: number,
): Promise<RgbImage | null> {
  const names = new Map(gt.dataset.categories.map((c) => [c.id, c.name]));
  const pics = [];
  for (let i = 0; i < Math.min(show, set.length); i++) {
    const item = await set.get(i);
    const img = item.sample.image;
    const dets: DrawnDetection[] = results
      .filter((r) => r.image_id === item.imageId && r.score >= minScore)
      .map((r) => {
        const [x, y, w, h] = r.bbox!;
        return {
          box: [x, y, x + w, y + h],
          label: `${(names.get(r.category_id) ?? String(r.category_id)).slice(0, 7)} ${
            r.score.toFixed(2)
          }`,
          colour: catIds.indexOf(r.category_id),
          mask: rleDecode(rleFromJson(r.segmentation!)),
        };
      });
    pics.push(drawDetections(img, dets, 2));
  }
  return pics.length > 0 ? tileImages(pics, 3) : null;
}
