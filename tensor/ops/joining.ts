/**
 * Joining and splitting along an axis: `concat`, `stack` and `split`.
 * @module
 */
import { fmtShape, fmtValue, TesseraError } from "../errors.ts";
import { bind } from "../dispatch.ts";
import { normAxis } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { checkInt, composite, describe, expectTensor } from "./_util.ts";
import { reshape } from "./reshaping.ts";

/**
 * Joins tensors along an existing axis.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { concat, tensor } from "../../mod.ts";
 * assert.deepEqual(await concat([tensor([1]), tensor([2, 3])]).toArray(), [1, 2, 3]);
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
 * import assert from "node:assert/strict";
 * import { stack, tensor } from "../../mod.ts";
 * assert.deepEqual(stack([tensor([1, 2]), tensor([3, 4])]).shape, [2, 2]);
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
 * import assert from "node:assert/strict";
 * import { arange, split } from "../../mod.ts";
 * const [a, b] = split(arange(5), [2, 3]);
 * assert.deepEqual(await a!.toArray(), [0, 1]);
 * assert.deepEqual(await b!.toArray(), [2, 3, 4]);
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
