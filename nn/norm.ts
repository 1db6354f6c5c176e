/**
 * LayerNorm as a layer: parameters `weight` (ones) and `bias` (zeros) over the last axis;
 * `eps` defaults to 1e-6, the value every ViT in the spec uses (PyTorch's own default is 1e-5).
 * @module
 */
import { type DType, layerNorm, type Tensor, TesseraError } from "../tensor/mod.ts";
import { initFromSpec, onesInit, ParamSpec, type Spec, zerosInit } from "./init.ts";

/**
 * Parameters of {@link applyLayerNorm}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { LayerNormParams } from "./norm.ts";
 * import { ones, zeros } from "../mod.ts";
 * const p: LayerNormParams = { weight: ones([8]), bias: zeros([8]) };
 * assert.deepEqual(p.bias.shape, [8]);
 * ```
 */
export interface LayerNormParams {
  /** Scale γ, `[dim]`. */
  weight: Tensor;
  /** Shift β, `[dim]`. */
  bias: Tensor;
}

/**
 * Default LayerNorm epsilon for ViTs (timm, BEiT, DINO, MAE).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VIT_LN_EPS } from "./norm.ts";
 * assert.equal(VIT_LN_EPS, 1e-6);
 * ```
 */
export const VIT_LN_EPS = 1e-6;

/**
 * Spec of a LayerNorm over `dim` features.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { layerNormSpec } from "./norm.ts";
 * assert.deepEqual(layerNormSpec(384).weight.shape, [384]);
 * ```
 */
export function layerNormSpec(dim: number, dtype: DType = "float32"): Spec<LayerNormParams> {
  if (!Number.isInteger(dim) || dim < 1) {
    throw new TesseraError("layerNormSpec", `dim must be a positive integer, got ${dim}`);
  }
  return {
    weight: new ParamSpec([dim], onesInit, dtype),
    bias: new ParamSpec([dim], zerosInit, dtype),
  };
}

/**
 * Initialises a LayerNorm (weight 1, bias 0). The key is unused but kept for the uniform
 * `initX(key, config)` signature.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initLayerNorm } from "./norm.ts";
 * import { random } from "../mod.ts";
 * assert.deepEqual(await initLayerNorm(random.key(0), 2).weight.toArray(), [1, 1]);
 * ```
 */
export function initLayerNorm(key: Tensor, dim: number, dtype: DType = "float32"): LayerNormParams {
  return initFromSpec(key, layerNormSpec(dim, dtype)) as LayerNormParams;
}

/**
 * LayerNorm over the last axis with learned affine parameters (named `applyLayerNorm`
 * because the parameter-free op is the core's `layerNorm`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyLayerNorm } from "./norm.ts";
 * import { tensor } from "../mod.ts";
 * const p = { weight: tensor([1, 1, 2]), bias: tensor([0, 0, 1]) };
 * const [y] = await applyLayerNorm(p, tensor([[1, 2, 3]]), { eps: 0 }).toArray() as number[][];
 * const want = [-Math.sqrt(1.5), 0, 2 * Math.sqrt(1.5) + 1]; // (x − 2)/√(2/3) · weight + bias
 * assert.ok(y!.every((v, i) => Math.abs(v - want[i]!) < 1e-6));
 * ```
 */
export function applyLayerNorm(
  params: LayerNormParams,
  x: Tensor,
  opts: { eps?: number } = {},
): Tensor {
  return layerNorm(x, params.weight, params.bias, { eps: opts.eps ?? VIT_LN_EPS });
}
