/**
 * DINO's multi-crop augmentation (`DataAugmentationDINO`, methods.md §9) with sizes and blur
 * radii configurable for small images. A {@link DataLoader} batches one image per sample, so
 * the crops of a sample are packed into one flat float image (`[1, 1, total]`, crops
 * concatenated in CHW layout) and {@link unpackCrops} slices the collated batch back into one
 * `[B, C, s, s]` tensor per crop.
 * @module
 */
import { reshape, slice, type Tensor, TesseraError } from "../../tensor/mod.ts";
import { colorJitter, randomGrayscale, randomSolarize } from "./color.ts";
import { randomGaussianBlur } from "./blur.ts";
import { randomHorizontalFlip, randomResizedCrop } from "./geometry.ts";
import {
  type FloatImage,
  type Image,
  normalize,
  randomApply,
  toFloat,
  type Transform,
} from "./image.ts";

/** Options of {@link multiCrop} (defaults: DINO's, except the sizes, which must be given). */
export interface MultiCropOptions {
  /** Side of the 2 global crops (DINO 224). */
  globalSize: number;
  /** Side of the local crops (DINO 96). */
  localSize: number;
  /** Number of local crops (DINO 8; 0 = none). */
  localCrops: number;
  /** Area range of the global crops (default [0.4, 1]). */
  globalScale?: readonly [number, number];
  /** Area range of the local crops (default [0.05, 0.4]). */
  localScale?: readonly [number, number];
  /** Gaussian-blur σ range in pixels (default DINO's [0.1, 2] for 224² crops). */
  blurSigma?: readonly [number, number];
  /** Colour-jitter probability (default 0.8; brightness 0.4, contrast 0.4, saturation 0.2, hue 0.1). */
  jitterP?: number;
  /** Per-channel normalisation mean (default [0.5]). */
  mean?: readonly number[];
  /** Per-channel normalisation std (default [0.5]). */
  std?: readonly number[];
}

/** Where each crop lives in a packed sample: offset (in floats) and side. */
export interface CropLayout {
  /** Channels of every crop. */
  channels: number;
  /** `[offset, side]` of the global crops, then of the local crops. */
  globals: [number, number][];
  /** `[offset, side]` of the local crops. */
  locals: [number, number][];
  /** Floats per packed sample. */
  total: number;
}

/**
 * The packed layout of {@link multiCrop}'s output for `channels`-channel images.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cropLayout } from "./multicrop.ts";
 * const l = cropLayout({ globalSize: 4, localSize: 2, localCrops: 2 }, 1);
 * assert.deepEqual(l.globals, [[0, 4], [16, 4]]);
 * assert.deepEqual(l.locals, [[32, 2], [36, 2]]);
 * assert.equal(l.total, 40);
 * ```
 */
export function cropLayout(opts: MultiCropOptions, channels: number): CropLayout {
  for (const [k, v] of [["globalSize", opts.globalSize], ["localSize", opts.localSize]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new TesseraError("multiCrop", `${k} must be a positive integer, got ${v}`);
    }
  }
  if (!Number.isInteger(opts.localCrops) || opts.localCrops < 0) {
    throw new TesseraError(
      "multiCrop",
      `localCrops must be an integer >= 0, got ${opts.localCrops}`,
    );
  }
  let off = 0;
  const at = (side: number): [number, number] => {
    const r: [number, number] = [off, side];
    off += channels * side * side;
    return r;
  };
  const globals = [at(opts.globalSize), at(opts.globalSize)];
  const locals = Array.from({ length: opts.localCrops }, () => at(opts.localSize));
  return { channels, globals, locals, total: off };
}

/**
 * DINO's augmentation: 2 global crops (flip, colour jitter p=0.8, greyscale p=0.2; blur p=1.0
 * on the first; blur p=0.1 and solarize p=0.2 on the second) and `localCrops` local crops
 * (blur p=0.5), each normalised, packed into one float image `[1, 1, total]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { image } from "./image.ts";
 * import { multiCrop } from "./multicrop.ts";
 * import { rngFromSeed } from "../mod.ts";
 * const t = multiCrop({ globalSize: 8, localSize: 4, localCrops: 3 });
 * const out = t(image(new Uint8Array(100).fill(7), 10, 10, 1), rngFromSeed([1, 2, 3, 4]));
 * assert.equal(out.width, 176); // 2·64 + 3·16
 * ```
 */
export function multiCrop(opts: MultiCropOptions): Transform<Image, FloatImage> {
  const gScale = opts.globalScale ?? [0.4, 1], lScale = opts.localScale ?? [0.05, 0.4];
  const sigma = opts.blurSigma ?? [0.1, 2];
  const mean = opts.mean ?? [0.5], std = opts.std ?? [0.5];
  const flipJitter: Transform<Image, Image>[] = [
    randomHorizontalFlip(0.5),
    randomApply(
      colorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.2, hue: 0.1 }),
      opts.jitterP ?? 0.8,
    ),
    randomGrayscale(0.2),
  ];
  const chain = (...ts: Transform<Image, Image>[]): Transform<Image, Image> => (img, rng) => {
    for (const t of ts) img = t(img, rng);
    return img;
  };
  const bicubic = { interpolation: "bicubic" as const };
  const global1 = chain(
    randomResizedCrop(opts.globalSize, { scale: gScale, ...bicubic }),
    ...flipJitter,
    randomGaussianBlur({ p: 1, sigma }),
  );
  const global2 = chain(
    randomResizedCrop(opts.globalSize, { scale: gScale, ...bicubic }),
    ...flipJitter,
    randomGaussianBlur({ p: 0.1, sigma }),
    randomSolarize(0.2),
  );
  const local = chain(
    randomResizedCrop(opts.localSize, { scale: lScale, ...bicubic }),
    ...flipJitter,
    randomGaussianBlur({ p: 0.5, sigma }),
  );
  return (img, rng) => {
    const layout = cropLayout(opts, img.channels);
    const out = new Float32Array(layout.total);
    const put = (t: Transform<Image, Image>, offset: number) => {
      out.set(normalize(toFloat(t(img, rng)), mean, std).data, offset);
    };
    put(global1, layout.globals[0]![0]);
    put(global2, layout.globals[1]![0]);
    for (const [o] of layout.locals) put(local, o);
    return { data: out, channels: 1, height: 1, width: layout.total };
  };
}

/**
 * Slices a collated batch of packed crops `[B, 1, 1, total]` into `[B, C, s, s]` tensors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { zeros } from "../../mod.ts";
 * import { cropLayout, unpackCrops } from "./multicrop.ts";
 * const layout = cropLayout({ globalSize: 4, localSize: 2, localCrops: 2 }, 1);
 * const { globals, locals } = unpackCrops(zeros([3, 1, 1, layout.total]), layout);
 * assert.deepEqual(globals[1]!.shape, [3, 1, 4, 4]);
 * assert.equal(locals.length, 2);
 * assert.deepEqual(locals[0]!.shape, [3, 1, 2, 2]);
 * ```
 */
export function unpackCrops(
  images: Tensor,
  layout: CropLayout,
): { globals: Tensor[]; locals: Tensor[] } {
  const b = images.shape[0]!;
  if (images.ndim !== 4 || images.size !== b * layout.total) {
    throw new TesseraError(
      "unpackCrops",
      `expected [B, 1, 1, ${layout.total}] packed crops, got [${images.shape}]`,
    );
  }
  const flat = reshape(images, [b, layout.total]);
  const take = ([o, s]: [number, number]) =>
    reshape(slice(flat, [null, [o, o + layout.channels * s * s]]), [b, layout.channels, s, s]);
  return { globals: layout.globals.map(take), locals: layout.locals.map(take) };
}
