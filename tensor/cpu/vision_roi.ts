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

/** Bilinear taps of the samples along one axis: `lo`/`hi` index (−1: invalid) and weights. */
export interface AxisTaps {
  lo: Int32Array;
  hi: Int32Array;
  wLo: Float64Array;
  wHi: Float64Array;
}

/** Samples `bin·pooled` along an axis of `size` (sample s of bin i at s-th sub-position). */
export function axisTaps(
  start: number,
  bin: number,
  pooled: number,
  grid: number,
  size: number,
  r: (v: number) => number,
): AxisTaps {
  const n = pooled * grid;
  const t: AxisTaps = {
    lo: new Int32Array(n),
    hi: new Int32Array(n),
    wLo: new Float64Array(n),
    wHi: new Float64Array(n),
  };
  for (let i = 0, s = 0; i < pooled; i++) {
    for (let j = 0; j < grid; j++, s++) {
      let y = r(r(start + r(i * bin)) + r(r((j + 0.5) * bin) / grid));
      if (y < -1 || y > size || Number.isNaN(y)) {
        t.lo[s] = -1;
        t.hi[s] = -1;
        continue;
      }
      if (y <= 0) y = 0;
      let lo = Math.trunc(y), hi: number;
      if (lo >= size - 1) {
        lo = hi = size - 1;
        y = lo;
      } else {
        hi = lo + 1;
      }
      const l = r(y - lo);
      t.lo[s] = lo;
      t.hi[s] = hi;
      t.wLo[s] = r(1 - l);
      t.wHi[s] = l;
    }
  }
  return t;
}

const ident = (v: number) => v;

/**
 * torchvision's `pre_calc`: for every sample of every bin (bin-major, then sample row-major)
 * the four tap offsets within a plane and their weights (0 for samples outside the map).
 * Channel-independent, so it is computed once per box.
 */
function preCalc(
  g: RoiGeo,
  ph: number,
  pw: number,
  h: number,
  w: number,
  r: (v: number) => number,
): { pos: Int32Array; wt: Float64Array; per: number } {
  const ty = axisTaps(g.startY, g.binH, ph, g.gridH, h, r);
  const tx = axisTaps(g.startX, g.binW, pw, g.gridW, w, r);
  const per = g.gridH * g.gridW;
  const n = ph * pw * per;
  const pos = new Int32Array(4 * n), wt = new Float64Array(4 * n);
  let e = 0;
  for (let i = 0; i < ph; i++) {
    for (let j = 0; j < pw; j++) {
      for (let sy = i * g.gridH; sy < (i + 1) * g.gridH; sy++) {
        for (let sx = j * g.gridW; sx < (j + 1) * g.gridW; sx++, e += 4) {
          const yl = ty.lo[sy]!, xl = tx.lo[sx]!;
          if (yl < 0 || xl < 0) continue;
          const yh = ty.hi[sy]!, xh = tx.hi[sx]!;
          const hy = ty.wLo[sy]!, ly = ty.wHi[sy]!, hx = tx.wLo[sx]!, lx = tx.wHi[sx]!;
          pos[e] = yl * w + xl;
          pos[e + 1] = yl * w + xh;
          pos[e + 2] = yh * w + xl;
          pos[e + 3] = yh * w + xh;
          wt[e] = hy * hx;
          wt[e + 1] = hy * lx;
          wt[e + 2] = ly * hx;
          wt[e + 3] = ly * lx;
        }
      }
    }
  }
  return { pos, wt, per };
}

/** One (box, channel) plane of a RoIAlign: the box's geometry and taps, and the two offsets. */
type RoiPlane = (
  g: RoiGeo,
  taps: { pos: Int32Array; wt: Float64Array; per: number },
  plane: number,
  ob: number,
) => void;

/**
 * Validates every box of `boxes` ([K,5]) against `shape` ([N,C,H,W] of the feature map), then
 * calls `visit` for each box `b` and channel `ch` with the box's geometry and taps, the offset
 * of input plane (batch of the box, `ch`) and the offset of output plane (`b`, `ch`).
 */
function forEachRoiPlane(
  op: string,
  boxes: TypedArray,
  k: number,
  shape: readonly number[],
  params: RoiAlignParams,
  r: (v: number) => number,
  visit: RoiPlane,
): void {
  const [n, c, h, w] = shape as [number, number, number, number];
  const [ph, pw] = params.outputSize;
  for (let b = 0; b < k; b++) checkBox(op, boxes, b, n);
  const bins = ph * pw;
  for (let b = 0; b < k; b++) {
    const g = roiGeo(boxes, b, params, r);
    const taps = preCalc(g, ph, pw, h, w, r);
    for (let ch = 0; ch < c; ch++) visit(g, taps, (g.b * c + ch) * h * w, (b * c + ch) * bins);
  }
}

/** `roiAlign(x, boxes)` → `[K, C, ph, pw]`. */
export const roiAlignKernel: Kernel<"roiAlign"> = (inputs, params, out) => {
  const x = input(inputs, 0), boxes = input(inputs, 1);
  const k = inputs[1]!.shape[0]!;
  const [ph, pw] = params.outputSize;
  const r = out.dtype === "float32" ? Math.fround : ident;
  const y = alloc(out);
  const bins = ph * pw;
  forEachRoiPlane("roiAlign", boxes, k, inputs[0]!.shape, params, r, (g, taps, plane, ob) => {
    const { pos, wt, per } = taps;
    for (let bin = 0, e = 0; bin < bins; bin++) {
      let acc = 0;
      for (let s = 0; s < per; s++, e += 4) {
        acc += wt[e]! * x[plane + pos[e]!]! + wt[e + 1]! * x[plane + pos[e + 1]!]! +
          wt[e + 2]! * x[plane + pos[e + 2]!]! + wt[e + 3]! * x[plane + pos[e + 3]!]!;
      }
      y[ob + bin] = acc / g.count;
    }
  });
  return wrap(y);
};

/** `roiAlignGrad(g, boxes)`: scatter-adds each output cotangent onto its bilinear taps. */
export const roiAlignGradKernel: Kernel<"roiAlignGrad"> = (inputs, params, out) => {
  const gr = input(inputs, 0), boxes = input(inputs, 1);
  const [n, c, h, w] = params.inputShape as [number, number, number, number];
  const k = inputs[1]!.shape[0]!;
  const [ph, pw] = params.outputSize;
  const r = out.dtype === "float32" ? Math.fround : ident;
  const acc = new Float64Array(n * c * h * w);
  const bins = ph * pw;
  forEachRoiPlane("roiAlignGrad", boxes, k, params.inputShape, params, r, (g, taps, plane, ob) => {
    const { pos, wt, per } = taps;
    for (let bin = 0, e = 0; bin < bins; bin++) {
      const v = gr[ob + bin]! / g.count;
      if (v === 0) {
        e += 4 * per;
        continue;
      }
      for (let s = 0; s < per; s++, e += 4) {
        acc[plane + pos[e]!]! += wt[e]! * v;
        acc[plane + pos[e + 1]!]! += wt[e + 1]! * v;
        acc[plane + pos[e + 2]!]! += wt[e + 2]! * v;
        acc[plane + pos[e + 3]!]! += wt[e + 3]! * v;
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
