/**
 * The data side of `train.ts segment`: opening a segmentation folder (FMNIST-Scenes'
 * `images/{split}` + `semantic/{split}`, or ADE's `images/{training,validation}` +
 * `annotations/…`), both through `reduce_zero_label` as mmseg loads them; checking every label
 * map when it is read ({@link checkedSplit}); mmseg's training pipeline (random resize with
 * ratio U(0.5, 2) keeping the aspect, random crop with `cat_max_ratio`, flip, photometric
 * distortion, pad with label 255) and its test resize ({@link segTrainTransform},
 * {@link segTestTransform}).
 * @module
 */
import { join } from "node:path";
import { type DenseItem, segmentationFolder } from "../data/dense_folder.ts";
import { randomCropSeg, randomFlipDense } from "../data/dense_transforms/random.ts";
import {
  type DenseSample,
  keepRatioSize,
  normalizeDense,
  padDense,
  resizeDense,
  SEG_IGNORE,
} from "../data/dense_transforms/sample.ts";
import type { Dataset } from "../data/loader.ts";
import type { Rng } from "../tensor/host_rng.ts";
import { errorDetail, UsageError } from "./flags.ts";
import { toGrey } from "./detect_task.ts";
import { denseStats } from "../data/dense_stats.ts";

/** Normalises with ImageNet's statistics (data/dense_stats.ts); a 1-channel encoder's greyscale. */
function segNormalize(s: DenseSample, inChans: number): DenseSample {
  const { mean, std } = denseStats(inChans);
  return normalizeDense(inChans === 1 ? toGrey(s) : s, mean, std) as unknown as DenseSample;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await Deno.stat(p)).isDirectory;
  } catch {
    return false;
  }
}

/**
 * One split of a segmentation folder, its label maps checked when read: every value is a
 * class `0..numClasses−1` or 255 after `reduce_zero_label`, and the map has its image's size.
 * A bad map throws a {@link UsageError} naming the file and the value.
 *
 * @param dir the data folder
 * @param split `"train"` or `"val"` (ADE: `training` / `validation`)
 * @param numClasses classes after reduction (11 for FMNIST-Scenes)
 * @returns the data set
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateScenes } from "../data/scenes/generate.ts";
 * import { SCENES_VERSIONS } from "../data/scenes/scene.ts";
 * import { checkedSplit } from "./segment_data.ts";
 * const dir = await Deno.makeTempDir();
 * await generateScenes({ ...SCENES_VERSIONS.tiny, images: { train: 1, val: 1 } }, dir);
 * const ds = await checkedSplit(`${dir}/fmnist-scenes-tiny`, "val", 11);
 * assert.equal((await ds.get(0)).sample.semantic!.length, 64 * 64);
 * await assert.rejects(async () => (await checkedSplit(`${dir}/fmnist-scenes-tiny`, "val", 2)).get(0), /--data .*class/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function checkedSplit(
  dir: string,
  split: "train" | "val",
  numClasses: number,
): Promise<Dataset<DenseItem>> {
  let images: string, labels: string;
  if (await isDir(join(dir, "semantic"))) {
    images = join(dir, "images", split), labels = join(dir, "semantic", split);
  } else if (await isDir(join(dir, "annotations"))) {
    const s = split === "train" ? "training" : "validation";
    images = join(dir, "images", s), labels = join(dir, "annotations", s);
  } else {
    throw new UsageError(
      `--data ${dir}: neither semantic/ (FMNIST-Scenes: train.ts scenes) nor annotations/ (ADE) is there`,
    );
  }
  let ds: Dataset<DenseItem>;
  try {
    ds = await segmentationFolder(images, labels, { reduceZeroLabel: true });
  } catch (e) {
    throw new UsageError(`--data ${dir}: ${errorDetail(e)}`);
  }
  const labelFile = (p?: string) =>
    p ? join(labels, p.slice(p.lastIndexOf("/") + 1).replace(/\.[^.]+$/, "") + ".png") : "?";
  return {
    length: ds.length,
    async get(i: number): Promise<DenseItem> {
      let item: DenseItem;
      try {
        item = await ds.get(i);
      } catch (e) {
        throw new UsageError(`--data ${dir}: ${errorDetail(e)}`);
      }
      const sem = item.sample.semantic!;
      for (let q = 0; q < sem.length; q++) {
        const v = sem[q]!;
        if (v >= numClasses && v !== SEG_IGNORE) {
          throw new UsageError(
            `--data ${dir}: ${labelFile(item.path)} has the value ${v + 1} (class ${v} after ` +
              `reduce_zero_label) at pixel ${q}, outside the ${numClasses} classes ` +
              `(raw values 0..${numClasses} and 255)`,
          );
        }
      }
      return item;
    },
  };
}

/**
 * mmseg's `PhotoMetricDistortion` on an RGB uint8 image: brightness ±32 (p 0.5), contrast
 * ×U(0.5, 1.5) (p 0.5) before or after the HSV ops, saturation ×U(0.5, 1.5) (p 0.5), hue ±18
 * on OpenCV's 0..180 scale (p 0.5); every step clips to 0..255. A 1-channel image gets the
 * brightness and contrast steps only.
 *
 * @param s the sample (targets untouched)
 * @param rng the generator
 * @returns the distorted sample
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { photometricDistortion } from "./segment_data.ts";
 * import { rngFromSeed } from "../tensor/host_rng.ts";
 * const image = { data: new Uint8Array(12).fill(100), height: 2, width: 2, channels: 3 };
 * const out = photometricDistortion({ image }, rngFromSeed([1, 2, 3, 4]));
 * assert.equal(out.image.data.length, 12);
 * assert.ok(out.image.data.every((v) => v >= 0 && v <= 255));
 * ```
 */
export function photometricDistortion(s: DenseSample, rng: Rng): DenseSample {
  const { data, channels } = s.image;
  const x = Float32Array.from(data);
  const clip = (v: number) => Math.min(255, Math.max(0, v));
  const affine = (a: number, b: number) => {
    for (let i = 0; i < x.length; i++) x[i] = clip(x[i]! * a + b);
  };
  if (rng.int(0, 1) === 1) affine(1, rng.uniform(-32, 32));
  const contrastFirst = rng.int(0, 1) === 1;
  const contrast = () => {
    if (rng.int(0, 1) === 1) affine(rng.uniform(0.5, 1.5), 0);
  };
  if (contrastFirst) contrast();
  if (channels === 3) {
    const sat = rng.int(0, 1) === 1 ? rng.uniform(0.5, 1.5) : 1;
    const hue = rng.int(0, 1) === 1 ? rng.int(-18, 18) : 0;
    if (sat !== 1 || hue !== 0) hsvAdjust(x, sat, hue);
  }
  if (!contrastFirst) contrast();
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.trunc(x[i]!);
  return { ...s, image: { ...s.image, data: out } };
}

/** Saturation × `sat` and hue + `hue` (OpenCV's 0..180 scale, mod 180) of RGB pixels in place. */
function hsvAdjust(x: Float32Array, sat: number, hue: number): void {
  for (let i = 0; i < x.length; i += 3) {
    const r = x[i]! / 255, g = x[i + 1]! / 255, b = x[i + 2]! / 255;
    const v = Math.max(r, g, b), m = Math.min(r, g, b), c = v - m;
    let h = 0;
    if (c > 0) {
      h = v === r ? ((g - b) / c) % 6 : v === g ? (b - r) / c + 2 : (r - g) / c + 4;
      h *= 60;
      if (h < 0) h += 360;
    }
    let sv = v === 0 ? 0 : c / v;
    sv = Math.min(1, sv * sat);
    h = (((h / 2 + hue) % 180) + 180) % 180 * 2;
    const cc = v * sv, hp = h / 60, xx = cc * (1 - Math.abs((hp % 2) - 1)), mm = v - cc;
    const [r1, g1, b1] = hp < 1
      ? [cc, xx, 0]
      : hp < 2
      ? [xx, cc, 0]
      : hp < 3
      ? [0, cc, xx]
      : hp < 4
      ? [0, xx, cc]
      : hp < 5
      ? [xx, 0, cc]
      : [cc, 0, xx];
    x[i] = (r1 + mm) * 255, x[i + 1] = (g1 + mm) * 255, x[i + 2] = (b1 + mm) * 255;
  }
}

/** Settings of {@link segTrainTransform}. */
export interface SegAugment {
  /** Crop side (the canvas for FMNIST-Scenes; 512 for ADE). */
  crop: number;
  /** Resize ratio range (mmseg `ratio_range`, default [0.5, 2]). */
  ratio: readonly [number, number];
  /** `cat_max_ratio` of the crop (1 = off). */
  catMaxRatio: number;
  /** Flip probability. */
  flip: number;
  /** Photometric distortion on/off. */
  photometric: boolean;
  /** The encoder's channels; 1 turns the (RGB) images grey after the distortion (default 3). */
  inChans?: number;
}

/**
 * mmseg's ADE training pipeline scaled to `crop`: resize keeping the aspect to
 * `(4·crop, crop) × U(ratio)` (mmseg's `(2048, 512)` scale), random crop `crop²` with
 * `cat_max_ratio`, flip, photometric distortion, pad to `crop²` (image 0, label 255),
 * normalise.
 *
 * @param a the settings
 * @returns the transform
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { segTrainTransform } from "./segment_data.ts";
 * import { rngFromSeed } from "../tensor/host_rng.ts";
 * const t = segTrainTransform({ crop: 8, ratio: [0.5, 2], catMaxRatio: 0.75, flip: 0.5, photometric: true });
 * const image = { data: new Uint8Array(8 * 8 * 3), height: 8, width: 8, channels: 3 };
 * const out = t({ image, semantic: new Uint8Array(64) }, rngFromSeed([1, 2, 3, 4]));
 * assert.deepEqual([out.image.height, out.image.width, out.semantic!.length], [8, 8, 64]);
 * ```
 */
export function segTrainTransform(
  a: SegAugment,
): (s: DenseSample, rng: Rng) => DenseSample {
  const crop = randomCropSeg([a.crop, a.crop], { catMaxRatio: a.catMaxRatio });
  const flip = randomFlipDense(a.flip);
  return (s, rng) => {
    const r = rng.uniform(a.ratio[0], a.ratio[1]);
    const { height: h, width: w } = s.image;
    s = resizeDense(s, keepRatioSize(h, w, a.crop * r, 4 * a.crop * r));
    s = crop(s, rng);
    if (a.flip > 0) s = flip(s, rng);
    if (a.photometric) s = photometricDistortion(s, rng);
    s = padDense(s, { size: [a.crop, a.crop] });
    return segNormalize(s, a.inChans ?? 3);
  };
}

/**
 * mmseg's test resize (scale `(4·crop, crop)` keeping the aspect) and normalisation; the
 * label map goes along (nearest) but scoring uses the original one.
 *
 * @param crop the crop side
 * @param inChans the encoder's channels (1: greyscale the images)
 * @returns the transform
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { segTestTransform } from "./segment_data.ts";
 * const image = { data: new Uint8Array(4 * 8 * 3), height: 4, width: 8, channels: 3 };
 * const out = segTestTransform(8)({ image, semantic: new Uint8Array(32) });
 * assert.deepEqual([out.image.height, out.image.width], [8, 16]);
 * assert.equal(segTestTransform(8, 1)({ image, semantic: new Uint8Array(32) }).image.channels, 1);
 * ```
 */
export function segTestTransform(crop: number, inChans = 3): (s: DenseSample) => DenseSample {
  return (s) => {
    const { height: h, width: w } = s.image;
    const size = keepRatioSize(h, w, crop, 4 * crop);
    if (size[0] !== h || size[1] !== w) s = resizeDense(s, size);
    return segNormalize(s, inChans);
  };
}
