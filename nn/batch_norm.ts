/**
 * BatchNorm2d as a pure function (PyTorch `nn.BatchNorm2d`, the SyncBN of mmseg's ConvModules
 * on one device): learned `weight`/`bias` in the params pytree, `running_mean`/`running_var`
 * in a separate state pytree (flax's `batch_stats`) that the train-mode call returns updated.
 * @module
 */
import {
  add,
  div,
  type DType,
  mean,
  mul,
  ones,
  reshape,
  sqrt,
  stopGradient,
  sub,
  type Tensor,
  TesseraError,
  zeros,
} from "../tensor/mod.ts";
import { onesInit, ParamSpec, type Spec, zerosInit } from "./init.ts";

/**
 * Learned affine parameters of a BatchNorm (PyTorch names).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { BatchNormParams } from "./batch_norm.ts";
 * import { ones, zeros } from "../mod.ts";
 * const p: BatchNormParams = { weight: ones([4]), bias: zeros([4]) };
 * assert.deepEqual(p.bias.shape, [4]);
 * ```
 */
export interface BatchNormParams {
  /** Scale γ `[C]` (init 1). */
  weight: Tensor;
  /** Shift β `[C]` (init 0). */
  bias: Tensor;
}

/**
 * Running statistics of a BatchNorm (PyTorch buffer names; `num_batches_tracked` is not kept:
 * with a fixed momentum PyTorch never reads it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initBatchNormState } from "./batch_norm.ts";
 * const s = initBatchNormState(3);
 * assert.deepEqual([await s.running_mean.toArray(), await s.running_var.toArray()], [[0, 0, 0], [1, 1, 1]]);
 * ```
 */
export interface BatchNormState {
  /** Running mean `[C]` (init 0). */
  running_mean: Tensor;
  /** Running unbiased variance `[C]` (init 1). */
  running_var: Tensor;
}

/**
 * Options of {@link batchNorm2d}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { BatchNormOptions } from "./batch_norm.ts";
 * const o: BatchNormOptions = { train: true, momentum: 0.1 };
 * assert.equal(o.eps ?? 1e-5, 1e-5);
 * ```
 */
export interface BatchNormOptions {
  /** Normalise with the batch statistics and update the running ones (default false). */
  train?: boolean;
  /** Running-statistics momentum: `new = (1 − m)·old + m·batch` (default 0.1). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

/**
 * Spec of a BatchNorm's learned parameters (weight 1, bias 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchNormSpec } from "./batch_norm.ts";
 * import { countParams } from "./init.ts";
 * assert.equal(countParams(batchNormSpec(8)), 16);
 * ```
 */
export function batchNormSpec(
  numFeatures: number,
  dtype: DType = "float32",
): Spec<BatchNormParams> {
  if (!Number.isInteger(numFeatures) || numFeatures < 1) {
    throw new TesseraError(
      "batchNormSpec",
      `numFeatures must be a positive integer, got ${numFeatures}`,
    );
  }
  return {
    weight: new ParamSpec([numFeatures], onesInit, dtype),
    bias: new ParamSpec([numFeatures], zerosInit, dtype),
  };
}

/**
 * Fresh running statistics: mean 0, variance 1 (PyTorch's `reset_running_stats`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initBatchNormState } from "./batch_norm.ts";
 * assert.deepEqual(initBatchNormState(2, "float64").running_var.dtype, "float64");
 * ```
 */
export function initBatchNormState(numFeatures: number, dtype: DType = "float32"): BatchNormState {
  if (!Number.isInteger(numFeatures) || numFeatures < 1) {
    throw new TesseraError(
      "initBatchNormState",
      `numFeatures must be a positive integer, got ${numFeatures}`,
    );
  }
  return {
    running_mean: zeros([numFeatures], { dtype }),
    running_var: ones([numFeatures], { dtype }),
  };
}

/**
 * BatchNorm over `[N, C, H, W]`. Train mode normalises with the batch mean and biased
 * variance over (N, H, W) and returns the running statistics moved by `momentum` towards the
 * batch mean and the *unbiased* variance (as PyTorch); eval mode uses the running statistics
 * and returns `state` itself. Gradients flow through the batch statistics, not into the state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchNorm2d, initBatchNormState } from "./batch_norm.ts";
 * import { ones, tensor, zeros } from "../mod.ts";
 * const x = tensor([[[[1, 3]]], [[[5, 7]]]]); // [2, 1, 1, 2]: mean 4, var 5 (unbiased 20/3)
 * const p = { weight: ones([1]), bias: zeros([1]) };
 * const { y, state } = batchNorm2d(p, initBatchNormState(1), x, { train: true, eps: 0 });
 * const want = [-3, -1, 1, 3].map((v) => v / Math.sqrt(5));
 * assert.ok(Array.from(await y.data()).every((v, i) => Math.abs(v - want[i]!) < 1e-6));
 * assert.ok(Math.abs((await state.running_mean.toArray() as number[])[0]! - 0.4) < 1e-6);
 * assert.ok(Math.abs((await state.running_var.toArray() as number[])[0]! - (0.9 + 0.1 * 20 / 3)) < 1e-6);
 * ```
 */
export function batchNorm2d(
  params: BatchNormParams,
  state: BatchNormState,
  x: Tensor,
  opts: BatchNormOptions = {},
): { y: Tensor; state: BatchNormState } {
  const op = "batchNorm2d";
  if (x.ndim !== 4) throw new TesseraError(op, `x must be [N, C, H, W], got [${x.shape}]`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  for (const [name, t] of [["weight", params.weight], ["bias", params.bias]] as const) {
    if (t.ndim !== 1 || t.shape[0] !== c) {
      throw new TesseraError(op, `${name} must be [${c}] for x [${x.shape}], got [${t.shape}]`);
    }
  }
  if (state.running_mean.shape[0] !== c || state.running_var.shape[0] !== c) {
    throw new TesseraError(
      op,
      `running stats [${state.running_mean.shape}], [${state.running_var.shape}] do not match ${c} channels`,
    );
  }
  const eps = opts.eps ?? 1e-5, m = opts.momentum ?? 0.1;
  if (!(eps >= 0)) throw new TesseraError(op, `eps must be >= 0, got ${eps}`);
  if (!(m >= 0 && m <= 1)) throw new TesseraError(op, `momentum must be in [0, 1], got ${m}`);
  const col = (t: Tensor) => reshape(t, [1, c, 1, 1]);
  const affine = (xhat: Tensor) => add(mul(xhat, col(params.weight)), col(params.bias));
  if (!opts.train) {
    const xhat = div(sub(x, col(state.running_mean)), sqrt(add(col(state.running_var), eps)));
    return { y: affine(xhat), state };
  }
  const count = n * h * w;
  if (count < 2) {
    throw new TesseraError(
      op,
      `train mode needs more than one value per channel, got x [${x.shape}] (PyTorch's error too)`,
    );
  }
  const mu = mean(x, [0, 2, 3], true);
  const centred = sub(x, mu);
  const v = mean(mul(centred, centred), [0, 2, 3], true);
  const y = affine(div(centred, sqrt(add(v, eps))));
  const bm = stopGradient(reshape(mu, [c])), bv = stopGradient(reshape(v, [c]));
  const next: BatchNormState = {
    running_mean: add(mul(state.running_mean, 1 - m), mul(bm, m)),
    running_var: add(mul(state.running_var, 1 - m), mul(bv, (m * count) / (count - 1))),
  };
  return { y, state: next };
}
