/**
 * Optimizers as pure transforms (`init`, `update`) with pytree state — SGD and AdamW with
 * PyTorch's exact update rules — plus weight-decay masks and BEiT layer-wise lr decay keyed on
 * parameter paths, gradient clipping, schedules of the step and parameter EMA, composed
 * optax-style by `chain` (gradient transforms before an optimizer) and `masked`. See
 * `types.ts` for the ownership rule of `update`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adamw, cosineSchedule, layerDecayScale, weightDecayMask } from "./mod.ts";
 * import { tensor } from "../../mod.ts";
 * const opt = adamw({
 *   lr: cosineSchedule({ base: 1e-3, final: 1e-6, totalSteps: 100, warmupSteps: 10 }),
 *   weightDecay: 0.05,
 *   weightDecayMask: weightDecayMask(),
 *   lrScale: layerDecayScale(12, 0.65),
 * });
 * const params = { head: { weight: tensor([[1, 2]]), bias: tensor([0]) } };
 * const state = opt.init(params);
 * assert.equal(state.count, 0);
 * ```
 * @module
 */
export * from "./types.ts";
export * from "./sgd.ts";
export * from "./adamw.ts";
export * from "./clip.ts";
export * from "./schedules.ts";
export * from "./param_groups.ts";
export * from "./ema.ts";
export * from "./chain.ts";
