/**
 * Shared helpers of the pre-training model tests: random masks with an exact count per row,
 * the pixel mask of a patch mask, the checkGrad of a loss on a tiny float64 batch, and a
 * few-steps AdamW loop.
 */
import {
  argsort,
  broadcastTo,
  checkGrad,
  dispose,
  less,
  memoryStats,
  random,
  reshape,
  scope,
  type Tensor,
  valueAndGrad,
} from "../../mod.ts";
import { adamw } from "../../nn/mod.ts";

/** bool `[B, N]` with exactly `k` true entries per row, uniformly placed. */
export function randomMask(key: Tensor, b: number, n: number, k: number): Tensor {
  return scope(() => less(argsort(argsort(random.uniform(key, [b, n]), 1), 1), k));
}

/** bool `[B, 1, h·p, w·p]`: true on the pixels of masked patches. */
export function pixelMask(mask: Tensor, h: number, w: number, p: number): Tensor {
  return scope(() => {
    const b = mask.shape[0]!;
    const m = broadcastTo(reshape(mask, [b, 1, h, 1, w, 1]), [b, 1, h, p, w, p]);
    return reshape(m, [b, 1, h * p, w * p]);
  });
}

/** A masked-image-modelling batch: images, the patch mask and the target tokens. */
export interface MimBatch {
  images: Tensor;
  mask: Tensor;
  targets: Tensor;
}

/**
 * checkGrad (ε 1e-5: unit-scale directions on 0.02-scale weights, where the O(ε²) error of 1e-4
 * is ~1e-4) of a masked-image-modelling loss at `params` on a tiny float64 batch: `b` images
 * 1×8×8 (4 patches of 4×4), 2 of the 4 patches masked per image, targets in a vocabulary of 8.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mul, sum, tensor } from "../../mod.ts";
 * import { checkMimLossGrad } from "./_pretrain.ts";
 * const w = tensor([0.5], { dtype: "float64" });
 * await assert.doesNotReject(checkMimLossGrad({ w }, (p, b) => sum(mul(b.images, p.w)), 2));
 * ```
 */
export async function checkMimLossGrad<P>(
  params: P,
  loss: (p: P, batch: MimBatch) => Tensor,
  b: number,
): Promise<void> {
  const batch: MimBatch = {
    images: random.normal(random.key(1), [b, 1, 8, 8], { dtype: "float64" }),
    mask: randomMask(random.key(2), b, 4, 2),
    targets: random.randint(random.key(3), [b, 4], 0, 8),
  };
  await checkGrad((p: P) => loss(p, batch), [params], { eps: 1e-5 });
}

/** Runs `steps` AdamW steps of `loss` from `params`; returns the losses; throws if live tensors grow. */
export async function trainSteps<P>(
  params: P,
  loss: (p: P, step: number) => Tensor,
  steps: number,
  lr = 3e-3,
): Promise<number[]> {
  const opt = adamw({ lr, weightDecay: 0 });
  let p = params;
  let state = opt.init(p);
  const out: number[] = [], live: number[] = [];
  for (let s = 0; s < steps; s++) {
    const r = scope(() => {
      const [l, g] = valueAndGrad((q: P) => loss(q, s))(p) as [Tensor, P];
      const u = opt.update(g, state, p);
      return { l, ...u };
    });
    out.push(await r.l.item());
    dispose(state);
    if (s > 0) dispose(p);
    r.l.dispose();
    p = r.params as P, state = r.state;
    if (s === 1 || s === steps - 1) live.push(memoryStats().cpu?.tensors ?? 0);
  }
  if (live.length === 2 && live[0] !== live[1]) {
    throw new Error(`live tensors grew from step to step: ${live}`);
  }
  dispose([p, state]);
  return out;
}
