/**
 * Stride-1 convolutions on the native BLAS without im2col: one GEMM per kernel tap over a
 * zero-padded copy of the input, accumulated in place (`beta = 1`).
 *
 * With the input padded to `Hp × Wp` (Hp = OH + (kh−1)·dh, Wp = OW + (kw−1)·dw), output pixel
 * `(oy, ox)` of tap `(ky, kx)` reads padded pixel `oy·Wp + ox + ky·dh·Wp + kx·dw`: the tap's
 * operand is the padded image itself shifted by a constant, a `[C, OH·Wp]` matrix with row
 * stride `Hp·Wp`. So `out (O × OH·Wp) = Σ_tap W_tap (O × C) · shifted_tap (C × OH·Wp)`, and the
 * `(kw−1)·dw` extra columns per row (reads that wrap into the next row) are dropped when the
 * result is cropped into NCHW. This replaces the im2col copy (kh·kw times the input) by one
 * padded copy, which is where the JavaScript time of a 3×3 convolution went.
 *
 * - forward: per image, taps accumulate into an `[O, OH·Wp]` scratch, then crop;
 * - input adjoint (convTranspose2d with stride 1): the same with the weight transposed and the
 *   taps flipped, over the output gradient padded by `(k−1)·d − p`;
 * - weight adjoint: `dW_tap (O × C) = dy_p (O × N·Hp·Wp) · shifted_tap (C × N·Hp·Wp)ᵀ` with
 *   both laid out channel-major `[ch, N, Hp, Wp]` (dy zero outside its OH × OW corner), so
 *   the batch sum is the GEMM's inner dimension; images are chunked to bound memory and the
 *   chunks accumulate with `beta = 1`.
 *
 * Only taken when the BLAS is active, groups = 1, stride 1, the sizes are exact and both
 * channel counts are ≥ {@link MIN_CHANNELS} (small C makes each tap's GEMM too thin); the
 * im2col kernels in `vision_conv.ts` cover everything else.
 * @module
 */
import type { DType, TypedArray } from "../dtype.ts";
import type { ConvGeometry } from "../vision_params.ts";
import { allocArray, recycle } from "./buffers.ts";
import { blasActive, blasGemmInto } from "./blas.ts";
import { TesseraError } from "../errors.ts";

/** Channels (input and output) below which the im2col path is used instead. */
const MIN_CHANNELS = 16;
/** Element budget of the weight adjoint's padded copies per chunk of images. */
const PAD_BUDGET = 1 << 23;

/** Whether the stride-1 tap-GEMM path applies to `q` (in conv2d terms) for `dtype`. */
export function stride1Applies(q: ConvGeometry, dtype: DType, transposed = false): boolean {
  if (!blasActive() || (dtype !== "float32" && dtype !== "float64")) return false;
  if (q.g !== 1 || q.sh !== 1 || q.sw !== 1 || q.kh * q.kw === 1) return false;
  if (Math.min(q.c, q.o) < MIN_CHANNELS || q.n === 0 || q.p === 0) return false;
  if (q.oh !== q.h + 2 * q.ph - (q.kh - 1) * q.dh) return false;
  if (q.ow !== q.w + 2 * q.pw - (q.kw - 1) * q.dw) return false;
  return !transposed || ((q.kh - 1) * q.dh >= q.ph && (q.kw - 1) * q.dw >= q.pw);
}

/**
 * Copies `count` planes of `h × w` from `src` (plane `i` at `i·h·w`) into zero-padded planes
 * of `hp × wp` in `dst` at `at(i)`, placed at row `top`, column `left`.
 */
function padPlanes(
  src: TypedArray,
  srcAt: number,
  count: number,
  h: number,
  w: number,
  dst: TypedArray,
  at: (i: number) => number,
  top: number,
  left: number,
  wp: number,
): void {
  for (let i = 0; i < count; i++) {
    const s0 = srcAt + i * h * w, d0 = at(i) + top * wp + left;
    for (let y = 0; y < h; y++) {
      const s = s0 + y * w, d = d0 + y * wp;
      for (let x = 0; x < w; x++) dst[d + x] = src[s + x]!;
    }
  }
}

/** The conv weight `[O, C, kh, kw]` as `[tap, O, C]` (or `[tap, C, O]` when `transpose`). */
function tapMajor(w: TypedArray, o: number, c: number, taps: number, transpose: boolean) {
  const wt = allocArray(w instanceof Float64Array ? "float64" : "float32", taps * o * c, false);
  for (let oc = 0; oc < o; oc++) {
    for (let ci = 0; ci < c; ci++) {
      const src = (oc * c + ci) * taps;
      const dst = transpose ? ci * o + oc : oc * c + ci;
      for (let t = 0; t < taps; t++) wt[t * o * c + dst] = w[src + t]!;
    }
  }
  return wt;
}

function must(ok: boolean): void {
  if (!ok) throw new TesseraError("conv2d", "the native BLAS refused a stride-1 tap GEMM");
}

/**
 * Per image: pads `src` (`[N, cin, inH, inW]`) by (`top`, `left`) into `Hp × Wp`, accumulates
 * `Σ_tap wt[tapIndex(tap)] (cout × cin) · shifted_tap` and crops the `[cout, outH, outW]` image.
 */
function tapConv(
  src: TypedArray,
  dtype: DType,
  q: ConvGeometry,
  dims: { n: number; cin: number; cout: number; inH: number; inW: number; outH: number },
  wt: TypedArray,
  top: number,
  left: number,
  flip: boolean,
): TypedArray {
  const { n, cin, cout, inH, inW, outH } = dims;
  const wp = inW + 2 * left, hp = inH + 2 * top, plane = hp * wp;
  const outW = wp - (q.kw - 1) * q.dw, cols = outH * wp;
  const xp = allocArray(dtype, cin * plane + (q.kw - 1) * q.dw); // zero tail: wrapped reads
  const acc = allocArray(dtype, cout * cols, false);
  const y = allocArray(dtype, n * cout * outH * outW, false);
  for (let img = 0; img < n; img++) {
    padPlanes(src, img * cin * inH * inW, cin, inH, inW, xp, (i) => i * plane, top, left, wp);
    for (let ky = 0, t = 0; ky < q.kh; ky++) {
      for (let kx = 0; kx < q.kw; kx++, t++) {
        const ty = flip ? q.kh - 1 - ky : ky, tx = flip ? q.kw - 1 - kx : kx;
        const off = ty * q.dh * wp + tx * q.dw;
        must(blasGemmInto(
          wt,
          t * cout * cin,
          false,
          cin,
          xp,
          off,
          false,
          plane,
          acc,
          0,
          cols,
          cout,
          cols,
          cin,
          t === 0 ? 0 : 1,
        ));
      }
    }
    for (let oc = 0; oc < cout; oc++) {
      for (let oy = 0; oy < outH; oy++) {
        const s = oc * cols + oy * wp, d = ((img * cout + oc) * outH + oy) * outW;
        for (let ox = 0; ox < outW; ox++) y[d + ox] = acc[s + ox]!;
      }
    }
  }
  recycle(xp);
  recycle(acc);
  return y;
}

/** conv2d `[N, C, H, W] → [N, O, OH, OW]` with stride 1 (see the module comment). */
export function conv2dStride1(x: TypedArray, w: TypedArray, q: ConvGeometry, dtype: DType) {
  const wt = tapMajor(w, q.o, q.c, q.kh * q.kw, false);
  const dims = { n: q.n, cin: q.c, cout: q.o, inH: q.h, inW: q.w, outH: q.oh };
  const y = tapConv(x, dtype, q, dims, wt, q.ph, q.pw, false);
  recycle(wt);
  return y;
}

/** convTranspose2d `[N, O, OH, OW] → [N, C, H, W]` with stride 1: conv2d's input adjoint. */
export function convTranspose2dStride1(
  dy: TypedArray,
  w: TypedArray,
  q: ConvGeometry,
  dtype: DType,
): TypedArray {
  const wt = tapMajor(w, q.o, q.c, q.kh * q.kw, true);
  const top = (q.kh - 1) * q.dh - q.ph, left = (q.kw - 1) * q.dw - q.pw;
  const dims = { n: q.n, cin: q.o, cout: q.c, inH: q.oh, inW: q.ow, outH: q.h };
  const dx = tapConv(dy, dtype, q, dims, wt, top, left, true);
  recycle(wt);
  return dx;
}

/**
 * conv2dWeightGrad with stride 1: `dW [O, C, kh, kw]` from x `[N, C, H, W]`, dy `[N, O, OH, OW]`,
 * in chunks of images whose padded copies fit `budget` elements.
 */
export function conv2dWeightGradStride1(
  x: TypedArray,
  dy: TypedArray,
  q: ConvGeometry,
  dtype: DType,
  budget = PAD_BUDGET,
): TypedArray {
  const hp = q.h + 2 * q.ph, wp = q.w + 2 * q.pw, plane = hp * wp, taps = q.kh * q.kw;
  const tail = (q.kh - 1) * q.dh * wp + (q.kw - 1) * q.dw;
  const step = Math.max(1, Math.floor(budget / ((q.c + q.o) * plane)));
  const acc = allocArray(dtype, taps * q.o * q.c, false);
  for (let n0 = 0; n0 < q.n; n0 += step) {
    const nb = Math.min(step, q.n - n0), kk = nb * plane;
    const xp = allocArray(dtype, q.c * kk + tail), dyp = allocArray(dtype, q.o * kk);
    // Channel-major [ch, nb, Hp, Wp]: plane i = (image, channel) goes to channel·kk + image·plane.
    const cm = (ch: number) => (i: number) => (i % ch) * kk + Math.floor(i / ch) * plane;
    padPlanes(x, n0 * q.c * q.h * q.w, nb * q.c, q.h, q.w, xp, cm(q.c), q.ph, q.pw, wp);
    padPlanes(dy, n0 * q.o * q.p, nb * q.o, q.oh, q.ow, dyp, cm(q.o), 0, 0, wp);
    for (let ky = 0, t = 0; ky < q.kh; ky++) {
      for (let kx = 0; kx < q.kw; kx++, t++) {
        const off = ky * q.dh * wp + kx * q.dw;
        must(blasGemmInto(
          dyp,
          0,
          false,
          kk,
          xp,
          off,
          true,
          kk,
          acc,
          t * q.o * q.c,
          q.c,
          q.o,
          q.c,
          kk,
          n0 === 0 ? 0 : 1,
        ));
      }
    }
    recycle(xp);
    recycle(dyp);
  }
  const dw = allocArray(dtype, q.o * q.c * taps, false);
  for (let t = 0; t < taps; t++) {
    for (let oc = 0; oc < q.o; oc++) {
      for (let ci = 0; ci < q.c; ci++) {
        dw[(oc * q.c + ci) * taps + t] = acc[(t * q.o + oc) * q.c + ci]!;
      }
    }
  }
  recycle(acc);
  return dw;
}
