/**
 * CPU RoIAlign (torchvision `roi_align`, aligned and legacy modes, fixed or adaptive sampling
 * ratio), its adjoint `roiAlignGrad` (a sequential scatter-add in box order, so
 * deterministic), and greedy `nmsKeep` over score-sorted boxes.
 *
 * Sample coordinates and bilinear weights are computed in the tensor's precision (float32
 * arithmetic emulated with `Math.fround` for float32, as torchvision computes them), because
 * a sample landing exactly on the −1 / size validity edge must be classified as PyTorch
 * classifies it; the weighted sums are accumulated in float64.
 * @module
 */
import type { Kernel } from "../backend.ts";
import { TesseraError } from "../errors.ts";
import type { RoiAlignParams } from "../vision_params.ts";
import { alloc, input, wrap } from "./iter.ts";
import type { TypedArray } from "../dtype.ts";

/** Per-box geometry. */
export interface RoiGeo {
  /** Batch index. */
  b: number;
  startY: number;
  startX: number;
  binH: number;
  binW: number;
  gridH: number;
  gridW: number;
  count: number;
}

/** Validates box `k` of `boxes` ([K,5]) against batch size `n`; throws a TesseraError. */
export function checkBox(op: string, boxes: TypedArray, k: number, n: number): void {
  const b = boxes[5 * k]!, x1 = boxes[5 * k + 1]!, y1 = boxes[5 * k + 2]!;
  const x2 = boxes[5 * k + 3]!, y2 = boxes[5 * k + 4]!;
  if (!Number.isInteger(b) || b < 0 || b >= n) {
    throw new TesseraError(op, `box ${k} has batch index ${b}, not an integer in [0, ${n})`);
  }
  if (![x1, y1, x2, y2].every(Number.isFinite) || !(x2 >= x1) || !(y2 >= y1)) {
    throw new TesseraError(
      op,
      `box ${k} [${x1}, ${y1}, ${x2}, ${y2}] is not a finite box with x2 >= x1 and y2 >= y1`,
    );
  }
}

/** torchvision's per-box geometry (`r` rounds to the tensor's precision). */
export function roiGeo(
  boxes: TypedArray,
  k: number,
  p: RoiAlignParams,
  r: (v: number) => number,
): RoiGeo {
  const off = p.aligned ? 0.5 : 0, sc = r(p.spatialScale);
  const sx = r(r(boxes[5 * k + 1]! * sc) - off), sy = r(r(boxes[5 * k + 2]! * sc) - off);
  const ex = r(r(boxes[5 * k + 3]! * sc) - off), ey = r(r(boxes[5 * k + 4]! * sc) - off);
  let rw = r(ex - sx), rh = r(ey - sy);
  if (!p.aligned) {
    rw = Math.max(rw, 1);
    rh = Math.max(rh, 1);
  }
  const [ph, pw] = p.outputSize;
  const gridH = p.samplingRatio > 0 ? p.samplingRatio : Math.ceil(r(rh / ph));
  const gridW = p.samplingRatio > 0 ? p.samplingRatio : Math.ceil(r(rw / pw));
  return {
    b: boxes[5 * k]!,
    startY: sy,
    startX: sx,
    binH: r(rh / ph),
    binW: r(rw / pw),
    gridH,
    gridW,
    count: Math.max(gridH * gridW, 1),
  };
}

const ident = (v: number) => v;

/**
 * One axis of a box's bilinear taps, merged per output bin: bin `i` reads the rows (or
 * columns) `idx[start[i] .. start[i + 1])` with weights `wt` (the sum over the bin's samples
 * of each sample's weight on that index). Bilinear interpolation is separable, so a bin's value
 * is `Σ_a wtY[a] · Σ_b wtX[b] · x[idxY[a] + idxX[b]]`: a 2×2-sampled bin smaller than a feature
 * cell reads 4–9 positions instead of torchvision's 16 taps, and the taps cost
 * O(ph·gridH + pw·gridW) per box instead of O(ph·pw·gridH·gridW). Samples outside the map
 * read nothing (torchvision multiplies a weight 0 into position 0 instead: the same value for
 * finite features).
 */
export interface BinAxis {
  start: Int32Array;
  idx: Int32Array;
  wt: Float64Array;
}

/**
 * The samples `(j + ½)·bin/grid` of each of `pooled` bins along an axis of `size`, from
 * `start` (torchvision's arithmetic, rounded by `r`), as bilinear taps merged per bin
 * ({@link BinAxis}); `scale` turns an index into an offset (the row width for rows).
 */
function binAxis(
  start: number,
  bin: number,
  pooled: number,
  grid: number,
  size: number,
  scale: number,
  r: (v: number) => number,
): BinAxis {
  const first = new Int32Array(pooled + 1);
  const idx = new Int32Array(2 * pooled * grid), wt = new Float64Array(2 * pooled * grid);
  let m = 0;
  for (let i = 0; i < pooled; i++) {
    const from = m;
    for (let j = 0; j < grid; j++) {
      let y = r(r(start + r(i * bin)) + r(r((j + 0.5) * bin) / grid));
      if (y < -1 || y > size || Number.isNaN(y)) continue;
      if (y <= 0) y = 0;
      let lo = Math.trunc(y), hi: number;
      if (lo >= size - 1) {
        lo = hi = size - 1;
        y = lo;
      } else {
        hi = lo + 1;
      }
      const l = r(y - lo);
      for (let t = 0; t < 2; t++) {
        const at = (t ? hi : lo) * scale, w = t ? l : r(1 - l);
        let e = from;
        while (e < m && idx[e] !== at) e++;
        if (e === m) {
          idx[m] = at;
          wt[m++] = w;
        } else {
          wt[e] = wt[e]! + w;
        }
      }
    }
    first[i + 1] = m;
  }
  return { start: first, idx, wt };
}

/**
 * A box's taps: bin `i` reads plane offsets `off[start[i] .. start[i + 1])` with weights `wt`
 * (row × column weights of {@link BinAxis}: each position once).
 */
export interface BinTaps {
  start: Int32Array;
  off: Int32Array;
  wt: Float64Array;
}

/** torchvision's `pre_calc`, factored by axis ({@link BinAxis}) and merged; once per box. */
function preCalc(
  g: RoiGeo,
  ph: number,
  pw: number,
  h: number,
  w: number,
  r: (v: number) => number,
): BinTaps {
  const ty = binAxis(g.startY, g.binH, ph, g.gridH, h, w, r);
  const tx = binAxis(g.startX, g.binW, pw, g.gridW, w, 1, r);
  let n = 0;
  for (let i = 0; i < ph; i++) {
    for (let j = 0; j < pw; j++) {
      n += (ty.start[i + 1]! - ty.start[i]!) * (tx.start[j + 1]! - tx.start[j]!);
    }
  }
  const start = new Int32Array(ph * pw + 1), off = new Int32Array(n), wt = new Float64Array(n);
  let e = 0;
  for (let i = 0, bin = 0; i < ph; i++) {
    for (let j = 0; j < pw; j++, bin++) {
      for (let a = ty.start[i]!; a < ty.start[i + 1]!; a++) {
        for (let b = tx.start[j]!; b < tx.start[j + 1]!; b++, e++) {
          off[e] = ty.idx[a]! + tx.idx[b]!;
          wt[e] = ty.wt[a]! * tx.wt[b]!;
        }
      }
      start[bin + 1] = e;
    }
  }
  return { start, off, wt };
}

/**
 * Validates every box of `boxes` ([K,5]) against `shape` ([N,C,H,W] of the feature map), then
 * calls `visit` for each box `b` with its geometry and taps and the offset of its image's
 * first channel plane. The kernels loop over channels innermost: one box's taps serve every
 * channel, so the tap loop runs once per bin rather than once per (bin, channel).
 */
function forEachRoi(
  op: string,
  boxes: TypedArray,
  k: number,
  shape: readonly number[],
  params: RoiAlignParams,
  r: (v: number) => number,
  visit: (g: RoiGeo, taps: BinTaps, b: number, image: number) => void,
): void {
  const [n, c, h, w] = shape as [number, number, number, number];
  const [ph, pw] = params.outputSize;
  for (let b = 0; b < k; b++) checkBox(op, boxes, b, n);
  for (let b = 0; b < k; b++) {
    const g = roiGeo(boxes, b, params, r);
    visit(g, preCalc(g, ph, pw, h, w, r), b, (g.b | 0) * c * h * w); // an int offset: a float index slows every load
  }
}

/**
 * One box of the forward: output `[C, bins]` at `ob` (divided by `count`, the samples per bin) from the
 * image at `image`, channels innermost (a plain function of its arguments, so V8 keeps every
 * bound in a register).
 */
function poolBox(
  x: TypedArray,
  y: TypedArray,
  acc: Float64Array,
  taps: BinTaps,
  image: number,
  ob: number,
  c: number,
  hw: number,
  bins: number,
  count: number,
): void {
  const { start, off, wt } = taps;
  for (let bin = 0; bin < bins; bin++) {
    acc.fill(0);
    for (let e = start[bin]!, end = start[bin + 1]!; e < end; e++) {
      const we = wt[e]!;
      for (let ch = 0, p = image + off[e]!; ch < c; ch++, p += hw) acc[ch] = acc[ch]! + we * x[p]!;
    }
    for (let ch = 0, q = ob + bin; ch < c; ch++, q += bins) y[q] = acc[ch]! / count;
  }
}

/** `roiAlign(x, boxes)` → `[K, C, ph, pw]`. */
export const roiAlignKernel: Kernel<"roiAlign"> = (inputs, params, out) => {
  const x = input(inputs, 0), boxes = input(inputs, 1);
  const k = inputs[1]!.shape[0]!;
  const [, c, h, w] = inputs[0]!.shape as [number, number, number, number];
  const [ph, pw] = params.outputSize;
  const bins = ph * pw, hw = h * w;
  const r = out.dtype === "float32" ? Math.fround : ident;
  const y = alloc(out);
  const acc = new Float64Array(c);
  forEachRoi("roiAlign", boxes, k, inputs[0]!.shape, params, r, (g, taps, b, image) => {
    poolBox(x, y, acc, taps, image, b * c * bins, c, hw, bins, g.count);
  });
  return wrap(y);
};

/** `roiAlignGrad(g, boxes)`: scatter-adds each output cotangent onto its bilinear taps. */
export const roiAlignGradKernel: Kernel<"roiAlignGrad"> = (inputs, params, out) => {
  const gr = input(inputs, 0), boxes = input(inputs, 1);
  const [n, c, h, w] = params.inputShape as [number, number, number, number];
  const k = inputs[1]!.shape[0]!;
  const [ph, pw] = params.outputSize;
  const bins = ph * pw, hw = h * w;
  const r = out.dtype === "float32" ? Math.fround : ident;
  const acc = new Float64Array(n * c * h * w);
  const v = new Float64Array(c);
  forEachRoi("roiAlignGrad", boxes, k, params.inputShape, params, r, (g, taps, b, image) => {
    const { start, off, wt } = taps;
    for (let bin = 0; bin < bins; bin++) {
      for (let ch = 0, q = b * c * bins + bin; ch < c; ch++, q += bins) v[ch] = gr[q]! / g.count;
      for (let e = start[bin]!; e < start[bin + 1]!; e++) {
        const we = wt[e]!;
        for (let ch = 0, p = image + off[e]!; ch < c; ch++, p += hw) acc[p] = acc[p]! + we * v[ch]!;
      }
    }
  });
  const y = alloc(out);
  y.set(acc);
  return wrap(y);
};

/** `nmsKeep(sorted boxes [K,4])`: greedy suppression, torchvision's arithmetic order. */
export const nmsKeepKernel: Kernel<"nmsKeep"> = (inputs, params, out) => {
  const bx = input(inputs, 0);
  const k = inputs[0]!.shape[0]!;
  const r = inputs[0]!.dtype === "float32" ? Math.fround : ident;
  const thr = params.iouThreshold;
  const area = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    area[i] = r(r(bx[4 * i + 2]! - bx[4 * i]!) * r(bx[4 * i + 3]! - bx[4 * i + 1]!));
  }
  const keep = alloc(out) as Uint8Array;
  const gone = new Uint8Array(k);
  const skipDisjoint = thr >= 0; // IoU 0 > a negative threshold suppresses disjoint boxes too
  for (let i = 0; i < k; i++) {
    if (gone[i]) continue;
    keep[i] = 1;
    const x1 = bx[4 * i]!, y1 = bx[4 * i + 1]!, x2 = bx[4 * i + 2]!, y2 = bx[4 * i + 3]!;
    for (let j = i + 1; j < k; j++) {
      if (gone[j]) continue;
      // Rounding keeps the sign, so a pair whose unrounded overlap is <= 0 has IoU 0 and is
      // skipped before any rounding (most pairs: batchedNms offsets each class/level apart).
      const dw = Math.min(x2, bx[4 * j + 2]!) - Math.max(x1, bx[4 * j]!);
      if (!(dw > 0) && skipDisjoint) continue;
      const dh = Math.min(y2, bx[4 * j + 3]!) - Math.max(y1, bx[4 * j + 1]!);
      if (!(dh > 0) && skipDisjoint) continue;
      const inter = r(Math.max(0, r(dw)) * Math.max(0, r(dh)));
      const iou = r(inter / r(r(area[i]! + area[j]!) - inter));
      if (iou > thr) gone[j] = 1;
    }
  }
  return wrap(keep);
};
