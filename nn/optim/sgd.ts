/**
 * SGD exactly as PyTorch's `torch.optim.SGD`: L2 weight decay added to the gradient, momentum
 * buffer `b ← μ·b + (1 − dampening)·g` (initialised to `g` on the first step), Nesterov
 * `g ← g + μ·b`, then `p ← p − lr·g`.
 * @module
 */
import { add, mul, scope, sub, type Tensor, TesseraError } from "../../tensor/mod.ts";
import { treeMapWithPath } from "../../autodiff/mod.ts";
import { type CommonOptions, type Optimizer, valueAt } from "./types.ts";

/**
 * SGD state: updates done and the momentum buffers (null without momentum or before the
 * first step; `opt.momentum.<path>` in checkpoints).
 *
 * @example
 * ```ts
 * import { sgd, type SgdState } from "./sgd.ts";
 * import { ones } from "../../mod.ts";
 * const s: SgdState = sgd({ lr: 0.1, momentum: 0.9 }).init({ w: ones([2]) });
 * console.log(s.count, s.momentum); // 0 null
 * ```
 */
export interface SgdState {
  /** Updates applied so far. */
  count: number;
  /** Momentum buffers shaped like the parameters, or null. */
  momentum: unknown;
}

/**
 * Options of {@link sgd}.
 *
 * @example
 * ```ts
 * import type { SgdOptions } from "./sgd.ts";
 * const o: SgdOptions = { lr: 0.1, momentum: 0.9, nesterov: true };
 * console.log(o.dampening ?? 0); // 0
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
 * import { sgd } from "./sgd.ts";
 * import { tensor } from "../../mod.ts";
 * const opt = sgd({ lr: 0.5, momentum: 0.9 });
 * let p = { w: tensor([1]) };
 * let s = opt.init(p);
 * ({ params: p, state: s } = opt.update({ w: tensor([1]) }, s, p)); // b = 1
 * ({ params: p, state: s } = opt.update({ w: tensor([1]) }, s, p)); // b = 1.9
 * console.log(await p.w.toArray()); // [-0.45]
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
        const step = state.count;
        const lr = valueAt(opts.lr, step);
        const wd = valueAt(opts.weightDecay ?? 0, step);
        const bufs: Record<string, Tensor> = {};
        const prev = state.momentum;
        const fn = (path: string, p: Tensor, g: Tensor, b?: Tensor): Tensor => {
          let d = wd !== 0 && (opts.weightDecayMask?.(path, p) ?? true) ? add(g, mul(p, wd)) : g;
          if (mu !== 0) {
            const buf = b ? add(mul(b, mu), mul(d, 1 - damp)) : mul(d, 1);
            bufs[path] = buf;
            d = opts.nesterov ? add(d, mul(buf, mu)) : buf;
          }
          return sub(p, mul(d, lr * (opts.lrScale?.(path) ?? 1)));
        };
        const newP = prev === null
          ? treeMapWithPath((path, p, g) => fn(path, p, g), params, grads)
          : treeMapWithPath((path, p, g, b) => fn(path, p, g, b), params, grads, prev);
        const momentum = mu === 0 ? null : treeMapWithPath((path) => bufs[path]!, params);
        return { params: newP, state: { count: step + 1, momentum } };
      }),
  };
}
