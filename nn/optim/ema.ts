/**
 * Exponential moving average of parameters (DINO's teacher, model EMA):
 * `ema ← decay·ema + (1 − decay)·params`, never differentiated.
 * @module
 */
import { add, mul, scope, stopGradient, type Tensor } from "../../tensor/mod.ts";
import { sv } from "./step_values.ts";
import { treeMap } from "../../autodiff/mod.ts";

/**
 * A fresh copy of `params` to start an EMA from (no tensor is shared with `params`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initEma } from "./ema.ts";
 * import { tensor } from "../../mod.ts";
 * const p = { w: tensor([1, 2]) };
 * const e = initEma(p);
 * assert.equal(e.w !== p.w, true);
 * assert.deepEqual(await e.w.toArray(), [1, 2]);
 * ```
 */
export function initEma<T>(params: T): T {
  return scope(() => treeMap((p) => mul(stopGradient(p), 1), params));
}

/**
 * One EMA step, `decay·ema + (1 − decay)·params` (PyTorch/DINO order of operations); returns a
 * new tree and leaves the inputs alone (dispose the old EMA yourself). `decay` may be a scalar
 * tensor (a momentum schedule's value passed into a `jit`ted step); a float64 one gives the
 * same bits as the JS number on the CPU (`1 − decay` is computed before rounding).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emaUpdate } from "./ema.ts";
 * import { tensor } from "../../mod.ts";
 * const e = emaUpdate({ w: tensor([0]) }, { w: tensor([1]) }, 0.9);
 * assert.deepEqual(await e.w.toArray(), [Math.fround(0.1)]);
 * ```
 */
export function emaUpdate<T>(ema: T, params: T, decay: number | Tensor): T {
  return scope(() => {
    const rest = sv.sub(1, decay);
    return treeMap(
      (e, p) => add(mul(e, sv.as(decay, e.dtype)), mul(stopGradient(p), sv.as(rest, p.dtype))),
      ema,
      params,
    );
  });
}
