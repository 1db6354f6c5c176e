/**
 * Layout ops: reshape (free) and the explicit copies — permute, broadcast, slice, flip, pad,
 * concat, stack, split.
 * @module
 */
import { fmtShape, fmtValue, TesseraError } from "../errors.ts";
import { bind } from "../dispatch.ts";
import { normAxes, normAxis, type Shape, sizeOf } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { checkInt, composite, describe, expectTensor } from "./_util.ts";

/**
 * Reshapes without copying; one dimension may be `-1` (inferred).
 *
 * @example
 * ```ts
 * import { arange, reshape } from "../../mod.ts";
 * console.log(reshape(arange(6), [2, -1]).shape); // [2, 3]
 * ```
 */
export function reshape(x: Tensor, shape: Shape): Tensor {
  expectTensor("reshape", x);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= -1)) {
    throw new TesseraError("reshape", `invalid target shape ${fmtValue(shape)}`);
  }
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1) throw new TesseraError("reshape", `only one -1 allowed in ${fmtShape(shape)}`);
  let target = [...shape];
  if (unknown === 1) {
    const known = sizeOf(shape.filter((d) => d !== -1));
    if (known === 0 || x.size % known !== 0) {
      throw new TesseraError(
        "reshape",
        `cannot reshape ${fmtShape(x.shape)} to ${fmtShape(shape)}`,
      );
    }
    target = shape.map((d) => (d === -1 ? x.size / known : d));
  }
  if (target.length === x.ndim && target.every((d, i) => d === x.shape[i])) return x;
  return bind("reshape", [x], { shape: target });
}

/**
 * Flattens dimensions `start..end` (inclusive) into one.
 *
 * @example
 * ```ts
 * import { flatten, zeros } from "../../mod.ts";
 * console.log(flatten(zeros([2, 3, 4]), 1).shape); // [2, 12]
 * ```
 */
export function flatten(x: Tensor, start = 0, end = -1): Tensor {
  expectTensor("flatten", x);
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normAxis("flatten", start, x.ndim), e = normAxis("flatten", end, x.ndim);
  if (e < s) throw new TesseraError("flatten", `end axis ${end} before start axis ${start}`);
  const mid = sizeOf(x.shape.slice(s, e + 1));
  return reshape(x, [...x.shape.slice(0, s), mid, ...x.shape.slice(e + 1)]);
}

/**
 * Removes size-1 dimensions (all of them, or the given axes, which must have size 1).
 *
 * @example
 * ```ts
 * import { squeeze, zeros } from "../../mod.ts";
 * console.log(squeeze(zeros([1, 3, 1])).shape); // [3]
 * ```
 */
export function squeeze(x: Tensor, axes?: number | number[]): Tensor {
  expectTensor("squeeze", x);
  const ax = axes === undefined
    ? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))
    : normAxes("squeeze", axes, x.ndim);
  for (const a of ax) {
    if (x.shape[a] !== 1) {
      throw new TesseraError("squeeze", `axis ${a} has size ${x.shape[a]} in ${fmtShape(x.shape)}`);
    }
  }
  return reshape(x, x.shape.filter((_, i) => !ax.includes(i)));
}

/**
 * Inserts a size-1 dimension at `axis` (negative counts from the end of the result).
 *
 * @example
 * ```ts
 * import { expandDims, zeros } from "../../mod.ts";
 * console.log(expandDims(zeros([3]), 0).shape); // [1, 3]
 * ```
 */
export function expandDims(x: Tensor, axis: number): Tensor {
  expectTensor("expandDims", x);
  const a = normAxis("expandDims", axis, x.ndim + 1);
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

/**
 * Reorders dimensions: `out.shape[i] = x.shape[perm[i]]` (copies).
 *
 * @example
 * ```ts
 * import { permute, zeros } from "../../mod.ts";
 * console.log(permute(zeros([2, 3, 4]), [2, 0, 1]).shape); // [4, 2, 3]
 * ```
 */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  expectTensor("permute", x);
  if (!Array.isArray(perm) || perm.length !== x.ndim) {
    throw new TesseraError(
      "permute",
      `permutation ${fmtValue(perm)} does not match rank ${x.ndim}`,
    );
  }
  const p = perm.map((a) => normAxis("permute", a, x.ndim));
  if (p.every((a, i) => a === i)) return x;
  return bind("permute", [x], { perm: p });
}

/**
 * Swaps two axes (default: the last two); with no axes on a 1-D/0-D tensor it is the identity.
 *
 * @example
 * ```ts
 * import { transpose, zeros } from "../../mod.ts";
 * console.log(transpose(zeros([2, 3])).shape); // [3, 2]
 * ```
 */
export function transpose(x: Tensor, axis1?: number, axis2?: number): Tensor {
  expectTensor("transpose", x);
  if (x.ndim < 2 && axis1 === undefined && axis2 === undefined) return x;
  const a = normAxis("transpose", axis1 ?? -2, x.ndim);
  const b = normAxis("transpose", axis2 ?? -1, x.ndim);
  const perm = x.shape.map((_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

/**
 * Materialises `x` broadcast to `shape` (NumPy rules). Elementwise ops broadcast by
 * themselves; use this only when a broadcast copy is really wanted.
 *
 * @example
 * ```ts
 * import { broadcastTo, tensor } from "../../mod.ts";
 * console.log(await broadcastTo(tensor([1, 2]), [2, 2]).toArray()); // [[1, 2], [1, 2]]
 * ```
 */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  expectTensor("broadcastTo", x);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TesseraError("broadcastTo", `invalid shape ${fmtValue(shape)}`);
  }
  if (shape.length === x.ndim && shape.every((d, i) => d === x.shape[i])) return x;
  return bind("broadcastTo", [x], { shape: [...shape] });
}

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
 * import { arange, slice } from "../../mod.ts";
 * const x = arange(10);
 * console.log(await slice(x, [[1, 8, 3]]).toArray());   // [1, 4, 7]
 * console.log(await slice(x, [[-3]]).toArray());        // [7, 8, 9]
 * console.log(await slice(x, [[null, null, -4]]).toArray()); // [9, 5, 1]
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
 * import { flip, tensor } from "../../mod.ts";
 * console.log(await flip(tensor([1, 2, 3]), 0).toArray()); // [3, 2, 1]
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
 * import { pad, tensor } from "../../mod.ts";
 * console.log(await pad(tensor([1, 2]), [[1, 2]]).toArray()); // [0, 1, 2, 0, 0]
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

/**
 * Joins tensors along an existing axis.
 *
 * @example
 * ```ts
 * import { concat, tensor } from "../../mod.ts";
 * console.log(await concat([tensor([1]), tensor([2, 3])]).toArray()); // [1, 2, 3]
 * ```
 */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) {
    throw new TesseraError("concat", "needs a non-empty array of tensors");
  }
  tensors.forEach((t, i) => expectTensor("concat", t, `tensors[${i}]`));
  const first = tensors[0]!;
  if (first.ndim === 0) {
    throw new TesseraError("concat", "cannot concatenate rank-0 tensors; use stack");
  }
  const a = normAxis("concat", axis, first.ndim);
  if (tensors.length === 1) return first;
  return bind("concat", tensors, { axis: a });
}

/**
 * Joins tensors of equal shape along a new axis.
 *
 * @example
 * ```ts
 * import { stack, tensor } from "../../mod.ts";
 * console.log(stack([tensor([1, 2]), tensor([3, 4])]).shape); // [2, 2]
 * ```
 */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  return composite(() => {
    if (!Array.isArray(tensors) || tensors.length === 0) {
      throw new TesseraError("stack", "needs a non-empty array of tensors");
    }
    tensors.forEach((t, i) => expectTensor("stack", t, `tensors[${i}]`));
    const first = tensors[0]!;
    for (const t of tensors) {
      if (t.dtype !== first.dtype) {
        throw new TesseraError("stack", `dtypes differ: ${first.dtype} vs ${t.dtype}`);
      }
      if (t.ndim !== first.ndim || t.shape.some((d: number, i: number) => d !== first.shape[i])) {
        throw new TesseraError(
          "stack",
          `shapes differ: ${tensors.map((s) => fmtShape(s.shape)).join(", ")}`,
        );
      }
    }
    const a = normAxis("stack", axis, first.ndim + 1);
    const parts = tensors.map((t) => reshape(t, [...t.shape.slice(0, a), 1, ...t.shape.slice(a)]));
    return parts.length === 1 ? parts[0]! : bind("concat", parts, { axis: a });
  });
}

/**
 * Splits along `axis` into `sections` equal parts (a number, which must divide the axis), or
 * into parts of the listed sizes (which must sum to the axis size).
 *
 * @example
 * ```ts
 * import { arange, split } from "../../mod.ts";
 * const [a, b] = split(arange(5), [2, 3]);
 * console.log(await a.toArray(), await b.toArray()); // [0, 1] [2, 3, 4]
 * ```
 */
export function split(x: Tensor, sections: number | readonly number[], axis = 0): Tensor[] {
  return composite(() => {
    expectTensor("split", x);
    const a = normAxis("split", axis, x.ndim);
    const d = x.shape[a]!;
    let sizes: number[];
    if (typeof sections !== "number" && !Array.isArray(sections)) {
      throw new TesseraError(
        "split",
        `sections must be a number or an array of sizes, got ${describe(sections)}`,
      );
    }
    if (typeof sections === "number") {
      checkInt("split", "sections", sections, 1);
      if (d % sections !== 0) {
        throw new TesseraError(
          "split",
          `axis ${a} of size ${d} does not divide into ${sections} equal parts`,
        );
      }
      sizes = Array.from({ length: sections }, () => d / sections);
    } else {
      sizes = [...sections];
      sizes.forEach((s, i) => checkInt("split", `sizes[${i}]`, s, 0));
      if (sizes.reduce((p, q) => p + q, 0) !== d) {
        throw new TesseraError(
          "split",
          `sizes ${fmtValue(sizes)} do not sum to axis ${a} of size ${d}`,
        );
      }
    }
    let off = 0;
    return sizes.map((s) => {
      const starts = x.shape.map((_, i) => (i === a ? off : 0));
      const stops = x.shape.map((dd, i) => (i === a ? off + s : dd));
      off += s;
      if (s === d) return x;
      return bind("slice", [x], { starts, stops, steps: x.shape.map(() => 1) });
    });
  });
}
