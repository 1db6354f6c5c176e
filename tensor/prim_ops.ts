/**
 * The primitive set's names: each op family's ops and the list of primitives (their facts are
 * in tensor/prim_info.ts, their parameters in tensor/primitives.ts, which re-exports all).
 * @module
 */
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
