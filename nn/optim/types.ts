/**
 * The optimizer interface (optax style: pure `init` and `update`), schedules as functions of
 * the step, and the per-parameter hooks (weight-decay mask, learning-rate scale) that take the
 * parameter's dotted path.
 *
 * **Ownership rule.** `update(grads, state, params)` never disposes or mutates its inputs and
 * returns only freshly created tensors (no output aliases an input); its temporaries are freed
 * before it returns. The caller owns both generations and disposes the old ones once done:
 *
 * ```ts ignore
 * const next = opt.update(grads, state, params);
 * dispose([grads, state, params]);
 * ({ params, state } = next);
 * ```
 * @module
 */
import type { Tensor } from "../../tensor/mod.ts";

/**
 * A value as a function of the optimizer step (0 for the first update).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Schedule } from "./types.ts";
 * const halve: Schedule = (step) => 0.1 * 0.5 ** Math.floor(step / 10);
 * assert.ok(Math.abs(halve(25) - 0.025) < 1e-6);
 * ```
 */
export type Schedule = ((step: number) => number) & {
  /** Values by step (the last one repeats), when the schedule is a table: its tensor form. */
  readonly table?: readonly number[];
};

/**
 * Resolves a constant-or-schedule at `step`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { valueAt } from "./types.ts";
 * assert.ok(Math.abs(valueAt(0.1, 5) - 0.1) < 1e-6);
 * assert.equal(valueAt((s) => s * 2, 5), 10);
 * ```
 */
export function valueAt(v: number | Schedule, step: number): number {
  return typeof v === "function" ? v(step) : v;
}

/**
 * A pure optimizer. `init` builds the state for a parameter tree; `update` returns the new
 * parameters and state (see the module docs for who disposes what).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sgd } from "./sgd.ts";
 * import type { Optimizer } from "./types.ts";
 * import { tensor } from "../../mod.ts";
 * const opt: Optimizer<unknown> = sgd({ lr: 0.1 });
 * const p = { w: tensor([1]) };
 * const { params } = opt.update({ w: tensor([2]) }, opt.init(p), p);
 * assert.deepEqual(await params.w.toArray(), [Math.fround(0.8)]);
 * ```
 */
export interface Optimizer<S> {
  /** Creates the optimizer state for `params`. */
  init<P>(params: P): S;
  /** One step: new params and state from gradients (same structure as params). */
  update<P>(grads: P, state: S, params: P): { params: P; state: S };
}

/**
 * Options shared by the optimizers: learning rate and weight decay (constants or schedules of
 * the step), and per-parameter hooks keyed on the dotted path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CommonOptions } from "./types.ts";
 * const o: CommonOptions = { lr: 1e-3, weightDecay: 0.05, lrScale: (path) => (path.startsWith("head") ? 1 : 0.5) };
 * assert.equal(o.lrScale!("head.weight"), 1);
 * ```
 */
export interface CommonOptions {
  /** Learning rate or schedule. */
  lr: number | Schedule;
  /** Weight decay coefficient or schedule. */
  weightDecay?: number | Schedule;
  /** Which parameters are decayed (true = decay); default all. See `weightDecayMask`. */
  weightDecayMask?: (path: string, param: Tensor) => boolean;
  /** Multiplier of the learning rate per parameter (layer-wise decay); default 1. */
  lrScale?: (path: string) => number;
}
