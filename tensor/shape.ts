/**
 * Shape arithmetic: sizes, strides, broadcasting and axis normalisation.
 * @module
 */
import { type DType, itemSize } from "./dtype.ts";
import { fmtShape, fmtValue, TesseraError } from "./errors.ts";

/** A tensor shape: a list of non-negative integer dimension sizes. */
export type Shape = readonly number[];

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C order) strides in elements. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** True when two shapes are equal. */
export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Checks a shape is a list of non-negative integers with at most {@link MAX_ELEMENTS}
 * elements (bytes reported for `dtype`, float32 when not given).
 */
export function checkShape(op: string, shape: unknown, dtype: DType = "float32"): Shape {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TesseraError(
      op,
      `invalid shape ${fmtValue(shape)}: need non-negative integers`,
    );
  }
  checkNumel(op, shape, dtype);
  return shape as Shape;
}

/**
 * The most elements one tensor may hold: 2³¹ − 1, so every element stays addressable by the
 * int32 indices that argsort, argmax and gather use (and a float32 tensor stays under 8 GiB;
 * WebGPU's buffer limits are lower still).
 */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/**
 * Throws a TesseraError naming `op` when a tensor of `shape` and `dtype` would exceed
 * {@link MAX_ELEMENTS}, saying how many elements and bytes were asked for. Called where
 * tensors are created (creation ops, `bind`) so that a huge size is an error, not a
 * RangeError from the allocator.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkNumel } from "./shape.ts";
 * checkNumel("zeros", [1000, 1000], "float32"); // fine
 * assert.throws(
 *   () => checkNumel("zeros", [1e9, 1e9], "float32"),
 *   { message: /^zeros: shape \[1000000000,1000000000\] has 1e\+18 elements: 4e\+18 bytes \(3\.5 EiB\)/ },
 * );
 * ```
 */
export function checkNumel(op: string, shape: Shape, dtype: DType): void {
  const n = sizeOf(shape);
  if (n <= MAX_ELEMENTS) return;
  throw new TesseraError(
    op,
    `shape ${fmtShape(shape)} has ${fmtCount(n)} elements: ${fmtBytes(n * itemSize(dtype))} ` +
      `as ${dtype}, over the limit of ${MAX_ELEMENTS} elements`,
  );
}

/** Bytes as `4000000000000 bytes (3.6 TiB)`. */
function fmtBytes(b: number): string {
  const units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let v = b, u = -1;
  while (v >= 1024 && u < units.length - 1) [v, u] = [v / 1024, u + 1];
  return `${fmtCount(b)} bytes` +
    (u >= 0 ? ` (${v >= 10 ? v.toFixed(0) : v.toFixed(1)} ${units[u]})` : "");
}

/** A count as an integer below 1e15, else in exponent notation (`1e+18`). */
function fmtCount(n: number): string {
  return n < 1e15 ? String(n) : n.toExponential().replace(/\.?0+e/, "e");
}

/** NumPy broadcasting of two shapes; throws naming `op` when they are incompatible. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new TesseraError(op, `shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Strides (in elements) for reading a tensor of shape `from` as if broadcast to `to`:
 * broadcast dimensions get stride 0, so no data is copied.
 */
export function broadcastStrides(from: Shape, to: Shape): number[] {
  const st = stridesOf(from);
  const out = new Array<number>(to.length).fill(0);
  const off = to.length - from.length;
  for (let i = 0; i < from.length; i++) out[off + i] = from[i] === 1 ? 0 : st[i]!;
  return out;
}

/** Normalises one (possibly negative) axis for a rank-`ndim` tensor. */
export function normAxis(op: string, axis: number, ndim: number): number {
  if (typeof axis !== "number" || !Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    throw new TesseraError(op, `axis ${fmtValue(axis)} out of range for rank ${ndim}`);
  }
  return axis < 0 ? axis + ndim : axis;
}

/**
 * Normalises an axis list (undefined = all axes), sorted and deduplicated-checked.
 */
export function normAxes(
  op: string,
  axes: number | readonly number[] | undefined,
  ndim: number,
): number[] {
  if (axes === undefined) return Array.from({ length: ndim }, (_, i) => i);
  if (typeof axes !== "number" && !Array.isArray(axes)) {
    throw new TesseraError(
      op,
      `axes must be a number or an array of numbers, got ${fmtValue(axes)}`,
    );
  }
  const list = typeof axes === "number" ? [axes] : [...axes];
  const out = list.map((a) => normAxis(op, a, ndim));
  if (new Set(out).size !== out.length) {
    throw new TesseraError(op, `repeated axis in ${fmtValue(list)}`);
  }
  return out.sort((x, y) => x - y);
}

/**
 * Simplifies an iteration space: drops size-1 dimensions and merges neighbouring
 * dimensions that are contiguous in every operand (`outer stride = inner stride * size`).
 * The element order is unchanged; strides may be negative or 0 (broadcast). Shared by the
 * CPU row iterator and the WebGPU index decomposition.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { coalesce } from "./shape.ts";
 * // a contiguous [2, 1, 3] operand and one broadcast along the last axis
 * const c = coalesce([2, 1, 3], [[3, 3, 1], [1, 1, 0]]);
 * assert.deepEqual(c, { shape: [2, 3], strides: [[3, 1], [1, 0]] });
 * assert.deepEqual(coalesce([2, 3], [[3, 1]]), { shape: [6], strides: [[1]] });
 * ```
 */
export function coalesce(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const cs: number[] = [];
  const cst: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = cs.length - 1;
    let merge = last >= 0;
    for (let k = 0; merge && k < strides.length; k++) {
      if (cst[k]![last] !== strides[k]![d]! * n) merge = false;
    }
    if (merge) {
      cs[last] = cs[last]! * n;
      for (let k = 0; k < strides.length; k++) cst[k]![last] = strides[k]![d]!;
    } else {
      cs.push(n);
      for (let k = 0; k < strides.length; k++) cst[k]!.push(strides[k]![d]!);
    }
  }
  return { shape: cs, strides: cst };
}
