/**
 * Random transforms of a dense-prediction sample, each a `(sample, rng) => sample` function of
 * a host {@link Rng} (as `data/transforms`), so a seed fixes every draw: horizontal flip,
 * detectron2's large-scale jitter and mmseg's `RandomCrop` with `cat_max_ratio`.
 *
 * @module
 */

import { TesseraError } from "../../tensor/errors.ts";
import type { Rng } from "../../tensor/host_rng.ts";
import type { Interpolation, Transform } from "../transforms/image.ts";
import { roundHalfEven } from "../transforms/image.ts";
import { cropDense, type DenseSample, hflipDense, resizeDense, SEG_IGNORE } from "./sample.ts";

/**
 * Flips the sample with probability `p` (one `rng.random()` draw, as `randomHorizontalFlip`).
 *
 * @param p flip probability (default 0.5)
 * @returns the transform
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomFlipDense } from "./random.ts";
 * import { rngFromSeed } from "../../tensor/host_rng.ts";
 * const image = { data: Uint8Array.of(1, 2), height: 1, width: 2, channels: 1 };
 * const f = randomFlipDense(1)({ image, boxes: Float32Array.of(0, 0, 1, 1) }, rngFromSeed([1, 2, 3, 4]));
 * assert.deepEqual([...f.image.data, ...f.boxes!], [2, 1, 1, 0, 2, 1]);
 * ```
 */
export function randomFlipDense(p = 0.5): Transform<DenseSample, DenseSample> {
  if (!(p >= 0 && p <= 1)) {
    throw new TesseraError("randomFlipDense", `p must be in [0, 1], got ${p}`);
  }
  return (s, rng) => (rng.random() < p ? hflipDense(s) : s);
}

/** Options of {@link largeScaleJitter}. */
export interface LargeScaleJitterOptions {
  /** Smallest scale of the output size (default 0.1). */
  minScale?: number;
  /** Largest scale (default 2.0). */
  maxScale?: number;
  /** Image filter (default `"bilinear"`). */
  interpolation?: Interpolation;
}

/**
 * Large-scale jitter (detectron2 `ResizeScale` + `FixedSizeCrop`, as in ViTDet/Copy-Paste):
 * draw `r ~ U(minScale, maxScale)`, resize keeping the aspect ratio by
 * `f = min(r·H_out/h, r·W_out/w)` (sizes rounded half to even), then take a random
 * `[H_out, W_out]` window (offsets uniform integers in `[0, max(0, size − out)]`), padding
 * what is missing at the bottom/right. Boxes that leave the window are dropped with their
 * labels and masks; the others are clipped.
 *
 * @param size output `[height, width]`
 * @param opts the scale range and filter
 * @returns the transform
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { largeScaleJitter } from "./random.ts";
 * import { rngFromSeed } from "../../tensor/host_rng.ts";
 * const image = { data: new Uint8Array(16 * 16 * 3), height: 16, width: 16, channels: 3 };
 * const out = largeScaleJitter([32, 32])({ image, boxes: Float32Array.of(2, 2, 8, 8) }, rngFromSeed([5, 6, 7, 8]));
 * assert.deepEqual([out.image.height, out.image.width], [32, 32]);
 * assert.ok(out.boxes!.every((v) => v >= 0 && v <= 32));
 * ```
 */
export function largeScaleJitter(
  size: readonly [number, number],
  opts: LargeScaleJitterOptions = {},
): Transform<DenseSample, DenseSample> {
  const { minScale = 0.1, maxScale = 2.0, interpolation = "bilinear" } = opts;
  const [H, W] = size;
  if (!Number.isInteger(H) || !Number.isInteger(W) || H < 1 || W < 1) {
    throw new TesseraError("largeScaleJitter", `size must be positive integers, got [${size}]`);
  }
  if (!(minScale > 0 && maxScale >= minScale)) {
    throw new TesseraError(
      "largeScaleJitter",
      `need 0 < minScale <= maxScale, got ${minScale}, ${maxScale}`,
    );
  }
  return (s, rng) => {
    const r = rng.uniform(minScale, maxScale);
    const { height: h, width: w } = s.image;
    const f = Math.min((r * H) / h, (r * W) / w);
    const nh = Math.max(1, roundHalfEven(h * f)), nw = Math.max(1, roundHalfEven(w * f));
    const scaled = resizeDense(s, [nh, nw], interpolation);
    const top = rng.int(0, Math.max(0, nh - H)), left = rng.int(0, Math.max(0, nw - W));
    return cropDense(scaled, top, left, H, W);
  };
}

/** Options of {@link randomCropSeg}. */
export interface SegCropOptions {
  /** Re-draw while one class covers at least this fraction of the crop (default 0.75; 1 = off). */
  catMaxRatio?: number;
  /** Label value not counted (default 255). */
  ignoreIndex?: number;
}

/**
 * mmseg `RandomCrop.crop_bbox` with `cat_max_ratio`: offsets uniform in
 * `[0, max(h − ch, 0)]` × `[0, max(w − cw, 0)]`; while the crop's non-ignored labels hold a
 * single class or one class has a share `≥ catMaxRatio`, draw again — at most 10 checks, and
 * after the tenth failure the eleventh draw is used unchecked, as mmseg does.
 *
 * @param semantic the label map, row-major
 * @param height its rows
 * @param width its columns
 * @param crop `[ch, cw]` (clamped to the map)
 * @param rng the generator
 * @param opts the ratio and ignore value
 * @returns `[top, left, cropHeight, cropWidth]`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { segCropParams } from "./random.ts";
 * import { rngFromSeed } from "../../tensor/host_rng.ts";
 * const seg = new Uint8Array(4 * 4); // class 0 everywhere but column 3
 * for (let y = 0; y < 4; y++) seg[y * 4 + 3] = 1;
 * const [top, left, ch, cw] = segCropParams(seg, 4, 4, [2, 2], rngFromSeed([1, 1, 1, 1]));
 * assert.deepEqual([left, ch, cw], [2, 2, 2]); // the only crops with two classes
 * assert.ok(top >= 0 && top <= 2);
 * ```
 */
export function segCropParams(
  semantic: Uint8Array,
  height: number,
  width: number,
  crop: readonly [number, number],
  rng: Rng,
  opts: SegCropOptions = {},
): [number, number, number, number] {
  const { catMaxRatio = 0.75, ignoreIndex = SEG_IGNORE } = opts;
  const ch = Math.min(crop[0], height), cw = Math.min(crop[1], width);
  const draw = () => [rng.int(0, height - ch), rng.int(0, width - cw)] as const;
  let [top, left] = draw();
  if (catMaxRatio < 1) {
    const counts = new Float64Array(256);
    for (let t = 0; t < 10; t++) {
      counts.fill(0);
      for (let y = top; y < top + ch; y++) {
        for (let x = left; x < left + cw; x++) counts[semantic[y * width + x]!]!++;
      }
      let classes = 0, max = 0, sum = 0;
      for (let v = 0; v < 256; v++) {
        if (v === ignoreIndex || counts[v] === 0) continue;
        classes++;
        sum += counts[v]!;
        if (counts[v]! > max) max = counts[v]!;
      }
      if (classes > 1 && max / sum < catMaxRatio) break;
      [top, left] = draw();
    }
  }
  return [top, left, ch, cw];
}

/**
 * mmseg's `RandomCrop(crop_size, cat_max_ratio)` for segmentation: a window chosen by
 * {@link segCropParams} from the sample's label map (which is required), cropped from every
 * target. A map smaller than the window gives a smaller crop; pad it afterwards with
 * `padDense({ size })` (label 255).
 *
 * @param size crop `[height, width]`
 * @param opts the ratio and ignore value
 * @returns the transform
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomCropSeg } from "./random.ts";
 * import { rngFromSeed } from "../../tensor/host_rng.ts";
 * const image = { data: new Uint8Array(8 * 8), height: 8, width: 8, channels: 1 };
 * const out = randomCropSeg([4, 4])({ image, semantic: new Uint8Array(64) }, rngFromSeed([1, 2, 3, 4]));
 * assert.deepEqual([out.image.height, out.semantic!.length], [4, 16]);
 * ```
 */
export function randomCropSeg(
  size: readonly [number, number],
  opts: SegCropOptions = {},
): Transform<DenseSample, DenseSample> {
  const [H, W] = size;
  if (!Number.isInteger(H) || !Number.isInteger(W) || H < 1 || W < 1) {
    throw new TesseraError("randomCropSeg", `size must be positive integers, got [${size}]`);
  }
  return (s, rng) => {
    if (!s.semantic) throw new TesseraError("randomCropSeg", "the sample has no semantic map");
    const { height: h, width: w } = s.image;
    const [top, left, ch, cw] = segCropParams(s.semantic, h, w, size, rng, opts);
    return cropDense(s, top, left, ch, cw);
  };
}
