/**
 * Internal re-exports used by composite ops (avoids import cycles through mod files).
 * @module
 */
import { bind } from "../dispatch.ts";
import type { Tensor } from "../tensor.ts";
import { abs, less } from "./elementwise.ts";
export { add, div, exp, log, maximum, mul, neg, sub, where } from "./elementwise.ts";

/** `|x| < inf` (false for NaN and ±inf). */
export function isFinite_(x: Tensor): Tensor {
  return less(abs(x), Infinity);
}

/** stopGradient without the public wrapper's validation. */
export function stopGradientOf(x: Tensor): Tensor {
  return bind("stopGradient", [x], {});
}
