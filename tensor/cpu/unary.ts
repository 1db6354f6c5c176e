/**
 * Elementwise unary kernels. Inputs are contiguous and of the output's shape, so every op is
 * a single flat loop; float32 results are rounded by the Float32Array store.
 * @module
 */
import type { Kernel } from "../backend.ts";
import type { TypedArray } from "../dtype.ts";
import { perOp, UNARY_OPS, type UnaryOp } from "../primitives.ts";
import { alloc, input, wrap } from "./iter.ts";
import { TesseraError } from "../errors.ts";
import { SPECIAL_FUNCTIONS } from "./special.ts";
import { F32_UNARY } from "./f32.ts";

/** A flat unary loop: `o[i] = f(x[i])` for `i < n`. */
type Loop1 = (x: TypedArray, o: TypedArray, n: number) => void;

/** Round half to even (banker's rounding), as in NumPy and PyTorch. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v); // rounds halves up (toward +∞)
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Float loops of the unary ops with a `Math` (or one-line) form; the special functions
 * (erf, …) are looped from their scalar in ./special.ts instead.
 */
const FLOAT_LOOPS: Partial<Record<UnaryOp, Loop1>> = {
  neg: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = -x[i]!;
  },
  abs: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.abs(x[i]!);
  },
  sign: (x, o, n) => {
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      o[i] = v > 0 ? 1 : v < 0 ? -1 : v; // keeps ±0 and NaN
    }
  },
  exp: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.exp(x[i]!);
  },
  log: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.log(x[i]!);
  },
  log1p: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.log1p(x[i]!);
  },
  expm1: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.expm1(x[i]!);
  },
  sqrt: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.sqrt(x[i]!);
  },
  rsqrt: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = 1 / Math.sqrt(x[i]!);
  },
  reciprocal: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = 1 / x[i]!;
  },
  sin: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.sin(x[i]!);
  },
  cos: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.cos(x[i]!);
  },
  tanh: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.tanh(x[i]!);
  },
  floor: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.floor(x[i]!);
  },
  ceil: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.ceil(x[i]!);
  },
  round: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = roundHalfEven(x[i]!);
  },
};

/** Integer variants (int32/uint32); results wrap like C (`|0`, then the typed-array store). */
const INT_LOOPS: Partial<Record<UnaryOp, Loop1>> = {
  neg: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = -x[i]! | 0;
  },
  abs: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.abs(x[i]!) | 0;
  },
  sign: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.sign(x[i]!);
  },
};

function logicalNotLoop(x: TypedArray, o: TypedArray, n: number): void {
  for (let i = 0; i < n; i++) o[i] = x[i]! ? 0 : 1;
}

/** The flat loop of a scalar function. */
function loopOf(f: (v: number) => number): Loop1 {
  return (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = f(x[i]!);
  };
}

/** The float loop of `op`: written above, or looped from its scalar special function. */
function floatLoopOf(op: UnaryOp): Loop1 {
  if (op === "logicalNot") return logicalNotLoop;
  const loop = FLOAT_LOOPS[op];
  if (loop) return loop;
  const f = SPECIAL_FUNCTIONS[op];
  if (!f) throw new TesseraError(op, "has no kernel on the cpu backend");
  return loopOf(f);
}

/**
 * The kernel of one unary op. Which dtypes reach it is decided by the shape rule: the
 * transcendental/rounding ops see floats only, `logicalNot` bool only, `neg`/`sign` no uint32.
 */
function unaryOpKernel(op: UnaryOp): Kernel<"unary"> {
  const floatLoop = floatLoopOf(op);
  const intLoop = INT_LOOPS[op] ?? floatLoop;
  const f32Loop = F32_UNARY[op]; // monomorphic float32 copy (./f32.ts)
  return (inputs, _params, out) => {
    const x = input(inputs, 0);
    const o = alloc(out);
    if (f32Loop && out.dtype === "float32") {
      f32Loop(x as Float32Array, o as Float32Array, o.length);
      return wrap(o);
    }
    const isInt = out.dtype === "int32" || out.dtype === "uint32";
    (isInt ? intLoop : floatLoop)(x, o, o.length);
    return wrap(o);
  };
}

/** The kernel of each unary op, built once. */
const UNARY_KERNELS = perOp(UNARY_OPS, unaryOpKernel);

/** Kernel of the `unary` primitive: its `op` picks a specialised loop once per call. */
export const unaryKernel: Kernel<"unary"> = (inputs, params, out) =>
  UNARY_KERNELS[params.op](inputs, params, out);
