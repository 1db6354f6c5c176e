/**
 * Colour transforms on uint8 HWC images with Pillow's arithmetic (what torchvision's
 * functional ops call on PIL images): brightness / contrast / saturation / hue, ColorJitter,
 * greyscale, solarize. The Gaussian blur is in blur.ts.
 *
 * Pillow's `ImageEnhance` blends with a "degenerate" image in float32 and **truncates** to
 * uint8 (`Image.blend`); the ops below reproduce that bit for bit.
 *
 * @module
 */

import { TesseraError } from "../../tensor/errors.ts";
import type { Rng } from "../../tensor/host_rng.ts";
import { checkImage, type Image, luma, type Transform } from "./image.ts";

const f32 = Math.fround;

/**
 * Pillow's `Image.blend(a, b, alpha)` on same-sized uint8 images: `a + alpha·(b − a)` in
 * float32, truncated (clipped to [0, 255] when extrapolating).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { image } from "./image.ts";
 * import { blend } from "./color.ts";
 * const a = image(new Uint8Array([0, 100]), 1, 2, 1), b = image(new Uint8Array([200, 200]), 1, 2, 1);
 * assert.deepEqual([...blend(a, b, 0.5).data], [100, 150]);
 * ```
 */
export function blend(a: Image, b: Image, alpha: number): Image {
  const al = f32(alpha);
  const out = new Uint8Array(a.data.length);
  const x = a.data, y = b.data;
  for (let i = 0; i < out.length; i++) {
    const t = f32(x[i]! + f32(al * (y[i]! - x[i]!)));
    out[i] = t <= 0 ? 0 : t >= 255 ? 255 : Math.trunc(t);
  }
  return { ...a, data: out };
}

function filled(img: Image, value: number): Image {
  return { ...img, data: new Uint8Array(img.data.length).fill(value) };
}

/**
 * PIL `convert("L")`, replicated back to the input's channel count
 * (torchvision `rgb_to_grayscale(img, num_output_channels)`); L = (19595R + 38470G + 7471B +
 * 2¹⁵) >> 16, ITU-R 601-2 luma.
 *
 * @param img the image
 * @param channels output channels: 1, or 3 (default: the input's)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { image } from "./image.ts";
 * import { grayscale } from "./color.ts";
 * assert.deepEqual([...grayscale(image(new Uint8Array([255, 0, 0]), 1, 1, 3), 1).data], [76]);
 * ```
 */
export function grayscale(img: Image, channels: number = img.channels): Image {
  checkImage("grayscale", img);
  if (channels !== 1 && channels !== 3) {
    throw new TesseraError("grayscale", `channels must be 1 or 3, got ${channels}`);
  }
  const n = img.height * img.width;
  const out = new Uint8Array(n * channels);
  const d = img.data;
  for (let i = 0; i < n; i++) {
    const l = img.channels === 1 ? d[i]! : luma(d[3 * i]!, d[3 * i + 1]!, d[3 * i + 2]!);
    for (let c = 0; c < channels; c++) out[i * channels + c] = l;
  }
  return { data: out, height: img.height, width: img.width, channels };
}

/**
 * torchvision `adjust_brightness` (PIL `ImageEnhance.Brightness`): blend with black.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { image } from "./image.ts";
 * import { adjustBrightness } from "./color.ts";
 * assert.deepEqual(
 *   [...adjustBrightness(image(new Uint8Array([10, 100, 200]), 1, 3, 1), 2).data],
 *   [20, 200, 255],
 * );
 * ```
 */
export function adjustBrightness(img: Image, factor: number): Image {
  checkImage("adjustBrightness", img);
  if (!(factor >= 0)) {
    throw new TesseraError("adjustBrightness", `factor must be >= 0, got ${factor}`);
  }
  return blend(filled(img, 0), img, factor);
}

/**
 * torchvision `adjust_contrast` (PIL `ImageEnhance.Contrast`): blend with a flat image at
 * int(mean luma + 0.5).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { image } from "./image.ts";
 * import { adjustContrast } from "./color.ts";
 * assert.deepEqual(
 *   [...adjustContrast(image(new Uint8Array([0, 100, 200]), 1, 3, 1), 0).data],
 *   [100, 100, 100],
 * );
 * ```
 */
export function adjustContrast(img: Image, factor: number): Image {
  checkImage("adjustContrast", img);
  if (!(factor >= 0)) {
    throw new TesseraError("adjustContrast", `factor must be >= 0, got ${factor}`);
  }
  const g = grayscale(img, 1).data;
  let sum = 0;
  for (const v of g) sum += v;
  return blend(filled(img, Math.trunc(sum / g.length + 0.5)), img, factor);
}

/**
 * torchvision `adjust_saturation` (PIL `ImageEnhance.Color`): blend with the greyscale image.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { image } from "./image.ts";
 * import { adjustSaturation } from "./color.ts";
 * assert.deepEqual(
 *   [...adjustSaturation(image(new Uint8Array([255, 0, 0]), 1, 1, 3), 0).data],
 *   [76, 76, 76],
 * );
 * ```
 */
export function adjustSaturation(img: Image, factor: number): Image {
  checkImage("adjustSaturation", img);
  if (!(factor >= 0)) {
    throw new TesseraError("adjustSaturation", `factor must be >= 0, got ${factor}`);
  }
  return blend(grayscale(img), img, factor);
}

/** Pillow's `rgb2hsv` for one pixel, into `o`. */
function rgb2hsv(r: number, g: number, b: number, o: Uint8Array, i: number): void {
  const maxc = Math.max(r, g, b);
  const minc = Math.min(r, g, b);
  o[i + 2] = maxc;
  if (minc === maxc) {
    o[i] = 0;
    o[i + 1] = 0;
    return;
  }
  const cr = f32(maxc - minc);
  const s = f32(cr / maxc);
  const rc = f32((maxc - r) / cr), gc = f32((maxc - g) / cr), bc = f32((maxc - b) / cr);
  let h: number;
  if (r === maxc) h = f32(bc - gc);
  else if (g === maxc) h = f32(2 + rc - bc);
  else h = f32(4 + gc - rc);
  h = f32((h / 6 + 1) % 1); // fmod in double, stored as float
  const clip = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : v);
  o[i] = clip(Math.trunc(h * 255));
  o[i + 1] = clip(Math.trunc(s * 255));
}

/** Pillow's `hsv2rgb` for one pixel, into `o`. */
function hsv2rgb(h: number, s: number, v: number, o: Uint8Array, j: number): void {
  if (s === 0) {
    o[j] = o[j + 1] = o[j + 2] = v;
    return;
  }
  const i = Math.floor((h * 6) / 255);
  const f = f32((h * 6) / 255 - i);
  const fs = f32(s / 255);
  const clip = (x: number) => (x <= 0 ? 0 : x >= 255 ? 255 : x);
  const rnd = (x: number) => clip(Math.round(x)); // C round: half away from zero (x >= 0)
  const p = rnd(v * (1 - fs));
  const q = rnd(v * (1 - fs * f));
  const t = rnd(v * (1 - fs * (1 - f)));
  const rgb = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][i % 6]!;
  o[j] = rgb[0]!;
  o[j + 1] = rgb[1]!;
  o[j + 2] = rgb[2]!;
}

/**
 * torchvision `adjust_hue` on a PIL image: convert to Pillow's 8-bit HSV, add
 * `uint8(hue·255)` to H (wrapping mod 256), convert back. `hue` ∈ [−0.5, 0.5]; greyscale
 * images are returned unchanged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { image } from "./image.ts";
 * import { adjustHue } from "./color.ts";
 * assert.deepEqual(
 *   [...adjustHue(image(new Uint8Array([255, 0, 0]), 1, 1, 3), 1 / 3).data],
 *   [0, 255, 0],
 * );
 * ```
 */
export function adjustHue(img: Image, hue: number): Image {
  checkImage("adjustHue", img);
  if (!(hue >= -0.5 && hue <= 0.5)) {
    throw new TesseraError("adjustHue", `hue must be in [-0.5, 0.5], got ${hue}`);
  }
  if (img.channels === 1) return { ...img, data: img.data.slice() };
  const shift = ((Math.trunc(hue * 255) % 256) + 256) % 256;
  const d = img.data;
  const out = new Uint8Array(d.length);
  const hsv = new Uint8Array(3);
  for (let i = 0; i < d.length; i += 3) {
    rgb2hsv(d[i]!, d[i + 1]!, d[i + 2]!, hsv, 0);
    hsv2rgb((hsv[0]! + shift) & 255, hsv[1]!, hsv[2]!, out, i);
  }
  return { ...img, data: out };
}

/** Options of {@link colorJitter}: each 0 (the default) disables that adjustment. */
export interface ColorJitterOptions {
  /** Factor drawn from U[max(0, 1 − b), 1 + b]. */
  brightness?: number;
  /** Factor drawn from U[max(0, 1 − c), 1 + c]. */
  contrast?: number;
  /** Factor drawn from U[max(0, 1 − s), 1 + s]. */
  saturation?: number;
  /** Shift drawn from U[−h, h], h ≤ 0.5. */
  hue?: number;
}

/**
 * The factors and order torchvision's `ColorJitter.get_params` would draw: a random
 * permutation of the four ops (0 brightness, 1 contrast, 2 saturation, 3 hue), then one
 * uniform per enabled op in that fixed b, c, s, h order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { colorJitterParams } from "./color.ts";
 * import { rngFromSeed } from "../mod.ts";
 * const { order, factors } = colorJitterParams(rngFromSeed([1, 2, 3, 4]), { brightness: 0.4 });
 * assert.deepEqual(order, [1, 2, 3, 0]);
 * assert.equal(factors[0]!.toFixed(4), "0.9941");
 * assert.deepEqual(factors.slice(1), [null, null, null]);
 * ```
 */
export function colorJitterParams(
  rng: Rng,
  opts: ColorJitterOptions,
): { order: number[]; factors: (number | null)[] } {
  const order = rng.permutation(4);
  const range = (x = 0): number | null => (x === 0 ? null : rng.uniform(Math.max(0, 1 - x), 1 + x));
  const b = range(opts.brightness), c = range(opts.contrast), s = range(opts.saturation);
  const h = opts.hue ? rng.uniform(-opts.hue, opts.hue) : null;
  return { order, factors: [b, c, s, h] };
}

/**
 * torchvision's `ColorJitter(brightness, contrast, saturation, hue)`: the enabled
 * adjustments, each with a random factor, in a random order per call.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { image } from "./image.ts";
 * import { colorJitter } from "./color.ts";
 * import { rngFromSeed } from "../mod.ts";
 * const jitter = colorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.2, hue: 0.1 });
 * const out = jitter(image(new Uint8Array([10, 200, 30]), 1, 1, 3), rngFromSeed([1, 2, 3, 4]));
 * assert.equal(out.data.length, 3);
 * ```
 */
export function colorJitter(opts: ColorJitterOptions): Transform<Image, Image> {
  for (const k of ["brightness", "contrast", "saturation"] as const) {
    const v = opts[k] ?? 0;
    if (!(v >= 0)) throw new TesseraError("colorJitter", `${k} must be >= 0, got ${v}`);
  }
  if (!((opts.hue ?? 0) >= 0 && (opts.hue ?? 0) <= 0.5)) {
    throw new TesseraError("colorJitter", `hue must be in [0, 0.5], got ${opts.hue}`);
  }
  const fns = [adjustBrightness, adjustContrast, adjustSaturation, adjustHue];
  return (img, rng) => {
    const { order, factors } = colorJitterParams(rng, opts);
    for (const i of order) if (factors[i] !== null) img = fns[i]!(img, factors[i]!);
    return img;
  };
}

/**
 * torchvision's `RandomGrayscale(p)`: greyscale (same channel count) when `rng.random() < p`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { image } from "./image.ts";
 * import { randomGrayscale } from "./color.ts";
 * import { rngFromSeed } from "../mod.ts";
 * assert.deepEqual(
 *   [...randomGrayscale(1)(image(new Uint8Array([0, 0, 255]), 1, 1, 3), rngFromSeed([1, 2, 3, 4])).data],
 *   [29, 29, 29],
 * );
 * ```
 */
export function randomGrayscale(p = 0.1): Transform<Image, Image> {
  return (img, rng) => (rng.random() < p ? grayscale(img) : img);
}

/**
 * `ImageOps.solarize`: every value ≥ `threshold` becomes 255 − value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { image } from "./image.ts";
 * import { solarize } from "./color.ts";
 * assert.deepEqual(
 *   [...solarize(image(new Uint8Array([127, 128, 255]), 1, 3, 1)).data],
 *   [127, 127, 0],
 * );
 * ```
 */
export function solarize(img: Image, threshold = 128): Image {
  checkImage("solarize", img);
  return { ...img, data: img.data.map((v) => (v >= threshold ? 255 - v : v)) };
}

/**
 * DINO's `Solarization(p)`: {@link solarize} at 128 when `rng.random() < p`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { image } from "./image.ts";
 * import { randomSolarize } from "./color.ts";
 * import { rngFromSeed } from "../mod.ts";
 * const img = image(new Uint8Array([100, 200]), 1, 2, 1);
 * assert.deepEqual([...randomSolarize(1)(img, rngFromSeed([1, 2, 3, 4])).data], [100, 55]);
 * ```
 */
export function randomSolarize(p: number, threshold = 128): Transform<Image, Image> {
  return (img, rng) => (rng.random() < p ? solarize(img, threshold) : img);
}
