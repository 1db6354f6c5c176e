/**
 * Continuous distributions of `tessera.random`: uniform, normal, truncated normal and Gumbel
 * samples in float32 or float64. Re-exported by `tensor/random.ts`.
 *
 * @module
 */
import { TesseraError } from "./errors.ts";
import { bind } from "./dispatch.ts";
import { scope } from "./memory.ts";
import { checkShape, type Shape, sizeOf } from "./shape.ts";
import { Tensor } from "./tensor.ts";
import type { TensorLike } from "./ops/_util.ts";
import { bitwiseOr, shiftRightLogical } from "./ops/bitwise.ts";
import { add, bitcast, cast, clip, div, maximum, mul, sub } from "./ops/elementwise.ts";
import { erf, log, neg } from "./ops/unary.ts";
import { reshape } from "./ops/reshaping.ts";
import { slice } from "./ops/slicing.ts";
import { erfinv } from "./ops/special.ts";
import {
  asTensor,
  checkBroadcastsTo,
  checkFloatDType,
  checkKey,
  constant,
  type FloatDType,
  nextAfter,
} from "./_random_util.ts";

/** Options naming the output float dtype (default float32). */
export interface DTypeOptions {
  /** Output dtype (default `"float32"`). */
  dtype?: FloatDType;
}

/** Options of {@link uniform}. */
export interface UniformOptions extends DTypeOptions {
  /** Inclusive lower bound (default 0); a number or a tensor broadcastable to the shape. */
  minval?: TensorLike;
  /** Exclusive upper bound (default 1); a number or a tensor broadcastable to the shape. */
  maxval?: TensorLike;
}

// ---------------------------------------------------------------------------------------------
// Continuous distributions

/** Uniform floats in [0, 1) with all mantissa bits random (JAX's bit trick). */
function unitFloats(k: Tensor, shape: Shape, dtype: FloatDType): Tensor {
  if (dtype === "float32") {
    const b = bind("randomBits", [k], { shape: [...shape] });
    // 23 random mantissa bits under the exponent of 1.0: a float in [1, 2), minus 1.
    return sub(bitcast(bitwiseOr(shiftRightLogical(b, 9), 0x3f800000), "float32"), 1);
  }
  // float64: JAX draws 64-bit words as (first half, second half) of 2n 32-bit words and keeps
  // the top 52 bits: value = hi·2^-32 + (lo >>> 12)·2^-52, exact in float64.
  const n = sizeOf(shape);
  const b = bind("randomBits", [k], { shape: [2, n] });
  const hi = reshape(slice(b, [0]), shape);
  const lo = reshape(shiftRightLogical(slice(b, [1]), 12), shape);
  return add(mul(cast(hi, "float64"), 2 ** -32), mul(cast(lo, "float64"), 2 ** -52));
}

/**
 * Uniform samples in `[minval, maxval)`, JAX's `random.uniform`: random mantissa bits under
 * the exponent of 1.0 give a float in `[1, 2)`; subtract 1, scale by `maxval - minval`, add
 * `minval` and clamp below at `minval` (all in the output dtype). float32 uses 23 random bits
 * per value; float64 uses 52 bits from two 32-bit words, exactly as JAX does with x64 enabled.
 *
 * @param k a key
 * @param shape output shape (default scalar)
 * @param opts `minval`, `maxval` (numbers or tensors broadcastable to `shape`), `dtype`
 * @returns float tensor of `shape`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * const u = random.uniform(random.key(0), [1000], { minval: -2, maxval: 2 });
 * assert.equal(u.dtype, "float32");
 * assert.ok((await u.data()).every((v) => v >= -2 && v < 2)); // in [minval, maxval)
 * ```
 */
export function uniform(k: Tensor, shape: Shape = [], opts: UniformOptions = {}): Tensor {
  checkKey("uniform", k);
  checkShape("uniform", shape);
  const dtype = checkFloatDType("uniform", opts.dtype ?? "float32");
  const minval = opts.minval ?? 0, maxval = opts.maxval ?? 1;
  for (const [name, v] of [["minval", minval], ["maxval", maxval]] as const) {
    if (v instanceof Tensor) checkBroadcastsTo("uniform", name, v.shape, shape);
  }
  return scope(() => {
    const lo = asTensor("uniform", "minval", k, minval, dtype);
    const hi = asTensor("uniform", "maxval", k, maxval, dtype);
    const u = unitFloats(k, shape, dtype);
    return maximum(lo, add(mul(u, sub(hi, lo)), lo));
  });
}

/**
 * Standard normal samples, JAX's `random.normal`: `u` uniform in `(nextafter(-1, 0), 1)`,
 * then `√2 · erfinv(u)` (see {@link erfinv}).
 *
 * @param k a key
 * @param shape output shape (default scalar)
 * @param opts `dtype` (default float32)
 * @returns float tensor of `shape`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * // JAX: normal(split(PRNGKey(0))[1], (1,)) = [-1.2515389]
 * const [, sub] = random.splitKeys(random.key(0));
 * assert.ok(Math.abs(await random.normal(sub, [1]).item() - -1.2515389) < 1e-6);
 * ```
 */
export function normal(k: Tensor, shape: Shape = [], opts: DTypeOptions = {}): Tensor {
  checkKey("normal", k);
  checkShape("normal", shape);
  const dtype = checkFloatDType("normal", opts.dtype ?? "float32");
  return scope(() => {
    const u = uniform(k, shape, { minval: nextAfter(-1, true, dtype), maxval: 1, dtype });
    return mul(erfinv(u), Math.SQRT2);
  });
}

/**
 * Samples of a standard normal truncated to `(lower, upper)`, JAX's
 * `random.truncated_normal`: `u` uniform between `erf(lower/√2)` and `erf(upper/√2)`, then
 * `√2 · erfinv(u)`, clamped into the open interval. Bounds may be infinite.
 *
 * @param k a key
 * @param lower lower bound
 * @param upper upper bound (greater than `lower`)
 * @param shape output shape (default scalar)
 * @param opts `dtype` (default float32)
 * @returns float tensor of `shape` with values in `(lower, upper)`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * const w = random.truncatedNormal(random.key(3), -2, 2, [4, 4]);
 * assert.deepEqual(w.shape, [4, 4]);
 * assert.ok((await w.data()).every((v) => v > -2 && v < 2)); // strictly inside the bounds
 * ```
 */
export function truncatedNormal(
  k: Tensor,
  lower: number,
  upper: number,
  shape: Shape = [],
  opts: DTypeOptions = {},
): Tensor {
  checkKey("truncatedNormal", k);
  checkShape("truncatedNormal", shape);
  const dtype = checkFloatDType("truncatedNormal", opts.dtype ?? "float32");
  if (typeof lower !== "number" || typeof upper !== "number" || !(lower < upper)) {
    throw new TesseraError(
      "truncatedNormal",
      `needs numbers lower < upper, got ${String(lower)} and ${String(upper)}`,
    );
  }
  return scope(() => {
    const sqrt2 = constant(k, Math.SQRT2, dtype);
    const a = erf(div(constant(k, lower, dtype), sqrt2));
    const b = erf(div(constant(k, upper, dtype), sqrt2));
    const u = uniform(k, shape, { minval: a, maxval: b, dtype });
    const out = mul(sqrt2, erfinv(u));
    return clip(out, nextAfter(lower, true, dtype), nextAfter(upper, false, dtype));
  });
}

/**
 * Standard Gumbel samples, JAX's `random.gumbel` (mode "low"): `-log(-log(u))` with `u`
 * uniform in `[tiny, 1)` (`tiny` the smallest normal float of the dtype).
 *
 * @param k a key
 * @param shape output shape (default scalar)
 * @param opts `dtype` (default float32)
 * @returns float tensor of `shape`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * assert.deepEqual(random.gumbel(random.key(0), [5]).shape, [5]);
 * ```
 */
export function gumbel(k: Tensor, shape: Shape = [], opts: DTypeOptions = {}): Tensor {
  checkKey("gumbel", k);
  checkShape("gumbel", shape);
  const dtype = checkFloatDType("gumbel", opts.dtype ?? "float32");
  const tiny = dtype === "float32" ? 2 ** -126 : 2 ** -1022;
  return scope(() => neg(log(neg(log(uniform(k, shape, { minval: tiny, maxval: 1, dtype }))))));
}
