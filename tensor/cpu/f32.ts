/**
 * float32 specialisations of the hottest elementwise loops. The generic loops in
 * binary.ts/unary.ts/iter.ts serve every dtype, so V8 sees several typed-array kinds at
 * their element accesses and compiles them polymorphically (measured 4–5× slower than a
 * loop that only ever sees Float32Array). These copies are only ever called with
 * Float32Array, and split out the contiguous and broadcast-scalar cases.
 *
 * They compute exactly what the generic loops compute (the same float64 arithmetic,
 * rounded by the Float32Array store), so results are bit-identical.
 * @module
 */
import type { BinaryOp, UnaryOp } from "../primitives.ts";
import { erf } from "./special.ts";

/** One row of a float32 binary op (see `Loop2` in binary.ts). */
export type Loop2F32 = (
  a: Float32Array,
  ia: number,
  as: number,
  b: Float32Array,
  ib: number,
  bs: number,
  o: Float32Array,
  oo: number,
  n: number,
) => void;

/** float32 rows of the arithmetic ops whose generic loops are plain `+ - * / max min`. */
export const F32_ARITH: Partial<Record<BinaryOp, Loop2F32>> = {
  add: (a, ia, as, b, ib, bs, o, oo, n) => {
    if (as === 1 && bs === 1) { for (let j = 0; j < n; j++) o[oo + j] = a[ia + j]! + b[ib + j]!; }
    else if (as === 1 && bs === 0) {
      const v = b[ib]!;
      for (let j = 0; j < n; j++) o[oo + j] = a[ia + j]! + v;
    } else if (as === 0 && bs === 1) {
      const v = a[ia]!;
      for (let j = 0; j < n; j++) o[oo + j] = v + b[ib + j]!;
    } else for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = a[ia]! + b[ib]!;
  },
  sub: (a, ia, as, b, ib, bs, o, oo, n) => {
    if (as === 1 && bs === 1) { for (let j = 0; j < n; j++) o[oo + j] = a[ia + j]! - b[ib + j]!; }
    else if (as === 1 && bs === 0) {
      const v = b[ib]!;
      for (let j = 0; j < n; j++) o[oo + j] = a[ia + j]! - v;
    } else if (as === 0 && bs === 1) {
      const v = a[ia]!;
      for (let j = 0; j < n; j++) o[oo + j] = v - b[ib + j]!;
    } else for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = a[ia]! - b[ib]!;
  },
  mul: (a, ia, as, b, ib, bs, o, oo, n) => {
    if (as === 1 && bs === 1) { for (let j = 0; j < n; j++) o[oo + j] = a[ia + j]! * b[ib + j]!; }
    else if (as === 1 && bs === 0) {
      const v = b[ib]!;
      for (let j = 0; j < n; j++) o[oo + j] = a[ia + j]! * v;
    } else if (as === 0 && bs === 1) {
      const v = a[ia]!;
      for (let j = 0; j < n; j++) o[oo + j] = v * b[ib + j]!;
    } else for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = a[ia]! * b[ib]!;
  },
  div: (a, ia, as, b, ib, bs, o, oo, n) => {
    if (as === 1 && bs === 1) { for (let j = 0; j < n; j++) o[oo + j] = a[ia + j]! / b[ib + j]!; }
    else if (as === 1 && bs === 0) {
      const v = b[ib]!;
      for (let j = 0; j < n; j++) o[oo + j] = a[ia + j]! / v;
    } else if (as === 0 && bs === 1) {
      const v = a[ia]!;
      for (let j = 0; j < n; j++) o[oo + j] = v / b[ib + j]!;
    } else for (let j = 0; j < n; j++, ia += as, ib += bs) o[oo + j] = a[ia]! / b[ib]!;
  },
};

/** One float32 unary loop: `o[i] = f(x[i])` for `i < n`. */
export type Loop1F32 = (x: Float32Array, o: Float32Array, n: number) => void;

/** float32 copies of the unary loops that dominate training profiles. */
export const F32_UNARY: Partial<Record<UnaryOp, Loop1F32>> = {
  neg: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = -x[i]!;
  },
  exp: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.exp(x[i]!);
  },
  log: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.log(x[i]!);
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
  tanh: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.tanh(x[i]!);
  },
  erf: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = erf(x[i]!);
  },
};

/**
 * float32 strided copy row: `dst[d0 + j·ds] = src[s0 + j·ss]` for `j < n` (the inner loop
 * of permute/broadcastTo/slice/pad/concat).
 */
export function copyRowF32(
  src: Float32Array,
  s0: number,
  ss: number,
  dst: Float32Array,
  d0: number,
  ds: number,
  n: number,
): void {
  if (ss === 1 && ds === 1) dst.set(src.subarray(s0, s0 + n), d0);
  else if (ss === 0 && ds === 1) dst.fill(src[s0]!, d0, d0 + n);
  else for (let j = 0; j < n; j++) dst[d0 + j * ds] = src[s0 + j * ss]!;
}
