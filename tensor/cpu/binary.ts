/**
 * Elementwise binary kernels (arithmetic, comparisons, logical and bitwise ops) and `where`,
 * with NumPy broadcasting. Same-shape operands take a single flat loop; otherwise operands
 * are read through broadcast strides (stride 0 on size-1 dimensions), row by row.
 * @module
 */
import type { Kernel, Operand, Storage } from "../backend.ts";
import type { TypedArray } from "../dtype.ts";
import {
  BINARY_OPS,
  type BinaryOp,
  type BitwiseOp,
  type CompareOp,
  type LogicalOp,
  perOp,
} from "../primitives.ts";
import type { Aval } from "../aval.ts";
import { broadcastStrides, shapesEqual, stridesOf } from "../shape.ts";
import { F32_ARITH } from "./f32.ts";
import { alloc, forEachRow, input, wrap } from "./iter.ts";

/**
 * One row of a binary op: `o[oo + j] = f(a[ao + j*as], b[bo + j*bs])` for `j < n`.
 * The output is always written contiguously.
 */
type Loop2 = (
  a: TypedArray,
  ao: number,
  as: number,
  b: TypedArray,
  bo: number,
  bs: number,
  o: TypedArray,
  oo: number,
  n: number,
) => void;

const FLOAT_ARITH: Record<BinaryOp, Loop2> = {
  add: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = a[ia]! + b[ib]!;
  },
  sub: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = a[ia]! - b[ib]!;
  },
  mul: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = a[ia]! * b[ib]!;
  },
  div: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = a[ia]! / b[ib]!;
  },
  pow: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = powC(a[ia]!, b[ib]!);
  },
  maximum: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) {
      const x = a[ia]!, y = b[ib]!;
      o[oo + j] = x > y || x !== x ? x : y; // NaN in either propagates
    }
  },
  minimum: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) {
      const x = a[ia]!, y = b[ib]!;
      o[oo + j] = x < y || x !== x ? x : y;
    }
  },
};

/**
 * Integer arithmetic (int32 and uint32): wraps modulo 2^32 (`|0`, `Math.imul`; the
 * Uint32Array store reinterprets the int32 bit pattern as unsigned).
 */
const INT_ARITH: Partial<Record<BinaryOp, Loop2>> = {
  add: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = (a[ia]! + b[ib]!) | 0;
  },
  sub: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = (a[ia]! - b[ib]!) | 0;
  },
  mul: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = Math.imul(a[ia]!, b[ib]!);
  },
};

/**
 * `pow` with C/IEEE 754 special cases where JavaScript differs: pow(1, y) = 1 and
 * pow(-1, ±∞) = 1 (JavaScript gives NaN), as in NumPy and PyTorch.
 */
export function powC(x: number, y: number): number {
  if (x === 1 || (x === -1 && (y === Infinity || y === -Infinity))) return 1;
  return Math.pow(x, y);
}

const COMPARE: Record<CompareOp, Loop2> = {
  equal: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = a[ia]! === b[ib]! ? 1 : 0;
  },
  notEqual: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = a[ia]! !== b[ib]! ? 1 : 0;
  },
  less: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = a[ia]! < b[ib]! ? 1 : 0;
  },
  lessEqual: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = a[ia]! <= b[ib]! ? 1 : 0;
  },
  greater: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = a[ia]! > b[ib]! ? 1 : 0;
  },
  greaterEqual: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = a[ia]! >= b[ib]! ? 1 : 0;
  },
};

const LOGICAL: Record<LogicalOp, Loop2> = {
  logicalAnd: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = a[ia]! & b[ib]!;
  },
  logicalOr: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = a[ia]! | b[ib]!;
  },
  logicalXor: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = a[ia]! ^ b[ib]!;
  },
};

/** Bitwise ops; shift counts are taken mod 32 and `>>>` shifts the unsigned bit pattern. */
const BITWISE: Record<BitwiseOp, Loop2> = {
  bitwiseAnd: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = a[ia]! & b[ib]!;
  },
  bitwiseOr: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = a[ia]! | b[ib]!;
  },
  bitwiseXor: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = a[ia]! ^ b[ib]!;
  },
  shiftLeft: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = a[ia]! << (b[ib]! & 31);
  },
  shiftRightLogical: (a, ia, as, b, ib, bs, o, oo, n) => {
    for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = a[ia]! >>> (b[ib]! & 31);
  },
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

/** Kernel of one arithmetic op (integer variants wrap modulo 2^32). */
function arithOpKernel(op: BinaryOp): Kernel<"binary"> {
  const floatLoop = FLOAT_ARITH[op];
  const intLoop = INT_ARITH[op] ?? floatLoop;
  const f32Loop = F32_ARITH[op] as Loop2 | undefined; // monomorphic float32 rows (./f32.ts)
  return (inputs, _params, out) => {
    if (out.dtype === "float32" && f32Loop) return runBinary(f32Loop, inputs, out);
    const isInt = out.dtype === "int32" || out.dtype === "uint32";
    return runBinary(isInt ? intLoop : floatLoop, inputs, out);
  };
}

/** The kernel of each arithmetic op, built once. */
const ARITH_KERNELS = perOp(BINARY_OPS, arithOpKernel);

/** Kernel of the `binary` primitive: its `op` picks specialised row loops once per call. */
export const arithKernel: Kernel<"binary"> = (inputs, params, out) =>
  ARITH_KERNELS[params.op](inputs, params, out);

/** Kernel of `compare` (bool output, NaN compares unequal to everything). */
export const compareKernel: Kernel<"compare"> = (inputs, p, out) =>
  runBinary(COMPARE[p.op], inputs, out);

/** Kernel of `logical` on bool (0/1) operands. */
export const logicalKernel: Kernel<"logical"> = (inputs, p, out) =>
  runBinary(LOGICAL[p.op], inputs, out);

/** Kernel of `bitwise` on int32/uint32 operands (result in the input dtype). */
export const bitwiseKernel: Kernel<"bitwise"> = (inputs, p, out) =>
  runBinary(BITWISE[p.op], inputs, out);

/** `where(cond, x, y)`: picks `x` where `cond` is true, else `y`; all three broadcast. */
export const whereKernel: Kernel<"where"> = (inputs, _params, out): Storage => {
  const c = input(inputs, 0), x = input(inputs, 1), y = input(inputs, 2);
  const o = alloc(out);
  const strides = [
    ...inputs.map((t) => broadcastStrides(t.shape, out.shape)),
    stridesOf(out.shape),
  ];
  forEachRow(out.shape, strides, [0, 0, 0, 0], (offs, n, inner) => {
    let ic = offs[0]!, ix = offs[1]!, iy = offs[2]!;
    const cs = inner[0]!, xs = inner[1]!, ys = inner[2]!, oo = offs[3]!;
    for (let j = 0; j < n; j++, ic += cs, ix += xs, iy += ys) {
      o[oo + j] = c[ic]! ? x[ix]! : y[iy]!;
    }
  });
  return wrap(o);
};
