/**
 * Optax-style composition: gradient transforms (clipping, any pure function of the gradients)
 * run in order before an {@link Optimizer}, and `masked` restricts an optimizer to the
 * parameters a path predicate selects (the rest stay frozen). Schedules and weight-decay masks
 * stay options of the optimizers themselves (`lr: cosineSchedule(…)`, `weightDecayMask`).
 *
 * Every result follows the ownership rule of `types.ts`: `update` never disposes its inputs and
 * returns only fresh tensors; the intermediate gradients of a chain are freed before it returns.
 * @module
 */
import { mul, scope, type Tensor } from "../../tensor/mod.ts";
import { treeFlatten, treeMapWithPath } from "../../autodiff/mod.ts";
import { clipByGlobalNorm, clipByNorm, clipByValue } from "./clip.ts";
import type { Optimizer } from "./types.ts";

/**
 * A pure transform of the gradients with its own state (optax's `GradientTransformation`
 * before the final optimizer): `update` returns new gradients (same structure) and new state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { GradientTransform } from "./chain.ts";
 * import { mul, tensor } from "../../mod.ts";
 * import { treeMap } from "../../autodiff/mod.ts";
 * const halve: GradientTransform<null> = {
 *   init: () => null,
 *   update: (grads) => ({ grads: treeMap((g) => mul(g, 0.5), grads), state: null }),
 * };
 * const { grads } = halve.update({ w: tensor([4]) }, null, { w: tensor([0]) });
 * assert.deepEqual(await grads.w.toArray(), [2]);
 * ```
 */
export interface GradientTransform<S> {
  /** Creates the transform's state for `params`. */
  init<P>(params: P): S;
  /** New gradients and state; `params` are the current parameters (read only). */
  update<P>(grads: P, state: S, params: P): { grads: P; state: S };
}

/**
 * The state of a {@link chain}: one entry per gradient transform, then the optimizer's state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chain, clipGlobalNorm, type ChainState } from "./chain.ts";
 * import { adamw, type AdamWState } from "./adamw.ts";
 * import { ones } from "../../mod.ts";
 * const s: ChainState<AdamWState> = chain(clipGlobalNorm(1), adamw({ lr: 1e-3 })).init({ w: ones([2]) });
 * assert.deepEqual(s.transforms, [null]);
 * assert.equal(s.optimizer.count, 0);
 * ```
 */
export interface ChainState<S> {
  /** States of the gradient transforms, in order. */
  transforms: unknown[];
  /** State of the final optimizer. */
  optimizer: S;
}

/**
 * Runs gradient transforms in order, then the optimizer (the last argument), as one optimizer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chain, clipGlobalNorm } from "./chain.ts";
 * import { sgd } from "./sgd.ts";
 * import { tensor } from "../../mod.ts";
 * const opt = chain(clipGlobalNorm(1), sgd({ lr: 0.5 }));
 * const p = { w: tensor([0, 0]) };
 * const { params } = opt.update({ w: tensor([3, 4]) }, opt.init(p), p);
 * const [w0, w1] = await params.w.toArray() as number[];
 * // the gradient is clipped to norm 1 ([0.6, 0.8]) before the SGD step
 * assert.ok(Math.abs(w0! + 0.3) < 1e-6 && Math.abs(w1! + 0.4) < 1e-6);
 * ```
 */
export function chain<S>(
  ...parts: [...GradientTransform<unknown>[], Optimizer<S>]
): Optimizer<ChainState<S>> {
  const transforms = parts.slice(0, -1) as GradientTransform<unknown>[];
  const optimizer = parts[parts.length - 1] as Optimizer<S>;
  return {
    init: (params) =>
      scope(() => ({
        transforms: transforms.map((t) => t.init(params)),
        optimizer: optimizer.init(params),
      })),
    update: (grads, state, params) =>
      scope(() => {
        let g = grads;
        const states = transforms.map((t, i) => {
          const out = t.update(g, state.transforms[i], params);
          g = out.grads;
          return out.state;
        });
        const next = optimizer.update(g, state.optimizer, params);
        return { params: next.params, state: { transforms: states, optimizer: next.state } };
      }),
  };
}

/**
 * A stateless gradient transform from a function of the gradients (and the parameters).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stateless } from "./chain.ts";
 * import { mul, tensor } from "../../mod.ts";
 * import { treeMap } from "../../autodiff/mod.ts";
 * const negate = stateless((grads) => treeMap((g) => mul(g, -1), grads));
 * const { grads } = negate.update({ w: tensor([2]) }, null, { w: tensor([0]) });
 * assert.deepEqual(await grads.w.toArray(), [-2]);
 * ```
 */
export function stateless(fn: <P>(grads: P, params: P) => P): GradientTransform<null> {
  return {
    init: () => null,
    update: (grads, _state, params) => ({ grads: fn(grads, params), state: null }),
  };
}

/**
 * {@link clipByGlobalNorm} as a chain step: scales all gradients by
 * `min(1, maxNorm / (‖g‖ + 1e-6))`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clipGlobalNorm } from "./chain.ts";
 * import { tensor } from "../../mod.ts";
 * const g = { a: tensor([3]), b: tensor([4]) };
 * const { grads } = clipGlobalNorm(1).update(g, null, g); // params are unused here
 * assert.ok(Math.abs(await grads.b.item() - 0.8) < 1e-6);
 * ```
 */
export function clipGlobalNorm(maxNorm: number): GradientTransform<null> {
  return stateless((grads) => clipByGlobalNorm(grads, maxNorm).grads);
}

/**
 * {@link clipByNorm} as a chain step: each gradient tensor clipped to L2 norm ≤ `maxNorm`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clipNorm } from "./chain.ts";
 * import { tensor } from "../../mod.ts";
 * const g = { a: tensor([0, 2]) };
 * const { grads } = clipNorm(1).update(g, null, g);
 * const [a0, a1] = await grads.a.toArray() as number[];
 * assert.ok(a0 === 0 && Math.abs(a1! - 1) < 1e-6); // 2 · 1/(2 + 1e-6)
 * ```
 */
export function clipNorm(maxNorm: number): GradientTransform<null> {
  return stateless((grads) => clipByNorm(grads, maxNorm));
}

/**
 * {@link clipByValue} as a chain step: every element clamped into `[-maxValue, maxValue]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clipValue } from "./chain.ts";
 * import { tensor } from "../../mod.ts";
 * const g = { a: tensor([-3, 0.5]) };
 * const { grads } = clipValue(1).update(g, null, g);
 * assert.deepEqual(await grads.a.toArray(), [-1, 0.5]);
 * ```
 */
export function clipValue(maxValue: number): GradientTransform<null> {
  return stateless((grads) => clipByValue(grads, maxValue));
}

/**
 * Applies `optimizer` only to the parameters whose dotted path (and tensor) `mask` selects; the
 * others are returned unchanged (as copies, per the ownership rule) and get no optimizer state.
 * The inner optimizer sees the selected parameters under their full dotted paths, so its
 * `lrScale` / `weightDecayMask` hooks work as without the mask. Its state is keyed by path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { masked } from "./chain.ts";
 * import { sgd } from "./sgd.ts";
 * import { tensor } from "../../mod.ts";
 * const opt = masked(sgd({ lr: 1 }), (path) => !path.startsWith("head"));
 * const p = { body: { w: tensor([1]) }, head: { w: tensor([1]) } };
 * const g = { body: { w: tensor([1]) }, head: { w: tensor([1]) } };
 * const { params } = opt.update(g, opt.init(p), p);
 * assert.deepEqual(await params.body.w.toArray(), [0]); // updated
 * assert.deepEqual(await params.head.w.toArray(), [1]); // frozen
 * ```
 */
export function masked<S>(
  optimizer: Optimizer<S>,
  mask: (path: string, param: Tensor) => boolean,
): Optimizer<S> {
  const select = (tree: unknown, params: unknown): Record<string, Tensor> => {
    const flatP = treeFlatten(params), flat = treeFlatten(tree);
    const out: Record<string, Tensor> = {};
    for (const [path, p] of Object.entries(flatP)) if (mask(path, p)) out[path] = flat[path]!;
    return out;
  };
  return {
    init: (params) => optimizer.init(select(params, params)),
    update: (grads, state, params) =>
      scope(() => {
        const next = optimizer.update(select(grads, params), state, select(params, params));
        const newParams = treeMapWithPath(
          (path, p) => next.params[path] ?? mul(p, 1),
          params,
        );
        return { params: newParams, state: next.state };
      }),
  };
}
