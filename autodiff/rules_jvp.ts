/**
 * Forward-mode (JVP) rule of every primitive, written in primitives (so JVPs nest and mix
 * with VJPs). `null` tangents are symbolic zeros. A mapped type over `Prim` makes a missing
 * rule a `deno check` error. The elementwise primitives' rules are generated from their one
 * derivative in derivatives.ts, the vision primitives' come from rules_vision.ts.
 * @module
 */
import { bind } from "../tensor/dispatch.ts";
import { isFloat } from "../tensor/dtype.ts";
import type { Prim, ReduceOp } from "../tensor/primitives.ts";
import { zerosLike } from "../tensor/creation.ts";
import { visionJvpRules } from "./rules_vision.ts";
import { elementwiseJvpRules, toOut } from "./derivatives.ts";
import {
  bilinear,
  completeJvpRules,
  derivedRules,
  type JvpRule,
  linear,
  notDifferentiable,
} from "./rule_kit.ts";
import { equal } from "../tensor/ops/comparison.ts";
import { cast, div, mul, where } from "../tensor/ops/elementwise.ts";

/** max/min: the mean of the tangent over the ties. */
const extremum: JvpRule<"reduce"> = ([x], [t], out, p) => {
  if (!t) return null;
  const m = cast(equal(x!, out), x!.dtype);
  const sum = { op: "sum", axes: p.axes } as const;
  return div(bind("reduce", [mul(t, m)], sum), bind("reduce", [m], sum));
};

/** The JVP of each `reduce` op: sum is linear, max/min average the ties. */
const REDUCE_JVP: Record<ReduceOp, JvpRule<"reduce">> = {
  sum: linear("reduce"),
  max: extremum,
  min: extremum,
};

/**
 * JVP rules, one per primitive: those {@link PRIM_INFO} implies (non-float outputs, zero
 * derivatives, linear primitives), the generated elementwise and vision ones, and the rest
 * written here.
 */
export const jvpRules: { [P in Prim]: JvpRule<P> } = completeJvpRules({
  ...derivedRules("jvp"),
  ...elementwiseJvpRules,
  concat: (primals, tangents, _o, p) => {
    if (tangents.every((t) => !t)) return null;
    return bind("concat", tangents.map((t, i) => t ?? zerosLike(primals[i]!)), p);
  },
  reduce: (primals, tangents, out, p) => REDUCE_JVP[p.op](primals, tangents, out, p),
  where: ([c, x, y], [_tc, tx, ty], out) => {
    if (!tx && !ty) return null;
    return toOut(where(c!, tx ?? zerosLike(x!), ty ?? zerosLike(y!)), out);
  },
  matmul: bilinear("matmul"),
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
  ...visionJvpRules,
});
