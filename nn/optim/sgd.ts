/**
 * SGD exactly as PyTorch's `torch.optim.SGD`: L2 weight decay added to the gradient, momentum
 * buffer `b ← μ·b + (1 − dampening)·g` (initialised to `g` on the first step), Nesterov
 * `g ← g + μ·b`, then `p ← p − lr·g`.
 * @module
 */
import { add, mul, scope, sub, type Tensor, TesseraError } from "../../tensor/mod.ts";
import { treeMapWithPath } from "../../autodiff/mod.ts";
import type { CommonOptions, Optimizer } from "./types.ts";
import { stepValues, sv } from "./step_values.ts";

/**
 * SGD state: updates done and the momentum buffers (null without momentum or before the
 * first step; `opt.momentum.<path>` in checkpoints).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sgd, type SgdState } from "./sgd.ts";
 * import { ones } from "../../mod.ts";
 * const s: SgdState = sgd({ lr: 0.1, momentum: 0.9 }).init({ w: ones([2]) });
 * assert.equal(s.count, 0);
 * assert.equal(s.momentum, null);
 * ```
 */
export interface SgdState {
  /** Updates applied so far: a JS number, or a scalar tensor to keep it traced under `jit`. */
  count: number | Tensor;
  /** Momentum buffers shaped like the parameters, or null. */
  momentum: unknown;
}

/**
 * Options of {@link sgd}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SgdOptions } from "./sgd.ts";
 * const o: SgdOptions = { lr: 0.1, momentum: 0.9, nesterov: true };
 * assert.equal(o.dampening ?? 0, 0);
 * ```
 */
export interface SgdOptions extends CommonOptions {
  /** Momentum μ (default 0). */
  momentum?: number;
  /** Dampening of the gradient in the buffer update (default 0). */
  dampening?: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
}

/**
 * Stochastic gradient descent with momentum, Nesterov and (coupled, L2) weight decay.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sgd } from "./sgd.ts";
 * import { tensor } from "../../mod.ts";
 * const opt = sgd({ lr: 0.5, momentum: 0.9 });
 * let p = { w: tensor([1]) };
 * let s = opt.init(p);
 * ({ params: p, state: s } = opt.update({ w: tensor([1]) }, s, p)); // b = 1
 * ({ params: p, state: s } = opt.update({ w: tensor([1]) }, s, p)); // b = 1.9
 * assert.deepEqual(await p.w.toArray(), [Math.fround(-0.45)]);
 * ```
 */
export function sgd(opts: SgdOptions): Optimizer<SgdState> {
  const mu = opts.momentum ?? 0, damp = opts.dampening ?? 0;
  if (opts.nesterov && (mu <= 0 || damp !== 0)) {
    throw new TesseraError("sgd", "Nesterov momentum requires a momentum and zero dampening");
  }
  return {
    init: () => ({ count: 0, momentum: null }),
    update: (grads, state, params) =>
      scope(() => {
        const { next, at } = stepValues(state.count, "sgd");
        const lr = at(opts.lr);
        const wd = at(opts.weightDecay ?? 0);
        const bufs: Record<string, Tensor> = {};
        const prev = state.momentum;
        const fn = (path: string, p: Tensor, g: Tensor, b?: Tensor): Tensor => {
          const decay = wd !== 0 && (opts.weightDecayMask?.(path, p) ?? true);
          let d = decay ? add(g, mul(p, sv.as(wd, p.dtype))) : g;
          if (mu !== 0) {
            const buf = b ? add(mul(b, mu), mul(d, 1 - damp)) : mul(d, 1);
            bufs[path] = buf;
            d = opts.nesterov ? add(d, mul(buf, mu)) : buf;
          }
          return sub(p, mul(d, sv.as(sv.mul(lr, opts.lrScale?.(path) ?? 1), p.dtype)));
        };
        const newP = prev === null
          ? treeMapWithPath((path, p, g) => fn(path, p, g), params, grads)
          : treeMapWithPath((path, p, g, b) => fn(path, p, g, b), params, grads, prev);
        const momentum = mu === 0 ? null : treeMapWithPath((path) => bufs[path]!, params);
        return { params: newP, state: { count: next, momentum } };
      }),
  };
}
