/**
 * Reverse-mode (VJP) rule of every primitive, written in primitives so that gradients are
 * themselves differentiable. The table is a mapped type over `Prim`: a primitive without a
 * rule fails `deno check`. The elementwise primitives' rules are generated from their one
 * derivative in derivatives.ts, the vision primitives' come from rules_vision.ts.
 * @module
 */
import { bind } from "../tensor/dispatch.ts";
import { isFloat } from "../tensor/dtype.ts";
import {
  opName,
  type Prim,
  type PrimParams,
  primsWhere,
  type ReduceOp,
} from "../tensor/primitives.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { zerosLike } from "../tensor/creation.ts";
import { visionVjpRules } from "./rules_vision.ts";
import { ELEMENTWISE_NEEDS, elementwiseVjpRules } from "./derivatives.ts";
import {
  completeVjpRules,
  derivedRules,
  notDifferentiable,
  type VjpNeeds,
  type VjpRule,
} from "./rule_kit.ts";
import { equal } from "../tensor/ops/comparison.ts";
import { cast, div, mul, where } from "../tensor/ops/elementwise.ts";
import { sumToShape } from "../tensor/ops/reduce.ts";

function extremumMask(x: Tensor, out: Tensor, axes: readonly number[]): Tensor {
  const m = cast(equal(x, out), x.dtype);
  return div(m, bind("reduce", [m], { op: "sum", axes }));
}

/** The VJP of each `reduce` op: sum broadcasts back, max/min share among the ties. */
const REDUCE_VJP: Record<ReduceOp, VjpRule<"reduce">> = {
  sum: (g, [x]) => [bind("broadcastTo", [g], { shape: x!.shape })],
  max: (g, [x], out, p) => [mul(g, extremumMask(x!, out, p.axes))],
  min: (g, [x], out, p) => [mul(g, extremumMask(x!, out, p.axes))],
};

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

/** Per-op needs of the family primitives (an op not listed reads inputs and output). */
const FAMILY_NEEDS: { [P in Prim]?: Readonly<Record<string, VjpNeeds>> } = {
  unary: ELEMENTWISE_NEEDS,
  binary: ELEMENTWISE_NEEDS,
  reduce: { sum: "nothing" },
};

/** Needs PRIM_INFO implies: zero rules and linear non-elementwise maps read nothing. */
const DERIVED_NEEDS = Object.fromEntries(
  primsWhere((i) =>
    i.differentiable === "zero" || i.differentiable === "nonFloat" ||
    (i.linear && i.family !== "unary" && i.family !== "binary")
  ).map((p) => [p, "nothing"]),
) as { [P in Prim]?: VjpNeeds };

const NEEDS: { [P in Prim]?: VjpNeeds } = {
  ...DERIVED_NEEDS,
  pad: "nothing",
  concat: "nothing",
  cast: "nothing",
  matmul: "inputs",
  where: "inputs",
};

/**
 * What the VJP rule of one application reads besides shapes, dtypes and params, so the tape
 * pins only that (undefined: both its inputs and its output). Keeping less lets scopes free
 * more of the forward pass: e.g. `add` needs only shapes, `exp` only its output, `mul` its
 * inputs; a family primitive's needs depend on its op (`sum` needs nothing, `max` both).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vjpNeeds } from "./rules_vjp.ts";
 * assert.equal(vjpNeeds("unary", { op: "exp" }), "out");
 * assert.equal(vjpNeeds("reduce", { op: "sum", axes: [0] }), "nothing");
 * assert.equal(vjpNeeds("reduce", { op: "max", axes: [0] }), undefined);
 * ```
 */
export function vjpNeeds<P extends Prim>(prim: P, params: PrimParams[P]): VjpNeeds | undefined {
  const perOp = FAMILY_NEEDS[prim];
  return perOp ? perOp[opName(prim, params)] : NEEDS[prim];
}

/**
 * VJP rules, one per primitive: those {@link PRIM_INFO} implies (non-float outputs, zero
 * derivatives), the generated elementwise and vision ones, and the rest written here.
 */
export const vjpRules: { [P in Prim]: VjpRule<P> } = completeVjpRules({
  ...derivedRules("vjp"),
  ...elementwiseVjpRules,
  permute: (g, _i, _o, p) => {
    const inv = new Array<number>(p.perm.length);
    p.perm.forEach((a, i) => (inv[a] = i));
    return [bind("permute", [g], { perm: inv })];
  },
  reduce: (g, inputs, out, p) => REDUCE_VJP[p.op](g, inputs, out, p),
  where: (g, [c, x, y]) => [
    null,
    sumToShape(where(c!, g, 0), x!.shape),
    sumToShape(where(c!, 0, g), y!.shape),
  ],
  cumsum: (g, _i, _o, p) => [bind("cumsum", [g], { axis: p.axis, reverse: !p.reverse })],
  matmul: (g, inputs, _o, p) => matmulVjp(g, inputs, p),
  reshape: (g, [x]) => [bind("reshape", [g], { shape: x!.shape })],
  broadcastTo: (g, [x]) => [sumToShape(g, x!.shape)],
  slice: (g, [x], _o, p) => [sliceVjp(g, x!, p)],
  flip: (g, _i, _o, p) => [bind("flip", [g], p)],
  pad: (g, [x], _o, p) => [padVjp(g, x!, p)],
  concat: (g, inputs, _o, p) => concatVjp(g, inputs, p.axis),
  gather: (g, [x, idx], _o, p) => [bind("scatterAdd", [zerosLike(x!), idx!, g], p), null],
  scatterAdd: (g, [_x, idx], _o, p) => [g, null, bind("gather", [g, idx!], p)],
  cast: (g, [x]) => [isFloat(x!.dtype) && isFloat(g.dtype) ? cast(g, x!.dtype) : null],
  bitcast: notDifferentiable("bitcast", "it reinterprets bits (use cast for a value conversion)"),
  ...visionVjpRules,
});
