/**
 * Elementwise bitwise ops and shifts on int32/uint32 tensors, with broadcasting (shift counts
 * are taken mod 32; `shiftRightLogical` fills with zeros). Re-exported by elementwise.ts.
 * @module
 */
import { bind } from "../dispatch.ts";
import type { Tensor } from "../tensor.ts";
import { composite, liftPair, type TensorLike } from "./_util.ts";

/**
 * Elementwise bitwise and of int32/uint32 tensors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bitwiseAnd, tensor } from "../../mod.ts";
 * assert.deepEqual(await bitwiseAnd(tensor([6], { dtype: "int32" }), 3).toArray(), [2]);
 * ```
 */
export function bitwiseAnd(a: TensorLike, b: TensorLike): Tensor {
  return composite(() => {
    return bind("bitwise", liftPair("bitwiseAnd", a, b), { op: "bitwiseAnd" });
  });
}

/**
 * Elementwise bitwise or of int32/uint32 tensors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bitwiseOr, tensor } from "../../mod.ts";
 * assert.deepEqual(await bitwiseOr(tensor([4], { dtype: "int32" }), 1).toArray(), [5]);
 * ```
 */
export function bitwiseOr(a: TensorLike, b: TensorLike): Tensor {
  return composite(() => {
    return bind("bitwise", liftPair("bitwiseOr", a, b), { op: "bitwiseOr" });
  });
}

/**
 * Elementwise bitwise xor of int32/uint32 tensors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bitwiseXor, tensor } from "../../mod.ts";
 * assert.deepEqual(await bitwiseXor(tensor([6], { dtype: "int32" }), 3).toArray(), [5]);
 * ```
 */
export function bitwiseXor(a: TensorLike, b: TensorLike): Tensor {
  return composite(() => {
    return bind("bitwise", liftPair("bitwiseXor", a, b), { op: "bitwiseXor" });
  });
}

/**
 * Elementwise left shift (count taken mod 32) of int32/uint32 tensors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shiftLeft, tensor } from "../../mod.ts";
 * assert.deepEqual(await shiftLeft(tensor([1], { dtype: "uint32" }), 4).toArray(), [16]);
 * ```
 */
export function shiftLeft(a: TensorLike, b: TensorLike): Tensor {
  return composite(() => {
    return bind("bitwise", liftPair("shiftLeft", a, b), { op: "shiftLeft" });
  });
}

/**
 * Elementwise logical right shift (count mod 32) of int32/uint32 tensors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shiftRightLogical, tensor } from "../../mod.ts";
 * assert.deepEqual(await shiftRightLogical(tensor([16], { dtype: "uint32" }), 4).toArray(), [1]);
 * ```
 */
export function shiftRightLogical(a: TensorLike, b: TensorLike): Tensor {
  return composite(() => {
    return bind("bitwise", liftPair("shiftRightLogical", a, b), { op: "shiftRightLogical" });
  });
}
