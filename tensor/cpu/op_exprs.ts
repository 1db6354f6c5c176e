/**
 * The one home of each float elementwise op's formula on the CPU backend: a JavaScript
 * expression per `unary` and `binary` op, from which both the eager loops
 * (./elementwise_loops.ts) and the fused `jit` programs (./fused_elementwise.ts) are generated,
 * so the two compute the same float64 value bit for bit. A new elementwise op adds one `case`
 * here (and, if `Math` lacks it, its scalar in ./special.ts).
 * @module
 */
import type { BinaryOp, UnaryOp } from "../primitives.ts";
import type { DType } from "../dtype.ts";
import { TesseraError } from "../errors.ts";
import { SPECIAL_FUNCTIONS } from "./special.ts";
import { erf32 } from "./f32_math.ts";

import { roundHalfEven } from "../rounding.ts";

export { roundHalfEven };

/**
 * `pow` with C/IEEE 754 special cases where JavaScript differs: pow(1, y) = 1 and
 * pow(-1, ±∞) = 1 (JavaScript gives NaN), as in NumPy and PyTorch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { powC } from "./op_exprs.ts";
 * assert.deepEqual([powC(1, NaN), powC(-1, Infinity), powC(2, 3)], [1, 1, 8]);
 * ```
 */
export function powC(x: number, y: number): number {
  if (x === 1 || (x === -1 && (y === Infinity || y === -Infinity))) return 1;
  return Math.pow(x, y);
}

/**
 * The scalar helpers generated code calls as `F.name(x)`: the special functions, `round`
 * (half to even) and `pow` (C semantics).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SCALAR_HELPERS } from "./op_exprs.ts";
 * assert.equal(SCALAR_HELPERS.round!(2.5), 2);
 * ```
 */
export const SCALAR_HELPERS: Readonly<Record<string, (...x: number[]) => number>> = {
  ...(SPECIAL_FUNCTIONS as Record<string, (x: number) => number>),
  erf32,
  round: roundHalfEven,
  pow: powC,
};

/**
 * The float expression of unary `op` on the variable named `a` (helpers as `F.name`) for results
 * of `dtype`; `logicalNot` (bool only) has none. A float32 `erf` is the cheaper {@link erf32}
 * (every CPU path, eager or fused, builds its expression here, so they agree to the bit).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unaryExpr } from "./op_exprs.ts";
 * assert.deepEqual([unaryExpr("exp", "v"), unaryExpr("erf", "v")], ["Math.exp(v)", "F.erf(v)"]);
 * assert.equal(unaryExpr("erf", "v", "float32"), "F.erf32(v)");
 * ```
 */
export function unaryExpr(op: UnaryOp, a: string, dtype: DType = "float64"): string {
  switch (op) {
    case "erf":
      return dtype === "float32" ? `F.erf32(${a})` : `F.erf(${a})`;
    case "neg":
      return `-${a}`;
    case "sign":
      return `(${a} > 0 ? 1 : ${a} < 0 ? -1 : ${a})`; // keeps ±0 and NaN
    case "rsqrt":
      return `1 / Math.sqrt(${a})`;
    case "reciprocal":
      return `1 / ${a}`;
    case "abs":
    case "exp":
    case "log":
    case "log1p":
    case "expm1":
    case "sqrt":
    case "sin":
    case "cos":
    case "tanh":
    case "floor":
    case "ceil":
      return `Math.${op}(${a})`;
    default:
      if (op in SCALAR_HELPERS) return `F.${op}(${a})`;
      throw new TesseraError(op, "has no float expression on the cpu backend");
  }
}

/**
 * The float expression of binary arithmetic `op` on the variables named `a` and `b`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { binaryExpr } from "./op_exprs.ts";
 * assert.equal(binaryExpr("mul", "x", "y"), "x * y");
 * ```
 */
export function binaryExpr(op: BinaryOp, a: string, b: string): string {
  switch (op) {
    case "add":
      return `${a} + ${b}`;
    case "sub":
      return `${a} - ${b}`;
    case "mul":
      return `${a} * ${b}`;
    case "div":
      return `${a} / ${b}`;
    case "pow":
      return `F.pow(${a}, ${b})`;
    case "maximum":
      return `(${a} > ${b} || ${a} !== ${a} ? ${a} : ${b})`; // NaN in either propagates
    case "minimum":
      return `(${a} < ${b} || ${a} !== ${a} ? ${a} : ${b})`;
  }
}
