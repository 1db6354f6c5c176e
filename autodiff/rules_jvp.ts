/**
 * Forward-mode (JVP) rule of every primitive, written in primitives (so JVPs nest and mix
 * with VJPs). `null` tangents are symbolic zeros. A mapped type over `Prim` makes a missing
 * rule a `deno check` error.
 * @module
 */
import { bind } from "../tensor/dispatch.ts";
import { isFloat } from "../tensor/dtype.ts";
import type { Prim, PrimParams } from "../tensor/primitives.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { zerosLike } from "../tensor/creation.ts";
import { visionJvpRules } from "./rules_vision.ts";
import { equal, greater, logicalAnd } from "../tensor/ops/comparison.ts";
import { add, cast, div, mul, sub, where } from "../tensor/ops/elementwise.ts";
import { cos, exp, log, neg, sign, sin } from "../tensor/ops/unary.ts";

/** Output tangent from input primals and tangents (null = zero). */
export type JvpRule<P extends Prim> = (
  primals: readonly Tensor[],
  tangents: readonly (Tensor | null)[],
  out: Tensor,
  params: PrimParams[P],
) => Tensor | null;

const zero = (): null => null;
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** Broadcasts a tangent to the output shape (inputs of broadcasting ops may be smaller). */
function toOut(t: Tensor, out: Tensor): Tensor {
  const same = t.ndim === out.ndim && t.shape.every((d, i) => d === out.shape[i]);
  return same ? t : bind("broadcastTo", [t], { shape: out.shape });
}

/** Sum of optional terms, broadcast to the output; null when all are null. */
function sumTerms(out: Tensor, ...terms: (Tensor | null)[]): Tensor | null {
  let acc: Tensor | null = null;
  for (const t of terms) if (t) acc = acc ? add(acc, t) : t;
  return acc ? toOut(acc, out) : null;
}

/** Elementwise unary rule: tangent times a derivative factor. */
function unary(deriv: (x: Tensor, out: Tensor) => Tensor): JvpRule<Prim> {
  return ([x], [t], out) => (t ? mul(t, deriv(x!, out)) : null);
}

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

function winner(a: Tensor, b: Tensor, aWins: Tensor): Tensor {
  return add(cast(aWins, a.dtype), mul(cast(equal(a, b), a.dtype), 0.5));
}

/** JVP rules, one per primitive. */
export const jvpRules: { [P in Prim]: JvpRule<P> } = {
  neg: linear("neg"),
  abs: unary((x) => sign(x)),
  sign: zero,
  exp: unary((_x, out) => out),
  log: ([x], [t]) => (t ? div(t, x!) : null),
  log1p: ([x], [t]) => (t ? div(t, add(x!, 1)) : null),
  expm1: unary((_x, out) => add(out, 1)),
  sqrt: ([_x], [t], out) => (t ? div(t, mul(out, 2)) : null),
  rsqrt: unary((x, out) => mul(div(out, x), -0.5)),
  reciprocal: unary((_x, out) => neg(mul(out, out))),
  sin: unary((x) => cos(x)),
  cos: unary((x) => neg(sin(x))),
  tanh: unary((_x, out) => sub(1, mul(out, out))),
  erf: unary((x) => mul(exp(neg(mul(x, x))), TWO_OVER_SQRT_PI)),
  floor: zero,
  ceil: zero,
  round: zero,
  logicalNot: zero,
  add: (_p, [ta, tb], out) => sumTerms(out, ta!, tb!),
  sub: (_p, [ta, tb], out) => sumTerms(out, ta!, tb ? neg(tb) : null),
  mul: ([a, b], [ta, tb], out) => sumTerms(out, ta ? mul(ta, b!) : null, tb ? mul(a!, tb) : null),
  div: ([_a, b], [ta, tb], out) =>
    sumTerms(out, ta ? div(ta, b!) : null, tb ? neg(div(mul(tb, out), b!)) : null),
  pow: ([a, b], [ta, tb], out) => {
    const da = ta
      ? mul(
        ta,
        mul(
          b!,
          bind("pow", [where(logicalAnd(equal(a!, 0), equal(b!, 0)), 1, a!), sub(b!, 1)], {}),
        ),
      )
      : null;
    const db = tb ? mul(tb, mul(out, log(where(equal(a!, 0), 1, a!)))) : null;
    return sumTerms(out, da, db);
  },
  maximum: ([a, b], [ta, tb], out) => {
    const m = winner(a!, b!, greater(a!, b!));
    return sumTerms(out, ta ? mul(ta, m) : null, tb ? mul(tb, sub(1, m)) : null);
  },
  minimum: ([a, b], [ta, tb], out) => {
    const m = winner(a!, b!, greater(b!, a!));
    return sumTerms(out, ta ? mul(ta, m) : null, tb ? mul(tb, sub(1, m)) : null);
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
  matmul: ([a, b], [ta, tb], _out, p) => {
    const l = ta ? bind("matmul", [ta, b!], p) : null;
    const r = tb ? bind("matmul", [a!, tb], p) : null;
    return l && r ? add(l, r) : l ?? r;
  },
  reshape: linear("reshape"),
  permute: linear("permute"),
  broadcastTo: linear("broadcastTo"),
  slice: linear("slice"),
  flip: linear("flip"),
  pad: (_p, [t], _o, p) => (t ? bind("pad", [t], { ...p, value: 0 }) : null),
  concat: (primals, tangents, _o, p) => {
    if (tangents.every((t) => !t)) return null;
    return bind("concat", tangents.map((t, i) => t ?? zerosLike(primals[i]!)), p);
  },
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
  bitcast: zero,
  argsort: zero,
  randomBits: zero,
  stopGradient: zero,
  ...visionJvpRules,
};
