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
import type { BinaryOp, Prim, UnaryOp } from "../tensor/primitives.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { JvpRule, VjpNeeds, VjpRule } from "./rule_kit.ts";

/** The linear map `t ↦ ∂out/∂input · t` of one input (pointwise, broadcasting). */
export type Partial = (t: Tensor) => Tensor;

/**
 * The derivative of an elementwise primitive: one {@link Partial} per input (null, or a
 * shorter list, where the output does not depend on that input differentiably). Factors
 * shared by several inputs are computed once, in the function body.
 */
export type Derivative = (inputs: readonly Tensor[], out: Tensor) => readonly (Partial | null)[];

/** An elementwise primitive with a derivative entry. */
export type ElementwiseOp = UnaryOp | BinaryOp;

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
    (t) => mul(t, mul(b, bind("pow", [base(), sub(b, 1)], {}))),
    (t) => mul(t, mul(out, log(where(equal(a, 0), 1, a)))),
  ];
}

/**
 * The derivative of every differentiable elementwise primitive (`PRIM_INFO` says `rule`); the
 * zero ones (sign, floor, …) and the non-float ones (logicalNot) get their rules from
 * `PRIM_INFO` instead. A new `rule` primitive without an entry fails when autodiff/ loads
 * ("no vjp rule for …").
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
 * `mul` its inputs.
 */
export const ELEMENTWISE_NEEDS: { readonly [P in ElementwiseOp]?: VjpNeeds } = {
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

function generate<R>(of: (d: Derivative) => R): { [P in ElementwiseOp]?: R } {
  const rules: { [P in ElementwiseOp]?: R } = {};
  for (const [p, d] of Object.entries(DERIVATIVES) as [ElementwiseOp, Derivative][]) {
    rules[p] = of(d);
  }
  return rules;
}

/** VJP rules of the elementwise primitives, generated from {@link DERIVATIVES}. */
export const elementwiseVjpRules: { [P in ElementwiseOp]?: VjpRule<P> } = generate(vjpOf);

/** JVP rules of the elementwise primitives, generated from {@link DERIVATIVES}. */
export const elementwiseJvpRules: { [P in ElementwiseOp]?: JvpRule<P> } = generate(jvpOf);
