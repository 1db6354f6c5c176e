/**
 * Sorting: `argsort`, `sort`, `topk` (stable; gradients flow through the gathered values).
 * @module
 */
import { TesseraError } from "../errors.ts";
import { bind } from "../dispatch.ts";
import { normAxis } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { checkInt, composite, expectTensor } from "./_util.ts";
import { takeAlongAxis } from "./indexing.ts";
import { slice } from "./slicing.ts";

/** Options for sorting. */
export interface SortOptions {
  /** Largest first (ties still keep their original order). */
  descending?: boolean;
}

/**
 * Stable sort indices (int32) along `axis` (default last). NaN sorts as the largest value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { argsort, tensor } from "../../mod.ts";
 * assert.deepEqual(await argsort(tensor([3, 1, 2])).toArray(), [1, 2, 0]);
 * ```
 */
export function argsort(x: Tensor, axis = -1, opts: SortOptions = {}): Tensor {
  opts ??= {};
  expectTensor("argsort", x);
  if (x.ndim === 0) throw new TesseraError("argsort", "needs rank >= 1");
  return bind("argsort", [x], {
    axis: normAxis("argsort", axis, x.ndim),
    descending: opts.descending ?? false,
  });
}

/** Validates a sort-like op's input under the caller's name; returns the normalised axis. */
function sortable(op: string, x: Tensor, axis: number): number {
  expectTensor(op, x);
  if (x.ndim === 0) throw new TesseraError(op, "needs rank >= 1");
  if (x.dtype === "bool") throw new TesseraError(op, "not defined for bool input");
  return normAxis(op, axis, x.ndim);
}

/**
 * Sorted values along `axis` (default last).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sort, tensor } from "../../mod.ts";
 * assert.deepEqual(await sort(tensor([3, 1, 2]), -1, { descending: true }).toArray(), [3, 2, 1]);
 * ```
 */
export function sort(x: Tensor, axis = -1, opts: SortOptions = {}): Tensor {
  opts ??= {};
  return composite(() => {
    const a = sortable("sort", x, axis);
    const idx = argsort(x, a, opts);
    return takeAlongAxis(x, idx, a);
  });
}

/**
 * The `k` largest (or smallest, with `largest: false`) entries along `axis` and their int32
 * indices, in sorted order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { topk, tensor } from "../../mod.ts";
 * const { values, indices } = topk(tensor([1, 5, 3, 4]), 2);
 * assert.deepEqual(await values.toArray(), [5, 4]);
 * assert.deepEqual(await indices.toArray(), [1, 3]);
 * ```
 */
export function topk(
  x: Tensor,
  k: number,
  axis = -1,
  opts: { largest?: boolean } = {},
): { values: Tensor; indices: Tensor } {
  opts ??= {};
  return composite(() => {
    const a = sortable("topk", x, axis);
    checkInt("topk", "k", k, 0);
    if (k > x.shape[a]!) {
      throw new TesseraError("topk", `k=${k} exceeds axis ${a} of size ${x.shape[a]}`);
    }
    const order = argsort(x, a, { descending: opts.largest ?? true });
    const indices = slice(order, x.shape.map((_, i) => (i === a ? [0, k] as const : null)));
    return { values: takeAlongAxis(x, indices, a), indices };
  });
}
