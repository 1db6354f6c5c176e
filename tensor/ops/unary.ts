/**
 * Elementwise unary math: one primitive each, so no temporaries and no composite scope.
 * @module
 */
import { bind } from "../dispatch.ts";
import type { Tensor } from "../tensor.ts";
import { expectTensor } from "./_util.ts";

/**
 * Elementwise negation `-x`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { neg, tensor } from "../../mod.ts";
 * assert.deepEqual(await neg(tensor([1, -2])).toArray(), [-1, 2]);
 * ```
 */
export function neg(x: Tensor): Tensor {
  return bind("unary", [expectTensor("neg", x)], { op: "neg" });
}

/**
 * Elementwise absolute value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { abs, tensor } from "../../mod.ts";
 * assert.deepEqual(await abs(tensor([-1, 2])).toArray(), [1, 2]);
 * ```
 */
export function abs(x: Tensor): Tensor {
  return bind("unary", [expectTensor("abs", x)], { op: "abs" });
}

/**
 * Elementwise sign (-1, 0 or 1; NaN stays NaN).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sign, tensor } from "../../mod.ts";
 * assert.deepEqual(await sign(tensor([-3, 0, 2])).toArray(), [-1, 0, 1]);
 * ```
 */
export function sign(x: Tensor): Tensor {
  return bind("unary", [expectTensor("sign", x)], { op: "sign" });
}

/**
 * Elementwise `e^x`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exp, tensor } from "../../mod.ts";
 * assert.deepEqual(await exp(tensor([0])).toArray(), [1]);
 * ```
 */
export function exp(x: Tensor): Tensor {
  return bind("unary", [expectTensor("exp", x)], { op: "exp" });
}

/**
 * Elementwise natural logarithm.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { log, tensor } from "../../mod.ts";
 * assert.deepEqual(await log(tensor([1])).toArray(), [0]);
 * ```
 */
export function log(x: Tensor): Tensor {
  return bind("unary", [expectTensor("log", x)], { op: "log" });
}

/**
 * Elementwise `log(1 + x)`, accurate for small x.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { add, log, log1p, tensor } from "../../mod.ts";
 * const x = tensor([1e-10]);
 * assert.equal(await log(add(x, 1)).item(), 0); // 1 + 1e-10 rounds to 1 in float32
 * assert.ok(Math.abs(await log1p(x).item() / 1e-10 - 1) < 1e-6); // log1p keeps it
 * ```
 */
export function log1p(x: Tensor): Tensor {
  return bind("unary", [expectTensor("log1p", x)], { op: "log1p" });
}

/**
 * Elementwise `e^x - 1`, accurate for small x.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exp, expm1, sub, tensor } from "../../mod.ts";
 * const x = tensor([1e-10]);
 * assert.equal(await sub(exp(x), 1).item(), 0); // e^1e-10 rounds to 1 in float32
 * assert.ok(Math.abs(await expm1(x).item() / 1e-10 - 1) < 1e-6); // expm1 keeps it
 * ```
 */
export function expm1(x: Tensor): Tensor {
  return bind("unary", [expectTensor("expm1", x)], { op: "expm1" });
}

/**
 * Elementwise square root.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sqrt, tensor } from "../../mod.ts";
 * assert.deepEqual(await sqrt(tensor([4, 9])).toArray(), [2, 3]);
 * ```
 */
export function sqrt(x: Tensor): Tensor {
  return bind("unary", [expectTensor("sqrt", x)], { op: "sqrt" });
}

/**
 * Elementwise reciprocal square root `1/sqrt(x)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rsqrt, tensor } from "../../mod.ts";
 * assert.deepEqual(await rsqrt(tensor([4])).toArray(), [0.5]);
 * ```
 */
export function rsqrt(x: Tensor): Tensor {
  return bind("unary", [expectTensor("rsqrt", x)], { op: "rsqrt" });
}

/**
 * Elementwise `1/x`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reciprocal, tensor } from "../../mod.ts";
 * assert.deepEqual(await reciprocal(tensor([2])).toArray(), [0.5]);
 * ```
 */
export function reciprocal(x: Tensor): Tensor {
  return bind("unary", [expectTensor("reciprocal", x)], { op: "reciprocal" });
}

/**
 * Elementwise sine.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sin, tensor } from "../../mod.ts";
 * assert.deepEqual(await sin(tensor([0])).toArray(), [0]);
 * ```
 */
export function sin(x: Tensor): Tensor {
  return bind("unary", [expectTensor("sin", x)], { op: "sin" });
}

/**
 * Elementwise cosine.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cos, tensor } from "../../mod.ts";
 * assert.deepEqual(await cos(tensor([0])).toArray(), [1]);
 * ```
 */
export function cos(x: Tensor): Tensor {
  return bind("unary", [expectTensor("cos", x)], { op: "cos" });
}

/**
 * Elementwise hyperbolic tangent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tanh, tensor } from "../../mod.ts";
 * assert.deepEqual(await tanh(tensor([0])).toArray(), [0]);
 * ```
 */
export function tanh(x: Tensor): Tensor {
  return bind("unary", [expectTensor("tanh", x)], { op: "tanh" });
}

/**
 * Elementwise error function.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { erf, tensor } from "../../mod.ts";
 * assert.deepEqual(await erf(tensor([0])).toArray(), [0]);
 * ```
 */
export function erf(x: Tensor): Tensor {
  return bind("unary", [expectTensor("erf", x)], { op: "erf" });
}

/**
 * Elementwise complementary error function `1 - erf(x)`, accurate where `1 - erf(x)` would
 * cancel to 0 (large `x`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { erf, erfc, sub, tensor } from "../../mod.ts";
 * const x = tensor([0, 5], { dtype: "float64" });
 * const [y0, y5] = await erfc(x).data();
 * assert.equal(y0, 1);
 * assert.ok(Math.abs(y5! / 1.5374597944280349e-12 - 1) < 1e-15); // erfc(5)
 * const [, c5] = await sub(1, erf(x)).data(); // 1 - erf(5) cancels: off in the 5th digit
 * assert.ok(Math.abs(c5! / 1.5374597944280349e-12 - 1) > 1e-5);
 * ```
 */
export function erfc(x: Tensor): Tensor {
  return bind("unary", [expectTensor("erfc", x)], { op: "erfc" });
}

/**
 * Elementwise floor (zero gradient).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { floor, tensor } from "../../mod.ts";
 * assert.deepEqual(await floor(tensor([1.5, -1.5])).toArray(), [1, -2]);
 * ```
 */
export function floor(x: Tensor): Tensor {
  return bind("unary", [expectTensor("floor", x)], { op: "floor" });
}

/**
 * Elementwise ceiling (zero gradient).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ceil, tensor } from "../../mod.ts";
 * assert.deepEqual(await ceil(tensor([1.5])).toArray(), [2]);
 * ```
 */
export function ceil(x: Tensor): Tensor {
  return bind("unary", [expectTensor("ceil", x)], { op: "ceil" });
}

/**
 * Elementwise round half to even, like NumPy and PyTorch (zero gradient).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { round, tensor } from "../../mod.ts";
 * assert.deepEqual(await round(tensor([0.5, 1.5, 2.6])).toArray(), [0, 2, 3]);
 * ```
 */
export function round(x: Tensor): Tensor {
  return bind("unary", [expectTensor("round", x)], { op: "round" });
}

/**
 * Elementwise logical not of a bool tensor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logicalNot, tensor } from "../../mod.ts";
 * assert.deepEqual(await logicalNot(tensor([true, false])).toArray(), [false, true]);
 * ```
 */
export function logicalNot(x: Tensor): Tensor {
  return bind("unary", [expectTensor("logicalNot", x)], { op: "logicalNot" });
}
