/**
 * Parameters of the vision primitives (NCHW) and the geometry both backends share: output
 * sizes of convolutions and pools, and the sparse per-axis tables of `resample2d`.
 *
 * `resample2d` is one separable linear map `out[n,c,i,j] = Σ_{p,q} A_h[i,p] A_w[j,q] x[n,c,p,q]`
 * whose per-axis matrices `A` are described by a {@link Resample1d}: PyTorch's average pool
 * (count_include_pad, ceil_mode), adaptive average pool (bins `[⌊iH/out⌋, ⌈(i+1)H/out⌉)`),
 * legacy `nearest` and bilinear (`align_corners` false/true) interpolation. Its adjoint is the
 * same primitive with `transpose: true` (the transposed tables), so every linear resampling op
 * has exact gradients of every order from two kernels per backend.
 * @module
 */

/** Per-axis `[h, w]` pair. */
export type Pair = readonly [number, number];

/** Geometry of `conv2d` (and of its adjoints). */
export interface Conv2dParams {
  /** Step between output positions. */
  readonly stride: Pair;
  /** Zero padding on both sides of each axis. */
  readonly padding: Pair;
  /** Spacing between kernel taps. */
  readonly dilation: Pair;
  /** Channel groups: input and output channels both split into `groups` blocks. */
  readonly groups: number;
}

/** Geometry of `convTranspose2d`: a conv2d's input adjoint plus extra rows/columns. */
export interface ConvTranspose2dParams extends Conv2dParams {
  /** Extra size added at the bottom/right of the output (`< stride`). */
  readonly outputPadding: Pair;
}

/** `conv2dWeightGrad(x, dy)`: the weight adjoint of conv2d for a `kernel`-sized weight. */
export interface Conv2dWeightGradParams extends Conv2dParams {
  /** Kernel size `[kh, kw]` of the weight. */
  readonly kernel: Pair;
}

/** Geometry of `maxPool2d` / `maxPool2dArgmax` (PyTorch's `max_pool2d`). */
export interface MaxPool2dParams {
  /** Window size. */
  readonly kernel: Pair;
  /** Window step. */
  readonly stride: Pair;
  /** Implicit -∞ padding on both sides (≤ half the effective kernel). */
  readonly padding: Pair;
  /** Spacing between window taps. */
  readonly dilation: Pair;
  /** Output size rounds up (windows starting inside the padded input only). */
  readonly ceilMode: boolean;
}

/** One axis of a separable resampling map. */
export type Resample1d =
  | {
    /** PyTorch legacy nearest: `src = min(⌊dst·scale⌋, in − 1)` in float32. */
    readonly kind: "nearest";
    readonly in: number;
    readonly out: number;
    /** The user's scale factor (0: none, the ratio comes from the sizes). */
    readonly scale: number;
  }
  | {
    /** Linear interpolation (one axis of bilinear). */
    readonly kind: "linear";
    readonly in: number;
    readonly out: number;
    /** The user's scale factor (0: none). Ignored when `alignCorners`. */
    readonly scale: number;
    /** Corner pixels' centres align (`src = dst·(in−1)/(out−1)`). */
    readonly alignCorners: boolean;
  }
  | {
    /** Adaptive average pooling bins. */
    readonly kind: "adaptiveAvg";
    readonly in: number;
    readonly out: number;
  }
  | {
    /** Average pooling windows (PyTorch `avg_pool2d`). */
    readonly kind: "avg";
    readonly in: number;
    readonly out: number;
    readonly kernel: number;
    readonly stride: number;
    readonly padding: number;
    /** Divide by the window size clipped to the padded input (true) or to the input. */
    readonly countIncludePad: boolean;
  };

/** `resample2d`: per-axis maps; `transpose` applies the adjoint (out-sized in, in-sized out). */
export interface Resample2dParams {
  /** Map along H. */
  readonly h: Resample1d;
  /** Map along W. */
  readonly w: Resample1d;
  /** Apply the transposed map. */
  readonly transpose: boolean;
}

/** `roiAlign(x, boxes)` (torchvision `roi_align`; boxes `[K, 5]` = batch index, x1, y1, x2, y2). */
export interface RoiAlignParams {
  /** Output size `[ph, pw]` per box. */
  readonly outputSize: Pair;
  /** Box coordinates are multiplied by this (1 / feature stride). */
  readonly spatialScale: number;
  /** Samples per bin and axis; 0 = adaptive `⌈roi_size / output_size⌉`. */
  readonly samplingRatio: number;
  /** Pixel-centre alignment (shift by −0.5, no minimum roi size of 1). */
  readonly aligned: boolean;
}

/** `roiAlignGrad(g, boxes)`: the adjoint of roiAlign onto an input of `inputShape`. */
export interface RoiAlignGradParams extends RoiAlignParams {
  /** The input's shape `[N, C, H, W]`. */
  readonly inputShape: readonly number[];
}

/** `nmsKeep(sortedBoxes)`: greedy suppression over boxes already sorted by score. */
export interface NmsKeepParams {
  /** A box is dropped when its IoU with a kept, higher-scored box is `> iouThreshold`. */
  readonly iouThreshold: number;
}

// ---------------------------------------------------------------------------------------
// Sizes
// ---------------------------------------------------------------------------------------

/** conv2d output size along one axis (may be ≤ 0 for impossible geometry). */
export function convOutSize(
  n: number,
  k: number,
  stride: number,
  pad: number,
  dil: number,
): number {
  return Math.floor((n + 2 * pad - dil * (k - 1) - 1) / stride) + 1;
}

/** convTranspose2d output size along one axis. */
export function convTransposeOutSize(
  n: number,
  k: number,
  stride: number,
  pad: number,
  dil: number,
  outPad: number,
): number {
  return (n - 1) * stride - 2 * pad + dil * (k - 1) + outPad + 1;
}

/** Pool output size along one axis (PyTorch's `pooling_output_shape`). */
export function poolOutSize(
  n: number,
  k: number,
  stride: number,
  pad: number,
  dil: number,
  ceil: boolean,
): number {
  const span = n + 2 * pad - dil * (k - 1) - 1;
  let o = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  if (ceil && (o - 1) * stride >= n + pad) o--;
  return o;
}

// ---------------------------------------------------------------------------------------
// Resampling tables
// ---------------------------------------------------------------------------------------

/**
 * A sparse matrix in compressed rows: row `r`'s entries are `idx[ptr[r]..ptr[r+1])` with
 * weights `w[...]`. Rows are output positions (or input positions when transposed).
 */
export interface Csr {
  /** Row starts, length rows + 1. */
  readonly ptr: Int32Array;
  /** Column indices. */
  readonly idx: Int32Array;
  /** Weights (float32-rounded values for float32 tensors). */
  readonly w: Float64Array;
}

const ident = (v: number) => v;

function build(rows: number, fill: (r: number, push: (i: number, w: number) => void) => void): Csr {
  const ptr = new Int32Array(rows + 1);
  const idx: number[] = [], w: number[] = [];
  for (let r = 0; r < rows; r++) {
    fill(r, (i, wt) => {
      idx.push(i);
      w.push(wt);
    });
    ptr[r + 1] = idx.length;
  }
  return { ptr, idx: Int32Array.from(idx), w: Float64Array.from(w) };
}

/** Nearest source index as PyTorch 1.13 computes it (float32 scale, `floorf`). */
export function nearestIndex(dst: number, inS: number, outS: number, scale: number): number {
  if (outS === inS) return dst;
  if (outS === 2 * inS) return dst >> 1;
  const f = Math.fround;
  const s = scale > 0 ? f(1 / scale) : f(inS / outS);
  return Math.min(Math.floor(f(dst * s)), inS - 1);
}

function forward(d: Resample1d, f32: boolean): Csr {
  const r = f32 ? Math.fround : ident;
  switch (d.kind) {
    case "nearest":
      return build(d.out, (o, push) => push(nearestIndex(o, d.in, d.out, d.scale), 1));
    case "linear": {
      if (d.in === d.out) return build(d.out, (o, push) => push(o, 1));
      const scale = d.alignCorners
        ? (d.out > 1 ? r((d.in - 1) / (d.out - 1)) : 0)
        : d.scale > 0
        ? r(1 / d.scale)
        : r(d.in / d.out);
      return build(d.out, (o, push) => {
        const src = d.alignCorners ? r(scale * o) : Math.max(r(r(scale * r(o + 0.5)) - 0.5), 0);
        const i0 = Math.floor(src);
        const i1 = i0 + (i0 < d.in - 1 ? 1 : 0);
        const l1 = Math.min(Math.max(r(src - i0), 0), 1);
        push(i0, r(1 - l1));
        push(i1, l1);
      });
    }
    case "adaptiveAvg":
      return build(d.out, (o, push) => {
        const s = Math.floor((o * d.in) / d.out), e = Math.ceil(((o + 1) * d.in) / d.out);
        const wt = r(1 / (e - s));
        for (let i = s; i < e; i++) push(i, wt);
      });
    case "avg":
      return build(d.out, (o, push) => {
        let s = o * d.stride - d.padding;
        let e = Math.min(s + d.kernel, d.in + d.padding);
        const poolSize = e - s;
        s = Math.max(s, 0);
        e = Math.min(e, d.in);
        if (s >= e) return;
        const wt = r(1 / (d.countIncludePad ? poolSize : e - s));
        for (let i = s; i < e; i++) push(i, wt);
      });
  }
}

/** The transpose of a CSR matrix with `cols` columns (entries kept in ascending row order). */
export function transposeCsr(m: Csr, cols: number): Csr {
  const rows = m.ptr.length - 1;
  const ptr = new Int32Array(cols + 1);
  for (let k = 0; k < m.idx.length; k++) ptr[m.idx[k]! + 1]!++;
  for (let c = 0; c < cols; c++) ptr[c + 1] = ptr[c + 1]! + ptr[c]!;
  const fillAt = ptr.slice(0, cols);
  const idx = new Int32Array(m.idx.length), w = new Float64Array(m.idx.length);
  for (let r = 0; r < rows; r++) {
    for (let k = m.ptr[r]!; k < m.ptr[r + 1]!; k++) {
      const c = m.idx[k]!, at = fillAt[c]!++;
      idx[at] = r;
      w[at] = m.w[k]!;
    }
  }
  return { ptr, idx, w };
}

const tableCache = new Map<string, Csr>();

/**
 * The table of one axis: rows are output positions (`transpose`: input positions), entries
 * the contributing source positions and weights. Weights are computed in float32 arithmetic
 * for float32 tensors (as PyTorch does) and in float64 otherwise. Cached.
 */
export function resampleTable(d: Resample1d, transpose: boolean, f32: boolean): Csr {
  const key = `${JSON.stringify(d)}|${transpose}|${f32}`;
  let t = tableCache.get(key);
  if (!t) {
    t = forward(d, f32);
    if (transpose) t = transposeCsr(t, d.in);
    if (tableCache.size > 512) tableCache.clear();
    tableCache.set(key, t);
  }
  return t;
}

/** The largest float32 not above `t` (so `f32 > result` ⇔ `f32 > t` for float32 values). */
export function f32Below(t: number): number {
  const f = Math.fround(t);
  if (f <= t) return f;
  // Step one ulp towards -∞.
  const buf = new Float32Array([f]);
  const u = new Int32Array(buf.buffer);
  if (f > 0) u[0]!--;
  else if (f < 0) u[0]!++;
  else return -1.401298464324817e-45;
  return buf[0]!;
}

/** Conv geometry shared by the CPU and WebGPU conv kernels (NCHW input, OIHW weight). */
export interface ConvGeometry {
  /** Batch, input channels, input height/width. */
  n: number;
  /** Input channels. */
  c: number;
  /** Input height. */
  h: number;
  /** Input width. */
  w: number;
  /** Output channels. */
  o: number;
  /** Output height. */
  oh: number;
  /** Output width. */
  ow: number;
  /** Kernel height. */
  kh: number;
  /** Kernel width. */
  kw: number;
  /** Groups. */
  g: number;
  /** Input channels per group. */
  cg: number;
  /** Output channels per group. */
  og: number;
  /** cg·kh·kw (the im2col row length). */
  k: number;
  /** oh·ow (output pixels per image). */
  p: number;
  /** Stride (height). */
  sh: number;
  /** Stride (width). */
  sw: number;
  /** Padding (height). */
  ph: number;
  /** Padding (width). */
  pw: number;
  /** Dilation (height). */
  dh: number;
  /** Dilation (width). */
  dw: number;
}

/** Geometry of a conv from the input and output shapes, kernel size and params. */
export function convGeometry(
  xs: readonly number[],
  ys: readonly number[],
  kh: number,
  kw: number,
  p: Conv2dParams,
): ConvGeometry {
  const [n, c, h, w] = xs as [number, number, number, number];
  const [, o, oh, ow] = ys as [number, number, number, number];
  const g = p.groups, cg = c / g;
  return {
    n,
    c,
    h,
    w,
    o,
    oh,
    ow,
    kh,
    kw,
    g,
    cg,
    og: o / g,
    k: cg * kh * kw,
    p: oh * ow,
    sh: p.stride[0],
    sw: p.stride[1],
    ph: p.padding[0],
    pw: p.padding[1],
    dh: p.dilation[0],
    dw: p.dilation[1],
  };
}
