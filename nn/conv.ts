/**
 * Convolution layers as parameter pytrees (PyTorch layout and names, `weight` + `bias`), used by
 * the dense-prediction heads (detection, segmentation): `conv2d` weight `[O, C, kh, kw]`,
 * `convTranspose2d` weight `[C, O, kh, kw]`, and a LayerNorm over the channel axis of NCHW
 * maps (ViTDet's `LayerNorm2d`).
 * @module
 */
import {
  conv2d,
  type Conv2dOptions,
  convTranspose2d,
  type ConvTranspose2dOptions,
  type DType,
  layerNorm,
  permute,
  type Tensor,
  TesseraError,
} from "../tensor/mod.ts";
import { initFromSpec, type Initializer, ParamSpec, type Spec, torchDefaultInit } from "./init.ts";
import type { LayerNormParams } from "./norm.ts";

/**
 * Parameters of a (transposed) convolution layer (PyTorch names).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ConvLayerParams } from "./conv.ts";
 * import { ones } from "../mod.ts";
 * const p: ConvLayerParams = { weight: ones([8, 3, 3, 3]), bias: ones([8]) };
 * assert.deepEqual(p.weight.shape, [8, 3, 3, 3]);
 * ```
 */
export interface ConvLayerParams {
  /** conv: `[out, in, kh, kw]`; transposed conv: `[in, out, kh, kw]`. */
  weight: Tensor;
  /** `[out]`, absent without bias. */
  bias?: Tensor;
}

/**
 * Configuration of {@link convLayerSpec}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ConvLayerConfig } from "./conv.ts";
 * const c: ConvLayerConfig = { inChannels: 256, outChannels: 256, kernel: 3 };
 * assert.equal(c.transposed ?? false, false);
 * ```
 */
export interface ConvLayerConfig {
  /** Input channels. */
  inChannels: number;
  /** Output channels. */
  outChannels: number;
  /** Square kernel side. */
  kernel: number;
  /** A transposed convolution (weight `[in, out, k, k]`; default false). */
  transposed?: boolean;
  /** Whether there is a bias (default true). */
  bias?: boolean;
  /** Weight init (default PyTorch's U(±1/√fan_in), fan_in = weight.shape[1]·k²). */
  weightInit?: Initializer;
  /** Bias init (default PyTorch's U(±1/√fan_in)). */
  biasInit?: Initializer;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

/**
 * Spec of a (transposed) convolution layer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { convLayerSpec } from "./conv.ts";
 * import { countParams } from "./init.ts";
 * assert.equal(countParams(convLayerSpec({ inChannels: 4, outChannels: 2, kernel: 3 })), 74);
 * assert.deepEqual(
 *   convLayerSpec({ inChannels: 4, outChannels: 2, kernel: 2, transposed: true }).weight.shape,
 *   [4, 2, 2, 2],
 * );
 * ```
 */
export function convLayerSpec(config: ConvLayerConfig): Spec<ConvLayerParams> {
  const { inChannels: c, outChannels: o, kernel: k } = config;
  for (const [name, v] of [["inChannels", c], ["outChannels", o], ["kernel", k]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new TesseraError("convLayerSpec", `${name} must be a positive integer, got ${v}`);
    }
  }
  const dtype = config.dtype ?? "float32";
  const shape = config.transposed ? [c, o, k, k] : [o, c, k, k];
  const def = torchDefaultInit(shape[1]! * k * k);
  const spec: Spec<ConvLayerParams> = {
    weight: new ParamSpec(shape, config.weightInit ?? def, dtype),
  };
  if (config.bias ?? true) spec.bias = new ParamSpec([o], config.biasInit ?? def, dtype);
  return spec;
}

/**
 * Initialises a (transposed) convolution layer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initConvLayer } from "./conv.ts";
 * import { random } from "../mod.ts";
 * const p = initConvLayer(random.key(0), { inChannels: 3, outChannels: 5, kernel: 1 });
 * assert.deepEqual(p.weight.shape, [5, 3, 1, 1]);
 * ```
 */
export function initConvLayer(key: Tensor, config: ConvLayerConfig): ConvLayerParams {
  return initFromSpec(key, convLayerSpec(config)) as ConvLayerParams;
}

/**
 * Applies a convolution layer to `x` `[N, C, H, W]` (PyTorch `nn.Conv2d`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { convLayer } from "./conv.ts";
 * import { ones } from "../mod.ts";
 * const y = convLayer({ weight: ones([2, 1, 3, 3]) }, ones([1, 1, 4, 4]), { padding: 1 });
 * assert.deepEqual(y.shape, [1, 2, 4, 4]);
 * assert.equal((await y.data())[5], 9);
 * ```
 */
export function convLayer(params: ConvLayerParams, x: Tensor, opts: Conv2dOptions = {}): Tensor {
  return conv2d(x, params.weight, params.bias ?? null, opts);
}

/**
 * Applies a transposed convolution layer to `x` `[N, C, H, W]` (`nn.ConvTranspose2d`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { convTransposeLayer } from "./conv.ts";
 * import { ones } from "../mod.ts";
 * const y = convTransposeLayer({ weight: ones([3, 2, 2, 2]) }, ones([1, 3, 4, 4]), { stride: 2 });
 * assert.deepEqual(y.shape, [1, 2, 8, 8]);
 * ```
 */
export function convTransposeLayer(
  params: ConvLayerParams,
  x: Tensor,
  opts: ConvTranspose2dOptions = {},
): Tensor {
  return convTranspose2d(x, params.weight, params.bias ?? null, opts);
}

/**
 * LayerNorm over the channel axis of `[N, C, H, W]` (ViTDet/ConvNeXt `LayerNorm2d`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { channelLayerNorm } from "./conv.ts";
 * import { ones, tensor } from "../mod.ts";
 * const x = tensor([[[[1]], [[3]]]]); // [1, 2, 1, 1]
 * const y = channelLayerNorm({ weight: ones([2]), bias: tensor([0, 0]) }, x, { eps: 0 });
 * assert.deepEqual(await y.toArray(), [[[[-1]], [[1]]]]);
 * ```
 */
export function channelLayerNorm(
  params: LayerNormParams,
  x: Tensor,
  opts: { eps?: number } = {},
): Tensor {
  if (x.ndim !== 4) {
    throw new TesseraError("channelLayerNorm", `x must be [N, C, H, W], got [${x.shape}]`);
  }
  const y = layerNorm(permute(x, [0, 2, 3, 1]), params.weight, params.bias, {
    eps: opts.eps ?? 1e-6,
  });
  return permute(y, [0, 3, 1, 2]);
}
