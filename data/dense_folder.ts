/**
 * Dense-prediction data sets on disk, as {@link Dataset}s of {@link DenseItem}s for the
 * {@link DenseLoader}:
 * - {@link cocoDetectionFolder}: a COCO folder (FMNIST-Scenes layout, `images/{split}/` and
 *   `annotations/instances_{split}.json`): boxes, contiguous labels and instance masks, with
 *   annotations filtered as mmdet's COCO loader does (spec data-eval.md §2.4);
 * - {@link segmentationFolder}: images with same-named 1-channel label PNGs (ADE layout, or
 *   FMNIST-Scenes' `semantic/{split}/`), optionally through `reduce_zero_label`.
 *
 * Both check the folder when opened, so a missing annotation, image or label file fails at
 * once with a {@link TesseraError} naming the path.
 *
 * @module
 */

import { join } from "node:path";
import { TesseraError } from "../tensor/errors.ts";
import { type CocoAnnotation, type CocoGt, loadCocoGt, segmentationToRle } from "./coco/json.ts";
import { rleDecode } from "./coco/rle.ts";
import type { DenseSample } from "./dense_transforms/sample.ts";
import { reduceZeroLabel } from "./eval/seg_metrics.ts";
import { decodeImage, IMG_EXTENSIONS } from "./image_folder.ts";
import { readLabelPng } from "./label_png.ts";
import type { Dataset } from "./loader.ts";

/** One item of a dense data set: the sample and where it came from. */
export interface DenseItem {
  /** The image and its targets. */
  sample: DenseSample;
  /** The COCO image id, when the set is COCO. */
  imageId?: number;
  /** The image file, for error messages. */
  path?: string;
}

/** A COCO detection folder (see {@link cocoDetectionFolder}). */
export interface CocoFolder extends Dataset<DenseItem> {
  /** The validated ground truth. */
  readonly gt: CocoGt;
  /** COCO category id of each contiguous label `0..C−1` (sorted ids). */
  readonly catIds: readonly number[];
  /** Image ids in item order (sorted). */
  readonly imgIds: readonly number[];
}

/** Options of {@link cocoDetectionFolder}. */
export interface CocoFolderOptions {
  /** Decode instance masks (default true; false for box-only detectors). */
  masks?: boolean;
}

async function exists(op: string, path: string, what: string): Promise<void> {
  try {
    await Deno.stat(path);
  } catch {
    throw new TesseraError(op, `${what} ${path} does not exist`);
  }
}

/** mmdet's `_parse_ann_info` filter: usable, non-crowd, with a box meeting the image. */
function usable(a: CocoAnnotation, h: number, w: number): boolean {
  if (a.ignore || a.iscrowd) return false;
  const [x, y, bw, bh] = a.bbox;
  const inter = Math.max(0, Math.min(x + bw, w) - Math.max(x, 0)) *
    Math.max(0, Math.min(y + bh, h) - Math.max(y, 0));
  return inter > 0 && a.area > 0 && bw >= 1 && bh >= 1;
}

/**
 * Opens `root/images/{split}/` with `root/annotations/instances_{split}.json`. Item `i` is the
 * image with the `i`-th smallest id, decoded as RGB, with boxes `[x, y, x + w, y + h]`,
 * labels = the category's position among the sorted category ids, and masks decoded from the
 * segmentations. Crowd, `ignore`d and degenerate annotations (no overlap with the image,
 * area ≤ 0, w or h < 1) are left out, as mmdet does for training.
 *
 * @param root the data set folder (e.g. `fmnist-scenes-tiny`)
 * @param split `"train"`, `"val"`, …
 * @param opts whether to decode masks
 * @returns the data set
 * @throws {TesseraError} (op `cocoDetectionFolder`) naming the missing annotation file or
 *   image file; (op `loadCocoGt`) on malformed JSON
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateScenes } from "./scenes/generate.ts";
 * import { SCENES_VERSIONS } from "./scenes/scene.ts";
 * import { cocoDetectionFolder } from "./dense_folder.ts";
 * const dir = await Deno.makeTempDir();
 * await generateScenes({ ...SCENES_VERSIONS.tiny, images: { train: 1, val: 2 } }, dir);
 * const val = await cocoDetectionFolder(`${dir}/fmnist-scenes-tiny`, "val");
 * assert.equal(val.length, 2);
 * const { sample, imageId } = await val.get(0);
 * assert.equal(imageId, 1);
 * assert.equal(sample.boxes!.length, 4 * sample.labels!.length);
 * assert.equal(sample.masks!.length, sample.labels!.length);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function cocoDetectionFolder(
  root: string,
  split: string,
  opts: CocoFolderOptions = {},
): Promise<CocoFolder> {
  const op = "cocoDetectionFolder";
  const annFile = join(root, "annotations", `instances_${split}.json`);
  const imgDir = join(root, "images", split);
  await exists(op, annFile, "annotation file");
  const gt = await loadCocoGt(annFile);
  const byImage = new Map<number, CocoAnnotation[]>();
  for (const a of gt.dataset.annotations) {
    const list = byImage.get(a.image_id) ?? [];
    list.push(a);
    byImage.set(a.image_id, list);
  }
  const paths = gt.imgIds.map((id) => join(imgDir, gt.images.get(id)!.file_name));
  for (const p of paths) await exists(op, p, "image file");
  const label = new Map(gt.catIds.map((id, k) => [id, k]));
  const withMasks = opts.masks ?? true;
  return {
    gt,
    catIds: gt.catIds,
    imgIds: gt.imgIds,
    length: gt.imgIds.length,
    async get(i: number): Promise<DenseItem> {
      const id = gt.imgIds[i];
      if (id === undefined) {
        throw new TesseraError(op, `index ${i} is not in 0..${paths.length - 1}`);
      }
      const info = gt.images.get(id)!, path = paths[i]!;
      const image = await decodeImage(path);
      if (image.height !== info.height || image.width !== info.width) {
        throw new TesseraError(
          op,
          `${path} is ${image.width}×${image.height} but ${annFile} says ` +
            `${info.width}×${info.height} (image id ${id})`,
        );
      }
      const anns = (byImage.get(id) ?? []).filter((a) => usable(a, image.height, image.width));
      const boxes = new Float32Array(anns.length * 4);
      anns.forEach((a, j) => {
        const [x, y, w, h] = a.bbox;
        boxes.set([x, y, x + w, y + h], 4 * j);
      });
      const sample: DenseSample = {
        image,
        boxes,
        labels: Int32Array.from(anns, (a) => label.get(a.category_id)!),
      };
      if (withMasks) {
        sample.masks = anns.map((a) => {
          if (!a.segmentation) {
            throw new TesseraError(op, `${annFile}: annotation id ${a.id} has no segmentation`);
          }
          return rleDecode(segmentationToRle(a.segmentation, image.height, image.width));
        });
      }
      return { sample, imageId: id, path };
    },
  };
}

/** Options of {@link segmentationFolder}. */
export interface SegFolderDatasetOptions {
  /** Apply `reduce_zero_label` (0 → 255, v → v − 1) to the label maps (default false). */
  reduceZeroLabel?: boolean;
}

/**
 * Pairs every image of `imagesDir` (sorted by name) with the label PNG of the same basename
 * in `labelsDir`. For FMNIST-Scenes use `images/{split}` and `semantic/{split}` with
 * `reduceZeroLabel: true` (11 classes, 255 ignored).
 *
 * @param imagesDir the images
 * @param labelsDir the 1-channel label PNGs
 * @param opts the label convention
 * @returns the data set
 * @throws {TesseraError} (op `segmentationFolder`) naming a folder that cannot be listed, an
 *   empty one, or the missing label file of an image; a label map of another size than its
 *   image when the item is read
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateScenes } from "./scenes/generate.ts";
 * import { SCENES_VERSIONS } from "./scenes/scene.ts";
 * import { segmentationFolder } from "./dense_folder.ts";
 * const dir = await Deno.makeTempDir();
 * await generateScenes({ ...SCENES_VERSIONS.tiny, images: { train: 1, val: 1 } }, dir);
 * const root = `${dir}/fmnist-scenes-tiny`;
 * const ds = await segmentationFolder(`${root}/images/val`, `${root}/semantic/val`, { reduceZeroLabel: true });
 * const { sample } = await ds.get(0);
 * assert.equal(sample.semantic!.length, 64 * 64);
 * assert.ok(sample.semantic!.every((v) => v <= 10 || v === 255));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function segmentationFolder(
  imagesDir: string,
  labelsDir: string,
  opts: SegFolderDatasetOptions = {},
): Promise<Dataset<DenseItem>> {
  const op = "segmentationFolder";
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(imagesDir)) {
      const n = e.name.toLowerCase();
      if (e.isFile && IMG_EXTENSIONS.some((x) => n.endsWith(x))) names.push(e.name);
    }
  } catch (e) {
    throw new TesseraError(op, `${imagesDir}: cannot list (${e instanceof Error ? e.message : e})`);
  }
  if (names.length === 0) throw new TesseraError(op, `${imagesDir} holds no images`);
  names.sort();
  const labels = names.map((n) => join(labelsDir, n.replace(/\.[^.]+$/, "") + ".png"));
  for (const [i, p] of labels.entries()) {
    await exists(op, p, `label map for ${join(imagesDir, names[i]!)}:`);
  }
  return {
    length: names.length,
    async get(i: number): Promise<DenseItem> {
      const name = names[i];
      if (name === undefined) {
        throw new TesseraError(op, `index ${i} is not in 0..${names.length - 1}`);
      }
      const path = join(imagesDir, name);
      const image = await decodeImage(path);
      const map = await readLabelPng(labels[i]!);
      if (map.height !== image.height || map.width !== image.width) {
        throw new TesseraError(
          op,
          `${labels[i]} is ${map.width}×${map.height}, its image ${path} ` +
            `${image.width}×${image.height}`,
        );
      }
      const semantic = opts.reduceZeroLabel ? reduceZeroLabel(map.data) : map.data;
      return { sample: { image, semantic }, path };
    },
  };
}
