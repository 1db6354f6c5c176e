/**
 * AdamW (Loshchilov & Hutter) exactly as PyTorch's `torch.optim.AdamW`: decoupled weight decay
 * `p ← p·(1 − lr·wd)`, then Adam with bias correction
 * `p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)`. Per-parameter learning-rate scales
 * (layer decay) multiply `lr` in both terms, as PyTorch param groups do.
 * @module
 */
import { add, div, mul, scope, sqrt, sub, type Tensor, zerosLike } from "../../tensor/mod.ts";
import { treeMapWithPath } from "../../autodiff/mod.ts";
import type { CommonOptions, Optimizer } from "./types.ts";
import { stepValues, sv } from "./step_values.ts";

/**
 * AdamW state: the number of updates done and the first/second moment trees (`m`, `v`, shaped
 * like the parameters; checkpoints store them as `opt.m.<path>`, `opt.v.<path>`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adamw, type AdamWState } from "./adamw.ts";
 * import { ones } from "../../mod.ts";
 * const s: AdamWState = adamw({ lr: 1e-3 }).init({ w: ones([2]) });
 * assert.equal(s.count, 0);
 * ```
 */
export interface AdamWState {
  /**
   * Updates applied so far (the step index of the next update). A JS number by default; a
   * scalar tensor (e.g. int32) keeps the step traced under `jit`, so each step replays the
   * same program — bias corrections and a `cosineSchedule` lr then come from it, with the
   * same bits on the CPU.
   */
  count: number | Tensor;
  /** First moments. */
  m: unknown;
  /** Second moments. */
  v: unknown;
}

/**
 * Options of {@link adamw}.
 *
 * @example
 * ```ts
 * import type { AdamWOptions } from "./adamw.ts";
 * // BEiT's pre-training setting; unset fields keep their defaults (eps 1e-8).
 * const o: AdamWOptions = { lr: 1.5e-3, betas: [0.9, 0.999], weightDecay: 0.05 };
 * ```
 */
export interface AdamWOptions extends CommonOptions {
  /** β₁, β₂ (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** ε added to the denominator (default 1e-8). */
  eps?: number;
  /** Weight decay (default 0.01, PyTorch's). */
  weightDecay?: CommonOptions["weightDecay"];
}

/**
 * AdamW with decoupled weight decay and PyTorch's bias correction.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adamw } from "./adamw.ts";
 * import { tensor } from "../../mod.ts";
 * const opt = adamw({ lr: 0.1, weightDecay: 0 });
 * const p = { w: tensor([1, -1]) };
 * const { params, state } = opt.update({ w: tensor([3, -0.5]) }, opt.init(p), p);
 * // the first step moves each weight by lr·g/(|g| + eps) ≈ lr·sign(g)
 * const [w0, w1] = await params.w.toArray() as number[];
 * assert.ok(Math.abs(w0! - 0.9) < 1e-6 && Math.abs(w1! + 0.9) < 1e-6);
 * assert.equal(state.count, 1);
 * ```
 */
export function adamw(opts: AdamWOptions): Optimizer<AdamWState> {
  const [b1, b2] = opts.betas ?? [0.9, 0.999];
  const eps = opts.eps ?? 1e-8;
  return {
    init: (params) =>
      scope(() => ({
        count: 0,
        m: treeMapWithPath((_p, x) => zerosLike(x), params),
        v: treeMapWithPath((_p, x) => zerosLike(x), params),
      })),
    update: (grads, state, params) =>
      scope(() => {
        const { step, next, at } = stepValues(state.count, "adamw");
        const t = sv.add(step, 1);
        const lr = at(opts.lr);
        const wd = at(opts.weightDecay ?? 0.01);
        const bc1 = sv.sub(1, sv.pow(b1, t)), bc2Sqrt = sv.sqrt(sv.sub(1, sv.pow(b2, t)));
        const newM: Record<string, Tensor> = {}, newV: Record<string, Tensor> = {};
        const newP = treeMapWithPath(
          (path, p, g, m, v) => {
            const lrp = sv.mul(lr, opts.lrScale?.(path) ?? 1);
            const decay = wd !== 0 && (opts.weightDecayMask?.(path, p) ?? true);
            const p1 = decay ? mul(p, sv.as(sv.sub(1, sv.mul(lrp, wd)), p.dtype)) : p;
            const m1 = add(mul(m, b1), mul(g, 1 - b1));
            const v1 = add(mul(v, b2), mul(mul(g, g), 1 - b2));
            const denom = add(div(sqrt(v1), sv.as(bc2Sqrt, p.dtype)), eps);
            newM[path] = m1, newV[path] = v1;
            return sub(p1, mul(div(m1, denom), sv.as(sv.div(lrp, bc1), p.dtype)));
          },
          params,
          grads,
          state.m,
          state.v,
        );
        return {
          params: newP,
          state: {
            count: next,
            m: treeMapWithPath((path) => newM[path]!, state.m),
            v: treeMapWithPath((path) => newV[path]!, state.v),
          },
        };
      }),
  };
}
