/**
 * Shared helpers for the CPU kernel tests (tests/tensor/cpu_kernels*_test.ts): tensors from flat
 * values, running a primitive through `evalEager`, a seeded PRNG and naive broadcasting references.
 *
 * @module
 */
import assert from "node:assert/strict";
import "../../tensor/cpu/mod.ts";
import { tensor } from "../../tensor/creation.ts";
import { evalEager } from "../../tensor/dispatch.ts";
import { arrayFor, type DType } from "../../tensor/dtype.ts";
import {
  type ElementwiseOp,
  OP_INFO,
  type Prim,
  type PrimParams,
  UNARY_OPS,
} from "../../tensor/primitives.ts";
import { sizeOf, stridesOf } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";

/** Deterministic pseudo-random numbers (mulberry32), shared with the other test suites. */
export { rng } from "../_helpers.ts";

/** A tensor of `shape` and `dtype` from flat values. */
export function t(
  values: readonly number[],
  shape: readonly number[],
  dtype: DType = "float64",
): Tensor {
  const data = arrayFor(dtype, values.length);
  for (let i = 0; i < values.length; i++) data[i] = values[i]!;
  return tensor(data, { shape, dtype });
}

/** A primitive, or an op of the `unary`/`binary` primitive (applied with `{ op }`). */
export type Applicable = Prim | ElementwiseOp;
/** Params of an {@link Applicable}: none for an elementwise op. */
export type ParamsOf<P extends Applicable> = P extends Prim ? PrimParams[P]
  : Record<string, never>;

/** The primitive and params an {@link Applicable} is bound with. */
function resolve<P extends Applicable>(prim: P, params: ParamsOf<P>): [Prim, PrimParams[Prim]] {
  if (!(prim in OP_INFO)) return [prim as Prim, params as PrimParams[Prim]];
  const family = (UNARY_OPS as readonly string[]).includes(prim) ? "unary" : "binary";
  return [family, { ...params, op: prim } as PrimParams[Prim]];
}

/** Applies a primitive and returns shape, dtype and the elements as a plain array. */
export function run<P extends Applicable>(
  prim: P,
  inputs: readonly Tensor[],
  params: ParamsOf<P>,
): { shape: number[]; dtype: DType; data: number[] } {
  const [p, ps] = resolve(prim, params);
  const r = evalEager(p, inputs, ps);
  return { shape: [...r.shape], dtype: r.dtype, data: Array.from(r.dataSync()) };
}

/** Flat elements of a primitive's result. */
export function vals<P extends Applicable>(
  prim: P,
  inputs: readonly Tensor[],
  params: ParamsOf<P>,
): number[] {
  return run(prim, inputs, params).data;
}

export function randArray(n: number, r: () => number, ints = false): number[] {
  return Array.from({ length: n }, () => (ints ? Math.floor(r() * 21) - 10 : r() * 4 - 2));
}

/** Multi-index of flat position `i` in `shape`. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return idx;
}

/** Flat position in `shape` of `idx` (right-aligned, size-1 dims broadcast). */
export function ravelBroadcast(idx: readonly number[], shape: readonly number[]): number {
  const st = stridesOf(shape);
  const off = idx.length - shape.length;
  let p = 0;
  for (let d = 0; d < shape.length; d++) p += (shape[d] === 1 ? 0 : idx[off + d]!) * st[d]!;
  return p;
}

/** Naive broadcasting reference for a binary function. */
export function refBinary(
  a: readonly number[],
  as: readonly number[],
  b: readonly number[],
  bs: readonly number[],
  out: readonly number[],
  f: (x: number, y: number) => number,
): number[] {
  const n = sizeOf(out);
  const res: number[] = [];
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, out);
    res.push(f(a[ravelBroadcast(idx, as)]!, b[ravelBroadcast(idx, bs)]!));
  }
  return res;
}

export function assertClose(
  actual: readonly number[],
  expected: readonly number[],
  tol = 1e-12,
): void {
  assert.equal(actual.length, expected.length, "length");
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    if (Number.isNaN(e)) {
      assert.ok(Number.isNaN(a), `element ${i}: expected NaN, got ${a}`);
      continue;
    }
    const err = Math.abs(a - e);
    assert.ok(err <= tol * Math.max(1, Math.abs(e)), `element ${i}: got ${a}, expected ${e}`);
  }
}

export const f32 = Math.fround;
