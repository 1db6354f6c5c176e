/**
 * Gradient clipping without host synchronisation: the clip factor stays a tensor, so a step
 * never waits on the device. `clipByGlobalNorm` is PyTorch's `clip_grad_norm_` (factor
 * `min(1, max / (‖g‖ + 1e-6))`); `clipByNorm` does the same per tensor; `clipByValue` clamps.
 * @module
 */
import {
  add,
  clip,
  div,
  minimum,
  mul,
  scope,
  sqrt,
  sum,
  type Tensor,
  TesseraError,
} from "../../tensor/mod.ts";
import { treeLeaves, treeMap } from "../../autodiff/mod.ts";

/**
 * The L2 norm of all gradient leaves together (a scalar tensor).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globalNorm } from "./clip.ts";
 * import { tensor } from "../../mod.ts";
 * assert.equal(await globalNorm({ a: tensor([3]), b: [tensor([4])] }).item(), 5);
 * ```
 */
export function globalNorm(tree: unknown): Tensor {
  return scope(() => {
    const sq = treeLeaves(tree).map((g) => sum(mul(g, g)));
    if (sq.length === 0) throw new TesseraError("globalNorm", "the tree has no tensors");
    return sqrt(sq.reduce((a, b) => add(a, b)));
  });
}

/**
 * Scales every gradient by `min(1, maxNorm / (‖g‖ + 1e-6))` with ‖g‖ the global norm
 * (BEiT clips at 3.0); returns the clipped tree and the norm before clipping.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clipByGlobalNorm } from "./clip.ts";
 * import { tensor } from "../../mod.ts";
 * const { grads, norm } = clipByGlobalNorm({ a: tensor([3]), b: tensor([4]) }, 1);
 * assert.equal(await norm.item(), 5);
 * assert.ok(Math.abs(await grads.a.item() - 0.6) < 1e-6); // 3 · 1/(5 + 1e-6)
 * ```
 */
export function clipByGlobalNorm<T>(grads: T, maxNorm: number): { grads: T; norm: Tensor } {
  return scope(() => {
    const norm = globalNorm(grads);
    const coef = minimum(div(maxNorm, add(norm, 1e-6)), 1);
    return { grads: treeMap((g) => mul(g, coef), grads), norm };
  });
}

/**
 * Clips each gradient tensor separately to L2 norm at most `maxNorm`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clipByNorm } from "./clip.ts";
 * import { tensor } from "../../mod.ts";
 * const g = clipByNorm({ a: tensor([3, 4]), b: tensor([0.1]) }, 1);
 * const [a0, a1] = await g.a.toArray() as number[];
 * assert.ok(Math.abs(a0! - 0.6) < 1e-6 && Math.abs(a1! - 0.8) < 1e-6); // scaled to norm 1
 * assert.deepEqual(await g.b.toArray(), [Math.fround(0.1)]); // already within the norm
 * ```
 */
export function clipByNorm<T>(grads: T, maxNorm: number): T {
  return scope(() =>
    treeMap((g) => mul(g, minimum(div(maxNorm, add(sqrt(sum(mul(g, g))), 1e-6)), 1)), grads)
  );
}

/**
 * Clamps every gradient element into `[-maxValue, maxValue]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clipByValue } from "./clip.ts";
 * import { tensor } from "../../mod.ts";
 * assert.deepEqual(await clipByValue({ a: tensor([-3, 0.5, 2]) }, 1).a.toArray(), [-1, 0.5, 1]);
 * ```
 */
export function clipByValue<T>(grads: T, maxValue: number): T {
  return treeMap((g) => clip(g, -maxValue, maxValue), grads);
}
