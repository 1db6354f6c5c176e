/**
 * Transforms of dense-prediction samples (detection, instance and semantic segmentation):
 * an image with its boxes, instance masks and label map, moved together. Deterministic ops in
 * `./sample.ts`, random ones (functions of a host {@link Rng}) in `./random.ts`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compose } from "../transforms/image.ts";
 * import { largeScaleJitter, normalizeDense, padDense, randomFlipDense } from "./mod.ts";
 * import { rngFromSeed } from "../../tensor/host_rng.ts";
 * const train = compose(
 *   randomFlipDense(),
 *   largeScaleJitter([48, 48]),
 *   (s) => padDense(s, { divisor: 32 }),
 *   (s) => normalizeDense(s, [0.5], [0.5]),
 * );
 * const image = { data: new Uint8Array(40 * 40 * 3), height: 40, width: 40, channels: 3 };
 * const out = train({ image, boxes: Float32Array.of(4, 4, 20, 20), labels: Int32Array.of(1) }, rngFromSeed([1, 2, 3, 4]));
 * assert.deepEqual([out.image.channels, out.image.height, out.image.width], [3, 64, 64]);
 * ```
 *
 * @module
 */

export {
  checkDense,
  cropDense,
  type DenseSample,
  hflipDense,
  keepRatioSize,
  normalizeDense,
  padDense,
  resizeDense,
  resizeKeepRatio,
  SEG_IGNORE,
} from "./sample.ts";
export {
  largeScaleJitter,
  type LargeScaleJitterOptions,
  randomCropSeg,
  randomFlipDense,
  type SegCropOptions,
  segCropParams,
} from "./random.ts";
