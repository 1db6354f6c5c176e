/**
 * Elementwise binary kernels (arithmetic, comparisons, logical and bitwise ops) and `where`,
 * with NumPy broadcasting. Same-shape operands take a single flat loop; otherwise operands
 * are read through broadcast strides (stride 0 on size-1 dimensions), row by row.
 * @module
 */
import type { Kernel, Operand, Storage } from "../backend.ts";
import type { DType, TypedArray } from "../dtype.ts";
import type { BinaryOp, BitwiseOp, CompareOp, LogicalOp } from "../primitives.ts";
import type { Aval } from "../aval.ts";
import { broadcastStrides, shapesEqual, sizeOf, stridesOf } from "../shape.ts";
import { type Loop2, rowLoop, whereLoop } from "./elementwise_loops.ts";
import { binaryExpr } from "./op_exprs.ts";
import { alloc, forEachRow, input, wrap } from "./iter.ts";

/**
 * Integer arithmetic (int32 and uint32): wraps modulo 2^32 (`|0`, `Math.imul`; the
 * Uint32Array store reinterprets the int32 bit pattern as unsigned). Other ops on integers
 * use the float expression (./op_exprs.ts).
 */
const INT_ARITH: Partial<Record<BinaryOp, string>> = {
  add: "(x + y) | 0",
  sub: "(x - y) | 0",
  mul: "Math.imul(x, y)",
};

/** Comparisons (bool 0/1 output; NaN compares unequal to everything). */
const COMPARE: Record<CompareOp, string> = {
  equal: "x === y ? 1 : 0",
  notEqual: "x !== y ? 1 : 0",
  less: "x < y ? 1 : 0",
  lessEqual: "x <= y ? 1 : 0",
  greater: "x > y ? 1 : 0",
  greaterEqual: "x >= y ? 1 : 0",
};

/** Logical ops on bool (0/1) operands. */
const LOGICAL: Record<LogicalOp, string> = {
  logicalAnd: "x & y",
  logicalOr: "x | y",
  logicalXor: "x ^ y",
};

/** Bitwise ops; shift counts are taken mod 32 and `>>>` shifts the unsigned bit pattern. */
const BITWISE: Record<BitwiseOp, string> = {
  bitwiseAnd: "x & y",
  bitwiseOr: "x | y",
  bitwiseXor: "x ^ y",
  shiftLeft: "x << (y & 31)",
  shiftRightLogical: "x >>> (y & 31)",
};

/** Applies a row loop over the broadcast of two operands into a new array for `out`. */
function runBinary(loop: Loop2, inputs: readonly Operand[], out: Aval): Storage {
  const a = inputs[0]!, b = inputs[1]!;
  const av = input(inputs, 0), bv = input(inputs, 1);
  const o = alloc(out);
  if (shapesEqual(a.shape, out.shape) && shapesEqual(b.shape, out.shape)) {
    loop(av, 0, 1, bv, 0, 1, o, 0, o.length);
  } else {
    const strides = [
      broadcastStrides(a.shape, out.shape),
      broadcastStrides(b.shape, out.shape),
      stridesOf(out.shape),
    ];
    forEachRow(out.shape, strides, [0, 0, 0], (offs, n, inner) => {
      loop(av, offs[0]!, inner[0]!, bv, offs[1]!, inner[1]!, o, offs[2]!, n);
    });
  }
  return wrap(o);
}

/** The expression of arithmetic `op` for outputs of `dtype`. */
function arithExpr(op: BinaryOp, dtype: DType): string {
  const isInt = dtype === "int32" || dtype === "uint32";
  return (isInt ? INT_ARITH[op] : undefined) ?? binaryExpr(op, "x", "y");
}

/**
 * The kernel of a binary family: `exprOf(op, dtype)` per op, compiled once per (op, input
 * dtype) into a row loop (./elementwise_loops.ts).
 */
function familyKernel<P extends "binary" | "compare" | "logical" | "bitwise">(
  prim: P,
  exprOf: (op: string, dtype: DType) => string,
): Kernel<P> {
  const loops: Record<string, Partial<Record<DType, Loop2>>> = {};
  return (inputs, params, out) => {
    const op = (params as { op: string }).op, dt = inputs[0]!.dtype;
    const byType = loops[op] ??= {};
    const loop = byType[dt] ??= rowLoop(`${prim} ${op}`, exprOf(op, dt), dt);
    return runBinary(loop, inputs, out);
  };
}

/** Kernel of the `binary` primitive (integer add/sub/mul wrap modulo 2^32). */
export const arithKernel: Kernel<"binary"> = familyKernel(
  "binary",
  (op, dt) => arithExpr(op as BinaryOp, dt),
);

/** Kernel of `compare` (bool output, NaN compares unequal to everything). */
export const compareKernel: Kernel<"compare"> = familyKernel(
  "compare",
  (op) => COMPARE[op as CompareOp],
);

/** Kernel of `logical` on bool (0/1) operands. */
export const logicalKernel: Kernel<"logical"> = familyKernel(
  "logical",
  (op) => LOGICAL[op as LogicalOp],
);

/** Kernel of `bitwise` on int32/uint32 operands (result in the input dtype). */
export const bitwiseKernel: Kernel<"bitwise"> = familyKernel(
  "bitwise",
  (op) => BITWISE[op as BitwiseOp],
);

/** The same bytes as an Int32Array (4-byte element arrays only). */
const int32View = (a: TypedArray): TypedArray =>
  a instanceof Int32Array ? a : new Int32Array(a.buffer, a.byteOffset, a.length);

/** `where(cond, x, y)`: picks `x` where `cond` is true, else `y`; all three broadcast. */
export const whereKernel: Kernel<"where"> = (inputs, _params, out): Storage => {
  const c = input(inputs, 0);
  let x = input(inputs, 1), y = input(inputs, 2), o = alloc(out);
  const res = o;
  const bits = o.BYTES_PER_ELEMENT === 4;
  if (bits) [x, y, o] = [int32View(x), int32View(y), int32View(o)];
  const loop = whereLoop(bits ? "bits32" : out.dtype);
  // Operands of the output's shape or single values (ReLU's backward `where(x > 0, g, 0)`):
  // one flat row.
  const steps = inputs.map((t) =>
    shapesEqual(t.shape, out.shape) ? 1 : sizeOf(t.shape) === 1 ? 0 : -1
  );
  if (steps.every((s) => s >= 0)) {
    loop(c, 0, steps[0]!, x, 0, steps[1]!, y, 0, steps[2]!, o, 0, o.length);
    return wrap(res);
  }
  const strides = [
    ...inputs.map((t) => broadcastStrides(t.shape, out.shape)),
    stridesOf(out.shape),
  ];
  forEachRow(out.shape, strides, [0, 0, 0, 0], (offs, n, inner) => {
    loop(c, offs[0]!, inner[0]!, x, offs[1]!, inner[1]!, y, offs[2]!, inner[2]!, o, offs[3]!, n);
  });
  return wrap(res);
};
