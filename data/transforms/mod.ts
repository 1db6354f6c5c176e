/**
 * Image transforms with explicit randomness, in torchvision's order of use: PIL-like uint8
 * HWC images through geometric and colour ops, then {@link toFloat} (`ToTensor`) and
 * {@link normalize} to float32 CHW; Mixup/CutMix act on collated host batches.
 *
 * Every random transform is a function `(x, rng) => y` of a host {@link Rng} (xoshiro128**
 * seeded from a tessera key), so a seed fixes every draw.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   compose, IMAGENET_MEAN, IMAGENET_STD, image, normalize, randomHorizontalFlip,
 *   randomResizedCrop, toFloat,
 * } from "./mod.ts";
 * import { rngFromSeed } from "../mod.ts";
 * const train = compose(
 *   randomResizedCrop(8, { interpolation: "bicubic" }),
 *   randomHorizontalFlip(),
 *   toFloat,
 *   (x) => normalize(x, IMAGENET_MEAN, IMAGENET_STD),
 * );
 * const out = train(image(new Uint8Array(12 * 16 * 3).fill(128), 12, 16, 3), rngFromSeed([1, 2, 3, 4]));
 * assert.equal(out.channels, 3);
 * assert.equal(out.height, 8);
 * assert.equal(out.width, 8);
 * ```
 *
 * @module
 */

export {
  checkImage,
  compose,
  type FloatImage,
  type HostBatch,
  type Image,
  image,
  IMAGENET_MEAN,
  IMAGENET_STD,
  type Interpolation,
  luma,
  normalize,
  randomApply,
  roundHalfEven,
  toFloat,
  type Transform,
} from "./image.ts";
export { type Affine, affineExact, resizeExact } from "./resample.ts";
export {
  centerCrop,
  crop,
  hflip,
  randomHorizontalFlip,
  randomResizedCrop,
  type RandomResizedCropOptions,
  randomResizedCropParams,
  resize,
  resizedCrop,
} from "./geometry.ts";
export {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  blend,
  colorJitter,
  type ColorJitterOptions,
  colorJitterParams,
  grayscale,
  randomGrayscale,
  randomSolarize,
  solarize,
} from "./color.ts";
export {
  blurKernelSize,
  gaussianBlur,
  type RandomBlurOptions,
  randomGaussianBlur,
} from "./blur.ts";
export {
  adjustSharpness,
  autoContrast,
  equalize,
  invert,
  posterize,
  RAND_AUGMENT_OPS,
  RAND_INCREASING_TRANSFORMS,
  RAND_TRANSFORMS,
  randAugment,
  type RandAugmentOp,
  type RandAugmentOptions,
  rotate,
  solarizeAdd,
} from "./rand_augment.ts";
export {
  cutmixBox,
  mixup,
  type MixupOptions,
  type MixupParams,
  mixupParams,
  mixupTargets,
} from "./mixup.ts";
