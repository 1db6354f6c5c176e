/**
 * The pre-norm transformer block of ViT/BEiT/DINO/MAE (timm's `Block`):
 * `x += dropPath(γ₁ ⊙ attn(norm1(x)))`, `x += dropPath(γ₂ ⊙ mlp(norm2(x)))`, with the layer
 * scale γ optional and named like timm (`ls1.gamma`) or BEiT (`gamma_1`).
 * @module
 */
import { add, type DType, mul, type Tensor, TesseraError } from "../tensor/mod.ts";
import {
  attention,
  type AttentionConfig,
  type AttentionParams,
  attentionSpec,
} from "./attention.ts";
import { dropPath } from "./dropout.ts";
import { splitKey } from "./row_keys.ts";
import { constantInit, initFromSpec, type Initializer, ParamSpec, type Spec } from "./init.ts";
import { mlp, type MlpParams, mlpSpec } from "./mlp.ts";
import { applyLayerNorm, type LayerNormParams, layerNormSpec } from "./norm.ts";

/**
 * Parameters of {@link block}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type BlockParams, initBlock } from "./block.ts";
 * import { random } from "../mod.ts";
 * const p: BlockParams = initBlock(random.key(0), { dim: 8, numHeads: 2 });
 * assert.deepEqual(Object.keys(p), ["norm1", "attn", "norm2", "mlp"]);
 * ```
 */
export interface BlockParams {
  /** LayerNorm before attention. */
  norm1: LayerNormParams;
  /** Self-attention. */
  attn: AttentionParams;
  /** timm layer scale after attention (`ls1.gamma`, `[D]`). */
  ls1?: { gamma: Tensor };
  /** BEiT layer scale after attention (`gamma_1`, `[D]`). */
  gamma_1?: Tensor;
  /** LayerNorm before the MLP. */
  norm2: LayerNormParams;
  /** The MLP (`fc1`, `fc2`). */
  mlp: MlpParams;
  /** timm layer scale after the MLP. */
  ls2?: { gamma: Tensor };
  /** BEiT layer scale after the MLP. */
  gamma_2?: Tensor;
}

/**
 * Configuration of a block.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { BlockConfig } from "./block.ts";
 * const c: BlockConfig = { dim: 384, numHeads: 6, layerScaleInit: 0.1, layerScaleNames: "beit" };
 * assert.equal(c.mlpRatio ?? 4, 4);
 * ```
 */
export interface BlockConfig {
  /** Width D. */
  dim: number;
  /** Attention heads. */
  numHeads: number;
  /** MLP hidden width = round(mlpRatio · D) (default 4). */
  mlpRatio?: number;
  /** qkv bias style (see `AttentionConfig.qkvBias`; default "full"). */
  qkvBias?: AttentionConfig["qkvBias"];
  /** Layer-scale init value; 0 or undefined disables layer scale. */
  layerScaleInit?: number;
  /** Parameter names of the layer scale: timm `ls1.gamma` (default) or BEiT `gamma_1`. */
  layerScaleNames?: "timm" | "beit";
  /** Linear weight initialiser (default truncated normal 0.02). */
  weightInit?: Initializer;
  /** Initialiser of `attn.proj.weight` and `mlp.fc2.weight` (BEiT's rescale); default `weightInit`. */
  residualWeightInit?: Initializer;
  /** Linear bias initialiser (default zeros). */
  biasInit?: Initializer;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

/**
 * Spec of a block.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blockSpec } from "./block.ts";
 * import { countParams } from "./init.ts";
 * assert.equal(countParams(blockSpec({ dim: 384, numHeads: 6 })), 1774464);
 * ```
 */
export function blockSpec(config: BlockConfig): Spec<BlockParams> {
  const { dim, numHeads, weightInit, biasInit, dtype } = config;
  const hidden = Math.round(dim * (config.mlpRatio ?? 4));
  const resid = config.residualWeightInit;
  const spec: Spec<BlockParams> = {
    norm1: layerNormSpec(dim, dtype),
    attn: attentionSpec({
      dim,
      numHeads,
      qkvBias: config.qkvBias,
      weightInit,
      projWeightInit: resid,
      biasInit,
      dtype,
    }),
    norm2: layerNormSpec(dim, dtype),
    mlp: mlpSpec({
      inFeatures: dim,
      hiddenFeatures: hidden,
      weightInit,
      fc2WeightInit: resid,
      biasInit,
      dtype,
    }),
  };
  const ls = config.layerScaleInit ?? 0;
  if (ls !== 0) {
    const g = () => new ParamSpec([dim], constantInit(ls), dtype);
    if ((config.layerScaleNames ?? "timm") === "beit") {
      spec.gamma_1 = g(), spec.gamma_2 = g();
    } else {
      spec.ls1 = { gamma: g() }, spec.ls2 = { gamma: g() };
    }
  }
  return spec;
}

/**
 * Initialises a block.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initBlock } from "./block.ts";
 * import { random } from "../mod.ts";
 * const p = initBlock(random.key(0), { dim: 8, numHeads: 2, layerScaleInit: 0.1 });
 * assert.deepEqual(await p.ls1!.gamma.toArray(), Array(8).fill(Math.fround(0.1)));
 * ```
 */
export function initBlock(key: Tensor, config: BlockConfig): BlockParams {
  return initFromSpec(key, blockSpec(config)) as BlockParams;
}

/**
 * Options of {@link block}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { BlockOptions } from "./block.ts";
 * const o: BlockOptions = { numHeads: 6, dropPath: 0.1 };
 * assert.equal(o.train ?? false, false);
 * ```
 */
export interface BlockOptions {
  /** Attention heads. */
  numHeads: number;
  /** Stochastic-depth rate of this block (default 0). */
  dropPath?: number;
  /** Dropout in the MLP and after the attention projection (default 0). */
  dropRate?: number;
  /** Dropout on attention probabilities (default 0). */
  attnDrop?: number;
  /** Additive attention bias, broadcastable to `[B, heads, N, N]`. */
  attnBias?: Tensor;
  /** bool `[B, N]`, true = padding key. */
  keyPaddingMask?: Tensor;
  /** LayerNorm epsilon (default 1e-6). */
  eps?: number;
  /** Training mode (default false). */
  train?: boolean;
  /** PRNG key, needed when training with any rate > 0. */
  key?: Tensor;
}

/**
 * Applies one pre-norm transformer block to `x` `[B, N, D]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { block, initBlock } from "./block.ts";
 * import { ones, random } from "../mod.ts";
 * const p = initBlock(random.key(0), { dim: 8, numHeads: 2 });
 * const y = block(p, ones([2, 5, 8]), { numHeads: 2, dropPath: 0.1, train: true, key: random.key(1) });
 * assert.deepEqual(y.shape, [2, 5, 8]);
 * ```
 */
export function block(params: BlockParams, x: Tensor, opts: BlockOptions): Tensor {
  const train = opts.train ?? false;
  const dp = opts.dropPath ?? 0, dr = opts.dropRate ?? 0, ad = opts.attnDrop ?? 0;
  const needKey = train && (dp > 0 || dr > 0 || ad > 0);
  if (needKey && !opts.key) {
    throw new TesseraError("block", "a PRNG key is required in training mode with dropout");
  }
  const [ka, km, kd1, kd2] = needKey ? splitKey(opts.key!, 4) : [];
  const g1 = params.ls1?.gamma ?? params.gamma_1;
  const g2 = params.ls2?.gamma ?? params.gamma_2;
  let h = attention(params.attn, applyLayerNorm(params.norm1, x, { eps: opts.eps }), {
    numHeads: opts.numHeads,
    attnBias: opts.attnBias,
    keyPaddingMask: opts.keyPaddingMask,
    attnDrop: ad,
    projDrop: dr,
    train,
    key: ka,
  });
  if (g1) h = mul(h, g1);
  const x1 = add(x, dropPath(h, { rate: dp, train, key: kd1 }));
  let m = mlp(params.mlp, applyLayerNorm(params.norm2, x1, { eps: opts.eps }), {
    dropRate: dr,
    train,
    key: km,
  });
  if (g2) m = mul(m, g2);
  return add(x1, dropPath(m, { rate: dp, train, key: kd2 }));
}
