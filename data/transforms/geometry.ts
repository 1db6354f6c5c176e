/**
 * Geometric transforms on uint8 HWC images with torchvision's semantics on PIL images:
 * resize, crop, centre crop, horizontal flip and RandomResizedCrop.
 *
 * @module
 */

import { TesseraError } from "../../tensor/errors.ts";
import type { Rng } from "../../tensor/host_rng.ts";
import {
  checkImage,
  type Image,
  type Interpolation,
  roundHalfEven,
  type Transform,
} from "./image.ts";
import { resizeExact } from "./resample.ts";

function checkSize(
  op: string,
  size: number | readonly [number, number],
): [number, number] | number {
  const ok = (v: number) => Number.isInteger(v) && v > 0;
  if (typeof size === "number") {
    if (!ok(size)) throw new TesseraError(op, `size must be a positive integer, got ${size}`);
    return size;
  }
  if (size.length !== 2 || !ok(size[0]) || !ok(size[1])) {
    throw new TesseraError(op, `size must be [height, width] of positive integers, got [${size}]`);
  }
  return [size[0], size[1]];
}

/**
 * torchvision `F.resize` on a PIL image: `size` = `[h, w]` resizes to exactly that; a number
 * resizes the **shorter** side to it, the longer to `int(size·long/short)` (an image whose
 * shorter side already equals `size` is returned as a copy). Pixels are Pillow's, bit-exact
 * (antialiased on downscale; see {@link resizeExact}).
 *
 * @param img the image
 * @param size `[height, width]` or the shorter side's length
 * @param interpolation `"bilinear"` (default, torchvision's), `"bicubic"`, `"lanczos"`, `"nearest"`
 * @returns the resized image
 *
 * @example
 * ```ts
 * import { image } from "./image.ts";
 * import { resize } from "./geometry.ts";
 * const img = image(new Uint8Array(4 * 6 * 3), 4, 6, 3);
 * const r = resize(img, 2);
 * console.log(r.height, r.width); // 2 3
 * ```
 */
export function resize(
  img: Image,
  size: number | readonly [number, number],
  interpolation: Interpolation = "bilinear",
): Image {
  checkImage("resize", img);
  const s = checkSize("resize", size);
  let h: number, w: number;
  if (typeof s === "number") {
    const short = Math.min(img.height, img.width);
    const long = Math.max(img.height, img.width);
    if (short === s) return { ...img, data: img.data.slice() };
    const newLong = Math.trunc((s * long) / short);
    [h, w] = img.width <= img.height ? [newLong, s] : [s, newLong];
  } else {
    [h, w] = s;
  }
  return resizeExact(img, w, h, interpolation);
}

/**
 * PIL's `crop((left, top, left + width, top + height))`: the box may extend past the image;
 * those pixels are 0.
 *
 * @example
 * ```ts
 * import { image } from "./image.ts";
 * import { crop } from "./geometry.ts";
 * const img = image(new Uint8Array([1, 2, 3, 4]), 2, 2, 1);
 * console.log([...crop(img, 1, 0, 1, 3).data]); // [3, 4, 0]
 * ```
 */
export function crop(img: Image, top: number, left: number, height: number, width: number): Image {
  checkImage("crop", img);
  for (
    const [n, v] of [["top", top], ["left", left], ["height", height], ["width", width]] as const
  ) {
    if (!Number.isInteger(v) || ((n === "height" || n === "width") && v < 1)) {
      throw new TesseraError(
        "crop",
        `${n} must be an integer${n.length > 4 ? " >= 1" : ""}, got ${v}`,
      );
    }
  }
  const ch = img.channels;
  const out = new Uint8Array(height * width * ch);
  const x0 = Math.max(0, -left);
  const x1 = Math.min(width, img.width - left);
  for (let y = 0; y < height; y++) {
    const sy = top + y;
    if (sy < 0 || sy >= img.height || x1 <= x0) continue;
    const src = (sy * img.width + left + x0) * ch;
    out.set(img.data.subarray(src, src + (x1 - x0) * ch), (y * width + x0) * ch);
  }
  return { data: out, height, width, channels: ch };
}

/**
 * torchvision `F.center_crop`: top = round((H − h)/2), left = round((W − w)/2) (Python's
 * half-to-even `round`); a crop larger than the image is zero-padded as torchvision does.
 *
 * @example
 * ```ts
 * import { image } from "./image.ts";
 * import { centerCrop } from "./geometry.ts";
 * const img = image(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), 3, 3, 1);
 * console.log([...centerCrop(img, 1).data]); // [5]
 * ```
 */
export function centerCrop(img: Image, size: number | readonly [number, number]): Image {
  checkImage("centerCrop", img);
  const s = checkSize("centerCrop", size);
  const [ch, cw] = typeof s === "number" ? [s, s] : s;
  const padT = ch > img.height ? Math.floor((ch - img.height) / 2) : 0;
  const padL = cw > img.width ? Math.floor((cw - img.width) / 2) : 0;
  const H = img.height + (ch > img.height ? ch - img.height : 0);
  const W = img.width + (cw > img.width ? cw - img.width : 0);
  const top = roundHalfEven((H - ch) / 2) - padT;
  const left = roundHalfEven((W - cw) / 2) - padL;
  return crop(img, top, left, ch, cw);
}

/**
 * Mirrors the image left–right.
 *
 * @example
 * ```ts
 * import { image } from "./image.ts";
 * import { hflip } from "./geometry.ts";
 * console.log([...hflip(image(new Uint8Array([1, 2, 3]), 1, 3, 1)).data]); // [3, 2, 1]
 * ```
 */
export function hflip(img: Image): Image {
  checkImage("hflip", img);
  const { data, height, width, channels: ch } = img;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * ch;
      const d = (y * width + width - 1 - x) * ch;
      for (let c = 0; c < ch; c++) out[d + c] = data[s + c]!;
    }
  }
  return { data: out, height, width, channels: ch };
}

/**
 * torchvision's `RandomHorizontalFlip(p)`: flips when `rng.random() < p` (one draw).
 *
 * @example
 * ```ts
 * import { image } from "./image.ts";
 * import { randomHorizontalFlip } from "./geometry.ts";
 * import { rngFromSeed } from "../mod.ts";
 * const flip = randomHorizontalFlip(1);
 * console.log([...flip(image(new Uint8Array([1, 2]), 1, 2, 1), rngFromSeed([1, 2, 3, 4])).data]); // [2, 1]
 * ```
 */
export function randomHorizontalFlip(p = 0.5): Transform<Image, Image> {
  if (!(p >= 0 && p <= 1)) {
    throw new TesseraError("randomHorizontalFlip", `p must be in [0, 1], got ${p}`);
  }
  return (img, rng) => (rng.random() < p ? hflip(img) : img);
}

/**
 * torchvision `F.resized_crop`: crop (PIL semantics) then resize to `size`.
 *
 * @example
 * ```ts
 * import { image } from "./image.ts";
 * import { resizedCrop } from "./geometry.ts";
 * const img = image(new Uint8Array(8 * 8 * 3), 8, 8, 3);
 * console.log(resizedCrop(img, 2, 2, 4, 4, [2, 2]).width); // 2
 * ```
 */
export function resizedCrop(
  img: Image,
  top: number,
  left: number,
  height: number,
  width: number,
  size: number | readonly [number, number],
  interpolation: Interpolation = "bilinear",
): Image {
  return resize(crop(img, top, left, height, width), size, interpolation);
}

/** Options of {@link randomResizedCrop}. */
export interface RandomResizedCropOptions {
  /** Range of the crop's area as a fraction of the image's (default `[0.08, 1]`). */
  scale?: readonly [number, number];
  /** Range of the crop's aspect ratio w/h, sampled log-uniformly (default `[3/4, 4/3]`). */
  ratio?: readonly [number, number];
  /** Resampling filter (default `"bilinear"`, torchvision's; DeiT/DINO use `"bicubic"`). */
  interpolation?: Interpolation;
}

/**
 * torchvision `RandomResizedCrop.get_params`: up to 10 attempts of area·U(scale) and
 * exp(U(log ratio)); w = round(√(area·aspect)), h = round(√(area/aspect)) (half-to-even);
 * accepted when 0 < w ≤ W and 0 < h ≤ H, then top ∈ [0, H−h], left ∈ [0, W−w] uniformly.
 * Fallback: the largest centred crop whose aspect is clamped into `ratio`.
 * Draws per attempt: `uniform` (scale), `uniform` (log ratio); on success two `int`s.
 *
 * @returns `[top, left, height, width]`
 *
 * @example
 * ```ts
 * import { randomResizedCropParams } from "./geometry.ts";
 * import { rngFromSeed } from "../mod.ts";
 * const [t, l, h, w] = randomResizedCropParams(rngFromSeed([1, 2, 3, 4]), 100, 200);
 * console.log(t + h <= 100 && l + w <= 200); // true
 * ```
 */
export function randomResizedCropParams(
  rng: Rng,
  height: number,
  width: number,
  scale: readonly [number, number] = [0.08, 1],
  ratio: readonly [number, number] = [3 / 4, 4 / 3],
): [number, number, number, number] {
  if (!(scale[0] <= scale[1]) || !(ratio[0] <= ratio[1]) || !(ratio[0] > 0)) {
    throw new TesseraError(
      "randomResizedCrop",
      `need scale[0] <= scale[1] and 0 < ratio[0] <= ratio[1], got scale [${scale}], ratio [${ratio}]`,
    );
  }
  const area = height * width;
  const logR0 = Math.log(ratio[0]);
  const logR1 = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logR0, logR1));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.int(0, height - h);
      const left = rng.int(0, width - w);
      return [top, left, h, w];
    }
  }
  const inRatio = width / height;
  let w: number, h: number;
  if (inRatio < ratio[0]) {
    w = width;
    h = roundHalfEven(w / ratio[0]);
  } else if (inRatio > ratio[1]) {
    h = height;
    w = roundHalfEven(h * ratio[1]);
  } else {
    w = width;
    h = height;
  }
  return [Math.floor((height - h) / 2), Math.floor((width - w) / 2), h, w];
}

/**
 * torchvision's `RandomResizedCrop(size, scale, ratio, interpolation)`: a crop chosen by
 * {@link randomResizedCropParams}, resized to `size` (`[h, w]` or a square side).
 *
 * @example
 * ```ts
 * import { image } from "./image.ts";
 * import { randomResizedCrop } from "./geometry.ts";
 * import { rngFromSeed } from "../mod.ts";
 * const t = randomResizedCrop(4, { interpolation: "bicubic" });
 * const out = t(image(new Uint8Array(10 * 12 * 3), 10, 12, 3), rngFromSeed([5, 6, 7, 8]));
 * console.log(out.height, out.width); // 4 4
 * ```
 */
export function randomResizedCrop(
  size: number | readonly [number, number],
  opts: RandomResizedCropOptions = {},
): Transform<Image, Image> {
  const s = checkSize("randomResizedCrop", size);
  const out: [number, number] = typeof s === "number" ? [s, s] : s;
  const { scale = [0.08, 1], ratio = [3 / 4, 4 / 3], interpolation = "bilinear" } = opts;
  return (img, rng) => {
    checkImage("randomResizedCrop", img);
    const [t, l, h, w] = randomResizedCropParams(rng, img.height, img.width, scale, ratio);
    return resizedCrop(img, t, l, h, w, out, interpolation);
  };
}
