/**
 * RandAugment as timm implements it (`timm/data/auto_augment.py`, v0.4.12), e.g. DeiT's
 * `rand-m9-mstd0.5-inc1`, with the Pillow image ops it calls reproduced on uint8 HWC images.
 *
 * @module
 */

import { TesseraError } from "../../tensor/errors.ts";
import type { Rng } from "../../tensor/host_rng.ts";
import { adjustBrightness, adjustContrast, adjustSaturation, blend } from "./color.ts";
import { checkImage, type Image, type Interpolation, type Transform } from "./image.ts";
import { type Affine, affineExact } from "./resample.ts";

function lut(img: Image, table: (v: number, c: number) => number): Image {
  checkImage("lut", img);
  const ch = img.channels;
  const tabs = Array.from(
    { length: ch },
    (_, c) => Uint8Array.from({ length: 256 }, (_, v) => table(v, c)),
  );
  return { ...img, data: img.data.map((v, i) => tabs[i % ch]![v]!) };
}

function histograms(img: Image): Int32Array[] {
  const ch = img.channels;
  const h = Array.from({ length: ch }, () => new Int32Array(256));
  img.data.forEach((v, i) => h[i % ch]![v]!++);
  return h;
}

/**
 * `ImageOps.autocontrast(img)` (cutoff 0): per channel, stretch [lo, hi] to [0, 255].
 *
 * @example
 * ```ts
 * import { image } from "./image.ts";
 * import { autoContrast } from "./rand_augment.ts";
 * console.log([...autoContrast(image(new Uint8Array([50, 100, 150]), 1, 3, 1)).data]); // [0, 127, 255]
 * ```
 */
export function autoContrast(img: Image): Image {
  const tabs = histograms(img).map((h) => {
    let lo = 0, hi = 255;
    while (lo < 255 && !h[lo]) lo++;
    while (hi > 0 && !h[hi]) hi--;
    if (hi <= lo) return (v: number) => v;
    const scale = 255 / (hi - lo);
    const offset = -lo * scale;
    return (v: number) => Math.min(255, Math.max(0, Math.trunc(v * scale + offset)));
  });
  return lut(img, (v, c) => tabs[c]!(v));
}

/**
 * `ImageOps.equalize(img)`: per-channel histogram equalisation, Pillow's integer steps.
 *
 * @example
 * ```ts
 * import { image } from "./image.ts";
 * import { equalize } from "./rand_augment.ts";
 * const out = equalize(image(new Uint8Array(512).fill(10, 0, 256).fill(20, 256), 1, 512, 1));
 * console.log(out.data[0], out.data[511]); // 0 255
 * ```
 */
export function equalize(img: Image): Image {
  const tabs = histograms(img).map((h) => {
    const nz = [...h].filter((v) => v > 0);
    const identity = Uint8Array.from({ length: 256 }, (_, i) => i);
    if (nz.length <= 1) return identity;
    const step = Math.floor((nz.reduce((a, b) => a + b, 0) - nz[nz.length - 1]!) / 255);
    if (!step) return identity;
    const t = new Uint8Array(256);
    let n = Math.floor(step / 2);
    for (let i = 0; i < 256; i++) {
      t[i] = Math.min(255, Math.floor(n / step));
      n += h[i]!;
    }
    return t;
  });
  return lut(img, (v, c) => tabs[c]![v]!);
}

/**
 * `ImageOps.invert`: 255 − v.
 *
 * @example
 * ```ts
 * import { image } from "./image.ts";
 * import { invert } from "./rand_augment.ts";
 * console.log([...invert(image(new Uint8Array([0, 100, 255]), 1, 3, 1)).data]); // [255, 155, 0]
 * ```
 */
export function invert(img: Image): Image {
  return lut(img, (v) => 255 - v);
}

/**
 * `ImageOps.posterize(img, bits)`: keep the `bits` high bits (8 or more: unchanged).
 *
 * @example
 * ```ts
 * import { image } from "./image.ts";
 * import { posterize } from "./rand_augment.ts";
 * console.log([...posterize(image(new Uint8Array([255, 100, 17]), 1, 3, 1), 4).data]); // [240, 96, 16]
 * ```
 */
export function posterize(img: Image, bits: number): Image {
  if (bits >= 8) return { ...img, data: img.data.slice() };
  const mask = ~(2 ** (8 - Math.max(0, bits)) - 1) & 255;
  return lut(img, (v) => v & mask);
}

/**
 * timm's `solarize_add`: add `add` (clipped at 255) to every value below `threshold`.
 *
 * @example
 * ```ts
 * import { image } from "./image.ts";
 * import { solarizeAdd } from "./rand_augment.ts";
 * console.log([...solarizeAdd(image(new Uint8Array([50, 127, 128, 250]), 1, 4, 1), 10).data]); // [60, 137, 128, 250]
 * ```
 */
export function solarizeAdd(img: Image, add: number, threshold = 128): Image {
  return lut(img, (v) => (v < threshold ? Math.min(255, v + add) : v));
}

/**
 * `ImageEnhance.Sharpness(img).enhance(factor)`: blend with Pillow's SMOOTH-filtered image.
 *
 * @example
 * ```ts
 * import { image } from "./image.ts";
 * import { adjustSharpness } from "./rand_augment.ts";
 * console.log([...adjustSharpness(image(new Uint8Array(9).fill(7), 3, 3, 1), 2).data]); // [7, 7, 7, 7, 7, 7, 7, 7, 7]
 * ```
 */
export function adjustSharpness(img: Image, factor: number): Image {
  checkImage("adjustSharpness", img);
  const { data, height: H, width: W, channels: ch } = img;
  const f = Math.fround;
  const k1 = f(1 / 13), k5 = f(5 / 13);
  const smooth = data.slice();
  for (let y = 1; y < H - 1; y++) {
    for (let x = 1; x < W - 1; x++) {
      for (let c = 0; c < ch; c++) {
        const at = (yy: number, xx: number) => data[(yy * W + xx) * ch + c]!;
        const row = (yy: number, mid: number) =>
          f(f(f(at(yy, x - 1) * k1) + f(at(yy, x) * mid)) + f(at(yy, x + 1) * k1));
        let ss = f(0.5);
        ss = f(ss + row(y + 1, k1));
        ss = f(ss + row(y, k5));
        ss = f(ss + row(y - 1, k1));
        smooth[(y * W + x) * ch + c] = ss <= 0 ? 0 : ss >= 255 ? 255 : Math.trunc(ss);
      }
    }
  }
  return blend({ ...img, data: smooth }, img, factor);
}

/**
 * Pillow's `img.rotate(degrees, resample, fillcolor=fill)` (counter-clockwise, about the
 * centre, same size).
 *
 * @example
 * ```ts
 * import { image } from "./image.ts";
 * import { rotate } from "./rand_augment.ts";
 * const img = image(new Uint8Array([1, 2, 3, 4]), 2, 2, 1);
 * console.log([...rotate(img, 90, "nearest", [0]).data]); // [2, 4, 1, 3]
 * ```
 */
export function rotate(
  img: Image,
  degrees: number,
  interpolation: Interpolation,
  fill: readonly number[],
): Image {
  checkImage("rotate", img);
  const angle = ((degrees % 360) + 360) % 360;
  if (angle === 0) return { ...img, data: img.data.slice() };
  const a = -(angle * Math.PI) / 180;
  const r15 = (v: number) => Number(v.toFixed(15));
  const m = [r15(Math.cos(a)), r15(Math.sin(a)), 0, r15(-Math.sin(a)), r15(Math.cos(a)), 0];
  const cx = img.width / 2, cy = img.height / 2;
  m[2] = m[0]! * -cx + m[1]! * -cy + cx;
  m[5] = m[3]! * -cx + m[4]! * -cy + cy;
  return affineExact(img, m as unknown as Affine, interpolation, fill);
}

/**
 * A RandAugment op: the image, the clipped magnitude level in [0, 10], the generator (for
 * random signs) and the geometric ops' resampling and fill.
 */
export type RandAugmentOp = (
  img: Image,
  level: number,
  rng: Rng,
  o: { interpolation: Interpolation; fill: readonly number[] },
) => Image;

const MAX_LEVEL = 10;
const negate = (rng: Rng, v: number) => (rng.random() > 0.5 ? -v : v);
const enhanceInc = (rng: Rng, level: number) => 1 + negate(rng, (level / MAX_LEVEL) * 0.9);
const enhance = (level: number) => (level / MAX_LEVEL) * 1.8 + 0.1;
const affineOp =
  (m: (img: Image, v: number) => Affine, scale: number): RandAugmentOp => (img, level, rng, o) =>
    affineExact(img, m(img, negate(rng, (level / MAX_LEVEL) * scale)), o.interpolation, o.fill);

/**
 * The ops timm's RandAugment chooses from, by timm's names, with its level → argument maps.
 *
 * @example
 * ```ts
 * import { image } from "./image.ts";
 * import { RAND_AUGMENT_OPS } from "./rand_augment.ts";
 * import { rngFromSeed } from "../mod.ts";
 * const img = image(new Uint8Array([1, 2, 3, 4]), 2, 2, 1);
 * const o = { interpolation: "bilinear" as const, fill: [128] };
 * console.log([...RAND_AUGMENT_OPS.Invert!(img, 9, rngFromSeed([1, 2, 3, 4]), o).data]); // [254, 253, 252, 251]
 * ```
 */
export const RAND_AUGMENT_OPS: Record<string, RandAugmentOp> = {
  AutoContrast: (img) => autoContrast(img),
  Equalize: (img) => equalize(img),
  Invert: (img) => invert(img),
  Rotate: (img, level, rng, o) =>
    rotate(img, negate(rng, (level / MAX_LEVEL) * 30), o.interpolation, o.fill),
  Posterize: (img, level) => posterize(img, Math.trunc((level / MAX_LEVEL) * 4)),
  PosterizeIncreasing: (img, level) => posterize(img, 4 - Math.trunc((level / MAX_LEVEL) * 4)),
  Solarize: (img, level) =>
    lut(img, (v) => (v >= Math.trunc((level / MAX_LEVEL) * 256) ? 255 - v : v)),
  SolarizeIncreasing: (img, level) =>
    lut(img, (v) => (v >= 256 - Math.trunc((level / MAX_LEVEL) * 256) ? 255 - v : v)),
  SolarizeAdd: (img, level) => solarizeAdd(img, Math.trunc((level / MAX_LEVEL) * 110)),
  Color: (img, level) => adjustSaturation(img, enhance(level)),
  ColorIncreasing: (img, level, rng) => adjustSaturation(img, enhanceInc(rng, level)),
  Contrast: (img, level) => adjustContrast(img, enhance(level)),
  ContrastIncreasing: (img, level, rng) => adjustContrast(img, enhanceInc(rng, level)),
  Brightness: (img, level) => adjustBrightness(img, enhance(level)),
  BrightnessIncreasing: (img, level, rng) => adjustBrightness(img, enhanceInc(rng, level)),
  Sharpness: (img, level) => adjustSharpness(img, enhance(level)),
  SharpnessIncreasing: (img, level, rng) => adjustSharpness(img, enhanceInc(rng, level)),
  ShearX: affineOp((_, v) => [1, v, 0, 0, 1, 0], 0.3),
  ShearY: affineOp((_, v) => [1, 0, 0, v, 1, 0], 0.3),
  TranslateXRel: affineOp((img, v) => [1, 0, v * img.width, 0, 1, 0], 0.45),
  TranslateYRel: affineOp((img, v) => [1, 0, 0, 0, 1, v * img.height], 0.45),
};

/**
 * timm's `_RAND_INCREASING_TRANSFORMS` (the `inc1` list DeiT uses).
 *
 * @example
 * ```ts
 * import { RAND_AUGMENT_OPS, RAND_INCREASING_TRANSFORMS } from "./rand_augment.ts";
 * console.log(RAND_INCREASING_TRANSFORMS.length, RAND_INCREASING_TRANSFORMS.every((n) => n in RAND_AUGMENT_OPS)); // 15 true
 * ```
 */
export const RAND_INCREASING_TRANSFORMS = [
  "AutoContrast",
  "Equalize",
  "Invert",
  "Rotate",
  "PosterizeIncreasing",
  "SolarizeIncreasing",
  "SolarizeAdd",
  "ColorIncreasing",
  "ContrastIncreasing",
  "BrightnessIncreasing",
  "SharpnessIncreasing",
  "ShearX",
  "ShearY",
  "TranslateXRel",
  "TranslateYRel",
] as const;

/**
 * timm's `_RAND_TRANSFORMS` (without `inc1`).
 *
 * @example
 * ```ts
 * import { RAND_AUGMENT_OPS, RAND_TRANSFORMS } from "./rand_augment.ts";
 * console.log(RAND_TRANSFORMS.length, RAND_TRANSFORMS.every((n) => n in RAND_AUGMENT_OPS)); // 15 true
 * ```
 */
export const RAND_TRANSFORMS = [
  "AutoContrast",
  "Equalize",
  "Invert",
  "Rotate",
  "Posterize",
  "Solarize",
  "SolarizeAdd",
  "Color",
  "Contrast",
  "Brightness",
  "Sharpness",
  "ShearX",
  "ShearY",
  "TranslateXRel",
  "TranslateYRel",
] as const;

/** Options of {@link randAugment}; defaults give timm's `rand-m9-mstd0.5-inc1`. */
export interface RandAugmentOptions {
  /** Ops per image (timm `n`, default 2), chosen uniformly with replacement. */
  numLayers?: number;
  /** Magnitude m in [0, 10] (default 9). */
  magnitude?: number;
  /** Std of the per-op-call magnitude noise (default 0.5; `Infinity`: uniform in [0, m]). */
  magnitudeStd?: number;
  /** Probability each chosen op is applied (default 0.5). */
  prob?: number;
  /** Use the "increasing" op list (default true, timm `inc1`). */
  increasing?: boolean;
  /** Geometric ops' resampling (default `"bicubic"`, DeiT's). */
  interpolation?: "nearest" | "bilinear" | "bicubic";
  /** Fill of geometric ops, per channel (default timm's ImageNet mean ×255: [124, 116, 104]). */
  fill?: readonly number[];
  /** Restrict to these op names (default: the whole list). */
  ops?: readonly string[];
}

/**
 * timm's `RandAugment` with `AugmentOp`s: `numLayers` ops chosen uniformly with replacement;
 * each runs with probability `prob` (skipped when `random() > prob`), with magnitude
 * N(m, mstd) clipped to [0, 10]; signed ops flip sign with probability ½. Draw order per op:
 * the choice (`int`), the skip test, the magnitude (`normal`), the sign.
 *
 * @example
 * ```ts
 * import { image } from "./image.ts";
 * import { randAugment } from "./rand_augment.ts";
 * import { rngFromSeed } from "../mod.ts";
 * const ra = randAugment({ magnitude: 9, magnitudeStd: 0.5 });
 * const out = ra(image(new Uint8Array(8 * 8 * 3).fill(90), 8, 8, 3), rngFromSeed([1, 2, 3, 4]));
 * console.log(out.height, out.width); // 8 8
 * ```
 */
export function randAugment(opts: RandAugmentOptions = {}): Transform<Image, Image> {
  const {
    numLayers = 2,
    magnitude = 9,
    magnitudeStd = 0.5,
    prob = 0.5,
    increasing = true,
    interpolation = "bicubic",
    fill = [124, 116, 104],
  } = opts;
  const names = opts.ops ?? (increasing ? RAND_INCREASING_TRANSFORMS : RAND_TRANSFORMS);
  for (const n of names) {
    if (!(n in RAND_AUGMENT_OPS)) {
      throw new TesseraError("randAugment", `unknown op ${JSON.stringify(n)}`);
    }
  }
  if (!Number.isInteger(numLayers) || numLayers < 0) {
    throw new TesseraError(
      "randAugment",
      `numLayers must be a non-negative integer, got ${numLayers}`,
    );
  }
  return (img, rng) => {
    const chosen = Array.from({ length: numLayers }, () => rng.choice(names));
    for (const name of chosen) {
      if (prob < 1 && rng.random() > prob) continue;
      let m = magnitude;
      if (magnitudeStd === Infinity) m = rng.uniform(0, magnitude);
      else if (magnitudeStd > 0) m = rng.normal(magnitude, magnitudeStd);
      m = Math.min(MAX_LEVEL, Math.max(0, m));
      img = RAND_AUGMENT_OPS[name]!(img, m, rng, { interpolation, fill });
    }
    return img;
  };
}
