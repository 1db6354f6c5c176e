/**
 * CPU convolutions: `conv2d`, `convTranspose2d` (conv2d's input adjoint) and
 * `conv2dWeightGrad` (its weight adjoint), all as im2col/col2im around a GEMM.
 *
 * - conv2d: per image and group, `out[g] (Og×P) = W[g] (Og×K) · cols (K×P)` with
 *   `K = C/groups·kh·kw` and `P = OH·OW`.
 * - convTranspose2d: `cols (K×HW) = W[g]ᵀ · x[g]`, then col2im adds every column back into
 *   the output image (sequential, so deterministic).
 * - conv2dWeightGrad: cols are laid out `[G, K, N·P]` and dy permuted to `[G, Og, N·P]`, so
 *   the batch sum is the GEMM's inner dimension: `dW[g] = dy[g] · cols[g]ᵀ`.
 *
 * The GEMMs take the matmul fast paths (`gemm.ts`: native BLAS for float32 and float64 when
 * active, else the threaded WebAssembly SIMD GEMM for float32) with strided operands, which
 * map onto BLAS transpose flags without copies; otherwise the plain loops below run. Images
 * are processed in chunks so the column buffer stays ≤ 32 MiB. Stride-1 convolutions on the
 * native BLAS skip im2col altogether (`vision_conv_s1.ts`: one GEMM per kernel tap).
 * @module
 */
import type { Kernel, Storage } from "../backend.ts";
import type { DType, TypedArray } from "../dtype.ts";
import { type ConvGeometry, convGeometry } from "../vision_params.ts";
import { allocArray, recycle } from "./buffers.ts";
import { alloc, input, wrap } from "./iter.ts";
import { fastGemm } from "./gemm.ts";
import type { GemmProblem } from "./wasm/gemm.ts";
import {
  conv2dStride1,
  conv2dWeightGradStride1,
  convTranspose2dStride1,
  stride1Applies,
} from "./vision_conv_s1.ts";

/** Column-buffer budget in elements per chunk. */
const COLS_BUDGET = 1 << 23;

/** Geometry of one convolution, in conv2d terms (x = conv input, y = conv output). */
type Geo = ConvGeometry;
const geo = convGeometry;

/** Range of output positions `o` whose tap `o·s − pad + t` lies in `[0, size)`. */
function validRange(
  size: number,
  out: number,
  s: number,
  pad: number,
  t: number,
): [number, number] {
  const lo = Math.max(0, Math.ceil((pad - t) / s));
  const hi = Math.min(out, Math.floor((size - 1 + pad - t) / s) + 1);
  return [lo, Math.max(lo, hi)];
}

/**
 * Calls `tap` once per kernel tap of image `n`, group `gi`, in column-row order `kk`
 * (= (ci·kh+ky)·kw+kx), with the offset of its input-channel plane, its tap offsets `ty`/`tx`
 * and the output ranges `[y0, y1)`/`[x0, x1)` whose taps land inside the image.
 */
function forEachTap(
  q: Geo,
  n: number,
  gi: number,
  tap: (
    kk: number,
    plane: number,
    ty: number,
    tx: number,
    y0: number,
    y1: number,
    x0: number,
    x1: number,
  ) => void,
): void {
  const hw = q.h * q.w;
  let kk = 0;
  for (let ci = 0; ci < q.cg; ci++) {
    const plane = (n * q.c + gi * q.cg + ci) * hw;
    for (let ky = 0; ky < q.kh; ky++) {
      const ty = ky * q.dh;
      const [y0, y1] = validRange(q.h, q.oh, q.sh, q.ph, ty);
      for (let kx = 0; kx < q.kw; kx++, kk++) {
        const tx = kx * q.dw;
        const [x0, x1] = validRange(q.w, q.ow, q.sw, q.pw, tx);
        tap(kk, plane, ty, tx, y0, y1, x0, x1);
      }
    }
  }
}

/**
 * Writes the columns of image `n`, group `gi` of `x` into `dst`: row `kk` (= (ci·kh+ky)·kw+kx)
 * starts at `base + kk·rowStride` and holds P values (0 where the tap is in the padding).
 * Every element of those rows is written, so `dst` need not be zero-filled.
 */
function im2col(
  x: TypedArray,
  q: Geo,
  n: number,
  gi: number,
  dst: TypedArray,
  base: number,
  rowStride: number,
): void {
  const ow = q.ow, sw = q.sw;
  forEachTap(q, n, gi, (kk, plane, ty, tx, y0, y1, x0, x1) => {
    const row = base + kk * rowStride;
    dst.fill(0, row, row + y0 * ow);
    dst.fill(0, row + y1 * ow, row + q.oh * ow);
    for (let oy = y0; oy < y1; oy++) {
      const src = plane + (oy * q.sh - q.ph + ty) * q.w - q.pw + tx;
      const d = row + oy * ow;
      for (let ox = 0; ox < x0; ox++) dst[d + ox] = 0;
      if (sw === 1) {
        for (let ox = x0; ox < x1; ox++) dst[d + ox] = x[src + ox]!;
      } else {
        for (let ox = x0; ox < x1; ox++) dst[d + ox] = x[src + ox * sw]!;
      }
      for (let ox = x1; ox < ow; ox++) dst[d + ox] = 0;
    }
  });
}

/** Adds columns (`base + kk·P`, P = OH·OW of the conv) back into image `n`, group `gi`. */
function col2im(
  cols: TypedArray,
  base: number,
  q: Geo,
  n: number,
  gi: number,
  dst: TypedArray,
): void {
  forEachTap(q, n, gi, (kk, plane, ty, tx, y0, y1, x0, x1) => {
    const row = base + kk * q.p;
    for (let oy = y0; oy < y1; oy++) {
      const d = plane + (oy * q.sh - q.ph + ty) * q.w - q.pw + tx;
      const s = row + oy * q.ow;
      for (let ox = x0; ox < x1; ox++) {
        const at = d + ox * q.sw;
        dst[at] = dst[at]! + cols[s + ox]!;
      }
    }
  });
}

/** One GEMM `C[m×n] = A·B` with element strides and batch offsets (fast path or loops). */
function gemm(
  dtype: DType,
  a: TypedArray,
  b: TypedArray,
  cSize: number,
  prob: GemmProblem,
): TypedArray {
  const r = fastGemm(a, b, cSize, prob);
  if (r) return r;
  const c = allocArray(dtype, cSize);
  const { m, n, k, rsa, csa, rsb, csb } = prob;
  const acc = new Float64Array(n);
  for (let e = 0; e < prob.offsets.length; e += 3) {
    const ao = prob.offsets[e]!, bo = prob.offsets[e + 1]!, co = prob.offsets[e + 2]!;
    for (let i = 0; i < m; i++) {
      acc.fill(0);
      if (csb === 1) {
        for (let t = 0; t < k; t++) {
          const av = a[ao + i * rsa + t * csa]!;
          if (av === 0) continue;
          const brow = bo + t * rsb;
          for (let j = 0; j < n; j++) acc[j] = acc[j]! + av * b[brow + j]!;
        }
      } else {
        for (let j = 0; j < n; j++) {
          let s = 0;
          const bcol = bo + j * csb;
          for (let t = 0; t < k; t++) s += a[ao + i * rsa + t * csa]! * b[bcol + t * rsb]!;
          acc[j] = s;
        }
      }
      c.set(acc, co + i * n);
    }
  }
  return c;
}

function chunkImages(perImage: number): number {
  return Math.max(1, Math.floor(COLS_BUDGET / Math.max(1, perImage)));
}

/** `conv2d(x, w)`: im2col per image and group, then one GEMM per (image, group). */
export const conv2dKernel: Kernel<"conv2d"> = (inputs, params, out): Storage => {
  const xo = inputs[0]!, wo = inputs[1]!;
  const x = input(inputs, 0), w = input(inputs, 1);
  const q = geo(xo.shape, out.shape, wo.shape[2]!, wo.shape[3]!, params);
  const total = q.n * q.o * q.p;
  if (total === 0) return wrap(alloc(out));
  if (stride1Applies(q, out.dtype)) return wrap(conv2dStride1(x, w, q, out.dtype));
  const direct = q.kh === 1 && q.kw === 1 && q.sh === 1 && q.sw === 1 && q.ph === 0 &&
    q.pw === 0;
  const per = q.g * q.k * q.p;
  const step = chunkImages(per);
  let y: TypedArray | null = null;
  for (let n0 = 0; n0 < q.n; n0 += step) {
    const nb = Math.min(step, q.n - n0);
    let cols: TypedArray;
    let colsAt: (nn: number, gi: number) => number;
    if (direct) {
      // 1×1, stride 1, no padding: the columns are the image itself.
      cols = x.subarray(n0 * q.c * q.p, (n0 + nb) * q.c * q.p);
      colsAt = (nn, gi) => (nn * q.c + gi * q.cg) * q.p;
    } else {
      cols = allocArray(out.dtype, nb * per, false);
      for (let nn = 0; nn < nb; nn++) {
        for (let gi = 0; gi < q.g; gi++) {
          im2col(x, q, n0 + nn, gi, cols, ((nn * q.g + gi) * q.k) * q.p, q.p);
        }
      }
      colsAt = (nn, gi) => ((nn * q.g + gi) * q.k) * q.p;
    }
    const offsets = new Int32Array(3 * nb * q.g);
    for (let nn = 0, e = 0; nn < nb; nn++) {
      for (let gi = 0; gi < q.g; gi++, e += 3) {
        offsets[e] = gi * q.og * q.k;
        offsets[e + 1] = colsAt(nn, gi);
        offsets[e + 2] = (nn * q.o + gi * q.og) * q.p;
      }
    }
    const c = gemm(out.dtype, w, cols, nb * q.o * q.p, {
      m: q.og,
      n: q.p,
      k: q.k,
      rsa: q.k,
      csa: 1,
      rsb: q.p,
      csb: 1,
      offsets,
    });
    if (!direct) recycle(cols);
    if (nb === q.n) return wrap(c); // one chunk: the GEMM's result is the output
    y ??= alloc(out);
    y.set(c, n0 * q.o * q.p);
    recycle(c);
  }
  return wrap(y!);
};

/**
 * `convTranspose2d(x, w)`: the input adjoint of the conv2d that maps the output back to x.
 * `cols = W[g]ᵀ · x[g]` per image and group, then col2im.
 */
export const convTranspose2dKernel: Kernel<"convTranspose2d"> = (inputs, params, out) => {
  const xo = inputs[0]!, wo = inputs[1]!;
  const x = input(inputs, 0), w = input(inputs, 1);
  // In conv2d terms the conv input is our output and the conv output is our input.
  const q = geo(out.shape, xo.shape, wo.shape[2]!, wo.shape[3]!, params);
  if (stride1Applies(q, out.dtype, true)) {
    return wrap(convTranspose2dStride1(x, w, q, out.dtype));
  }
  const y = alloc(out);
  if (y.length === 0 || q.p === 0) return wrap(y);
  const per = q.g * q.k * q.p;
  const step = chunkImages(per);
  for (let n0 = 0; n0 < q.n; n0 += step) {
    const nb = Math.min(step, q.n - n0);
    const xs = x.subarray(n0 * q.o * q.p, (n0 + nb) * q.o * q.p);
    const offsets = new Int32Array(3 * nb * q.g);
    for (let nn = 0, e = 0; nn < nb; nn++) {
      for (let gi = 0; gi < q.g; gi++, e += 3) {
        offsets[e] = gi * q.og * q.k;
        offsets[e + 1] = (nn * q.o + gi * q.og) * q.p;
        offsets[e + 2] = ((nn * q.g + gi) * q.k) * q.p;
      }
    }
    const cols = gemm(out.dtype, w, xs, nb * per, {
      m: q.k,
      n: q.p,
      k: q.og,
      rsa: 1,
      csa: q.k,
      rsb: q.p,
      csb: 1,
      offsets,
    });
    for (let nn = 0; nn < nb; nn++) {
      for (let gi = 0; gi < q.g; gi++) {
        col2im(cols, ((nn * q.g + gi) * q.k) * q.p, q, n0 + nn, gi, y);
      }
    }
    recycle(cols);
  }
  return wrap(y);
};

/** `conv2dWeightGrad(x, dy)`: `dW[g] = Σ_n dy[n,g] · cols[n,g]ᵀ` as one GEMM per group. */
export const conv2dWeightGradKernel: Kernel<"conv2dWeightGrad"> = (inputs, params, out) => {
  const xo = inputs[0]!, dyo = inputs[1]!;
  const x = input(inputs, 0), dy = input(inputs, 1);
  const q = geo(xo.shape, dyo.shape, params.kernel[0], params.kernel[1], params);
  if (stride1Applies(q, out.dtype)) return wrap(conv2dWeightGradStride1(x, dy, q, out.dtype));
  const dw = alloc(out);
  if (dw.length === 0 || q.n === 0 || q.p === 0) return wrap(dw);
  const step = chunkImages(q.g * q.k * q.p);
  for (let n0 = 0; n0 < q.n; n0 += step) {
    const nb = Math.min(step, q.n - n0);
    const np = nb * q.p;
    const cols = allocArray(out.dtype, q.g * q.k * np, false);
    for (let nn = 0; nn < nb; nn++) {
      for (let gi = 0; gi < q.g; gi++) {
        im2col(x, q, n0 + nn, gi, cols, gi * q.k * np + nn * q.p, np);
      }
    }
    // dy chunk [nb, G, Og, P] → [G, Og, nb, P].
    const dyt = allocArray(out.dtype, q.o * np, false);
    for (let nn = 0; nn < nb; nn++) {
      for (let oc = 0; oc < q.o; oc++) {
        const src = ((n0 + nn) * q.o + oc) * q.p;
        dyt.set(dy.subarray(src, src + q.p), oc * np + nn * q.p);
      }
    }
    const offsets = new Int32Array(3 * q.g);
    for (let gi = 0; gi < q.g; gi++) {
      offsets[3 * gi] = gi * q.og * np;
      offsets[3 * gi + 1] = gi * q.k * np;
      offsets[3 * gi + 2] = gi * q.og * q.k;
    }
    const c = gemm(out.dtype, dyt, cols, dw.length, {
      m: q.og,
      n: q.k,
      k: np,
      rsa: np,
      csa: 1,
      rsb: 1,
      csb: np,
      offsets,
    });
    recycle(cols);
    recycle(dyt);
    if (n0 === 0) dw.set(c);
    else for (let i = 0; i < dw.length; i++) dw[i] = dw[i]! + c[i]!;
  }
  return wrap(dw);
};
