/**
 * Host image types shared by the transforms, ImageFolder and the loader.
 *
 * Two layouts, in torchvision's order of use:
 * - {@link Image}: uint8, **HWC** (row-major, channels interleaved), 1 or 3 channels — the
 *   PIL-like form every geometric and colour transform takes and returns.
 * - {@link FloatImage}: float32, **CHW** — what {@link toFloat} (torchvision's `ToTensor`)
 *   produces and `normalize`, the loader's collation and Mixup/CutMix consume.
 *
 * Transforms never modify their input; they return new images.
 *
 * @module
 */

import { TesseraError } from "../../tensor/errors.ts";
import type { Rng } from "../../tensor/host_rng.ts";

/** A uint8 image, HWC row-major (PIL-like). `data.length === height·width·channels`. */
export interface Image {
  /** Pixels: `data[(y·width + x)·channels + c]`. */
  data: Uint8Array;
  /** Rows. */
  height: number;
  /** Columns. */
  width: number;
  /** 1 (greyscale, PIL "L") or 3 (RGB). */
  channels: number;
}

/** A float32 image, CHW row-major (a single-sample tensor layout). */
export interface FloatImage {
  /** Values: `data[(c·height + y)·width + x]`. */
  data: Float32Array;
  /** Channels. */
  channels: number;
  /** Rows. */
  height: number;
  /** Columns. */
  width: number;
}

/**
 * A transform: a function of an input and a host {@link Rng}. Deterministic transforms ignore
 * the generator; random ones draw from it, so a seed fixes the result.
 */
export type Transform<A, B> = (x: A, rng: Rng) => B;

/** Resampling filters, as PIL names them. */
export type Interpolation = "nearest" | "bilinear" | "bicubic" | "lanczos";

/**
 * Throws unless `img` is a consistent uint8 HWC image with 1 or 3 channels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkImage } from "./image.ts";
 * checkImage("demo", { data: new Uint8Array(12), height: 2, width: 2, channels: 3 });
 * try {
 *   checkImage("demo", { data: new Uint8Array(5), height: 2, width: 2, channels: 3 });
 * } catch (e) {
 *   assert.equal((e as Error).message.includes("expected 2×2×3"), true);
 * }
 * ```
 */
export function checkImage(op: string, img: Image): void {
  const { data, height, width, channels } = img;
  if (!(data instanceof Uint8Array)) throw new TesseraError(op, "image data must be a Uint8Array");
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new TesseraError(op, `image size must be positive integers, got ${height}×${width}`);
  }
  if (channels !== 1 && channels !== 3) {
    throw new TesseraError(op, `images must have 1 or 3 channels, got ${channels}`);
  }
  if (data.length !== height * width * channels) {
    throw new TesseraError(
      op,
      `image data has ${data.length} bytes, expected ${height}×${width}×${channels}`,
    );
  }
}

/**
 * Makes an {@link Image}, checking the sizes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { image } from "./image.ts";
 * const img = image(new Uint8Array(2 * 3 * 3), 2, 3, 3);
 * assert.equal(img.height, 2);
 * assert.equal(img.width, 3);
 * assert.equal(img.channels, 3);
 * ```
 */
export function image(data: Uint8Array, height: number, width: number, channels: number): Image {
  const img = { data, height, width, channels };
  checkImage("image", img);
  return img;
}

/**
 * Composes transforms left to right: `compose(f, g)(x, rng) = g(f(x, rng), rng)`; every step
 * draws from the same generator, in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compose } from "./image.ts";
 * import { rngFromSeed } from "../mod.ts";
 * const t = compose((x: number) => x + 1, (x: number) => x * 2);
 * assert.equal(t(3, rngFromSeed([1, 2, 3, 4])), 8);
 * ```
 */
export function compose<A, B>(t1: Transform<A, B>): Transform<A, B>;
/** Composes two transforms. */
export function compose<A, B, C>(t1: Transform<A, B>, t2: Transform<B, C>): Transform<A, C>;
/** Composes three transforms. */
export function compose<A, B, C, D>(
  t1: Transform<A, B>,
  t2: Transform<B, C>,
  t3: Transform<C, D>,
): Transform<A, D>;
/** Composes four transforms. */
export function compose<A, B, C, D, E>(
  t1: Transform<A, B>,
  t2: Transform<B, C>,
  t3: Transform<C, D>,
  t4: Transform<D, E>,
): Transform<A, E>;
/** Composes five transforms. */
export function compose<A, B, C, D, E, F>(
  t1: Transform<A, B>,
  t2: Transform<B, C>,
  t3: Transform<C, D>,
  t4: Transform<D, E>,
  t5: Transform<E, F>,
): Transform<A, F>;
/** Composes six transforms. */
export function compose<A, B, C, D, E, F, G>(
  t1: Transform<A, B>,
  t2: Transform<B, C>,
  t3: Transform<C, D>,
  t4: Transform<D, E>,
  t5: Transform<E, F>,
  t6: Transform<F, G>,
): Transform<A, G>;
/** Composes any number of transforms (untyped). */
export function compose(...ts: Transform<unknown, unknown>[]): Transform<unknown, unknown>;
export function compose(...ts: Transform<unknown, unknown>[]): Transform<unknown, unknown> {
  return (x, rng) => ts.reduce((acc, t) => t(acc, rng), x);
}

/**
 * Applies `t` with probability `p` (one `rng.random()` draw, then `t`'s own draws), like
 * torchvision's `RandomApply`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomApply } from "./image.ts";
 * import { rngFromSeed } from "../mod.ts";
 * assert.equal(randomApply((x: number) => -x, 0)(5, rngFromSeed([1, 2, 3, 4])), 5);
 * ```
 */
export function randomApply<A>(t: Transform<A, A>, p: number): Transform<A, A> {
  if (!(p >= 0 && p <= 1)) throw new TesseraError("randomApply", `p must be in [0, 1], got ${p}`);
  return (x, rng) => (rng.random() < p ? t(x, rng) : x);
}

/**
 * torchvision's `ToTensor`: uint8 HWC → float32 CHW in [0, 1] (value / 255).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { image, toFloat } from "./image.ts";
 * const f = toFloat(image(new Uint8Array([0, 255]), 1, 2, 1));
 * assert.deepEqual([...f.data], [0, 1]);
 * ```
 */
export function toFloat(img: Image): FloatImage {
  checkImage("toFloat", img);
  const { data, height, width, channels } = img;
  const hw = height * width;
  const out = new Float32Array(hw * channels);
  for (let i = 0; i < hw; i++) {
    for (let c = 0; c < channels; c++) out[c * hw + i] = data[i * channels + c]! / 255;
  }
  return { data: out, channels, height, width };
}

/**
 * torchvision's `Normalize`: `(x − mean[c]) / std[c]` per channel of a CHW float image.
 * `mean`/`std` may have one entry (used for every channel) or one per channel.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { image, normalize, toFloat } from "./image.ts";
 * const n = normalize(toFloat(image(new Uint8Array([0, 255]), 1, 2, 1)), [0.5], [0.5]);
 * assert.deepEqual([...n.data], [-1, 1]);
 * ```
 */
export function normalize(
  img: FloatImage,
  mean: readonly number[],
  std: readonly number[],
): FloatImage {
  const { data, channels, height, width } = img;
  const pick = (v: readonly number[], name: string, c: number) => {
    if (v.length !== 1 && v.length !== channels) {
      throw new TesseraError(
        "normalize",
        `${name} has ${v.length} entries for a ${channels}-channel image`,
      );
    }
    return v[v.length === 1 ? 0 : c]!;
  };
  const hw = height * width;
  const out = new Float32Array(data.length);
  for (let c = 0; c < channels; c++) {
    const m = pick(mean, "mean", c);
    const s = pick(std, "std", c);
    if (!(s !== 0)) throw new TesseraError("normalize", `std[${c}] must be non-zero`);
    for (let i = c * hw; i < (c + 1) * hw; i++) out[i] = (data[i]! - m) / s;
  }
  return { data: out, channels, height, width };
}

/**
 * ImageNet channel means (RGB), for {@link normalize}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { IMAGENET_MEAN, IMAGENET_STD, image, normalize, toFloat } from "./image.ts";
 * const f = toFloat(image(new Uint8Array([255, 255, 255]), 1, 1, 3));
 * assert.equal(normalize(f, IMAGENET_MEAN, IMAGENET_STD).data[0]!.toFixed(3), "2.249");
 * ```
 */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
/**
 * ImageNet channel standard deviations (RGB), for {@link normalize}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { IMAGENET_STD } from "./image.ts";
 * assert.deepEqual(IMAGENET_STD, [0.229, 0.224, 0.225]);
 * ```
 */
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** Python's `round` (half to even), used where torchvision rounds box sizes. */
export { roundHalfEven } from "../../tensor/rounding.ts";

/**
 * PIL's "L" conversion of one RGB pixel (ITU-R 601-2 luma, fixed point):
 * `(R·19595 + G·38470 + B·7471 + 0x8000) >> 16`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { luma } from "./image.ts";
 * assert.equal(luma(255, 255, 255), 255);
 * assert.equal(luma(255, 0, 0), 76);
 * assert.equal(luma(0, 255, 0), 150);
 * ```
 */
export function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
}

/**
 * One channel from an HWC image: the mean of its channels, rounded (how the dense commands
 * feed a greyscale encoder colour images; a 1-channel image is returned as is).
 *
 * @param img the image
 * @returns a 1-channel image of the same size
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { channelMean } from "./image.ts";
 * const img = { data: Uint8Array.of(0, 10, 21, 255, 255, 255), height: 1, width: 2, channels: 3 };
 * assert.deepEqual([...channelMean(img).data], [10, 255]);
 * ```
 */
export function channelMean(img: Image): Image {
  const { data, height, width, channels } = img;
  if (channels === 1) return img;
  const out = new Uint8Array(height * width);
  for (let i = 0; i < out.length; i++) {
    let t = 0;
    for (let c = 0; c < channels; c++) t += data[i * channels + c]!;
    out[i] = Math.round(t / channels);
  }
  return { data: out, height, width, channels: 1 };
}

/**
 * A collated batch on the host, before upload: what batch transforms (Mixup/CutMix) take and
 * return. `images` is float32 `[B, C, H, W]`; `targets`, when present, float32 `[B, K]`.
 */
export interface HostBatch {
  /** Pixels, `[B, C, H, W]` row-major. */
  images: Float32Array;
  /** `[B, C, H, W]`. */
  shape: [number, number, number, number];
  /** Integer labels, `[B]`. */
  labels: Int32Array;
  /** Soft targets `[B, numClasses]` (rows sum to 1), set by Mixup/CutMix. */
  targets?: Float32Array;
  /** K, the number of classes, when `targets` is set. */
  numClasses?: number;
}
