/**
 * Forward-mode (JVP) rule of every primitive, written in primitives (so JVPs nest and mix
 * with VJPs). `null` tangents are symbolic zeros. A mapped type over `Prim` makes a missing
 * rule a `deno check` error. The elementwise primitives' rules are generated from their one
 * derivative in derivatives.ts, the vision primitives' come from rules_vision.ts.
 * @module
 */
import { bind } from "../tensor/dispatch.ts";
import { isFloat } from "../tensor/dtype.ts";
import type { Prim } from "../tensor/primitives.ts";
import { zerosLike } from "../tensor/creation.ts";
import { visionJvpRules } from "./rules_vision.ts";
import { elementwiseJvpRules, toOut } from "./derivatives.ts";
import { bilinear, type JvpRule, notDifferentiable, zero } from "./rule_kit.ts";
import { equal } from "../tensor/ops/comparison.ts";
import { cast, div, mul, where } from "../tensor/ops/elementwise.ts";

/** A linear primitive: apply the same primitive to the tangent. */
function linear<P extends Prim>(prim: P): JvpRule<P> {
  return (_p, [t], _o, params) => (t ? bind(prim, [t], params) : null);
}

function extremum<P extends "max" | "min">(): JvpRule<P> {
  return ([x], [t], out, p) => {
    if (!t) return null;
    const m = cast(equal(x!, out), x!.dtype);
    return div(bind("sum", [mul(t, m)], p), bind("sum", [m], p));
  };
}

/** JVP rules, one per primitive. */
export const jvpRules: { [P in Prim]: JvpRule<P> } = {
  ...elementwiseJvpRules,
  concat: (primals, tangents, _o, p) => {
    if (tangents.every((t) => !t)) return null;
    return bind("concat", tangents.map((t, i) => t ?? zerosLike(primals[i]!)), p);
  },
  equal: zero,
  notEqual: zero,
  less: zero,
  lessEqual: zero,
  greater: zero,
  greaterEqual: zero,
  logicalAnd: zero,
  logicalOr: zero,
  logicalXor: zero,
  bitwiseAnd: zero,
  bitwiseOr: zero,
  bitwiseXor: zero,
  shiftLeft: zero,
  shiftRightLogical: zero,
  sum: linear("sum"),
  max: extremum<"max">(),
  min: extremum<"min">(),
  argmax: zero,
  argmin: zero,
  where: ([c, x, y], [_tc, tx, ty], out) => {
    if (!tx && !ty) return null;
    return toOut(where(c!, tx ?? zerosLike(x!), ty ?? zerosLike(y!)), out);
  },
  cumsum: linear("cumsum"),
  matmul: bilinear("matmul"),
  reshape: linear("reshape"),
  permute: linear("permute"),
  broadcastTo: linear("broadcastTo"),
  slice: linear("slice"),
  flip: linear("flip"),
  pad: (_p, [t], _o, p) => (t ? bind("pad", [t], { ...p, value: 0 }) : null),
  gather: ([_x, idx], [t], _o, p) => (t ? bind("gather", [t, idx!], p) : null),
  scatterAdd: ([x, idx, u], [tx, _ti, tu], _o, p) => {
    if (!tx && !tu) return null;
    return bind("scatterAdd", [tx ?? zerosLike(x!), idx!, tu ?? zerosLike(u!)], p);
  },
  cast: (
    [x],
    [t],
    out,
  ) => (t && isFloat(x!.dtype) && isFloat(out.dtype) ? cast(t, out.dtype) : null),
  bitcast: notDifferentiable("bitcast", "it reinterprets bits (use cast for a value conversion)"),
  argsort: zero,
  randomBits: zero,
  stopGradient: zero,
  ...visionJvpRules,
};
