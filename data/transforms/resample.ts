/**
 * Pillow's resampling kernels, reproduced exactly for uint8 images: `Image.resize`
 * (separable convolution with antialiasing on downscale, 8-bit fixed-point coefficients) and
 * `Image.transform(AFFINE)` (point sampling with Pillow's bilinear / bicubic (a = −1) filters,
 * no antialiasing). These are what torchvision and timm call on PIL images.
 *
 * @module
 */

import { TesseraError } from "../../tensor/errors.ts";
import { checkImage, type Image, type Interpolation } from "./image.ts";

interface Filter {
  support: number;
  fn: (x: number) => number;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  x *= Math.PI;
  return Math.sin(x) / x;
}

const FILTERS: Record<Exclude<Interpolation, "nearest">, Filter> = {
  bilinear: { support: 1, fn: (x) => (x < 0 ? -x : x) < 1 ? 1 - Math.abs(x) : 0 },
  bicubic: {
    support: 2,
    fn: (x) => {
      const a = -0.5;
      if (x < 0) x = -x;
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
  lanczos: { support: 3, fn: (x) => (x > -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

const PRECISION_BITS = 32 - 8 - 2;

/** Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc`: bounds and fixed-point weights. */
function coeffs(inSize: number, in0: number, in1: number, outSize: number, filter: Filter) {
  const scale = (in1 - in0) / outSize;
  const filterscale = Math.max(scale, 1);
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const kk = new Int32Array(outSize * ksize);
  const bounds = new Int32Array(outSize * 2);
  const w = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = in0 + (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      w[x] = filter.fn((x + xmin - center + 0.5) * ss);
      ww += w[x]!;
    }
    for (let x = 0; x < xmax; x++) {
      const k = ww !== 0 ? w[x]! / ww : w[x]!;
      kk[xx * ksize + x] = Math.trunc(
        k < 0 ? -0.5 + k * (1 << PRECISION_BITS) : 0.5 + k * (1 << PRECISION_BITS),
      );
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, kk, bounds };
}

function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** One pass along x (`horizontal`) or y of Pillow's `ImagingResampleHorizontal/Vertical`. */
function pass(
  img: Image,
  outSize: number,
  in0: number,
  in1: number,
  filter: Filter,
  horizontal: boolean,
): Image {
  const { data, height, width, channels: ch } = img;
  const { ksize, kk, bounds } = coeffs(horizontal ? width : height, in0, in1, outSize, filter);
  const oh = horizontal ? height : outSize;
  const ow = horizontal ? outSize : width;
  const out = new Uint8Array(oh * ow * ch);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const o = horizontal ? x : y;
      const xmin = bounds[o * 2]!;
      const n = bounds[o * 2 + 1]!;
      const k0 = o * ksize;
      for (let c = 0; c < ch; c++) {
        let ss = half;
        if (horizontal) {
          const row = y * width;
          for (let i = 0; i < n; i++) ss += data[(row + xmin + i) * ch + c]! * kk[k0 + i]!;
        } else {
          for (let i = 0; i < n; i++) ss += data[((xmin + i) * width + x) * ch + c]! * kk[k0 + i]!;
        }
        out[(y * ow + x) * ch + c] = clip8(ss);
      }
    }
  }
  return { data: out, height: oh, width: ow, channels: ch };
}

/**
 * Pillow's `Image.resize((width, height), filter, box)` for a uint8 image, bit-exact: each
 * needed pass (horizontal, then vertical, each rounded to uint8) convolves with the filter
 * stretched by the downscale factor (antialiasing). `box` = `[x0, y0, x1, y1]` selects a source
 * region (defaults to the whole image). Nearest uses Pillow's point sampling at
 * `floor(x0 + (x + 0.5)·scale)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { image } from "./image.ts";
 * import { resizeExact } from "./resample.ts";
 * const img = image(new Uint8Array([0, 100, 200, 250]), 1, 4, 1);
 * assert.deepEqual([...resizeExact(img, 2, 1, "bilinear").data], [71, 207]);
 * ```
 */
export function resizeExact(
  img: Image,
  width: number,
  height: number,
  filter: Interpolation,
  box: readonly [number, number, number, number] = [0, 0, img.width, img.height],
): Image {
  checkImage("resize", img);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new TesseraError(
      "resize",
      `output size must be positive integers, got ${height}×${width}`,
    );
  }
  const [x0, y0, x1, y1] = box;
  if (filter === "nearest") {
    const { data, channels: ch } = img;
    const out = new Uint8Array(width * height * ch);
    const sx = (x1 - x0) / width;
    const sy = (y1 - y0) / height;
    // Pillow's ImagingScaleAffine: positions accumulate from the first pixel centre.
    const xs = new Int32Array(width);
    let xo = x0 + sx * 0.5;
    for (let x = 0; x < width; x++, xo += sx) xs[x] = Math.min(img.width - 1, Math.floor(xo));
    let yo = y0 + sy * 0.5;
    for (let y = 0; y < height; y++, yo += sy) {
      const yi = Math.min(img.height - 1, Math.floor(yo));
      for (let x = 0; x < width; x++) {
        const src = (yi * img.width + xs[x]!) * ch;
        for (let c = 0; c < ch; c++) out[(y * width + x) * ch + c] = data[src + c]!;
      }
    }
    return { data: out, height, width, channels: ch };
  }
  const f = FILTERS[filter];
  if (!f) throw new TesseraError("resize", `unknown interpolation ${JSON.stringify(filter)}`);
  const needH = width !== img.width || x0 !== 0 || x1 !== width;
  const needV = height !== img.height || y0 !== 0 || y1 !== height;
  let cur = img;
  if (needH) cur = pass(cur, width, x0, x1, f, true);
  if (needV) cur = pass(cur, height, y0, y1, f, false);
  return cur === img ? { ...img, data: img.data.slice() } : cur;
}

/** The 6 coefficients of Pillow's AFFINE transform: output (x, y) samples input (a·x+b·y+c, d·x+e·y+f). */
export type Affine = readonly [number, number, number, number, number, number];

/**
 * Pillow's `Image.transform(size, AFFINE, matrix, resample, fillcolor)` for a uint8 image:
 * every output pixel centre (x+0.5, y+0.5) is mapped through `matrix`; points outside the
 * source keep `fill`. Bilinear/bicubic (a = −1, Pillow's `Geometry.c`) clamp neighbours at the
 * border and truncate to uint8; nearest takes the pixel containing the point. The same size as
 * the input is produced.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { image } from "./image.ts";
 * import { affineExact } from "./resample.ts";
 * const img = image(new Uint8Array([1, 2, 3, 4]), 2, 2, 1);
 * assert.deepEqual([...affineExact(img, [1, 0, 1, 0, 1, 0], "nearest", [0]).data], [2, 0, 4, 0]);
 * ```
 */
export function affineExact(
  img: Image,
  m: Affine,
  filter: Interpolation,
  fill: readonly number[],
): Image {
  checkImage("affine", img);
  const { data, height: H, width: W, channels: ch } = img;
  const out = new Uint8Array(data.length);
  const px = (x: number, y: number, c: number) => data[(y * W + x) * ch + c]!;
  const xc = (x: number) => (x < 0 ? 0 : x < W ? x : W - 1);
  const yc = (y: number) => (y < 0 ? 0 : y < H ? y : H - 1);
  const cubic = (v1: number, v2: number, v3: number, v4: number, d: number) =>
    v2 + d * (-v1 + v3 + d * (2 * (v1 - v2) + v3 - v4 + d * (-v1 + v2 - v3 + v4)));
  if (filter === "nearest") return affineNearest(img, m, fill);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * ch;
      let xin = m[0] * (x + 0.5) + m[1] * (y + 0.5) + m[2];
      let yin = m[3] * (x + 0.5) + m[4] * (y + 0.5) + m[5];
      if (xin < 0 || xin >= W || yin < 0 || yin >= H) {
        for (let c = 0; c < ch; c++) out[o + c] = fill[c] ?? fill[0] ?? 0;
        continue;
      }
      xin -= 0.5;
      yin -= 0.5;
      const xf = Math.floor(xin);
      const yf = Math.floor(yin);
      const dx = xin - xf;
      const dy = yin - yf;
      for (let c = 0; c < ch; c++) {
        let v: number;
        if (filter === "bilinear") {
          const r0 = yc(yf);
          const r1 = yf + 1 < H ? yf + 1 : -1;
          const a0 = px(xc(xf), r0, c);
          const v1 = a0 + (px(xc(xf + 1), r0, c) - a0) * dx;
          let v2 = v1;
          if (r1 >= 0) {
            const b0 = px(xc(xf), r1, c);
            v2 = b0 + (px(xc(xf + 1), r1, c) - b0) * dx;
          }
          v = v1 + (v2 - v1) * dy;
        } else if (filter === "bicubic") {
          const xs = [xc(xf - 1), xc(xf), xc(xf + 1), xc(xf + 2)];
          const row = (r: number) =>
            cubic(px(xs[0]!, r, c), px(xs[1]!, r, c), px(xs[2]!, r, c), px(xs[3]!, r, c), dx);
          const v1 = row(yc(yf - 1));
          const v2 = yf >= 0 && yf < H ? row(yf) : v1;
          const v3 = yf + 1 >= 0 && yf + 1 < H ? row(yf + 1) : v2;
          const v4 = yf + 2 >= 0 && yf + 2 < H ? row(yf + 2) : v3;
          v = cubic(v1, v2, v3, v4, dy);
        } else {
          throw new TesseraError(
            "affine",
            `interpolation ${JSON.stringify(filter)} is not supported`,
          );
        }
        out[o + c] = v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
      }
    }
  }
  return { data: out, height: H, width: W, channels: ch };
}

/**
 * Pillow's nearest-neighbour AFFINE paths: `ImagingScaleAffine` (no rotation/shear; float
 * positions accumulated per pixel) or `affine_fixed` (16.16 fixed point), so ties resolve
 * exactly as Pillow's do.
 */
function affineNearest(img: Image, m: Affine, fill: readonly number[]): Image {
  const { data, height: H, width: W, channels: ch } = img;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < H * W; i++) {
    for (let c = 0; c < ch; c++) out[i * ch + c] = fill[c] ?? fill[0] ?? 0;
  }
  const put = (x: number, y: number, xi: number, yi: number) => {
    if (xi < 0 || xi >= W || yi < 0 || yi >= H) return;
    for (let c = 0; c < ch; c++) out[(y * W + x) * ch + c] = data[(yi * W + xi) * ch + c]!;
  };
  const coord = (v: number) => (v < 0 ? -1 : Math.trunc(v));
  if (m[1] === 0 && m[3] === 0) {
    const xin = new Int32Array(W);
    let xo = m[2] + m[0] * 0.5;
    for (let x = 0; x < W; x++, xo += m[0]) xin[x] = coord(xo);
    let yo = m[5] + m[4] * 0.5;
    for (let y = 0; y < H; y++, yo += m[4]) {
      const yi = coord(yo);
      for (let x = 0; x < W; x++) put(x, y, xin[x]!, yi);
    }
    return { data: out, height: H, width: W, channels: ch };
  }
  const fits = (x: number, y: number) =>
    Math.abs(x * m[0] + y * m[1] + m[2]) < 32768 && Math.abs(x * m[3] + y * m[4] + m[5]) < 32768;
  if (fits(0, 0) && fits(W, H) && fits(0, H) && fits(W, 0)) {
    const fix = (v: number) => Math.floor(v * 65536 + 0.5) | 0;
    const a0 = fix(m[0]), a1 = fix(m[1]), a3 = fix(m[3]), a4 = fix(m[4]);
    let a2 = fix(m[2] + m[0] * 0.5 + m[1] * 0.5);
    let a5 = fix(m[5] + m[3] * 0.5 + m[4] * 0.5);
    for (let y = 0; y < H; y++, a2 = (a2 + a1) | 0, a5 = (a5 + a4) | 0) {
      let xx = a2, yy = a5;
      for (let x = 0; x < W; x++, xx = (xx + a0) | 0, yy = (yy + a3) | 0) {
        put(x, y, xx >> 16, yy >> 16);
      }
    }
    return { data: out, height: H, width: W, channels: ch };
  }
  let xo = m[2] + m[1] * 0.5 + m[0] * 0.5;
  let yo = m[5] + m[4] * 0.5 + m[3] * 0.5;
  for (let y = 0; y < H; y++, xo += m[1], yo += m[4]) {
    let xx = xo, yy = yo;
    for (let x = 0; x < W; x++, xx += m[0], yy += m[3]) put(x, y, coord(xx), coord(yy));
  }
  return { data: out, height: H, width: W, channels: ch };
}
