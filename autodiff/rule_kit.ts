/**
 * What the derivative-rule tables share (a leaf: it imports no rule table, so rules_vjp.ts,
 * rules_jvp.ts, rules_vision.ts, derivatives.ts and trace.ts all import it without a circle):
 * the rule types and the three rule values for primitives without a derivative formula.
 *
 * - `none` / `zero`: the derivative is genuinely zero (floor, sign, stopGradient) or the rule
 *   can never run because the primitive's output is not float (comparisons, argmax, argsort,
 *   randomBits, …): traces only call a rule for a float output of an active float input.
 * - {@link notDifferentiable}: the primitive does have a derivative in principle but tessera
 *   defines none; its rule throws instead of silently returning a zero gradient.
 *
 * Which primitives get `none`/`zero` (and, for the JVP, the linear map `linear`) is derived
 * from `PRIM_INFO` (tensor/primitives.ts) by {@link derivedRules}; the rule tables are
 * checked complete when autodiff/ loads.
 * @module
 */
import { bind } from "../tensor/dispatch.ts";
import { TesseraError } from "../tensor/errors.ts";
import { add } from "../tensor/ops/elementwise.ts";
import { type Prim, PRIM_INFO, type PrimParams, PRIMS } from "../tensor/primitives.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** Cotangents of the inputs (null = zero / not differentiable) given the output cotangent. */
export type VjpRule<P extends Prim> = (
  g: Tensor,
  inputs: readonly Tensor[],
  out: Tensor,
  params: PrimParams[P],
) => (Tensor | null)[];

/**
 * What a VJP rule reads besides shapes, dtypes and params (the tape pins only that):
 * nothing, the output, or the inputs.
 */
export type VjpNeeds = "nothing" | "out" | "inputs";

/** Output tangent from input primals and tangents (null = zero). */
export type JvpRule<P extends Prim> = (
  primals: readonly Tensor[],
  tangents: readonly (Tensor | null)[],
  out: Tensor,
  params: PrimParams[P],
) => Tensor | null;

/** VJP of a primitive with zero derivative (or a non-float output): no cotangent for any input. */
export const none = (_g: Tensor, inputs: readonly Tensor[]): null[] => inputs.map(() => null);

/** JVP of a primitive with zero derivative (or a non-float output): a symbolic zero tangent. */
export const zero = (): null => null;

/**
 * The rule (usable as VJP and as JVP rule) of a primitive that is differentiable in principle
 * but has no derivative in tessera: calling it throws `TesseraError(prim, "not
 * differentiable: <why>")`, so a gradient through it fails loudly instead of being zero.
 * VJP rules run in the backward pass, so under `grad` the error comes from the pullback.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { notDifferentiable } from "./rule_kit.ts";
 * const rule = notDifferentiable("bitcast", "it reinterprets bits");
 * assert.throws(() => rule(), /^TesseraError: bitcast: not differentiable: it reinterprets bits/);
 * ```
 */
export function notDifferentiable(prim: Prim, why: string): () => never {
  return () => {
    throw new TesseraError(prim, `not differentiable: ${why}`);
  };
}

/**
 * JVP of a primitive linear in each of its first two inputs (matmul, the convolutions):
 * `f(ta, b) + f(a, tb)`, each term only where that tangent is nonzero.
 */
export function bilinear<P extends Prim>(prim: P): JvpRule<P> {
  return ([a, b], [ta, tb], _out, p) => {
    const l = ta ? bind(prim, [ta, b!], p) : null;
    const r = tb ? bind(prim, [a!, tb], p) : null;
    return l && r ? add(l, r) : l ?? r;
  };
}

/** A linear primitive's JVP: the same primitive applied to the tangent. */
export function linear<P extends Prim>(prim: P): JvpRule<P> {
  return (_p, [t], _o, params) => (t ? bind(prim, [t], params) : null);
}

/**
 * The rules {@link PRIM_INFO} implies, for one mode: `none`/`zero` for the primitives whose
 * output is never float (`nonFloat`: no rule can run) and whose derivative is zero (sign,
 * floor, stopGradient, …), and for `jvp` the tangent map of every linear primitive outside
 * the elementwise families (their rules come from derivatives.ts).
 */
export function derivedRules(mode: "vjp"): { [P in Prim]?: VjpRule<P> };
export function derivedRules(mode: "jvp"): { [P in Prim]?: JvpRule<P> };
export function derivedRules(mode: "vjp" | "jvp"): Record<string, unknown> {
  const rules: Record<string, unknown> = {};
  for (const p of PRIMS) {
    const info = PRIM_INFO[p];
    const elementwise = info.family === "unary" || info.family === "binary";
    if (info.differentiable === "nonFloat" || info.differentiable === "zero") {
      rules[p] = mode === "vjp" ? none : zero;
    } else if (mode === "jvp" && info.linear && !elementwise) {
      rules[p] = linear(p);
    }
  }
  return rules;
}

function complete(mode: string, rules: Record<string, unknown>): void {
  const missing = PRIMS.filter((p) => !rules[p]);
  if (missing.length) {
    throw new TesseraError("autodiff", `no ${mode} rule for ${missing.join(", ")}`);
  }
}

/**
 * The VJP table from derived and written entries, checked to have a rule for every primitive
 * (this runs once, when autodiff/ is loaded, and names what is missing).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { completeVjpRules } from "./rule_kit.ts";
 * assert.throws(() => completeVjpRules({}), /no vjp rule for unary, binary/);
 * ```
 */
export function completeVjpRules(rules: { [P in Prim]?: VjpRule<P> }): { [P in Prim]: VjpRule<P> } {
  complete("vjp", rules);
  return rules as { [P in Prim]: VjpRule<P> };
}

/**
 * The JVP table from derived and written entries, checked like {@link completeVjpRules}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { completeJvpRules } from "./rule_kit.ts";
 * assert.throws(() => completeJvpRules({}), /no jvp rule for unary, binary/);
 * ```
 */
export function completeJvpRules(rules: { [P in Prim]?: JvpRule<P> }): { [P in Prim]: JvpRule<P> } {
  complete("jvp", rules);
  return rules as { [P in Prim]: JvpRule<P> };
}
