/**
 * The images of a dense-prediction folder without their labels, for self-supervised
 * pre-training on the target images alone (the paper's §5.4 setting at small scale: pre-train on
 * FMNIST-Scenes, fine-tune Mask R-CNN / UperNet on the same images). The split's images
 * (`images/train/` of a COCO folder such as FMNIST-Scenes, or `images/training/` of an ADE
 * folder) are decoded, turned into one channel as the dense commands feed a greyscale encoder
 * ({@link channelMean}) and returned in the {@link FashionMnist} layout, so `pretrain`'s
 * methods, augmentations and tokenizers take them unchanged.
 *
 * @module
 */
import { extname, join } from "node:path";
import { TesseraError } from "../tensor/errors.ts";
import type { FashionMnist } from "./fashion_mnist.ts";
import { decodeImage, IMG_EXTENSIONS } from "./image_folder.ts";
import { channelMean } from "./transforms/image.ts";

/** The image folder of a dense folder's training split, or null when `dir` has none. */
export async function denseImageDir(dir: string): Promise<string | null> {
  for (const split of ["train", "training"]) {
    const d = join(dir, "images", split);
    try {
      if ((await Deno.stat(d)).isDirectory) return d;
    } catch {
      // not this layout
    }
  }
  return null;
}

/** Options of {@link loadImageSplit}. */
export interface ImageSplitOptions {
  /** Read only the first `limit` images (in file-name order). */
  limit?: number;
}

/**
 * Loads the training images of a dense folder (see the module doc) as 1-channel uint8 images,
 * in file-name order; labels are all 0 (there are none). Every image must have the same size.
 *
 * @param dir the dense folder (FMNIST-Scenes, COCO or ADE layout)
 * @param opts how many images to read
 * @returns the images in the {@link FashionMnist} layout (`rows`×`cols` from the files)
 * @throws {TesseraError} (op `loadImageSplit`) naming the folder or file when the folder has no
 *   image split or no images, an image cannot be decoded, or sizes differ
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import sharp from "npm:sharp@0.34.5";
 * import { loadImageSplit } from "./image_split.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/images/train`, { recursive: true });
 * const raw = { raw: { width: 2, height: 1, channels: 3 as const } };
 * for (const [name, v] of [["b.png", 30], ["a.png", 90]] as const) {
 *   const png = await sharp(new Uint8Array([v, v, v, 0, 0, 3]), raw).png().toBuffer();
 *   await Deno.writeFile(`${dir}/images/train/${name}`, new Uint8Array(png));
 * }
 * const s = await loadImageSplit(dir);
 * assert.deepEqual([s.count, s.rows, s.cols, ...s.images], [2, 1, 2, 90, 1, 30, 1]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadImageSplit(
  dir: string,
  opts: ImageSplitOptions = {},
): Promise<FashionMnist> {
  const op = "loadImageSplit";
  const folder = await denseImageDir(dir);
  if (folder === null) {
    throw new TesseraError(op, `${dir} has no images/train/ (COCO) or images/training/ (ADE)`);
  }
  const names: string[] = [];
  for await (const e of Deno.readDir(folder)) {
    const ext = extname(e.name).toLowerCase();
    if (e.isFile && (IMG_EXTENSIONS as readonly string[]).includes(ext)) names.push(e.name);
  }
  names.sort();
  if (names.length === 0) throw new TesseraError(op, `${folder} holds no images`);
  const limit = opts.limit ?? names.length;
  if (!Number.isInteger(limit) || limit < 1 || limit > names.length) {
    throw new TesseraError(
      op,
      `limit must be an integer in [1, ${names.length}] (the images in ${folder}), got ${limit}`,
    );
  }
  let rows = 0, cols = 0, images = new Uint8Array(0);
  for (let i = 0; i < limit; i++) {
    const img = channelMean(await decodeImage(join(folder, names[i]!)));
    if (i === 0) {
      [rows, cols] = [img.height, img.width];
      images = new Uint8Array(limit * rows * cols);
    } else if (img.height !== rows || img.width !== cols) {
      throw new TesseraError(
        op,
        `${names[i]} is ${img.height}×${img.width} but ${names[0]} is ${rows}×${cols}: ` +
          `pre-training needs one image size`,
      );
    }
    images.set(img.data, i * rows * cols);
  }
  return { images, labels: new Uint8Array(limit), count: limit, rows, cols, source: folder };
}
