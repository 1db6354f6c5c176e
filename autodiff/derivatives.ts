/**
 * One derivative per elementwise primitive, from which both its VJP and its JVP rule are
 * generated (spread into the tables of rules_vjp.ts and rules_jvp.ts).
 *
 * An elementwise primitive's Jacobian with respect to each input is diagonal (up to
 * broadcasting), so one linear map `t ↦ ∂out/∂input · t` per input serves both modes: the JVP
 * applies it to the input's tangent and sums the terms (broadcast to the output's shape); the
 * VJP applies it to the output cotangent and sums the result back to the input's shape — the
 * transpose of a diagonal map is itself, and the transpose of broadcasting is `sumToShape`.
 * Writing the map (rather than only a factor) keeps each rule's primitive sequence exactly as
 * hand-written before (e.g. `div(t, x)` for log, not `mul(t, reciprocal(x))`), so results stay
 * bit for bit. This is JAX's "JVP plus transpose" specialised to elementwise ops, where the
 * transpose needs no separate rule per primitive.
 *
 * `where` keeps a hand-written rule pair: its JVP selects both tangents with one `where`
 * (a sum of two selects would turn a tangent of -0 into +0).
 * @module
 */
import { bind } from "../tensor/dispatch.ts";
import { equal, greater, logicalAnd } from "../tensor/ops/comparison.ts";
import { add, cast, div, mul, sub, where } from "../tensor/ops/elementwise.ts";
import { sumToShape } from "../tensor/ops/reduce.ts";
import { cos, exp, log, neg, sign, sin } from "../tensor/ops/unary.ts";
import { TesseraError } from "../tensor/errors.ts";
import {
  BINARY_OPS,
  type ElementwiseOp,
  OP_INFO,
  type Prim,
  UNARY_OPS,
} from "../tensor/primitives.ts";
import type { Tensor } from "../tensor/tensor.ts";
import {
  type JvpRule,
  none,
  notDifferentiable,
  type VjpNeeds,
  type VjpRule,
  zero,
} from "./rule_kit.ts";

/** The linear map `t ↦ ∂out/∂input · t` of one input (pointwise, broadcasting). */
export type Partial = (t: Tensor) => Tensor;

/**
 * The derivative of an elementwise primitive: one {@link Partial} per input (null, or a
 * shorter list, where the output does not depend on that input differentiably). Factors
 * shared by several inputs are computed once, in the function body.
 */
export type Derivative = (inputs: readonly Tensor[], out: Tensor) => readonly (Partial | null)[];

/** d/dx erf(x) = 2/√π · exp(−x²). */
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** Share of the gradient going to `a` in maximum/minimum: 1 where it wins, ½ on ties. */
function winnerMask(a: Tensor, b: Tensor, aWins: Tensor): Tensor {
  return add(cast(aWins, a.dtype), mul(cast(equal(a, b), a.dtype), 0.5));
}

/** maximum/minimum: `a`'s share of the tangent is the winner mask, `b` gets the rest. */
function winnerPartials(a: Tensor, b: Tensor, aWins: Tensor): Partial[] {
  const m = winnerMask(a, b, aWins);
  return [(t) => mul(t, m), (t) => mul(t, sub(1, m))];
}

/**
 * pow: d/da = b·a^(b−1) (0 where b == 0), d/db = log(a)·a^b with log(0) replaced by 0.
 * Only a == b == 0 (0·0^−1) is guarded in d/da; elsewhere the path to b stays, so mixed
 * second derivatives are right.
 */
function powPartials(a: Tensor, b: Tensor, out: Tensor): Partial[] {
  const base = () => where(logicalAnd(equal(a, 0), equal(b, 0)), 1, a);
  return [
    (t) => mul(t, mul(b, bind("binary", [base(), sub(b, 1)], { op: "pow" }))),
    (t) => mul(t, mul(out, log(where(equal(a, 0), 1, a)))),
  ];
}

/**
 * The derivative of every differentiable op of the `unary` and `binary` primitives (`OP_INFO`
 * says `rule`); the zero ones (sign, floor, …) and the non-float ones (logicalNot) get their
 * rules from `OP_INFO` instead. A new `rule` op without an entry fails when autodiff/ loads
 * ("no derivative for unary op …").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DERIVATIVES } from "./derivatives.ts";
 * import { mul, tensor } from "../mod.ts";
 * // ∂(a·b)/∂a · t = t·b and ∂(a·b)/∂b · t = t·a
 * const a = tensor([2, 3]), b = tensor([5, 7]);
 * const [da, db] = DERIVATIVES.mul!([a, b], mul(a, b));
 * assert.deepEqual(await da!(tensor([1, 1])).toArray(), [5, 7]);
 * assert.deepEqual(await db!(tensor([1, 2])).toArray(), [2, 6]);
 * ```
 */
export const DERIVATIVES: { readonly [P in ElementwiseOp]?: Derivative } = {
  neg: () => [(t) => neg(t)],
  abs: ([x]) => [(t) => mul(t, sign(x!))],
  exp: (_i, out) => [(t) => mul(t, out)],
  log: ([x]) => [(t) => div(t, x!)],
  log1p: ([x]) => [(t) => div(t, add(x!, 1))],
  expm1: (_i, out) => [(t) => mul(t, add(out, 1))],
  sqrt: (_i, out) => [(t) => div(t, mul(out, 2))],
  rsqrt: ([x], out) => [(t) => mul(t, mul(div(out, x!), -0.5))],
  reciprocal: (_i, out) => [(t) => neg(mul(t, mul(out, out)))],
  sin: ([x]) => [(t) => mul(t, cos(x!))],
  cos: ([x]) => [(t) => neg(mul(t, sin(x!)))],
  tanh: (_i, out) => [(t) => mul(t, sub(1, mul(out, out)))],
  erf: ([x]) => [(t) => mul(t, mul(exp(neg(mul(x!, x!))), TWO_OVER_SQRT_PI))],
  erfc: ([x]) => [(t) => neg(mul(t, mul(exp(neg(mul(x!, x!))), TWO_OVER_SQRT_PI)))],
  add: () => [(t) => t, (t) => t],
  sub: () => [(t) => t, (t) => neg(t)],
  mul: ([a, b]) => [(t) => mul(t, b!), (t) => mul(t, a!)],
  div: ([_a, b], out) => [(t) => div(t, b!), (t) => neg(div(mul(t, out), b!))],
  pow: ([a, b], out) => powPartials(a!, b!, out),
  maximum: ([a, b]) => winnerPartials(a!, b!, greater(a!, b!)),
  minimum: ([a, b]) => winnerPartials(a!, b!, greater(b!, a!)),
};

/**
 * What each derivative reads besides shapes and dtypes, so the tape pins only that (an op not
 * listed keeps its inputs and its output): `add` needs only shapes, `exp` only its output,
 * `mul` its inputs. Ops with a zero or non-float derivative need nothing (added from
 * `OP_INFO`).
 */
const WRITTEN_NEEDS: { readonly [P in ElementwiseOp]?: VjpNeeds } = {
  neg: "nothing",
  add: "nothing",
  sub: "nothing",
  exp: "out",
  expm1: "out",
  sqrt: "out",
  reciprocal: "out",
  tanh: "out",
  abs: "inputs",
  log: "inputs",
  log1p: "inputs",
  sin: "inputs",
  cos: "inputs",
  erf: "inputs",
  erfc: "inputs",
  mul: "inputs",
  maximum: "inputs",
  minimum: "inputs",
};

/** Broadcasts a tangent to the output shape (inputs of broadcasting ops may be smaller). */
export function toOut(t: Tensor, out: Tensor): Tensor {
  const same = t.ndim === out.ndim && t.shape.every((d, i) => d === out.shape[i]);
  return same ? t : bind("broadcastTo", [t], { shape: out.shape });
}

/** Sum of optional terms, broadcast to the output; null when all are null. */
function sumTerms(out: Tensor, terms: readonly (Tensor | null)[]): Tensor | null {
  let acc: Tensor | null = null;
  for (const t of terms) if (t) acc = acc ? add(acc, t) : t;
  return acc ? toOut(acc, out) : null;
}

/** `t` summed down to `x`'s shape (the transpose of broadcasting); `t` itself if it fits. */
function fitTo(t: Tensor, x: Tensor): Tensor {
  const same = t.ndim === x.ndim && t.shape.every((d, i) => d === x.shape[i]);
  return same ? t : sumToShape(t, x.shape);
}

/** The VJP rule of a derivative: each partial applied to the cotangent, summed to its input. */
export function vjpOf(d: Derivative): VjpRule<Prim> {
  return (g, inputs, out) => {
    const partials = d(inputs, out);
    return inputs.map((x, i) => {
      const p = partials[i];
      return p ? fitTo(p(g), x) : null;
    });
  };
}

/** The JVP rule of a derivative: the sum of each partial applied to its input's tangent. */
export function jvpOf(d: Derivative): JvpRule<Prim> {
  return (primals, tangents, out) => {
    const partials = d(primals, out);
    return sumTerms(out, tangents.map((t, i) => (t && partials[i] ? partials[i]!(t) : null)));
  };
}

/** Per-op needs of the `unary` and `binary` primitives (read by `vjpNeeds`). */
export const ELEMENTWISE_NEEDS: { readonly [P in ElementwiseOp]?: VjpNeeds } = {
  ...Object.fromEntries(
    (Object.keys(OP_INFO) as ElementwiseOp[])
      .filter((o) =>
        OP_INFO[o].differentiable === "zero" || OP_INFO[o].differentiable === "nonFloat"
      )
      .map((o) => [o, "nothing"]),
  ),
  ...WRITTEN_NEEDS,
};

/**
 * The rule of each op of a family in one mode: generated from its derivative, the zero rule
 * for the zero and non-float ops, a throwing rule for an op without a derivative; an op
 * `OP_INFO` calls differentiable but without an entry in {@link DERIVATIVES} fails here, when
 * autodiff/ loads.
 */
function perOpRules<O extends ElementwiseOp, R>(
  family: "unary" | "binary",
  ops: readonly O[],
  of: (d: Derivative) => R,
  zeroRule: R,
): Record<O, R> {
  const rules = {} as Record<O, R>;
  for (const o of ops) {
    const how = OP_INFO[o].differentiable, d = DERIVATIVES[o];
    if (how === "zero" || how === "nonFloat") rules[o] = zeroRule;
    else if (how === "none") rules[o] = notDifferentiable(family, `${o} has no derivative`) as R;
    else if (d) rules[o] = of(d);
    else throw new TesseraError("autodiff", `no derivative for ${family} op ${o}`);
  }
  return rules;
}

const UNARY_VJP = perOpRules("unary", UNARY_OPS, vjpOf, none as VjpRule<Prim>);
const BINARY_VJP = perOpRules("binary", BINARY_OPS, vjpOf, none as VjpRule<Prim>);
const UNARY_JVP = perOpRules("unary", UNARY_OPS, jvpOf, zero as JvpRule<Prim>);
const BINARY_JVP = perOpRules("binary", BINARY_OPS, jvpOf, zero as JvpRule<Prim>);

/**
 * VJP rules of `unary` and `binary`: the op's rule, generated from {@link DERIVATIVES}, looked
 * up once per application.
 */
export const elementwiseVjpRules: { unary: VjpRule<"unary">; binary: VjpRule<"binary"> } = {
  unary: (g, inputs, out, p) => UNARY_VJP[p.op](g, inputs, out, p),
  binary: (g, inputs, out, p) => BINARY_VJP[p.op](g, inputs, out, p),
};

/** JVP rules of `unary` and `binary`, generated from {@link DERIVATIVES} like the VJPs. */
export const elementwiseJvpRules: { unary: JvpRule<"unary">; binary: JvpRule<"binary"> } = {
  unary: (primals, tangents, out, p) => UNARY_JVP[p.op](primals, tangents, out, p),
  binary: (primals, tangents, out, p) => BINARY_JVP[p.op](primals, tangents, out, p),
};
