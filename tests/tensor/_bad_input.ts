/**
 * Helpers of the property-based bad-input suites (bad_input_test.ts, bad_input_boxes_test.ts):
 * the contract every public op keeps — a result, or a TesseraError naming the public op; never
 * a raw JS error, never a leaked tensor — and the arbitraries that feed it. Seeds are fixed
 * (TESSERA_SEED overrides) so the suites are reproducible and fast.
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import * as T from "../../mod.ts";

/** The fixed seed (TESSERA_SEED=<n> replays another). */
export function seed(): number {
  let env: string | undefined;
  try {
    env = Deno.env.get("TESSERA_SEED");
  } catch {
    env = undefined;
  }
  return env ? Number(env) : 20;
}

/** Live CPU tensors (for the leak check around each property). */
export function liveTensors(): number {
  const s = T.memoryStats()["cpu"] as { tensors: number } | undefined;
  return s?.tensors ?? 0;
}

/**
 * Registers a property test: fixed seed, `numRuns` runs, and no tensor left alive by any run
 * (error paths included).
 */
export function property(
  name: string,
  p: fc.IRawProperty<unknown[]>,
  numRuns = 60,
): void {
  Deno.test(`bad input: ${name}`, async () => {
    const before = liveTensors();
    await fc.assert(p, { seed: seed(), numRuns, endOnFailure: true });
    assert.equal(liveTensors(), before, "tensors leaked");
  });
}

/** What a call did: returned `value`, or threw a TesseraError naming the op (`error`). */
export type Outcome<R> = { ok: true; value: R } | { ok: false; error: T.TesseraError };

/**
 * Runs `fn` and enforces the contract: it returns, or throws a TesseraError whose message
 * starts with `op: `. Any other exception (a RangeError, a TypeError, a TesseraError naming
 * an internal op) fails the property with a message naming the call.
 */
export function attempt<R>(op: string, fn: () => R): Outcome<R> {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    return judged(op, e);
  }
}

/** {@link attempt} for async calls. */
export async function attemptAsync<R>(op: string, fn: () => Promise<R>): Promise<Outcome<R>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return judged(op, e);
  }
}

function judged(op: string, e: unknown): { ok: false; error: T.TesseraError } {
  if (!(e instanceof T.TesseraError)) {
    const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    throw new Error(`${op}: threw a raw ${what}`);
  }
  if (!e.message.startsWith(`${op}: `)) {
    throw new Error(`${op}: the error names another op: ${e.message}`);
  }
  return { ok: false, error: e };
}

/** Flat values of a result tensor (CPU, synchronous). */
export function values(t: unknown): number[] {
  assert.ok(t instanceof T.Tensor, `expected a Tensor, got ${String(t)}`);
  return Array.from(t.dataSync());
}

/** True when every value is finite. */
export const allFinite = (v: readonly number[]): boolean => v.every(Number.isFinite);

/** A small dimension size, 0 included. */
export const dim = fc.integer({ min: 0, max: 3 });
/** A small shape, empty dimensions included. */
export const shapeArb = fc.array(dim, { minLength: 0, maxLength: 3 });
/** A small non-empty shape (every dimension ≥ 1). */
export const fullShape = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 });

/** Any JS value a careless caller might pass where a number, shape or tensor belongs. */
export const junk = fc.constantFrom<unknown>(
  null,
  undefined,
  "abc",
  "3",
  NaN,
  Infinity,
  -1,
  0.5,
  1e12,
  true,
  [],
  [1, 2],
  [NaN],
  {},
  { length: 2 },
  () => 1,
  10n,
  new Float32Array(2),
);

/** Finite float32 values that neither overflow nor lose the test's exactness. */
export const finiteValue = fc.integer({ min: -40, max: 40 }).map((v) => v / 4);
/** Float values with NaN and ±Infinity mixed in. */
export const anyValue = fc.oneof(
  { weight: 4, arbitrary: finiteValue },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity) },
);

/** A float32 tensor of `shape` filled from `vals` (cycled). */
export function filled(shape: readonly number[], vals: readonly number[]): T.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n }, (_, i) => vals.length ? vals[i % vals.length]! : 0);
  return T.tensor(data, { shape });
}
