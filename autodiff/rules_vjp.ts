/**
 * Reverse-mode (VJP) rule of every primitive, written in primitives so that gradients are
 * themselves differentiable. The table is a mapped type over `Prim`: a primitive without a
 * rule fails `deno check`.
 * @module
 */
import { bind } from "../tensor/dispatch.ts";
import { isFloat } from "../tensor/dtype.ts";
import type { Prim, PrimParams } from "../tensor/primitives.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { zerosLike } from "../tensor/creation.ts";
import { visionVjpRules } from "./rules_vision.ts";
import { equal, greater, logicalAnd } from "../tensor/ops/comparison.ts";
import { add, cast, div, mul, sub, where } from "../tensor/ops/elementwise.ts";
import { cos, exp, log, neg, sign, sin } from "../tensor/ops/unary.ts";
import { sumToShape } from "../tensor/ops/reduce.ts";

/** Cotangents of the inputs (null = zero / not differentiable) given the output cotangent. */
export type VjpRule<P extends Prim> = (
  g: Tensor,
  inputs: readonly Tensor[],
  out: Tensor,
  params: PrimParams[P],
) => (Tensor | null)[];

const none = (_g: Tensor, inputs: readonly Tensor[]): null[] => inputs.map(() => null);
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

function extremumMask(x: Tensor, out: Tensor, axes: readonly number[]): Tensor {
  const m = cast(equal(x, out), x.dtype);
  return div(m, bind("sum", [m], { axes }));
}

/** Share of the gradient going to `a` in maximum/minimum: 1 where it wins, ½ on ties. */
function winnerMask(a: Tensor, b: Tensor, aWins: Tensor): Tensor {
  return add(cast(aWins, a.dtype), mul(cast(equal(a, b), a.dtype), 0.5));
}

function matmulVjp(g: Tensor, [a, b]: readonly Tensor[], p: PrimParams["matmul"]): Tensor[] {
  const mm = (x: Tensor, y: Tensor, transA: boolean, transB: boolean) =>
    bind("matmul", [x, y], { transA, transB });
  const da = p.transA ? mm(b!, g, p.transB, true) : mm(g, b!, false, !p.transB);
  const db = p.transB ? mm(g, a!, true, p.transA) : mm(a!, g, !p.transA, false);
  return [sumToShape(da, a!.shape), sumToShape(db, b!.shape)];
}

function sliceVjp(g: Tensor, x: Tensor, p: PrimParams["slice"]): Tensor {
  const lo: number[] = [], hi: number[] = [], interior: number[] = [];
  x.shape.forEach((d, i) => {
    const m = g.shape[i]!;
    if (m === 0) {
      lo.push(d), hi.push(0), interior.push(0);
      return;
    }
    const s = p.starts[i]!, st = p.steps[i]!;
    lo.push(s), interior.push(st - 1), hi.push(d - (s + (m - 1) * st + 1));
  });
  return bind("pad", [g], { lo, hi, interior, value: 0 });
}

function padVjp(g: Tensor, x: Tensor, p: PrimParams["pad"]): Tensor {
  const starts = p.lo.slice();
  const steps = p.interior.map((v) => v + 1);
  const stops = x.shape.map((
    d,
    i,
  ) => (d === 0 ? starts[i]! : starts[i]! + (d - 1) * steps[i]! + 1));
  return bind("slice", [g], { starts, stops, steps });
}

function concatVjp(g: Tensor, inputs: readonly Tensor[], axis: number): Tensor[] {
  let off = 0;
  return inputs.map((t) => {
    const starts = g.shape.map((_, i) => (i === axis ? off : 0));
    const stops = g.shape.map((d, i) => (i === axis ? off + t.shape[axis]! : d));
    off += t.shape[axis]!;
    return bind("slice", [g], { starts, stops, steps: g.shape.map(() => 1) });
  });
}

/**
 * What each rule reads besides shapes, dtypes and params, so the tape pins only that (a rule
 * not listed may read both its inputs and its output). Keeping less lets scopes free more of
 * the forward pass: e.g. `add` needs only shapes, `exp` only its output, `mul` its inputs.
 */
export const vjpNeeds: Partial<Record<Prim, "nothing" | "out" | "inputs">> = {
  neg: "nothing",
  add: "nothing",
  sub: "nothing",
  sum: "nothing",
  cumsum: "nothing",
  reshape: "nothing",
  permute: "nothing",
  broadcastTo: "nothing",
  slice: "nothing",
  flip: "nothing",
  pad: "nothing",
  concat: "nothing",
  cast: "nothing",
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
  mul: "inputs",
  matmul: "inputs",
  where: "inputs",
  maximum: "inputs",
  minimum: "inputs",
};

/** VJP rules, one per primitive. */
export const vjpRules: { [P in Prim]: VjpRule<P> } = {
  neg: (g) => [neg(g)],
  abs: (g, [x]) => [mul(g, sign(x!))],
  sign: none,
  exp: (g, _i, out) => [mul(g, out)],
  log: (g, [x]) => [div(g, x!)],
  log1p: (g, [x]) => [div(g, add(x!, 1))],
  expm1: (g, _i, out) => [mul(g, add(out, 1))],
  sqrt: (g, _i, out) => [div(g, mul(out, 2))],
  rsqrt: (g, [x], out) => [mul(g, mul(div(out, x!), -0.5))],
  reciprocal: (g, _i, out) => [neg(mul(g, mul(out, out)))],
  sin: (g, [x]) => [mul(g, cos(x!))],
  cos: (g, [x]) => [neg(mul(g, sin(x!)))],
  tanh: (g, _i, out) => [mul(g, sub(1, mul(out, out)))],
  erf: (g, [x]) => [mul(g, mul(exp(neg(mul(x!, x!))), TWO_OVER_SQRT_PI))],
  floor: none,
  ceil: none,
  round: none,
  logicalNot: none,
  add: (g, [a, b]) => [sumToShape(g, a!.shape), sumToShape(g, b!.shape)],
  sub: (g, [a, b]) => [sumToShape(g, a!.shape), sumToShape(neg(g), b!.shape)],
  mul: (g, [a, b]) => [sumToShape(mul(g, b!), a!.shape), sumToShape(mul(g, a!), b!.shape)],
  div: (g, [a, b], out) => [
    sumToShape(div(g, b!), a!.shape),
    sumToShape(neg(div(mul(g, out), b!)), b!.shape),
  ],
  pow: (g, [a, b], out) => {
    // d/da = b·a^(b-1) (0 where b == 0); d/db = log(a)·a^b with log(0) replaced by 0.
    // Guard only a == b == 0 (0·0^-1); elsewhere keep the path to b for mixed derivatives.
    const safe = where(logicalAnd(equal(a!, 0), equal(b!, 0)), 1, a!);
    const da = mul(b!, bind("pow", [safe, sub(b!, 1)], {}));
    const safeA = where(equal(a!, 0), 1, a!);
    return [sumToShape(mul(g, da), a!.shape), sumToShape(mul(g, mul(out, log(safeA))), b!.shape)];
  },
  maximum: (g, [a, b]) => {
    const m = winnerMask(a!, b!, greater(a!, b!));
    return [sumToShape(mul(g, m), a!.shape), sumToShape(mul(g, sub(1, m)), b!.shape)];
  },
  minimum: (g, [a, b]) => {
    const m = winnerMask(a!, b!, greater(b!, a!));
    return [sumToShape(mul(g, m), a!.shape), sumToShape(mul(g, sub(1, m)), b!.shape)];
  },
  equal: none,
  notEqual: none,
  less: none,
  lessEqual: none,
  greater: none,
  greaterEqual: none,
  logicalAnd: none,
  logicalOr: none,
  logicalXor: none,
  bitwiseAnd: none,
  bitwiseOr: none,
  bitwiseXor: none,
  shiftLeft: none,
  shiftRightLogical: none,
  sum: (g, [x]) => [bind("broadcastTo", [g], { shape: x!.shape })],
  max: (g, [x], out, p) => [mul(g, extremumMask(x!, out, p.axes))],
  min: (g, [x], out, p) => [mul(g, extremumMask(x!, out, p.axes))],
  argmax: none,
  argmin: none,
  where: (g, [c, x, y]) => [
    null,
    sumToShape(where(c!, g, 0), x!.shape),
    sumToShape(where(c!, 0, g), y!.shape),
  ],
  cumsum: (g, _i, _o, p) => [bind("cumsum", [g], { axis: p.axis, reverse: !p.reverse })],
  matmul: (g, inputs, _o, p) => matmulVjp(g, inputs, p),
  reshape: (g, [x]) => [bind("reshape", [g], { shape: x!.shape })],
  permute: (g, _i, _o, p) => {
    const inv = new Array<number>(p.perm.length);
    p.perm.forEach((a, i) => (inv[a] = i));
    return [bind("permute", [g], { perm: inv })];
  },
  broadcastTo: (g, [x]) => [sumToShape(g, x!.shape)],
  slice: (g, [x], _o, p) => [sliceVjp(g, x!, p)],
  flip: (g, _i, _o, p) => [bind("flip", [g], p)],
  pad: (g, [x], _o, p) => [padVjp(g, x!, p)],
  concat: (g, inputs, _o, p) => concatVjp(g, inputs, p.axis),
  gather: (g, [x, idx], _o, p) => [bind("scatterAdd", [zerosLike(x!), idx!, g], p), null],
  scatterAdd: (g, [_x, idx], _o, p) => [g, null, bind("gather", [g, idx!], p)],
  cast: (g, [x]) => [isFloat(x!.dtype) && isFloat(g.dtype) ? cast(g, x!.dtype) : null],
  bitcast: none,
  argsort: none,
  randomBits: none,
  stopGradient: none,
  ...visionVjpRules,
};
