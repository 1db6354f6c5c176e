/**
 * The building blocks of mmseg's decode heads: `ConvModule` (conv without bias → BatchNorm →
 * ReLU; params `conv` + `bn`, running statistics in a separate state `bn`), `Dropout2d`
 * (whole channels), the bilinear resize with `align_corners=False` and the `conv_seg`
 * classifier (1×1 conv, weight N(0, 0.01²), bias 0).
 * @module
 */
import {
  cast,
  div,
  interpolate,
  mul,
  random,
  relu,
  type Tensor,
  TesseraError,
} from "../../tensor/mod.ts";
import {
  batchNorm2d,
  type BatchNormParams,
  batchNormSpec,
  type BatchNormState,
  initBatchNormState,
} from "../../nn/batch_norm.ts";
import { convLayer, type ConvLayerParams, convLayerSpec } from "../../nn/conv.ts";
import { normalInit, type Spec, zerosInit } from "../../nn/init.ts";

/**
 * Parameters of one ConvModule (mmseg names: `conv.weight`, `bn.weight`, `bn.bias`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { convModuleSpec, type ConvModuleParams } from "./conv_module.ts";
 * import { initFromSpec } from "../../nn/init.ts";
 * import { random } from "../../mod.ts";
 * const p = initFromSpec(random.key(0), convModuleSpec(3, 4, 1)) as ConvModuleParams;
 * assert.equal(p.conv.bias, undefined);
 * ```
 */
export interface ConvModuleParams {
  /** The convolution, no bias. */
  conv: ConvLayerParams;
  /** BatchNorm affine parameters. */
  bn: BatchNormParams;
}

/**
 * Running statistics of one ConvModule (`bn.running_mean`, `bn.running_var`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { convModuleState } from "./conv_module.ts";
 * assert.deepEqual(convModuleState(5).bn.running_mean.shape, [5]);
 * ```
 */
export interface ConvModuleState {
  /** BatchNorm running statistics. */
  bn: BatchNormState;
}

/**
 * Spec of a ConvModule `inChannels → outChannels` with a square `kernel` (padding k/2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { convModuleSpec } from "./conv_module.ts";
 * import { countParams } from "../../nn/init.ts";
 * assert.equal(countParams(convModuleSpec(2, 4, 3)), 4 * 2 * 9 + 8);
 * ```
 */
export function convModuleSpec(
  inChannels: number,
  outChannels: number,
  kernel: number,
): Spec<ConvModuleParams> {
  return {
    conv: convLayerSpec({ inChannels, outChannels, kernel, bias: false }),
    bn: batchNormSpec(outChannels),
  };
}

/**
 * Fresh running statistics of a ConvModule with `outChannels` outputs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { convModuleState } from "./conv_module.ts";
 * assert.deepEqual(await convModuleState(2).bn.running_var.toArray(), [1, 1]);
 * ```
 */
export function convModuleState(outChannels: number): ConvModuleState {
  return { bn: initBatchNormState(outChannels) };
}

/**
 * Applies a ConvModule (conv with padding ⌊k/2⌋ → BN → ReLU); returns the output and the
 * BN state (updated in train mode).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { convModule, convModuleSpec, convModuleState, type ConvModuleParams } from "./conv_module.ts";
 * import { initFromSpec } from "../../nn/init.ts";
 * import { ones, random } from "../../mod.ts";
 * const p = initFromSpec(random.key(0), convModuleSpec(1, 2, 3)) as ConvModuleParams;
 * const { y } = convModule(p, convModuleState(2), ones([1, 1, 4, 4]));
 * assert.deepEqual(y.shape, [1, 2, 4, 4]);
 * assert.ok(Array.from(await y.data()).every((v) => v >= 0));
 * ```
 */
export function convModule(
  params: ConvModuleParams,
  state: ConvModuleState,
  x: Tensor,
  opts: { train?: boolean } = {},
): { y: Tensor; state: ConvModuleState } {
  const k = params.conv.weight.shape[2]!;
  const h = convLayer(params.conv, x, { padding: Math.floor(k / 2) });
  const bn = batchNorm2d(params.bn, state.bn, h, { train: opts.train });
  return { y: relu(bn.y), state: { bn: bn.state } };
}

/**
 * Spec of the `conv_seg` classifier `channels → numClasses` (1×1, N(0, 0.01²), bias 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { convSegSpec } from "./conv_module.ts";
 * assert.deepEqual(convSegSpec(8, 3).weight.shape, [3, 8, 1, 1]);
 * ```
 */
export function convSegSpec(channels: number, numClasses: number): Spec<ConvLayerParams> {
  return convLayerSpec({
    inChannels: channels,
    outChannels: numClasses,
    kernel: 1,
    weightInit: normalInit(0.01),
    biasInit: zerosInit,
  });
}

/**
 * `Dropout2d`: in train mode each channel of `[N, C, H, W]` is zeroed with probability `rate`
 * and the rest scaled by `1/(1 − rate)`; identity otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dropout2d } from "./conv_module.ts";
 * import { ones, random } from "../../mod.ts";
 * const y = dropout2d(ones([1, 8, 2, 2]), { rate: 0.5, train: true, key: random.key(0) });
 * const v = Array.from(await y.data());
 * for (let c = 0; c < 8; c++) assert.ok(v.slice(4 * c, 4 * c + 4).every((z) => z === v[4 * c] && (z === 0 || z === 2)));
 * assert.equal(dropout2d(ones([1, 1, 1, 1]), { rate: 0.5 }).shape.length, 4);
 * ```
 */
export function dropout2d(
  x: Tensor,
  opts: { rate: number; train?: boolean; key?: Tensor },
): Tensor {
  if (!(opts.rate >= 0 && opts.rate < 1)) {
    throw new TesseraError("dropout2d", `rate must be in [0, 1), got ${opts.rate}`);
  }
  if (!opts.train || opts.rate === 0) return x;
  if (!opts.key) throw new TesseraError("dropout2d", "train mode needs a key");
  const keep = 1 - opts.rate;
  const mask = random.bernoulli(opts.key, keep, [x.shape[0]!, x.shape[1]!, 1, 1]);
  return mul(x, div(cast(mask, x.dtype), keep));
}

/**
 * Bilinear resize of `[N, C, h, w]` to `size` with `align_corners=False` (mmseg's `resize`);
 * the input itself when the size already matches.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resizeBilinear } from "./conv_module.ts";
 * import { tensor } from "../../mod.ts";
 * assert.deepEqual(await resizeBilinear(tensor([[[[1, 3]]]]), [1, 4]).toArray(), [[[[1, 1.5, 2.5, 3]]]]);
 * ```
 */
export function resizeBilinear(x: Tensor, size: readonly [number, number]): Tensor {
  if (x.shape[2] === size[0] && x.shape[3] === size[1]) return x;
  return interpolate(x, { size: [size[0], size[1]], mode: "bilinear", alignCorners: false });
}
