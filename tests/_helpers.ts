/**
 * Shared test helpers: value comparison with tolerances (NaN/±Infinity aware), TesseraError
 * assertions, a deterministic PRNG and naive reference implementations (matmul, einsum).
 * @module
 */
import assert from "node:assert/strict";
import { type DType, type NestedArray, Tensor, TesseraError } from "../mod.ts";

/** Relative and absolute tolerance for float comparisons. */
export interface Tol {
  rtol?: number;
  atol?: number;
}

/** Options of {@link expectT}. */
export interface ExpectOpts extends Tol {
  /** Expected dtype (checked when given). */
  dtype?: DType;
  /** Expected shape, for empty tensors whose nesting cannot express it. */
  shape?: readonly number[];
}

/** Shape and flat values of a nested array (booleans become 0/1). */
export function flat(x: NestedArray): { shape: number[]; values: number[] } {
  const shape: number[] = [];
  let cur: NestedArray = x;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0]!;
  }
  const values = (Array.isArray(x) ? (x as unknown[]).flat(Infinity as 1) : [x]) as (
    | number
    | boolean
  )[];
  return { shape, values: values.map((v) => (typeof v === "boolean" ? (v ? 1 : 0) : v)) };
}

/** True when `got` matches `want` within tolerance; NaN matches NaN, infinities match exactly. */
export function isClose(got: number, want: number, rtol = 0, atol = 0): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (!Number.isFinite(want)) return got === want;
  return Math.abs(got - want) <= atol + rtol * Math.abs(want);
}

function fmt(v: readonly number[]): string {
  const s = v.slice(0, 24).map((x) => String(x)).join(", ");
  return `[${s}${v.length > 24 ? ", …" : ""}]`;
}

/**
 * Asserts `t` has the shape of `expected` (or `opts.shape`), the dtype `opts.dtype` (when
 * given) and matching values: exact for integer and bool tensors, within `rtol`/`atol` (default
 * 1e-6) for floats.
 */
export async function expectT(
  t: unknown,
  expected: NestedArray,
  opts: ExpectOpts = {},
): Promise<void> {
  assert.ok(t instanceof Tensor, `expected a Tensor, got ${String(t)}`);
  const { shape, values } = flat(expected);
  assert.deepEqual([...t.shape], [...(opts.shape ?? shape)], `shape of ${t.toString()}`);
  if (opts.dtype) assert.equal(t.dtype, opts.dtype, `dtype of ${t.toString()}`);
  const got = Array.from(await t.data());
  assert.equal(got.length, values.length, "number of elements");
  const isF = t.dtype === "float32" || t.dtype === "float64";
  const rtol = isF ? opts.rtol ?? 1e-6 : 0, atol = isF ? opts.atol ?? 1e-6 : 0;
  const bad = got.findIndex((g, i) => !isClose(g, values[i]!, rtol, atol));
  if (bad >= 0) {
    assert.fail(
      `${t.dtype} ${JSON.stringify(t.shape)}: element ${bad} is ${got[bad]}, expected ${
        values[bad]
      } (rtol=${rtol}, atol=${atol})\n  got      ${fmt(got)}\n  expected ${fmt(values)}`,
    );
  }
}

/**
 * Asserts `fn` throws a TesseraError whose message starts with `op: ` and contains every
 * fragment (strings) or matches every pattern (RegExps). Returns the error.
 */
export function expectError(
  fn: () => unknown,
  op: string,
  ...parts: (string | RegExp)[]
): TesseraError {
  let err: unknown = undefined, threw = false;
  try {
    fn();
  } catch (e) {
    err = e;
    threw = true;
  }
  if (!threw) assert.fail(`expected ${op} to throw a TesseraError, but it returned`);
  if (!(err instanceof TesseraError)) {
    assert.fail(`expected a TesseraError from ${op}, got ${String(err)}`);
  }
  assert.ok(
    err.message.startsWith(`${op}: `),
    `message should start with "${op}: ", got "${err.message}"`,
  );
  for (const p of parts) {
    const ok = typeof p === "string" ? err.message.includes(p) : p.test(err.message);
    assert.ok(ok, `message "${err.message}" should mention ${String(p)}`);
  }
  return err;
}

/** Deterministic PRNG (mulberry32) returning floats in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `n` values that are multiples of 1/4 in [-2, 2]: exactly representable in float32, so sums
 * of their products (matmul, einsum) are exact on every backend.
 */
export function dyadic(n: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Math.floor(r() * 17) / 4 - 2);
}

/** Product of dimension sizes. */
export function prod(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A flat row-major array with its shape. */
export interface Arr {
  shape: number[];
  data: number[];
}

/** Naive reference einsum for explicit equations without ellipsis (`"ij,jk->ik"`). */
export function refEinsum(eq: string, ...ops: Arr[]): Arr {
  const [lhs, out] = eq.split("->") as [string, string];
  const specs = lhs.split(",");
  const size = new Map<string, number>();
  specs.forEach((s, i) => [...s].forEach((l, j) => size.set(l, ops[i]!.shape[j]!)));
  const labels = [...size.keys()];
  const shape = [...out].map((l) => size.get(l)!);
  const data = new Array<number>(prod(shape)).fill(0);
  const idx = new Map<string, number>();
  const offset = (s: string) => [...s].reduce((o, l) => o * size.get(l)! + idx.get(l)!, 0);
  const rec = (k: number): void => {
    if (k === labels.length) {
      let p = 1;
      specs.forEach((s, i) => (p *= ops[i]!.data[offset(s)]!));
      data[offset(out)]! += p;
      return;
    }
    for (let v = 0; v < size.get(labels[k]!)!; v++) {
      idx.set(labels[k]!, v);
      rec(k + 1);
    }
  };
  rec(0);
  return { shape, data };
}

/** Nests flat row-major values into arrays of `shape`. */
export function nest(data: readonly number[], shape: readonly number[]): NestedArray {
  if (shape.length === 0) return data[0]!;
  const inner = prod(shape.slice(1));
  return Array.from(
    { length: shape[0]! },
    (_, i) => nest(data.slice(i * inner, (i + 1) * inner), shape.slice(1)),
  );
}

/** Reads the fast-check seed from TESSERA_SEED (or draws one), printing how to replay it. */
export function seedFor(name: string): number {
  let env: string | undefined;
  try {
    env = Deno.env.get("TESSERA_SEED");
  } catch {
    env = undefined; // no --allow-env
  }
  const seed = env !== undefined && env !== "" ? Number(env) : Math.floor(Math.random() * 2 ** 31);
  console.log(`${name}: fast-check seed ${seed} (replay with TESSERA_SEED=${seed})`);
  return seed;
}
