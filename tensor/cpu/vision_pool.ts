/**
 * CPU pooling and resampling: `maxPool2d` / `maxPool2dArgmax` (PyTorch's window scan: the
 * first maximum wins, a NaN always replaces the running maximum) and `resample2d`, the
 * separable sparse map behind average/adaptive pooling and interpolation (applied along W
 * into a temporary, then along H — PyTorch's bilinear order).
 * @module
 */
import type { Kernel } from "../backend.ts";
import { arrayFor, type TypedArray } from "../dtype.ts";
import type { MaxPool2dParams } from "../vision_params.ts";
import { resampleTable } from "../vision_params.ts";
import { alloc, input, wrap } from "./iter.ts";

function maxPool(
  x: TypedArray,
  xs: readonly number[],
  os: readonly number[],
  p: MaxPool2dParams,
  vals: TypedArray | null,
  idx: Int32Array | null,
): void {
  const [n, c, h, w] = xs as [number, number, number, number];
  const [, , oh, ow] = os as [number, number, number, number];
  const [kh, kw] = p.kernel, [sh, sw] = p.stride, [ph, pw] = p.padding, [dh, dw] = p.dilation;
  let o = 0;
  for (let plane = 0; plane < n * c; plane++) {
    const base = plane * h * w;
    for (let oy = 0; oy < oh; oy++) {
      let y0 = oy * sh - ph;
      const y1 = Math.min(y0 + (kh - 1) * dh + 1, h);
      while (y0 < 0) y0 += dh;
      for (let ox = 0; ox < ow; ox++, o++) {
        let x0 = ox * sw - pw;
        const x1 = Math.min(x0 + (kw - 1) * dw + 1, w);
        while (x0 < 0) x0 += dw;
        let best = -Infinity, at = y0 * w + x0;
        for (let y = y0; y < y1; y += dh) {
          for (let xx = x0; xx < x1; xx += dw) {
            const v = x[base + y * w + xx]!;
            if (v > best || Number.isNaN(v)) {
              best = v;
              at = y * w + xx;
            }
          }
        }
        if (vals) vals[o] = best;
        if (idx) idx[o] = at;
      }
    }
  }
}

/** `maxPool2d`: window maxima. */
export const maxPool2dKernel: Kernel<"maxPool2d"> = (inputs, params, out) => {
  const y = alloc(out);
  maxPool(input(inputs, 0), inputs[0]!.shape, out.shape, params, y, null);
  return wrap(y);
};

/** `maxPool2dArgmax`: flat `y·W + x` position of each window's maximum. */
export const maxPool2dArgmaxKernel: Kernel<"maxPool2dArgmax"> = (inputs, params, out) => {
  const y = alloc(out) as Int32Array;
  maxPool(input(inputs, 0), inputs[0]!.shape, out.shape, params, null, y);
  return wrap(y);
};

/** `resample2d`: along W with the W table, then along H with the H table. */
export const resample2dKernel: Kernel<"resample2d"> = (inputs, params, out) => {
  const x = input(inputs, 0);
  const [n, c, h, w] = inputs[0]!.shape as [number, number, number, number];
  const [, , oh, ow] = out.shape as [number, number, number, number];
  const f32 = out.dtype === "float32";
  const th = resampleTable(params.h, params.transpose, f32);
  const tw = resampleTable(params.w, params.transpose, f32);
  const y = alloc(out);
  if (y.length === 0) return wrap(y);
  const tmp = arrayFor(out.dtype, h * ow);
  for (let plane = 0; plane < n * c; plane++) {
    const xb = plane * h * w, yb = plane * oh * ow;
    for (let r = 0; r < h; r++) {
      const row = xb + r * w;
      for (let j = 0; j < ow; j++) {
        let s = 0;
        for (let e = tw.ptr[j]!; e < tw.ptr[j + 1]!; e++) s += tw.w[e]! * x[row + tw.idx[e]!]!;
        tmp[r * ow + j] = s;
      }
    }
    for (let i = 0; i < oh; i++) {
      const e0 = th.ptr[i]!, e1 = th.ptr[i + 1]!;
      for (let j = 0; j < ow; j++) {
        let s = 0;
        for (let e = e0; e < e1; e++) s += th.w[e]! * tmp[th.idx[e]! * ow + j]!;
        y[yb + i * ow + j] = s;
      }
    }
  }
  return wrap(y);
};
