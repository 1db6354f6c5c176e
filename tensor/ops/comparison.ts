/**
 * Elementwise comparisons (`equal` … `greaterEqual`, NaN unordered) and logical ops on bool
 * tensors, with broadcasting; every result is bool. Re-exported by elementwise.ts.
 * @module
 */
import { bind } from "../dispatch.ts";
import type { Tensor } from "../tensor.ts";
import { composite, liftPair, type TensorLike } from "./_util.ts";

/**
 * Elementwise `a == b` (bool result).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { equal, tensor } from "../../mod.ts";
 * assert.deepEqual(await equal(tensor([1, 2]), 2).toArray(), [false, true]);
 * ```
 */
export function equal(a: TensorLike, b: TensorLike): Tensor {
  return composite(() => {
    return bind("compare", liftPair("equal", a, b), { op: "equal" });
  });
}

/**
 * Elementwise `a != b` (bool result).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { notEqual, tensor } from "../../mod.ts";
 * assert.deepEqual(await notEqual(tensor([1, 2]), 2).toArray(), [true, false]);
 * ```
 */
export function notEqual(a: TensorLike, b: TensorLike): Tensor {
  return composite(() => {
    return bind("compare", liftPair("notEqual", a, b), { op: "notEqual" });
  });
}

/**
 * Elementwise `a < b` (bool result).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { less, tensor } from "../../mod.ts";
 * assert.deepEqual(await less(tensor([1, 2]), 2).toArray(), [true, false]);
 * ```
 */
export function less(a: TensorLike, b: TensorLike): Tensor {
  return composite(() => {
    return bind("compare", liftPair("less", a, b), { op: "less" });
  });
}

/**
 * Elementwise `a <= b` (bool result).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lessEqual, tensor } from "../../mod.ts";
 * assert.deepEqual(await lessEqual(tensor([1, 2]), 2).toArray(), [true, true]);
 * ```
 */
export function lessEqual(a: TensorLike, b: TensorLike): Tensor {
  return composite(() => {
    return bind("compare", liftPair("lessEqual", a, b), { op: "lessEqual" });
  });
}

/**
 * Elementwise `a > b` (bool result).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { greater, tensor } from "../../mod.ts";
 * assert.deepEqual(await greater(tensor([1, 2]), 1).toArray(), [false, true]);
 * ```
 */
export function greater(a: TensorLike, b: TensorLike): Tensor {
  return composite(() => {
    return bind("compare", liftPair("greater", a, b), { op: "greater" });
  });
}

/**
 * Elementwise `a >= b` (bool result).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { greaterEqual, tensor } from "../../mod.ts";
 * assert.deepEqual(await greaterEqual(tensor([1, 2]), 2).toArray(), [false, true]);
 * ```
 */
export function greaterEqual(a: TensorLike, b: TensorLike): Tensor {
  return composite(() => {
    return bind("compare", liftPair("greaterEqual", a, b), { op: "greaterEqual" });
  });
}

/**
 * Elementwise logical and of bool tensors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logicalAnd, tensor } from "../../mod.ts";
 * assert.deepEqual(
 *   await logicalAnd(tensor([true, true]), tensor([true, false])).toArray(),
 *   [true, false],
 * );
 * ```
 */
export function logicalAnd(a: TensorLike, b: TensorLike): Tensor {
  return composite(() => {
    return bind("logical", liftPair("logicalAnd", a, b), { op: "logicalAnd" });
  });
}

/**
 * Elementwise logical or of bool tensors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logicalOr, tensor } from "../../mod.ts";
 * assert.deepEqual(await logicalOr(tensor([true, false]), false).toArray(), [true, false]);
 * ```
 */
export function logicalOr(a: TensorLike, b: TensorLike): Tensor {
  return composite(() => {
    return bind("logical", liftPair("logicalOr", a, b), { op: "logicalOr" });
  });
}

/**
 * Elementwise logical xor of bool tensors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logicalXor, tensor } from "../../mod.ts";
 * assert.deepEqual(await logicalXor(tensor([true, false]), true).toArray(), [false, true]);
 * ```
 */
export function logicalXor(a: TensorLike, b: TensorLike): Tensor {
  return composite(() => {
    return bind("logical", liftPair("logicalXor", a, b), { op: "logicalXor" });
  });
}
