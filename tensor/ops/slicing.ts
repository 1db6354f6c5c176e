/**
 * Slicing and padding: NumPy-style `slice` (negative steps become slice + flip), `flip` and
 * `pad` (with interior padding, the adjoint of a strided slice).
 * @module
 */
import { fmtShape, fmtValue, TesseraError } from "../errors.ts";
import { bind } from "../dispatch.ts";
import { normAxes } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { checkInt, composite, describe, expectTensor } from "./_util.ts";
import { reshape } from "./reshaping.ts";

/** One axis of a slice: an index (drops the axis), `null` (everything) or `[start, stop, step]`. */
export type SliceSpec =
  | number
  | null
  | readonly [(number | null)?, (number | null)?, (number | null)?];

/**
 * Python-style slicing of the leading axes: negative indices count from the end, a negative
 * step walks backwards, an integer picks one index and drops that axis. Copies.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { arange, slice } from "../../mod.ts";
 * const x = arange(10);
 * assert.deepEqual(await slice(x, [[1, 8, 3]]).toArray(), [1, 4, 7]);
 * assert.deepEqual(await slice(x, [[-3]]).toArray(), [7, 8, 9]);
 * assert.deepEqual(await slice(x, [[null, null, -4]]).toArray(), [9, 5, 1]);
 * ```
 */
export function slice(x: Tensor, specs: readonly SliceSpec[]): Tensor {
  return composite(() => {
    expectTensor("slice", x);
    if (!Array.isArray(specs) || specs.length > x.ndim) {
      throw new TesseraError(
        "slice",
        `got ${describe(specs)} for a rank-${x.ndim} tensor ${fmtShape(x.shape)}`,
      );
    }
    const starts: number[] = [], stops: number[] = [], steps: number[] = [];
    const flips: number[] = [], drop: number[] = [];
    x.shape.forEach((d, ax) => {
      const s = specs[ax];
      if (s === undefined || s === null) {
        starts.push(0), stops.push(d), steps.push(1);
        return;
      }
      if (typeof s === "number") {
        checkInt("slice", `index on axis ${ax}`, s);
        if (s < -d || s >= d) {
          throw new TesseraError("slice", `index ${s} out of range for axis ${ax} of size ${d}`);
        }
        const i = s < 0 ? s + d : s;
        starts.push(i), stops.push(i + 1), steps.push(1), drop.push(ax);
        return;
      }
      if (!Array.isArray(s)) {
        throw new TesseraError("slice", `invalid spec ${describe(s)} on axis ${ax}`);
      }
      const [a, b, c] = s as [
        number | null | undefined,
        number | null | undefined,
        number | null | undefined,
      ];
      const step = c ?? 1;
      for (const [name, v] of [["start", a], ["stop", b], ["step", step]] as const) {
        if (v !== null && v !== undefined && !Number.isInteger(v)) {
          throw new TesseraError("slice", `${name} ${v} on axis ${ax} is not an integer`);
        }
      }
      if (step === 0) throw new TesseraError("slice", `step 0 on axis ${ax}`);
      const [lo, hi] = pyIndices(a ?? null, b ?? null, step, d);
      if (step > 0) {
        starts.push(lo), stops.push(Math.max(lo, hi)), steps.push(step);
      } else {
        const n = Math.max(0, Math.ceil((lo - hi) / -step));
        const first = n > 0 ? lo - (n - 1) * -step : 0;
        starts.push(first), stops.push(n > 0 ? lo + 1 : first), steps.push(-step), flips.push(ax);
      }
    });
    let y = x;
    const trivial = starts.every((s, i) => s === 0 && stops[i] === x.shape[i] && steps[i] === 1);
    if (!trivial) y = bind("slice", [x], { starts, stops, steps });
    if (flips.length) y = bind("flip", [y], { axes: flips });
    if (drop.length) y = reshape(y, y.shape.filter((_, i) => !drop.includes(i)));
    return y;
  });
}

/** Python's `slice.indices` for one axis: clamped start/stop. */
function pyIndices(
  start: number | null,
  stop: number | null,
  step: number,
  d: number,
): [number, number] {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  if (step > 0) {
    const s = start === null ? 0 : clamp(start < 0 ? start + d : start, 0, d);
    const e = stop === null ? d : clamp(stop < 0 ? stop + d : stop, 0, d);
    return [s, e];
  }
  const s = start === null ? d - 1 : clamp(start < 0 ? start + d : start, -1, d - 1);
  const e = stop === null ? -1 : clamp(stop < 0 ? stop + d : stop, -1, d - 1);
  return [s, e];
}

/**
 * Reverses the order of elements along the given axes (copies).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flip, tensor } from "../../mod.ts";
 * assert.deepEqual(await flip(tensor([1, 2, 3]), 0).toArray(), [3, 2, 1]);
 * ```
 */
export function flip(x: Tensor, axes: number | number[]): Tensor {
  expectTensor("flip", x);
  const ax = normAxes("flip", axes, x.ndim);
  if (ax.length === 0) return x;
  return bind("flip", [x], { axes: ax });
}

/**
 * Constant padding, NumPy style: `widths[i] = [before, after]` for every axis.
 * `interior` inserts that many values between neighbours (XLA's interior padding).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pad, tensor } from "../../mod.ts";
 * assert.deepEqual(await pad(tensor([1, 2]), [[1, 2]]).toArray(), [0, 1, 2, 0, 0]);
 * ```
 */
export function pad(
  x: Tensor,
  widths: readonly (readonly [number, number])[],
  opts: { value?: number; interior?: readonly number[] } = {},
): Tensor {
  opts ??= {};
  expectTensor("pad", x);
  if (!Array.isArray(widths) || widths.length !== x.ndim) {
    throw new TesseraError(
      "pad",
      `need ${x.ndim} [before, after] pairs for ${fmtShape(x.shape)}, got ${fmtValue(widths)}`,
    );
  }
  const lo = widths.map((w, i) => checkInt("pad", `before-padding of axis ${i}`, w?.[0], 0));
  const hi = widths.map((w, i) => checkInt("pad", `after-padding of axis ${i}`, w?.[1], 0));
  const interior = opts.interior ?? x.shape.map(() => 0);
  if (interior.length !== x.ndim) throw new TesseraError("pad", `interior needs ${x.ndim} entries`);
  interior.forEach((v, i) => checkInt("pad", `interior of axis ${i}`, v, 0));
  const value = opts.value ?? 0;
  if (typeof value !== "number") {
    throw new TesseraError("pad", `value must be a number, got ${describe(value)}`);
  }
  return bind("pad", [x], { lo, hi, interior: [...interior], value });
}
