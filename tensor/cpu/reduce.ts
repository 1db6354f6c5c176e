/**
 * Reductions: `sum`/`max`/`min` over a set of axes (kept as size 1), `argmax`/`argmin` along
 * one axis, and inclusive `cumsum`.
 * @module
 */
import type { Kernel, Storage } from "../backend.ts";
import { arrayFor, isFloat, type TypedArray } from "../dtype.ts";
import { broadcastStrides, stridesOf } from "../shape.ts";
import { alloc, forEachRow, input, splitAxis, wrap } from "./iter.ts";

/**
 * One row of a reduction: folds `x[xo + j*xs]` into `acc[ao + j*as]` for `j < n`
 * (`as` is 0 along reduced axes).
 */
type FoldRow = (
  x: TypedArray,
  xo: number,
  xs: number,
  acc: TypedArray,
  ao: number,
  as: number,
  n: number,
) => void;

const sumFloat: FoldRow = (x, xo, xs, acc, ao, as, n) => {
  if (as === 0) {
    let s = acc[ao]!;
    for (let j = 0; j < n; j++, xo += xs) s += x[xo]!;
    acc[ao] = s;
  } else {
    for (let j = 0; j < n; j++, xo += xs, ao += as) acc[ao] = acc[ao]! + x[xo]!;
  }
};

const sumInt: FoldRow = (x, xo, xs, acc, ao, as, n) => {
  if (as === 0) {
    let s = acc[ao]!;
    for (let j = 0; j < n; j++, xo += xs) s = (s + x[xo]!) | 0;
    acc[ao] = s;
  } else {
    for (let j = 0; j < n; j++, xo += xs, ao += as) acc[ao] = (acc[ao]! + x[xo]!) | 0;
  }
};

const maxFold: FoldRow = (x, xo, xs, acc, ao, as, n) => {
  for (let j = 0; j < n; j++, xo += xs, ao += as) {
    const v = x[xo]!;
    if (v > acc[ao]! || v !== v) acc[ao] = v; // once NaN, nothing compares greater
  }
};

const minFold: FoldRow = (x, xo, xs, acc, ao, as, n) => {
  for (let j = 0; j < n; j++, xo += xs, ao += as) {
    const v = x[xo]!;
    if (v < acc[ao]! || v !== v) acc[ao] = v;
  }
};

/**
 * Kernel of `reduce` (`sum`, `max` or `min` over `params.axes`, keeping reduced axes as size
 * 1). Float sums accumulate in float64 (then round to float32); int sums wrap modulo 2^32;
 * max/min propagate NaN.
 */
export const reduceKernel: Kernel<"reduce"> = (inputs, params, out) => {
  const op = params.op;
  const xop = inputs[0]!;
  const x = input(inputs, 0);
  const o = alloc(out);
  const float = isFloat(out.dtype);
  let acc: TypedArray;
  let fold: FoldRow;
  if (op === "sum") {
    acc = float ? new Float64Array(o.length) : o;
    fold = float ? sumFloat : sumInt;
  } else {
    acc = new Float64Array(o.length).fill(op === "max" ? -Infinity : Infinity);
    fold = op === "max" ? maxFold : minFold;
  }
  const strides = [stridesOf(xop.shape), broadcastStrides(out.shape, xop.shape)];
  forEachRow(xop.shape, strides, [0, 0], (offs, n, inner) => {
    fold(x, offs[0]!, inner[0]!, acc, offs[1]!, inner[1]!, n);
  });
  if (acc !== o) o.set(acc);
  return wrap(o);
};

/**
 * Kernel of `argReduce` (`argmax` or `argmin` along `params.axis`): int32 index of the first
 * extreme element; a NaN counts as the extreme (the first NaN wins).
 */
export const argReduceKernel: Kernel<"argReduce"> = (inputs, params, out) => {
  const max = params.op === "argmax";
  const x = input(inputs, 0);
  const { outer, len, inner } = splitAxis(inputs[0]!.shape, params.axis);
  const o = alloc(out);
  const best = new Float64Array(inner);
  for (let p = 0; p < outer; p++) {
    const base = p * len * inner;
    for (let i = 0; i < inner; i++) best[i] = x[base + i]!;
    const ob = p * inner;
    for (let k = 1; k < len; k++) {
      const row = base + k * inner;
      for (let i = 0; i < inner; i++) {
        const v = x[row + i]!, b = best[i]!;
        const better = max ? v > b : v < b;
        if (better || (v !== v && b === b)) {
          best[i] = v;
          o[ob + i] = k;
        }
      }
    }
  }
  return wrap(o);
};

/**
 * Inclusive cumulative sum along `params.axis` (from the end when `reverse`). Floats carry the
 * running sum in float64; integers wrap modulo 2^32.
 */
export const cumsumKernel: Kernel<"cumsum"> = (inputs, params, out): Storage => {
  const x = input(inputs, 0);
  const { outer, len, inner } = splitAxis(inputs[0]!.shape, params.axis);
  const o = alloc(out);
  const float = isFloat(out.dtype);
  const acc = float ? new Float64Array(inner) : arrayFor(out.dtype, inner);
  for (let p = 0; p < outer; p++) {
    acc.fill(0);
    for (let s = 0; s < len; s++) {
      const k = params.reverse ? len - 1 - s : s;
      const row = (p * len + k) * inner;
      if (float) {
        for (let i = 0; i < inner; i++) o[row + i] = acc[i] = acc[i]! + x[row + i]!;
      } else {
        for (let i = 0; i < inner; i++) o[row + i] = acc[i] = (acc[i]! + x[row + i]!) | 0;
      }
    }
  }
  return wrap(o);
};
