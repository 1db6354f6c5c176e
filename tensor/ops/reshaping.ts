/**
 * Reshaping and axis reordering: `reshape` (free, shares storage), `flatten`, `squeeze`,
 * `expandDims`, and the explicit copies `permute`, `transpose` and `broadcastTo`.
 * @module
 */
import { fmtShape, fmtValue, TesseraError } from "../errors.ts";
import { bind } from "../dispatch.ts";
import { normAxes, normAxis, type Shape, sizeOf } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { expectTensor } from "./_util.ts";

/**
 * Reshapes without copying; one dimension may be `-1` (inferred).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { arange, reshape } from "../../mod.ts";
 * assert.deepEqual(reshape(arange(6), [2, -1]).shape, [2, 3]);
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
 * import assert from "node:assert/strict";
 * import { flatten, zeros } from "../../mod.ts";
 * assert.deepEqual(flatten(zeros([2, 3, 4]), 1).shape, [2, 12]);
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
 * import assert from "node:assert/strict";
 * import { squeeze, zeros } from "../../mod.ts";
 * assert.deepEqual(squeeze(zeros([1, 3, 1])).shape, [3]);
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
 * import assert from "node:assert/strict";
 * import { expandDims, zeros } from "../../mod.ts";
 * assert.deepEqual(expandDims(zeros([3]), 0).shape, [1, 3]);
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
 * import assert from "node:assert/strict";
 * import { permute, zeros } from "../../mod.ts";
 * assert.deepEqual(permute(zeros([2, 3, 4]), [2, 0, 1]).shape, [4, 2, 3]);
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
 * import assert from "node:assert/strict";
 * import { transpose, zeros } from "../../mod.ts";
 * assert.deepEqual(transpose(zeros([2, 3])).shape, [3, 2]);
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
 * import assert from "node:assert/strict";
 * import { broadcastTo, tensor } from "../../mod.ts";
 * assert.deepEqual(await broadcastTo(tensor([1, 2]), [2, 2]).toArray(), [[1, 2], [1, 2]]);
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
