/**
 * Deterministic transforms of a dense-prediction sample: an image together with its boxes,
 * instance masks and semantic label map, moved consistently (mmdet/mmseg semantics).
 *
 * Conventions. Boxes are `[x1, y1, x2, y2]` in continuous pixel coordinates (COCO's
 * `[x, y, w, h]` becomes `[x, y, x + w, y + h]`), so a box that covers columns `a..b` spans
 * `[a, b + 1)`. Instance masks are row-major 0/1 bitmaps of the image's size (decode COCO RLE
 * with `rleDecode`); label maps are row-major bytes. Images are resized with Pillow's filters
 * (`resizeExact`), masks and label maps always with nearest neighbour on the same grid, so a
 * mask pixel stays on the object it belonged to. Padding fills images and masks with 0 and
 * label maps with 255 (the ignore index).
 *
 * @module
 */

import { TesseraError } from "../../tensor/errors.ts";
import {
  checkImage,
  type FloatImage,
  type Image,
  type Interpolation,
} from "../transforms/image.ts";
import { normalize, toFloat } from "../transforms/image.ts";
import { crop, hflip } from "../transforms/geometry.ts";
import { resizeExact } from "../transforms/resample.ts";

/** An image with its dense targets; every target is optional. */
export interface DenseSample<I extends Image | FloatImage = Image> {
  /** uint8 HWC (or, after {@link normalizeDense}, float32 CHW). */
  image: I;
  /** `4·N` box coordinates `[x1, y1, x2, y2]` per instance. */
  boxes?: Float32Array;
  /** `N` class labels (contiguous `0..C−1`). */
  labels?: Int32Array;
  /** `N` instance masks, each a row-major 0/1 bitmap of the image's size. */
  masks?: Uint8Array[];
  /** Semantic label map, row-major, the image's size (255 = ignore). */
  semantic?: Uint8Array;
}

/** The ignore value used to pad label maps (mmseg's `ignore_index`). */
export const SEG_IGNORE = 255;

/**
 * Throws unless the sample's targets agree with each other and with the image's size.
 *
 * @param op the public op named in errors
 * @param s the sample
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkDense } from "./sample.ts";
 * const image = { data: new Uint8Array(4), height: 2, width: 2, channels: 1 };
 * checkDense("demo", { image, boxes: Float32Array.of(0, 0, 1, 1), labels: Int32Array.of(0) });
 * assert.throws(() => checkDense("demo", { image, semantic: new Uint8Array(3) }), /semantic has 3/);
 * ```
 */
export function checkDense(op: string, s: DenseSample<Image | FloatImage>): void {
  const { height: h, width: w } = s.image;
  if (s.image.data instanceof Uint8Array) checkImage(op, s.image as Image);
  const n = s.boxes ? s.boxes.length / 4 : undefined;
  if (s.boxes && !Number.isInteger(n)) {
    throw new TesseraError(op, `boxes has ${s.boxes.length} values, not a multiple of 4`);
  }
  if (s.labels && n !== undefined && s.labels.length !== n) {
    throw new TesseraError(op, `${s.labels.length} labels for ${n} boxes`);
  }
  if (s.masks) {
    if (n !== undefined && s.masks.length !== n) {
      throw new TesseraError(op, `${s.masks.length} masks for ${n} boxes`);
    }
    s.masks.forEach((m, i) => {
      if (m.length !== h * w) {
        throw new TesseraError(op, `mask ${i} has ${m.length} pixels, the image ${h}×${w}`);
      }
    });
  }
  if (s.semantic && s.semantic.length !== h * w) {
    throw new TesseraError(op, `semantic has ${s.semantic.length} pixels, the image ${h}×${w}`);
  }
}

const plane = (data: Uint8Array, height: number, width: number): Image => ({
  data,
  height,
  width,
  channels: 1,
});

/** Sets `out`'s masks and label map to `f` of `s`'s (for transforms that treat them alike). */
function mapPlanes(
  s: DenseSample,
  out: DenseSample,
  f: (m: Uint8Array) => Uint8Array,
): DenseSample {
  if (s.masks) out.masks = s.masks.map(f);
  if (s.semantic) out.semantic = f(s.semantic);
  return out;
}

/** Crops/pads a 1-channel plane; pixels outside the source get `fill`. */
function cropPlane(
  data: Uint8Array,
  h: number,
  w: number,
  top: number,
  left: number,
  ch: number,
  cw: number,
  fill: number,
): Uint8Array {
  const out = new Uint8Array(ch * cw);
  if (fill !== 0) out.fill(fill);
  const x0 = Math.max(0, -left), x1 = Math.min(cw, w - left);
  for (let y = 0; y < ch; y++) {
    const sy = top + y;
    if (sy < 0 || sy >= h || x1 <= x0) continue;
    out.set(data.subarray(sy * w + left + x0, sy * w + left + x1), y * cw + x0);
  }
  return out;
}

/**
 * Resizes the image to `[height, width]` with `interpolation` and every target with it: boxes
 * scaled by `width/W`, `height/H` (as mmdet's `Resize`), masks and label maps with nearest.
 *
 * @param s the sample
 * @param size `[height, width]`
 * @param interpolation the image filter (default `"bilinear"`)
 * @returns the resized sample
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resizeDense } from "./sample.ts";
 * const image = { data: new Uint8Array(2 * 4 * 3), height: 2, width: 4, channels: 3 };
 * const r = resizeDense({ image, boxes: Float32Array.of(1, 0, 3, 2), semantic: new Uint8Array(8) }, [4, 8]);
 * assert.deepEqual([r.image.height, r.image.width, r.semantic!.length], [4, 8, 32]);
 * assert.deepEqual([...r.boxes!], [2, 0, 6, 4]);
 * ```
 */
export function resizeDense(
  s: DenseSample,
  size: readonly [number, number],
  interpolation: Interpolation = "bilinear",
): DenseSample {
  checkDense("resizeDense", s);
  const [oh, ow] = size;
  if (!Number.isInteger(oh) || !Number.isInteger(ow) || oh < 1 || ow < 1) {
    throw new TesseraError("resizeDense", `size must be positive integers, got [${size}]`);
  }
  const { height: h, width: w } = s.image;
  const near = (m: Uint8Array) => resizeExact(plane(m, h, w), ow, oh, "nearest").data;
  const out: DenseSample = { ...s, image: resizeExact(s.image, ow, oh, interpolation) };
  if (s.boxes) {
    const sx = ow / w, sy = oh / h;
    out.boxes = s.boxes.map((v, i) => v * (i % 2 === 0 ? sx : sy));
  }
  return mapPlanes(s, out, near);
}

/**
 * mmcv's `rescale_size` with `keep_ratio`: the largest scale at which the longer side is at
 * most `longer` and the shorter side at most `shorter`; the new size is
 * `int(w·f + 0.5)` × `int(h·f + 0.5)`.
 *
 * @param height image height
 * @param width image width
 * @param shorter bound on the shorter side
 * @param longer bound on the longer side (default: no bound)
 * @returns `[height, width]`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keepRatioSize } from "./sample.ts";
 * assert.deepEqual(keepRatioSize(480, 640, 800, 1333), [800, 1067]);
 * assert.deepEqual(keepRatioSize(100, 400, 800, 1333), [333, 1333]);
 * ```
 */
export function keepRatioSize(
  height: number,
  width: number,
  shorter: number,
  longer = Infinity,
): [number, number] {
  if (!(shorter > 0) || !(longer > 0)) {
    throw new TesseraError("keepRatioSize", `bounds must be positive, got ${shorter}, ${longer}`);
  }
  const f = Math.min(longer / Math.max(height, width), shorter / Math.min(height, width));
  return [Math.max(1, Math.trunc(height * f + 0.5)), Math.max(1, Math.trunc(width * f + 0.5))];
}

/**
 * Resizes keeping the aspect ratio (mmdet `Resize(keep_ratio=True)`): shorter side to
 * `shorter`, unless that makes the longer side exceed `longer`.
 *
 * @param s the sample
 * @param shorter target of the shorter side
 * @param longer bound on the longer side (default: none)
 * @param interpolation the image filter (default `"bilinear"`)
 * @returns the resized sample
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resizeKeepRatio } from "./sample.ts";
 * const image = { data: new Uint8Array(2 * 4), height: 2, width: 4, channels: 1 };
 * const r = resizeKeepRatio({ image }, 4, 6);
 * assert.deepEqual([r.image.height, r.image.width], [3, 6]);
 * ```
 */
export function resizeKeepRatio(
  s: DenseSample,
  shorter: number,
  longer = Infinity,
  interpolation: Interpolation = "bilinear",
): DenseSample {
  return resizeDense(
    s,
    keepRatioSize(s.image.height, s.image.width, shorter, longer),
    interpolation,
  );
}

/**
 * Mirrors the sample left–right: boxes become `[W − x2, y1, W − x1, y2]` (mmdet), masks and
 * label maps are mirrored with the image. Flipping twice gives the sample back.
 *
 * @param s the sample
 * @returns the flipped sample
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hflipDense } from "./sample.ts";
 * const image = { data: Uint8Array.of(1, 2, 3), height: 1, width: 3, channels: 1 };
 * const f = hflipDense({ image, boxes: Float32Array.of(0, 0, 1, 1), semantic: Uint8Array.of(7, 8, 9) });
 * assert.deepEqual([...f.image.data, ...f.boxes!, ...f.semantic!], [3, 2, 1, 2, 0, 3, 1, 9, 8, 7]);
 * ```
 */
export function hflipDense(s: DenseSample): DenseSample {
  checkDense("hflipDense", s);
  const { height: h, width: w } = s.image;
  const out: DenseSample = { ...s, image: hflip(s.image) };
  if (s.boxes) {
    const b = new Float32Array(s.boxes.length);
    for (let i = 0; i < b.length; i += 4) {
      b[i] = w - s.boxes[i + 2]!;
      b[i + 1] = s.boxes[i + 1]!;
      b[i + 2] = w - s.boxes[i]!;
      b[i + 3] = s.boxes[i + 3]!;
    }
    out.boxes = b;
  }
  return mapPlanes(s, out, (m) => hflip(plane(m, h, w)).data);
}

/**
 * Crops the window `[top, top + height) × [left, left + width)` (it may extend past the
 * image: images and masks are padded with 0, label maps with 255). Boxes are shifted and
 * clipped to the window; a box left with no width or height is dropped with its label and
 * mask (mmdet `RandomCrop`/detectron2's LSJ).
 *
 * @param s the sample
 * @param top first row (may be negative)
 * @param left first column (may be negative)
 * @param height window rows
 * @param width window columns
 * @returns the cropped sample
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cropDense } from "./sample.ts";
 * const image = { data: new Uint8Array(16), height: 4, width: 4, channels: 1 };
 * const boxes = Float32Array.of(0, 0, 1, 1, 1, 1, 4, 4);
 * const c = cropDense({ image, boxes, labels: Int32Array.of(3, 5) }, 2, 2, 4, 4);
 * assert.deepEqual([...c.boxes!], [0, 0, 2, 2]); // the first box left the window
 * assert.deepEqual([...c.labels!], [5]);
 * ```
 */
export function cropDense(
  s: DenseSample,
  top: number,
  left: number,
  height: number,
  width: number,
): DenseSample {
  checkDense("cropDense", s);
  const { height: h, width: w } = s.image;
  const out: DenseSample = { ...s, image: crop(s.image, top, left, height, width) };
  const cut = (m: Uint8Array, fill: number) => cropPlane(m, h, w, top, left, height, width, fill);
  if (s.semantic) out.semantic = cut(s.semantic, SEG_IGNORE);
  const masks = s.masks?.map((m) => cut(m, 0));
  if (s.boxes) {
    const keep: number[] = [], b: number[] = [];
    for (let i = 0; i < s.boxes.length / 4; i++) {
      const x1 = Math.min(Math.max(s.boxes[4 * i]! - left, 0), width);
      const y1 = Math.min(Math.max(s.boxes[4 * i + 1]! - top, 0), height);
      const x2 = Math.min(Math.max(s.boxes[4 * i + 2]! - left, 0), width);
      const y2 = Math.min(Math.max(s.boxes[4 * i + 3]! - top, 0), height);
      if (x2 > x1 && y2 > y1) keep.push(i), b.push(x1, y1, x2, y2);
    }
    out.boxes = Float32Array.from(b);
    if (s.labels) out.labels = Int32Array.from(keep, (i) => s.labels![i]!);
    if (masks) out.masks = keep.map((i) => masks[i]!);
  } else if (masks) out.masks = masks;
  return out;
}

/**
 * Pads at the bottom and right to `[height, width]`, or, with `divisor`, to the next multiple
 * of it (mmdet `Pad(size_divisor=32)`). Images and masks get 0, label maps 255; boxes keep
 * their coordinates.
 *
 * @param s the sample
 * @param opts `{ divisor }` (default 32) or `{ size: [height, width] }`
 * @returns the padded sample
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { padDense } from "./sample.ts";
 * const image = { data: new Uint8Array(33 * 10), height: 33, width: 10, channels: 1 };
 * const p = padDense({ image, semantic: new Uint8Array(330) });
 * assert.deepEqual([p.image.height, p.image.width], [64, 32]);
 * assert.equal(p.semantic![64 * 32 - 1], 255);
 * ```
 */
export function padDense(
  s: DenseSample,
  opts: { divisor?: number; size?: readonly [number, number] } = {},
): DenseSample {
  const { height: h, width: w } = s.image;
  let th: number, tw: number;
  if (opts.size) {
    [th, tw] = opts.size;
    if (!Number.isInteger(th) || !Number.isInteger(tw) || th < h || tw < w) {
      throw new TesseraError(
        "padDense",
        `size [${opts.size}] must be integers at least the image's ${h}×${w}`,
      );
    }
  } else {
    const d = opts.divisor ?? 32;
    if (!Number.isInteger(d) || d < 1) {
      throw new TesseraError("padDense", `divisor must be a positive integer, got ${d}`);
    }
    th = Math.ceil(h / d) * d;
    tw = Math.ceil(w / d) * d;
  }
  return cropDense(s, 0, 0, th, tw);
}

/**
 * `toFloat` then `normalize` on the image (targets unchanged): the last step before batching.
 *
 * @param s the sample
 * @param mean per-channel mean (of values in [0, 1])
 * @param std per-channel standard deviation
 * @returns the sample with a float32 CHW image
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeDense } from "./sample.ts";
 * const image = { data: Uint8Array.of(0, 255), height: 1, width: 2, channels: 1 };
 * assert.deepEqual([...normalizeDense({ image }, [0.5], [0.5]).image.data], [-1, 1]);
 * ```
 */
export function normalizeDense(
  s: DenseSample,
  mean: readonly number[],
  std: readonly number[],
): DenseSample<FloatImage> {
  checkDense("normalizeDense", s);
  return { ...s, image: normalize(toFloat(s.image), mean, std) };
}
