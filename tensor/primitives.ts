/**
 * The primitive set: the only operations a backend implements and the only ones that carry
 * derivative rules. Everything else in tessera is a composite of these.
 *
 * Families of ops that share arity, kernel shape and rule shape (unary math, binary
 * arithmetic, comparisons, logical and bitwise ops, value and index reductions) are ONE
 * primitive each with an `op` parameter (`bind("binary", [a, b], { op: "add" })`), as in
 * jax-js; errors still name the public op ({@link opName}). Each primitive's facts (family,
 * dtypes, linearity, how it is differentiated) are one {@link PRIM_INFO} record, and the facts
 * that differ between the ops of `unary` and `binary` one {@link OP_INFO} row per op; shape
 * rules and the trivial autodiff rules are derived from them.
 *
 * Adding an elementwise op means: its name in {@link UNARY_OPS} or {@link BINARY_OPS} with its
 * {@link OP_INFO} row, its JS expression in tensor/cpu/op_exprs.ts, a WGSL expression in
 * tensor/webgpu/elementwise.ts (none for a float op that is a call of its `tm_` math
 * function), its derivative in autodiff/derivatives.ts, the public op, and a gradient-table
 * row. Adding another primitive means: a name here with its {@link PRIM_INFO} record (and
 * params in {@link PrimParams}), a kernel per backend and its rules. The tables are mapped
 * types, so `deno check` fails until every one exists.
 * @module
 */
import type { DType } from "./dtype.ts";
import type {
  Conv2dParams,
  Conv2dWeightGradParams,
  ConvTranspose2dParams,
  MaxPool2dParams,
  NmsKeepParams,
  Resample2dParams,
  RoiAlignGradParams,
  RoiAlignParams,
} from "./vision_params.ts";

/**
 * The ops of the `unary` primitive: elementwise unary math (and `logicalNot`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UNARY_OPS } from "./primitives.ts";
 * assert.deepEqual(UNARY_OPS.slice(0, 4), ["neg", "abs", "sign", "exp"]);
 * ```
 */
export const UNARY_OPS = [
  "neg",
  "abs",
  "sign",
  "exp",
  "log",
  "log1p",
  "expm1",
  "sqrt",
  "rsqrt",
  "reciprocal",
  "sin",
  "cos",
  "tanh",
  "erf",
  "erfc",
  "floor",
  "ceil",
  "round",
  "logicalNot",
] as const;
/** A unary elementwise op (the `op` of the `unary` primitive). */
export type UnaryOp = typeof UNARY_OPS[number];

/**
 * The ops of the `binary` primitive: broadcasting arithmetic that keeps the input dtype.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BINARY_OPS } from "./primitives.ts";
 * assert.equal(BINARY_OPS.includes("add"), true);
 * assert.equal(BINARY_OPS.length, 7);
 * ```
 */
export const BINARY_OPS = ["add", "sub", "mul", "div", "pow", "maximum", "minimum"] as const;
/** An arithmetic binary op (the `op` of the `binary` primitive). */
export type BinaryOp = typeof BINARY_OPS[number];

/**
 * The ops of the `compare` primitive: elementwise comparisons (any dtype in, bool out).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { COMPARE_OPS } from "./primitives.ts";
 * assert.equal(COMPARE_OPS[2], "less");
 * ```
 */
export const COMPARE_OPS = [
  "equal",
  "notEqual",
  "less",
  "lessEqual",
  "greater",
  "greaterEqual",
] as const;
/** A comparison (the `op` of the `compare` primitive). */
export type CompareOp = typeof COMPARE_OPS[number];

/**
 * The ops of the `logical` primitive: elementwise logical ops on bool tensors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LOGICAL_OPS } from "./primitives.ts";
 * assert.deepEqual(LOGICAL_OPS, ["logicalAnd", "logicalOr", "logicalXor"]);
 * ```
 */
export const LOGICAL_OPS = ["logicalAnd", "logicalOr", "logicalXor"] as const;
/** A logical op (the `op` of the `logical` primitive). */
export type LogicalOp = typeof LOGICAL_OPS[number];

/**
 * The ops of the `bitwise` primitive: bitwise ops on int32/uint32 (shift counts taken mod 32);
 * used by the PRNG.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BITWISE_OPS } from "./primitives.ts";
 * assert.equal(BITWISE_OPS.includes("shiftLeft"), true);
 * ```
 */
export const BITWISE_OPS = [
  "bitwiseAnd",
  "bitwiseOr",
  "bitwiseXor",
  "shiftLeft",
  "shiftRightLogical",
] as const;
/** A bitwise op (the `op` of the `bitwise` primitive). */
export type BitwiseOp = typeof BITWISE_OPS[number];

/**
 * The ops of the `reduce` primitive: reductions that keep the input dtype.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { REDUCE_OPS } from "./primitives.ts";
 * assert.deepEqual(REDUCE_OPS, ["sum", "max", "min"]);
 * ```
 */
export const REDUCE_OPS = ["sum", "max", "min"] as const;
/** A value reduction (the `op` of the `reduce` primitive). */
export type ReduceOp = typeof REDUCE_OPS[number];

/**
 * The ops of the `argReduce` primitive: index reductions (int32 out).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ARG_REDUCE_OPS } from "./primitives.ts";
 * assert.deepEqual(ARG_REDUCE_OPS, ["argmax", "argmin"]);
 * ```
 */
export const ARG_REDUCE_OPS = ["argmax", "argmin"] as const;
/** An index reduction (the `op` of the `argReduce` primitive). */
export type ArgReduceOp = typeof ARG_REDUCE_OPS[number];

/**
 * The primitives that stand for a family of ops, chosen by their `op` parameter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FAMILY_PRIMS } from "./primitives.ts";
 * assert.deepEqual(FAMILY_PRIMS.slice(0, 3), ["unary", "binary", "compare"]);
 * ```
 */
export const FAMILY_PRIMS = [
  "unary",
  "binary",
  "compare",
  "logical",
  "bitwise",
  "reduce",
  "argReduce",
] as const;
/** A primitive with an `op` parameter. */
export type FamilyPrim = typeof FAMILY_PRIMS[number];

/**
 * Every other primitive.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OTHER_OPS } from "./primitives.ts";
 * assert.equal(OTHER_OPS.includes("matmul"), true);
 * ```
 */
export const OTHER_OPS = [
  "where",
  "cumsum",
  "matmul",
  "reshape",
  "permute",
  "broadcastTo",
  "slice",
  "flip",
  "pad",
  "concat",
  "gather",
  "scatterAdd",
  "cast",
  "bitcast",
  "argsort",
  "randomBits",
  "stopGradient",
] as const;

/**
 * Vision primitives (NCHW; see tensor/vision_params.ts for their parameters).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VISION_OPS } from "./primitives.ts";
 * assert.equal(VISION_OPS[0], "conv2d");
 * ```
 */
export const VISION_OPS = [
  "conv2d",
  "convTranspose2d",
  "conv2dWeightGrad",
  "maxPool2d",
  "maxPool2dArgmax",
  "resample2d",
  "roiAlign",
  "roiAlignGrad",
  "nmsKeep",
] as const;
/** A vision primitive name. */
export type VisionOp = typeof VISION_OPS[number];

/**
 * All primitives.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PRIMS } from "./primitives.ts";
 * assert.equal(PRIMS.includes("conv2d"), true);
 * assert.equal(PRIMS.at(-1), "nmsKeep");
 * ```
 */
export const PRIMS = [
  ...FAMILY_PRIMS,
  ...OTHER_OPS,
  ...VISION_OPS,
] as const;
/** A primitive name. */
export type Prim = typeof PRIMS[number];

/** The families primitives fall into (what a backend's kernel table and the rules group by). */
export type PrimFamily =
  | "unary"
  | "binary"
  | "compare"
  | "logical"
  | "bitwise"
  | "reduce"
  | "argReduce"
  | "select"
  | "scan"
  | "linalg"
  | "layout"
  | "indexing"
  | "convert"
  | "sort"
  | "random"
  | "identity"
  | "vision";

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

/** Params of primitives that take none. */
export type NoParams = Record<string, never>;

/**
 * Static parameters of each primitive, normalised (axes non-negative and sorted, full-length
 * per-axis lists). Inputs are tensors and are passed separately.
 */
export type PrimParams =
  & {
    /** Elementwise unary op. */
    unary: { op: UnaryOp };
    /** Broadcasting arithmetic, same dtype in and out. */
    binary: { op: BinaryOp };
    /** Broadcasting comparison, bool out. */
    compare: { op: CompareOp };
    /** Broadcasting logical op on bools. */
    logical: { op: LogicalOp };
    /** Broadcasting bitwise op on int32/uint32. */
    bitwise: { op: BitwiseOp };
    /** Reduced axes are kept with size 1 (the public op reshapes them away). */
    reduce: { op: ReduceOp; axes: readonly number[] };
    /** Index of the extreme element along `axis`; output keeps `axis` with size 1. */
    argReduce: { op: ArgReduceOp; axis: number };
  }
  & {
    /** inputs: cond (bool), x, y — broadcast together. */
    where: NoParams;
    cumsum: { axis: number; reverse: boolean };
    /** inputs a [...batch, M, K] (or [..., K, M] when transA), b likewise; batch dims broadcast. */
    matmul: { transA: boolean; transB: boolean };
    reshape: { shape: readonly number[] };
    permute: { perm: readonly number[] };
    broadcastTo: { shape: readonly number[] };
    /** Full-length per-axis lists; steps ≥ 1; 0 ≤ start; stop ≥ start. */
    slice: { starts: readonly number[]; stops: readonly number[]; steps: readonly number[] };
    flip: { axes: readonly number[] };
    /** Constant padding with `interior` elements between neighbours; all entries ≥ 0. */
    pad: {
      lo: readonly number[];
      hi: readonly number[];
      interior: readonly number[];
      value: number;
    };
    concat: { axis: number };
    /** inputs x, indices (int32); out shape x[:axis] ++ indices ++ x[axis+1:]. */
    gather: { axis: number };
    /** inputs x, indices (int32), updates; adds updates into a copy of x (adjoint of gather). */
    scatterAdd: { axis: number };
    /** Value conversion (float→int truncates toward zero; to bool is `x != 0`). */
    cast: { dtype: DType };
    /** Reinterprets the bits between same-width dtypes (float32/int32/uint32). */
    bitcast: { dtype: DType };
    /** Stable; int32 indices along `axis`. */
    argsort: { axis: number; descending: boolean };
    /** input: a uint32 key of shape [2]; Threefry-2x32 bits (JAX's layout). */
    randomBits: { shape: readonly number[] };
    /** Identity whose derivative is zero at every order. */
    stopGradient: NoParams;
  }
  & {
    /** inputs x [N,C,H,W], w [O,C/groups,kh,kw] → [N,O,OH,OW]. */
    conv2d: Conv2dParams;
    /** inputs x [N,Cin,H,W], w [Cin,Cout/groups,kh,kw] (conv2d's input adjoint). */
    convTranspose2d: ConvTranspose2dParams;
    /** inputs x [N,C,H,W], dy [N,O,OH,OW] → [O,C/groups,kh,kw] (conv2d's weight adjoint). */
    conv2dWeightGrad: Conv2dWeightGradParams;
    /** Window maxima (NaN propagates). */
    maxPool2d: MaxPool2dParams;
    /** int32 flat `h·W + w` index of each window's maximum (PyTorch's `indices`). */
    maxPool2dArgmax: MaxPool2dParams;
    /** A separable sparse linear map (pools, interpolation) or its transpose. */
    resample2d: Resample2dParams;
    /** inputs x [N,C,H,W], boxes [K,5] → [K,C,ph,pw]. */
    roiAlign: RoiAlignParams;
    /** inputs g [K,C,ph,pw], boxes [K,5] → [N,C,H,W] (roiAlign's adjoint). */
    roiAlignGrad: RoiAlignGradParams;
    /** input boxes [K,4] sorted by score → bool [K]: kept by greedy NMS. */
    nmsKeep: NmsKeepParams;
  };

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
