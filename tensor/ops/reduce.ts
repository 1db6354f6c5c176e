/**
 * Reductions: sum, max, min, argmax, argmin, mean, variance, logsumexp, cumsum, and the
 * `sumToShape` adjoint of broadcasting.
 * @module
 */
import { isFloat } from "../dtype.ts";
import { fmtShape, fmtValue, TesseraError } from "../errors.ts";
import { bind } from "../dispatch.ts";
import { normAxes, normAxis, type Shape, sizeOf } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { composite, expectTensor } from "./_util.ts";
import { isFinite_, stopGradientOf } from "./_elementwise_internal.ts";
import { add, div, mul, sub, where } from "./elementwise.ts";
import { exp, log } from "./unary.ts";
import { reshape } from "./reshaping.ts";

/** Axes argument: one axis, several, or undefined for all. */
export type Axes = number | readonly number[] | undefined;

function dropAxes(shape: Shape, axes: readonly number[]): number[] {
  return shape.filter((_, i) => !axes.includes(i));
}

function valueReduce(op: "sum" | "max" | "min", x: Tensor, axis: Axes, keepdims: boolean): Tensor {
  expectTensor(op, x);
  const axes = normAxes(op, axis, x.ndim);
  if (axes.length === 0) return x;
  const y = bind("reduce", [x], { op, axes });
  return keepdims ? y : reshape(y, dropAxes(x.shape, axes));
}

/**
 * Sum over `axis` (one, several, or all when omitted).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sum, tensor } from "../../mod.ts";
 * const x = tensor([[1, 2], [3, 4]]);
 * assert.equal(await sum(x).item(), 10);
 * assert.deepEqual(await sum(x, 0).toArray(), [4, 6]);
 * ```
 */
export function sum(x: Tensor, axis?: Axes, keepdims = false): Tensor {
  return composite(() => {
    return valueReduce("sum", x, axis, keepdims);
  });
}

/**
 * Maximum over `axis`; NaN propagates. The gradient is shared equally among ties.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { max, tensor } from "../../mod.ts";
 * assert.deepEqual(await max(tensor([[1, 5], [3, 2]]), 1).toArray(), [5, 3]);
 * ```
 */
export function max(x: Tensor, axis?: Axes, keepdims = false): Tensor {
  return composite(() => {
    return valueReduce("max", x, axis, keepdims);
  });
}

/**
 * Minimum over `axis`; NaN propagates.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { min, tensor } from "../../mod.ts";
 * assert.deepEqual(await min(tensor([[1, 5], [3, 2]]), 1).toArray(), [1, 2]);
 * ```
 */
export function min(x: Tensor, axis?: Axes, keepdims = false): Tensor {
  return composite(() => {
    return valueReduce("min", x, axis, keepdims);
  });
}

function argReduce(
  op: "argmax" | "argmin",
  x: Tensor,
  axis: number | undefined,
  keepdims: boolean,
): Tensor {
  expectTensor(op, x);
  if (axis === undefined) {
    const flat = reshape(x, [x.size]);
    const y = bind("argReduce", [flat], { op, axis: 0 });
    return keepdims ? reshape(y, x.shape.map(() => 1)) : reshape(y, []);
  }
  const a = normAxis(op, axis, x.ndim);
  const y = bind("argReduce", [x], { op, axis: a });
  return keepdims ? y : reshape(y, dropAxes(x.shape, [a]));
}

/**
 * Index (int32) of the first maximum along `axis` (over the flattened tensor when omitted).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { argmax, tensor } from "../../mod.ts";
 * assert.deepEqual(await argmax(tensor([[1, 5], [3, 2]]), 1).toArray(), [1, 0]);
 * ```
 */
export function argmax(x: Tensor, axis?: number, keepdims = false): Tensor {
  return composite(() => {
    return argReduce("argmax", x, axis, keepdims);
  });
}

/**
 * Index (int32) of the first minimum along `axis` (over the flattened tensor when omitted).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { argmin, tensor } from "../../mod.ts";
 * assert.deepEqual(await argmin(tensor([[1, 5], [3, 2]]), 1).toArray(), [0, 1]);
 * ```
 */
export function argmin(x: Tensor, axis?: number, keepdims = false): Tensor {
  return composite(() => {
    return argReduce("argmin", x, axis, keepdims);
  });
}

function countOf(op: string, x: Tensor, axis: Axes): number {
  if (!isFloat(x.dtype)) throw new TesseraError(op, `needs a float input, got ${x.dtype}`);
  return sizeOf(normAxes(op, axis, x.ndim).map((a) => x.shape[a]!));
}

/** Number of results of reducing `x` over `axis` (0 when a kept axis is empty). */
function keptSize(op: string, x: Tensor, axis: Axes): number {
  return sizeOf(dropAxes(x.shape, normAxes(op, axis, x.ndim)));
}

/**
 * Arithmetic mean over `axis` (float dtypes). The mean of an empty axis is an error (it
 * would be 0/0 = NaN) unless the result is empty too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mean, tensor } from "../../mod.ts";
 * assert.equal(await mean(tensor([1, 2, 3, 4])).item(), 2.5);
 * ```
 */
export function mean(x: Tensor, axis?: Axes, keepdims = false): Tensor {
  return composite(() => {
    expectTensor("mean", x);
    const n = countOf("mean", x, axis);
    if (n === 0 && keptSize("mean", x, axis) > 0) {
      throw new TesseraError(
        "mean",
        `cannot take the mean of an empty axis of ${fmtShape(x.shape)}`,
      );
    }
    return div(sum(x, axis, keepdims), n);
  });
}

/**
 * Variance over `axis` with `correction` (0 = population, the default as in NumPy;
 * 1 = unbiased, PyTorch's default). Named `variance` because `var` is reserved in JS.
 * Fewer than `correction + 1` elements per variance is an error (PyTorch returns NaN).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { variance, tensor } from "../../mod.ts";
 * const x = tensor([1, 2, 3, 4, 5]); // squared deviations sum to 10
 * assert.equal(await variance(x).item(), 2); // 10 / 5
 * assert.equal(await variance(x, undefined, { correction: 1 }).item(), 2.5); // 10 / 4
 * ```
 */
export function variance(
  x: Tensor,
  axis?: Axes,
  opts: { keepdims?: boolean; correction?: number } = {},
): Tensor {
  opts ??= {};
  return composite(() => {
    expectTensor("variance", x);
    const n = countOf("variance", x, axis);
    const c = opts.correction ?? 0;
    if (typeof c !== "number" || Number.isNaN(c)) {
      throw new TesseraError("variance", `correction must be a number, got ${fmtValue(c)}`);
    }
    if (n - c <= 0 && keptSize("variance", x, axis) > 0) {
      throw new TesseraError(
        "variance",
        `correction ${c} needs more than ${c} elements per variance, got ${n} (${
          fmtShape(x.shape)
        })`,
      );
    }
    const d = sub(x, mean(x, axis, true));
    return div(sum(mul(d, d), axis, opts.keepdims ?? false), Math.max(0, n - c));
  });
}

/**
 * `log(sum(exp(x)))` over `axis`, computed stably by shifting by the maximum.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logsumexp, tensor } from "../../mod.ts";
 * assert.ok(Math.abs(await logsumexp(tensor([0, 0])).item() - Math.LN2) < 1e-6); // log(1 + 1)
 * ```
 */
export function logsumexp(x: Tensor, axis?: Axes, keepdims = false): Tensor {
  return composite(() => {
    expectTensor("logsumexp", x);
    countOf("logsumexp", x, axis);
    for (const a of normAxes("logsumexp", axis, x.ndim)) {
      if (x.shape[a] === 0) throw new TesseraError("logsumexp", `cannot reduce empty axis ${a}`);
    }
    const m = max(x, axis, true);
    const shift = stopGradientOf(where(isFinite_(m), m, 0));
    const s = log(sum(exp(sub(x, shift)), axis, true));
    const out = add(s, shift);
    return keepdims ? out : reshape(out, dropAxes(x.shape, normAxes("logsumexp", axis, x.ndim)));
  });
}

/**
 * Inclusive cumulative sum along `axis`; `reverse` accumulates from the end.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cumsum, tensor } from "../../mod.ts";
 * assert.deepEqual(await cumsum(tensor([1, 2, 3])).toArray(), [1, 3, 6]);
 * ```
 */
export function cumsum(x: Tensor, axis = -1, opts: { reverse?: boolean } = {}): Tensor {
  opts ??= {};
  expectTensor("cumsum", x);
  if (x.ndim === 0) throw new TesseraError("cumsum", "needs rank >= 1");
  return bind("cumsum", [x], {
    axis: normAxis("cumsum", axis, x.ndim),
    reverse: opts.reverse ?? false,
  });
}

/**
 * Sums `x` down to `shape` — the adjoint of broadcasting `shape` up to `x.shape`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ones, sumToShape } from "../../mod.ts";
 * assert.deepEqual(await sumToShape(ones([2, 3]), [1, 3]).toArray(), [[2, 2, 2]]);
 * ```
 */
export function sumToShape(x: Tensor, shape: Shape): Tensor {
  return composite(() => {
    expectTensor("sumToShape", x);
    if (!Array.isArray(shape)) {
      throw new TesseraError("sumToShape", `shape must be an array, got ${fmtValue(shape)}`);
    }
    if (shape.length === x.ndim && shape.every((d, i) => d === x.shape[i])) return x;
    const lead = x.ndim - shape.length;
    if (lead < 0) {
      throw new TesseraError("sumToShape", `cannot sum ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
    }
    const axes: number[] = [];
    for (let i = 0; i < x.ndim; i++) {
      if (i < lead) axes.push(i);
      else if (shape[i - lead] === 1 && x.shape[i] !== 1) axes.push(i);
      else if (shape[i - lead] !== x.shape[i]) {
        throw new TesseraError(
          "sumToShape",
          `cannot sum ${fmtShape(x.shape)} to ${fmtShape(shape)}`,
        );
      }
    }
    const y = axes.length ? bind("reduce", [x], { op: "sum", axes }) : x;
    return reshape(y, shape);
  });
}
