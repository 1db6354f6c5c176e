/**
 * Argument checks shared by the vision ops (conv.ts, pooling.ts, interpolation.ts): per-axis
 * pairs, integers and booleans, each failing with a TesseraError that names the op.
 * @module
 */
import { fmtValue, TesseraError } from "../errors.ts";
import { describe } from "./_util.ts";

/** A per-axis size: one number for both axes, or `[h, w]`. */
export type Size2 = number | readonly [number, number];

/** `v` as an `[h, w]` pair of integers ≥ `min` (one number means both axes). */
export function pair(op: string, name: string, v: unknown, min: number): [number, number] {
  const p = typeof v === "number" ? [v, v] : v;
  const ok = Array.isArray(p) && p.length === 2 &&
    p.every((e) => typeof e === "number" && Number.isInteger(e) && e >= min);
  if (!ok) {
    throw new TesseraError(
      op,
      `${name} must be an integer >= ${min} or a pair of them, got ${
        Array.isArray(v) ? fmtValue(v) : describe(v)
      }`,
    );
  }
  return [p[0] as number, p[1] as number];
}

/** `v` if it is an integer ≥ `min`. */
export function int(op: string, name: string, v: unknown, min: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    throw new TesseraError(op, `${name} must be an integer >= ${min}, got ${describe(v)}`);
  }
  return v;
}

/** `v` if it is a boolean, `dflt` if undefined. */
export function bool(op: string, name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== "boolean") {
    throw new TesseraError(op, `${name} must be a boolean, got ${describe(v)}`);
  }
  return v;
}
