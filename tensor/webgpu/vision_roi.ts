/**
 * WebGPU RoIAlign, its adjoint, and the device-side NMS suppression.
 *
 * roiAlign: one thread per (box, block of 16 channels, bin) averaging its bilinear samples with
 * torchvision's float32 arithmetic.
 *
 * roiAlignGrad: no float atomics, so no scatter. Each *input* pixel gathers: one thread per
 * (n, block of 16 channels, y, x) loops over the boxes of image n and, per axis, over the only samples whose
 * bilinear taps can touch row y / column x (sample s sits at `start + (s + ½)·bin/grid`, so
 * the candidates are the s with that coordinate in `[y − 1, y + 1]`, widened by one for
 * rounding; each candidate is re-evaluated exactly as the forward pass does and kept only if
 * one of its taps is y). Summation order is fixed (boxes, then samples in order), so results
 * are deterministic run to run. Cost: O(pixels · boxes) box tests plus the touching samples.
 *
 * nmsKeep: (1) one thread per (box i, 32-box word) writes the bitmask of boxes j > i with
 * IoU(i, j) > threshold (the fixed-shape `[K, ⌈K/32⌉]` IoU matrix, torchvision's CUDA
 * layout); (2) a single workgroup walks the boxes in score order keeping a "removed" bitset
 * in workgroup memory: box i is kept if its bit is clear, and then its mask row is OR-ed into
 * the bitset by all 256 threads in parallel (two barriers per box). Nothing is read back.
 *
 * A first pass writes each box's geometry and a conservative range of rows/columns its taps can
 * reach, so the per-pixel loop rejects most boxes with a few comparisons.
 *
 * Boxes are validated on the device (batch index an integer in range, finite, x2 ≥ x1,
 * y2 ≥ y1); a bad box sets the device's error flag, which the next read reports as a
 * TesseraError naming roiAlign.
 * @module
 */
import { TesseraError } from "../errors.ts";
import { f32Below } from "../vision_params.ts";
import type { GpuKernel } from "./elementwise.ts";
import type { GpuStorage } from "./pool.ts";
import { FLAG_BOXES } from "./readback.ts";
import type { Runtime } from "./runtime.ts";
import { type Binding, declare, GROUP_MAIN_ARGS, linearMain, Params, WG } from "./wgsl.ts";

/** Sets the device flag when a box of `boxes` ([K,5]) is invalid for a batch of `n`. */
function validateBoxes(rt: Runtime, op: string, boxes: GpuStorage, k: number, n: number): void {
  if (k === 0) return;
  const b: Binding[] = [{ name: "bx", ty: "f32" }, { name: "flag", ty: "atomic<u32>", rw: true }];
  const pr = new Params().u(k, n, FLAG_BOXES);
  rt.run(op, {
    wgsl: declare(pr.length, b) + FINITE + linearMain(`  let bi = bx[5u * i];
  let x1 = bx[5u * i + 1u]; let y1 = bx[5u * i + 2u]; let x2 = bx[5u * i + 3u]; let y2 = bx[5u * i + 4u];
  let ok = finite_(bi) && bi >= 0.0 && bi < f32(p(1u)) && floor(bi) == bi &&
    finite_(x1) && finite_(y1) && finite_(x2) && finite_(y2) && x2 >= x1 && y2 >= y1;
  if (!ok) { atomicOr(&flag[0], p(2u)); }`),
    bindings: b,
    buffers: [boxes, rt.flag],
    params: pr.words(),
    groups: Math.ceil(k / WG),
  });
}

const FINITE =
  "fn finite_(v: f32) -> bool { return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u; }\n";

/**
 * WGSL helpers: box geometry (`Geo`) and one axis tap (`Tap`), mirroring
 * tensor/cpu/vision_roi.ts. Params: 4 PH, 5 PW, 6 sampling ratio, 7 aligned, 8 scale (f32).
 */
const ROI_LIB =
  `struct Geo { b: f32, sy: f32, sx: f32, bh: f32, bw: f32, gh: u32, gw: u32, count: f32 }
fn geo_(k: u32) -> Geo {
  var g: Geo;
  let off = select(0.0, 0.5, p(7u) != 0u);
  let sc = pf(8u);
  g.b = bx[5u * k];
  g.sx = bx[5u * k + 1u] * sc - off;
  g.sy = bx[5u * k + 2u] * sc - off;
  var rw = (bx[5u * k + 3u] * sc - off) - g.sx;
  var rh = (bx[5u * k + 4u] * sc - off) - g.sy;
  if (p(7u) == 0u) { rw = max(rw, 1.0); rh = max(rh, 1.0); }
  g.bh = rh / f32(p(4u));
  g.bw = rw / f32(p(5u));
  if (p(6u) > 0u) { g.gh = p(6u); g.gw = p(6u); }
  else { g.gh = u32(max(ceil(rh / f32(p(4u))), 0.0)); g.gw = u32(max(ceil(rw / f32(p(5u))), 0.0)); }
  g.count = f32(max(g.gh * g.gw, 1u));
  return g;
}
struct Tap { lo: i32, hi: i32, wl: f32, wh: f32 }
fn tap_(v0: f32, size: u32) -> Tap {
  var t: Tap;
  t.lo = -1; t.hi = -1; t.wl = 0.0; t.wh = 0.0;
  var v = v0;
  if (!(v >= -1.0 && v <= f32(size))) { return t; }
  if (v <= 0.0) { v = 0.0; }
  var lo = i32(v);
  var hi = lo + 1;
  if (lo >= i32(size) - 1) { lo = i32(size) - 1; hi = lo; v = f32(lo); }
  let l = v - f32(lo);
  t.lo = lo; t.hi = hi; t.wl = 1.0 - l; t.wh = l;
  return t;
}
fn coord_(start: f32, bin: f32, grid: u32, s: u32) -> f32 {
  let i = s / grid; let j = s % grid;
  return (start + f32(i) * bin) + ((f32(j) + 0.5) * bin) / f32(grid);
}
`;

function roiParams(
  count: number,
  c: number,
  h: number,
  w: number,
  p: {
    outputSize: readonly number[];
    samplingRatio: number;
    aligned: boolean;
    spatialScale: number;
  },
  extra: number,
): Params {
  return new Params().u(count, c, h, w, p.outputSize[0]!, p.outputSize[1]!, p.samplingRatio)
    .u(p.aligned ? 1 : 0).f(p.spatialScale).u(extra);
}

/** Channels per roiAlign / roiAlignGrad thread. */
const CB = 16;

/** `roiAlign(x, boxes)`. */
export const roiAlignKernel: GpuKernel<"roiAlign"> = (rt, inputs, params, _out) => {
  const x = inputs[0]!, boxes = inputs[1]!;
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const k = boxes.shape[0]!;
  validateBoxes(rt, "roiAlign", boxes.storage as GpuStorage, k, n);
  const [ph, pw] = params.outputSize;
  const count = k * c * ph * pw;
  const st = rt.alloc(count * 4, "roiAlign");
  if (count === 0) return st;
  // One thread per (box, block of CB channels, bin): the sample taps are computed once for
  // the whole channel block.
  const blocks = Math.ceil(c / CB);
  const threads = k * blocks * ph * pw;
  const pr = roiParams(threads, c, h, w, params, n).u(blocks);
  const b: Binding[] = [
    { name: "x", ty: "f32" },
    { name: "bx", ty: "f32" },
    { name: "y", ty: "f32", rw: true },
  ];
  rt.run("roiAlign", {
    wgsl: declare(pr.length, b) + ROI_LIB + linearMain(`  let j = i % p(5u); let t = i / p(5u);
  let r = t % p(4u); let t2 = t / p(4u); let cb = t2 % p(10u); let k = t2 / p(10u);
  let c0 = cb * ${CB}u;
  let nc = min(${CB}u, p(1u) - c0);
  let g = geo_(k);
  let bi = min(u32(max(g.b, 0.0)), p(9u) - 1u);
  let hw = p(2u) * p(3u);
  let plane = (bi * p(1u) + c0) * hw;
  var acc: array<f32, ${CB}>;
  for (var sy = r * g.gh; sy < (r + 1u) * g.gh; sy++) {
    let ty = tap_(coord_(g.sy, g.bh, g.gh, sy), p(2u));
    if (ty.lo < 0) { continue; }
    let rl = plane + u32(ty.lo) * p(3u); let rh = plane + u32(ty.hi) * p(3u);
    for (var sx = j * g.gw; sx < (j + 1u) * g.gw; sx++) {
      let tx = tap_(coord_(g.sx, g.bw, g.gw, sx), p(3u));
      if (tx.lo < 0) { continue; }
      let w1 = ty.wl * tx.wl; let w2 = ty.wl * tx.wh; let w3 = ty.wh * tx.wl; let w4 = ty.wh * tx.wh;
      let xl = u32(tx.lo); let xh = u32(tx.hi);
      for (var cc = 0u; cc < nc; cc++) {
        let o = cc * hw;
        acc[cc] = acc[cc] + w1 * x[rl + o + xl] + w2 * x[rl + o + xh] + w3 * x[rh + o + xl] +
          w4 * x[rh + o + xh];
      }
    }
  }
  let bins = p(4u) * p(5u);
  for (var cc = 0u; cc < nc; cc++) {
    y[(k * p(1u) + c0 + cc) * bins + r * p(5u) + j] = acc[cc] / g.count;
  }`),
    bindings: b,
    buffers: [x.storage as GpuStorage, boxes.storage as GpuStorage, st],
    params: pr.words(),
    groups: Math.ceil(threads / WG),
  });
  return st;
};

/** Words per box in roiAlignGrad's geometry table. */
const TB = 12;

/** `roiAlignGrad(g, boxes)`: each input pixel gathers from the samples touching it. */
export const roiAlignGradKernel: GpuKernel<"roiAlignGrad"> = (rt, inputs, params, _out) => {
  const gr = inputs[0]!, boxes = inputs[1]!;
  const [n, c, h, w] = params.inputShape as [number, number, number, number];
  const k = boxes.shape[0]!;
  validateBoxes(rt, "roiAlign", boxes.storage as GpuStorage, k, n);
  const count = n * c * h * w;
  const st = rt.alloc(count * 4, "roiAlignGrad");
  if (count === 0) return st;
  // Pass 1: per-box geometry plus a conservative row/column range its taps can touch, so
  // pass 2 rejects most (pixel, box) pairs with two comparisons.
  const table = rt.alloc(Math.max(k, 1) * TB * 4, "roiAlignGrad");
  const tbB: Binding[] = [{ name: "bx", ty: "f32" }, { name: "tb", ty: "f32", rw: true }];
  const tp = roiParams(k, c, h, w, params, k);
  if (k > 0) {
    rt.run("roiAlignGrad", {
      wgsl: declare(tp.length, tbB) + ROI_LIB + linearMain(`  let g = geo_(i);
  let o = i * ${TB}u;
  tb[o] = g.b; tb[o + 1u] = g.sy; tb[o + 2u] = g.sx; tb[o + 3u] = g.bh; tb[o + 4u] = g.bw;
  tb[o + 5u] = f32(g.gh); tb[o + 6u] = f32(g.gw); tb[o + 7u] = g.count;
  tb[o + 8u] = g.sy - 2.0; tb[o + 9u] = g.sy + g.bh * f32(p(4u)) + 2.0;
  tb[o + 10u] = g.sx - 2.0; tb[o + 11u] = g.sx + g.bw * f32(p(5u)) + 2.0;`),
      bindings: tbB,
      buffers: [boxes.storage as GpuStorage, table],
      params: tp.words(),
      groups: Math.ceil(k / WG),
    });
  }
  const b: Binding[] = [
    { name: "gr", ty: "f32" },
    { name: "tb", ty: "f32" },
    { name: "y", ty: "f32", rw: true },
  ];
  // Candidate samples along an axis for pixel v: s with coord in [v − 1, v + 1] (± 1).
  const range = (v: string, start: string, bin: string, grid: string, pooled: string) =>
    `let tot_${v} = ${pooled} * ${grid};
    let step_${v} = ${bin} / f32(${grid});
    var lo_${v} = 0; var hi_${v} = i32(tot_${v}) - 1;
    if (step_${v} > 0.0) {
      lo_${v} = max(i32(floor((f32(${v}) - 1.0 - ${start}) / step_${v} - 0.5)) - 1, 0);
      hi_${v} = min(i32(ceil((f32(${v}) + 1.0 - ${start}) / step_${v} - 0.5)) + 1, hi_${v});
    }`;
  // One thread per (image, block of CB channels, pixel): the sample geometry is computed once
  // for the whole channel block.
  const blocks = Math.ceil(c / CB);
  const threads = n * blocks * h * w;
  const gp = roiParams(threads, c, h, w, params, k).u(blocks);
  rt.run("roiAlignGrad", {
    wgsl: declare(gp.length, b) + ROI_LIB.slice(ROI_LIB.indexOf("struct Tap")) +
      linearMain(`  let xx = i % p(3u); let t = i / p(3u);
  let yy = t % p(2u); let t2 = t / p(2u); let cb = t2 % p(10u); let nb = t2 / p(10u);
  let c0 = cb * ${CB}u;
  let nc = min(${CB}u, p(1u) - c0);
  let fy = f32(yy); let fx = f32(xx);
  let bins = p(4u) * p(5u);
  var acc: array<f32, ${CB}>;
  for (var k = 0u; k < p(9u); k++) {
    let o = k * ${TB}u;
    if (tb[o] != f32(nb) || fy < tb[o + 8u] || fy > tb[o + 9u] || fx < tb[o + 10u] ||
        fx > tb[o + 11u]) { continue; }
    let gsy = tb[o + 1u]; let gsx = tb[o + 2u]; let gbh = tb[o + 3u]; let gbw = tb[o + 4u];
    let gh = u32(tb[o + 5u]); let gw = u32(tb[o + 6u]); let cnt = tb[o + 7u];
    if (gh == 0u || gw == 0u) { continue; }
    ${range("yy", "gsy", "gbh", "gh", "p(4u)")}
    ${range("xx", "gsx", "gbw", "gw", "p(5u)")}
    let gbase = (k * p(1u) + c0) * bins;
    for (var sy = lo_yy; sy <= hi_yy; sy++) {
      let ty = tap_(coord_(gsy, gbh, gh, u32(sy)), p(2u));
      let wy = select(0.0, ty.wl, ty.lo == i32(yy)) + select(0.0, ty.wh, ty.hi == i32(yy));
      if (wy == 0.0) { continue; }
      let brow = (u32(sy) / gh) * p(5u);
      for (var sx = lo_xx; sx <= hi_xx; sx++) {
        let tx = tap_(coord_(gsx, gbw, gw, u32(sx)), p(3u));
        let wx = select(0.0, tx.wl, tx.lo == i32(xx)) + select(0.0, tx.wh, tx.hi == i32(xx));
        if (wx == 0.0) { continue; }
        let wgt = wy * wx;
        let at = gbase + brow + u32(sx) / gw;
        for (var cc = 0u; cc < nc; cc++) { acc[cc] = acc[cc] + wgt * (gr[at + cc * bins] / cnt); }
      }
    }
  }
  for (var cc = 0u; cc < nc; cc++) {
    y[((nb * p(1u) + c0 + cc) * p(2u) + yy) * p(3u) + xx] = acc[cc];
  }`),
    bindings: b,
    buffers: [gr.storage as GpuStorage, table, st],
    params: gp.words(),
    groups: Math.ceil(threads / WG),
  });
  rt.free(table);
  return st;
};

/** `nmsKeep(sorted boxes)`: IoU bitmask, then sequential suppression in one workgroup. */
export const nmsKeepKernel: GpuKernel<"nmsKeep"> = (rt, inputs, params, _out) => {
  const boxes = inputs[0]!;
  const k = boxes.shape[0]!;
  const keep = rt.alloc(k * 4, "nmsKeep");
  if (k === 0) return keep;
  const words = Math.ceil(k / 32);
  const cap = 2 ** Math.ceil(Math.log2(words));
  if (cap * 4 + 16 > rt.maxWorkgroupBytes) {
    throw new TesseraError(
      "nms",
      `${k} boxes exceed the webgpu suppression kernel's limit of ${
        Math.floor((rt.maxWorkgroupBytes - 16) / 4) * 32
      }; run nms on the cpu backend or pre-filter the boxes`,
    );
  }
  const mask = rt.alloc(k * words * 4, "nmsKeep");
  const pr = new Params().u(k * words, k, words).f(f32Below(params.iouThreshold));
  const mb: Binding[] = [{ name: "bx", ty: "f32" }, { name: "mask", ty: "u32", rw: true }];
  rt.run("nmsKeep", {
    wgsl: declare(pr.length, mb) + linearMain(`  let wd = i % p(2u); let bi = i / p(2u);
  let x1 = bx[4u * bi]; let y1 = bx[4u * bi + 1u]; let x2 = bx[4u * bi + 2u]; let y2 = bx[4u * bi + 3u];
  let ai = (x2 - x1) * (y2 - y1);
  var bits = 0u;
  for (var t = 0u; t < 32u; t++) {
    let j = wd * 32u + t;
    if (j <= bi || j >= p(1u)) { continue; }
    let u1 = bx[4u * j]; let v1 = bx[4u * j + 1u]; let u2 = bx[4u * j + 2u]; let v2 = bx[4u * j + 3u];
    let aj = (u2 - u1) * (v2 - v1);
    let ww = max(0.0, min(x2, u2) - max(x1, u1));
    let hh = max(0.0, min(y2, v2) - max(y1, v1));
    let inter = ww * hh;
    let iou = inter / ((ai + aj) - inter);
    if (iou > pf(3u)) { bits = bits | (1u << t); }
  }
  mask[i] = bits;`),
    bindings: mb,
    buffers: [boxes.storage as GpuStorage, mask],
    params: pr.words(),
    groups: Math.ceil((k * words) / WG),
  });
  const sb: Binding[] = [{ name: "mask", ty: "u32" }, { name: "keep", ty: "u32", rw: true }];
  const sp = new Params().u(k, words);
  rt.run("nmsKeep", {
    wgsl: declare(sp.length, sb) + `var<workgroup> removed: array<u32, ${cap}>;
var<workgroup> cur: u32;
@compute @workgroup_size(256)
fn main(${GROUP_MAIN_ARGS}) {
  let K = p(0u); let W = p(1u);
  for (var w = lid; w < W; w += 256u) { removed[w] = 0u; }
  workgroupBarrier();
  for (var i = 0u; i < K; i++) {
    if (lid == 0u) {
      let r = (removed[i >> 5u] >> (i & 31u)) & 1u;
      cur = r;
      keep[i] = 1u - r;
    }
    workgroupBarrier();
    if (cur == 0u) {
      for (var w = (i >> 5u) + lid; w < W; w += 256u) { removed[w] = removed[w] | mask[i * W + w]; }
    }
    workgroupBarrier();
  }
}
`,
    bindings: sb,
    buffers: [mask, keep],
    params: sp.words(),
    groups: 1,
  });
  rt.free(mask);
  return keep;
};
