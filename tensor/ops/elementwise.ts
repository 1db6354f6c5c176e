/**
 * Elementwise ops: unary math, broadcasting binary arithmetic, comparisons, logical and
 * bitwise ops, `where`, `cast` and `bitcast`. JS numbers are accepted in place of tensors and
 * take the other operand's dtype (no promotion happens anywhere).
 * @module
 */
import type { DType } from "../dtype.ts";
import { TesseraError } from "../errors.ts";
import { bind } from "../dispatch.ts";
import { Tensor } from "../tensor.ts";
import { checkDType, composite, expectTensor, liftPair, type TensorLike } from "./_util.ts";

/**
 * Elementwise `a + b` with broadcasting.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { add, tensor } from "../../mod.ts";
 * assert.deepEqual(await add(tensor([1, 2]), 1).toArray(), [2, 3]);
 * ```
 */
export function add(a: TensorLike, b: TensorLike): Tensor {
  return composite(() => {
    return bind("binary", liftPair("add", a, b), { op: "add" });
  });
}

/**
 * Elementwise `a - b` with broadcasting.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sub, tensor } from "../../mod.ts";
 * assert.deepEqual(await sub(tensor([3, 4]), tensor([1])).toArray(), [2, 3]);
 * ```
 */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  return composite(() => {
    return bind("binary", liftPair("sub", a, b), { op: "sub" });
  });
}

/**
 * Elementwise `a * b` with broadcasting.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mul, tensor } from "../../mod.ts";
 * assert.deepEqual(await mul(tensor([1, 2]), 3).toArray(), [3, 6]);
 * ```
 */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  return composite(() => {
    return bind("binary", liftPair("mul", a, b), { op: "mul" });
  });
}

/**
 * Elementwise `a / b` with broadcasting (float dtypes only).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { div, tensor } from "../../mod.ts";
 * assert.deepEqual(await div(tensor([1, 2]), 2).toArray(), [0.5, 1]);
 * ```
 */
export function div(a: TensorLike, b: TensorLike): Tensor {
  return composite(() => {
    return bind("binary", liftPair("div", a, b), { op: "div" });
  });
}

/**
 * Elementwise `a ** b` with broadcasting (float dtypes only).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pow, tensor } from "../../mod.ts";
 * assert.deepEqual(await pow(tensor([2, 3]), 2).toArray(), [4, 9]);
 * ```
 */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  return composite(() => {
    return bind("binary", liftPair("pow", a, b), { op: "pow" });
  });
}

/**
 * Elementwise maximum with broadcasting; NaN propagates.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maximum, tensor } from "../../mod.ts";
 * assert.deepEqual(await maximum(tensor([1, 5]), 3).toArray(), [3, 5]);
 * ```
 */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return composite(() => {
    return bind("binary", liftPair("maximum", a, b), { op: "maximum" });
  });
}

/**
 * Elementwise minimum with broadcasting; NaN propagates.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { minimum, tensor } from "../../mod.ts";
 * assert.deepEqual(await minimum(tensor([1, 5]), 3).toArray(), [1, 3]);
 * ```
 */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return composite(() => {
    return bind("binary", liftPair("minimum", a, b), { op: "minimum" });
  });
}

/**
 * Picks `x` where `cond` is true and `y` elsewhere, broadcasting all three.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { where, tensor } from "../../mod.ts";
 * assert.deepEqual(await where(tensor([true, false]), tensor([1, 2]), 0).toArray(), [1, 0]);
 * ```
 */
export function where(cond: Tensor, x: TensorLike, y: TensorLike): Tensor {
  return composite(() => {
    expectTensor("where", cond, "cond");
    const [a, b] = liftPair("where", x, y);
    return bind("where", [cond, a, b], {});
  });
}

/**
 * Converts values to another dtype (float→int truncates toward zero and saturates; NaN→0;
 * anything→bool is `x != 0`). Casting to the same dtype returns `x` itself.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cast, tensor } from "../../mod.ts";
 * assert.deepEqual(await cast(tensor([1.7, -1.7]), "int32").toArray(), [1, -1]);
 * ```
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  expectTensor("cast", x);
  checkDType("cast", dtype);
  if (x.dtype === dtype) return x;
  return bind("cast", [x], { dtype });
}

/**
 * Reinterprets the bits of a float32/int32/uint32 tensor as another of those dtypes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bitcast, tensor } from "../../mod.ts";
 * assert.deepEqual(await bitcast(tensor([1]), "uint32").toArray(), [1065353216]);
 * ```
 */
export function bitcast(x: Tensor, dtype: DType): Tensor {
  expectTensor("bitcast", x);
  checkDType("bitcast", dtype);
  if (x.dtype === dtype) return x;
  return bind("bitcast", [x], { dtype });
}

/**
 * Identity in the forward pass; its derivative is zero at every order (JAX's
 * `stop_gradient`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { grad, mul, stopGradient, sum, tensor, type Tensor } from "../../mod.ts";
 * const g = grad((x: Tensor) => sum(mul(x, stopGradient(x))))(tensor([3]));
 * assert.deepEqual(await g.toArray(), [3]);
 * ```
 */
export function stopGradient(x: Tensor): Tensor {
  return bind("stopGradient", [expectTensor("stopGradient", x)], {});
}

/**
 * Clamps values into `[lo, hi]` (either bound may be omitted). Gradient passes where the
 * value is inside the range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clip, tensor } from "../../mod.ts";
 * assert.deepEqual(await clip(tensor([-2, 0.5, 3]), 0, 1).toArray(), [0, 0.5, 1]);
 * ```
 */
export function clip(x: Tensor, lo?: TensorLike, hi?: TensorLike): Tensor {
  return composite(() => {
    expectTensor("clip", x);
    if (typeof lo === "number" && typeof hi === "number" && lo > hi) {
      throw new TesseraError("clip", `lower bound ${lo} exceeds upper bound ${hi}`);
    }
    for (const bound of [lo, hi]) {
      if (bound instanceof Tensor && bound.dtype !== x.dtype) {
        throw new TesseraError("clip", `bound dtype ${bound.dtype} differs from input ${x.dtype}`);
      }
    }
    let y = x;
    if (lo !== undefined) y = bind("binary", liftPair("clip", y, lo), { op: "maximum" });
    if (hi !== undefined) y = bind("binary", liftPair("clip", y, hi), { op: "minimum" });
    return y;
  });
}
