/**
 * Internal helpers of the composite ops: `isFinite_` and an unvalidated `stopGradient`.
 * @module
 */
import { bind } from "../dispatch.ts";
import type { Tensor } from "../tensor.ts";
import { less } from "./comparison.ts";
import { abs } from "./unary.ts";

/** `|x| < inf` (false for NaN and ±inf). */
export function isFinite_(x: Tensor): Tensor {
  return less(abs(x), Infinity);
}

/** stopGradient without the public wrapper's validation. */
export function stopGradientOf(x: Tensor): Tensor {
  return bind("stopGradient", [x], {});
}
