/**
 * The facts of each primitive and op (family, dtypes, linearity, how it is differentiated) and
 * the helpers that read them; re-exported by tensor/primitives.ts.
 * @module
 */
import type { PrimParams } from "./prim_params.ts";
import {
  ARG_REDUCE_OPS,
  BINARY_OPS,
  type BinaryOp,
  BITWISE_OPS,
  COMPARE_OPS,
  type FamilyPrim,
  LOGICAL_OPS,
  type Prim,
  type PrimFamily,
  PRIMS,
  REDUCE_OPS,
  UNARY_OPS,
  type UnaryOp,
} from "./prim_ops.ts";

/**
 * Input dtypes an elementwise or reduction primitive accepts: `float` (float32/float64),
 * `numeric` (any but bool), `signed` (numeric but not uint32), `int` (int32/uint32), `bool`,
 * `any`.
 */
export type DtypeClass = "float" | "numeric" | "signed" | "int" | "bool" | "any";

/**
 * How a primitive's derivative is defined: `rule` (a VJP/JVP formula in autodiff/),
 * `zero` (zero everywhere it exists: floor, sign, stopGradient), `nonFloat` (the output is
 * never float, so no rule ever runs) or `none` (differentiable in principle, but tessera has
 * no derivative: differentiating it throws "not differentiable").
 */
export type Differentiable = "rule" | "zero" | "nonFloat" | "none";

/** The facts of one primitive, kept in one place; shape rules and autodiff derive from them. */
export interface PrimInfo {
  /** Kernel-table and rule family. */
  readonly family: PrimFamily;
  /** The values of its `op` parameter, for a family primitive ({@link FAMILY_PRIMS}). */
  readonly ops?: readonly string[];
  /**
   * Per-op facts where they differ between the ops of a family (`unary`, `binary`): each op's
   * entry in {@link OP_INFO}. The family record's own `dtypes`/`linear`/`differentiable` then
   * hold for the family as a whole (`rule` when some op has a derivative).
   */
  readonly opInfo?: { readonly [op: string]: OpInfo };
  /**
   * Input dtypes and output dtype, for the families whose shape rule is generated from them
   * (elementwise and reductions); absent where the shape rule is written by hand.
   */
  readonly dtypes?: { readonly accepts: DtypeClass; readonly out: "same" | "bool" | "int32" };
  /**
   * Linear in its one tensor input, with params independent of the values: its JVP is the
   * primitive applied to the tangent.
   */
  readonly linear: boolean;
  /** How the derivative is defined. */
  readonly differentiable: Differentiable;
}

/** The facts of one op of the `unary` or `binary` family that differ from op to op. */
export interface OpInfo {
  /** Input dtypes it accepts (the output keeps the input dtype). */
  readonly accepts: DtypeClass;
  /** Linear in its input (its JVP is the op applied to the tangent). */
  readonly linear: boolean;
  /** How its derivative is defined (a `rule` op has an entry in autodiff/derivatives.ts). */
  readonly differentiable: Differentiable;
}

/** An op of the `unary` or `binary` family. */
export type ElementwiseOp = UnaryOp | BinaryOp;

const op = (accepts: DtypeClass, differentiable: Differentiable = "rule", linear = false) => ({
  accepts,
  linear,
  differentiable,
});

/**
 * The per-op facts of the elementwise families, one row per op: a mapped type over
 * {@link UnaryOp} and {@link BinaryOp}, so a new op without its row fails `deno check`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OP_INFO } from "./primitives.ts";
 * assert.equal(OP_INFO.exp.accepts, "float");
 * assert.equal(OP_INFO.floor.differentiable, "zero");
 * assert.equal(OP_INFO.neg.linear, true);
 * ```
 */
export const OP_INFO: { readonly [O in ElementwiseOp]: OpInfo } = {
  neg: op("signed", "rule", true),
  abs: op("numeric"),
  sign: op("signed", "zero"),
  exp: op("float"),
  log: op("float"),
  log1p: op("float"),
  expm1: op("float"),
  sqrt: op("float"),
  rsqrt: op("float"),
  reciprocal: op("float"),
  sin: op("float"),
  cos: op("float"),
  tanh: op("float"),
  erf: op("float"),
  erfc: op("float"),
  floor: op("float", "zero"),
  ceil: op("float", "zero"),
  round: op("float", "zero"),
  logicalNot: op("bool", "nonFloat"),
  add: op("numeric"),
  sub: op("numeric"),
  mul: op("numeric"),
  div: op("float"),
  pow: op("float"),
  maximum: op("numeric"),
  minimum: op("numeric"),
};

const fam = (
  family: FamilyPrim,
  ops: readonly string[],
  accepts: DtypeClass,
  out: "same" | "bool" | "int32",
  differentiable: Differentiable,
): PrimInfo => ({ family, ops, dtypes: { accepts, out }, linear: false, differentiable });
const elementwise = (family: "unary" | "binary", ops: readonly ElementwiseOp[]): PrimInfo => ({
  ...fam(family, ops, "any", "same", "rule"),
  opInfo: Object.fromEntries(ops.map((o) => [o, OP_INFO[o]])),
});
const other = (family: PrimFamily, differentiable: Differentiable, linear = false): PrimInfo => ({
  family,
  linear,
  differentiable,
});

/**
 * The facts of every primitive: a mapped type over {@link Prim}, so a new primitive without
 * its record fails `deno check`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PRIM_INFO } from "./primitives.ts";
 * assert.equal(PRIM_INFO.unary.opInfo?.exp?.accepts, "float");
 * assert.equal(PRIM_INFO.reshape.linear, true);
 * assert.equal(PRIM_INFO.argsort.differentiable, "nonFloat");
 * ```
 */
export const PRIM_INFO: { readonly [P in Prim]: PrimInfo } = {
  unary: elementwise("unary", UNARY_OPS),
  binary: elementwise("binary", BINARY_OPS),
  compare: fam("compare", COMPARE_OPS, "any", "bool", "nonFloat"),
  logical: fam("logical", LOGICAL_OPS, "bool", "same", "nonFloat"),
  bitwise: fam("bitwise", BITWISE_OPS, "int", "same", "nonFloat"),
  // Per-op derivative facts (sum is linear, max/min pick the extremum) live in the rules.
  reduce: fam("reduce", REDUCE_OPS, "numeric", "same", "rule"),
  argReduce: fam("argReduce", ARG_REDUCE_OPS, "numeric", "int32", "nonFloat"),
  where: other("select", "rule"),
  cumsum: other("scan", "rule", true),
  matmul: other("linalg", "rule"),
  reshape: other("layout", "rule", true),
  permute: other("layout", "rule", true),
  broadcastTo: other("layout", "rule", true),
  slice: other("layout", "rule", true),
  flip: other("layout", "rule", true),
  pad: other("layout", "rule"),
  concat: other("layout", "rule"),
  gather: other("indexing", "rule"),
  scatterAdd: other("indexing", "rule"),
  cast: other("convert", "rule"),
  bitcast: other("convert", "none"),
  argsort: other("sort", "nonFloat"),
  randomBits: other("random", "nonFloat"),
  stopGradient: other("identity", "zero"),
  conv2d: other("vision", "rule"),
  convTranspose2d: other("vision", "rule"),
  conv2dWeightGrad: other("vision", "rule"),
  maxPool2d: other("vision", "rule"),
  maxPool2dArgmax: other("vision", "nonFloat"),
  resample2d: other("vision", "rule", true),
  roiAlign: other("vision", "rule"),
  roiAlignGrad: other("vision", "rule"),
  nmsKeep: other("vision", "nonFloat"),
};

/**
 * The primitives whose {@link PrimInfo} matches `pred`, in {@link PRIMS} order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { primsWhere } from "./primitives.ts";
 * assert.deepEqual(primsWhere((i) => i.differentiable === "none"), ["bitcast"]);
 * ```
 */
export function primsWhere(pred: (info: PrimInfo, prim: Prim) => boolean): Prim[] {
  return PRIMS.filter((p) => pred(PRIM_INFO[p], p));
}

/**
 * The facts of one application's op: the {@link OpInfo} row of an elementwise family op,
 * else the primitive's own record (whose `dtypes.accepts` holds for all its ops).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { opInfo } from "./primitives.ts";
 * assert.equal(opInfo("unary", { op: "sign" }).differentiable, "zero");
 * assert.equal(opInfo("compare", { op: "less" }).accepts, "any");
 * assert.equal(opInfo("reshape", { shape: [2] }).linear, true);
 * ```
 */
export function opInfo<P extends Prim>(prim: P, params: PrimParams[P]): OpInfo {
  const info = PRIM_INFO[prim];
  const row = info.opInfo?.[opName(prim, params)];
  if (row) return row;
  return {
    accepts: info.dtypes?.accepts ?? "any",
    linear: info.linear,
    differentiable: info.differentiable,
  };
}

/**
 * The public op a primitive application stands for: the `op` parameter of a family primitive
 * (`compare` with `{ op: "less" }` is `less`), else the primitive's name. Errors raised while
 * applying a primitive name this op.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { opName } from "./primitives.ts";
 * assert.equal(opName("reduce", { op: "sum", axes: [0] }), "sum");
 * assert.equal(opName("unary", { op: "exp" }), "exp");
 * assert.equal(opName("matmul", { transA: false, transB: false }), "matmul");
 * ```
 */
export function opName<P extends Prim>(prim: P, params: PrimParams[P]): string {
  if (!PRIM_INFO[prim].ops) return prim;
  const op = (params as { op?: unknown } | undefined)?.op;
  return typeof op === "string" ? op : prim;
}

/**
 * Builds a table with one entry per name from a factory: how the backends' kernel tables and
 * the rule tables cover a list of primitives without a row each.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { perOp } from "./primitives.ts";
 * assert.deepEqual(perOp(["a", "b"], (op) => op.toUpperCase()), { a: "A", b: "B" });
 * ```
 */
export function perOp<K extends string, V>(ops: readonly K[], make: (op: K) => V): Record<K, V> {
  const table = {} as Record<K, V>;
  for (const op of ops) table[op] = make(op);
  return table;
}
