/**
 * The ViT's configuration and parameters: {@link VitConfig}, the timm-named parameter tree
 * {@link VitParams}, its spec ({@link vitSpec}: shapes and initialisers), {@link initVit},
 * {@link countVitParams} and the patch grid ({@link vitGrid}). Re-exported by models/vit.ts.
 * @module
 */
import { type DType, type Tensor, TesseraError } from "../tensor/mod.ts";
import { type BlockParams, blockSpec } from "../nn/block.ts";
import {
  countParams,
  initFromSpec,
  type Initializer,
  normalInit,
  ParamSpec,
  scaledInit,
  type Spec,
  truncNormalInit,
  xavierUniformInit,
} from "../nn/init.ts";
import { type LinearParams, linearSpec } from "../nn/linear.ts";
import { type LayerNormParams, layerNormSpec } from "../nn/norm.ts";
import { type PatchEmbedParams, patchEmbedSpec } from "../nn/patch_embed.ts";
import { type InterpMode } from "../nn/pos_embed.ts";

/**
 * ViT configuration. Defaults reproduce timm's `VisionTransformer` (token pooling, learned
 * positions, full qkv bias, no layer scale, LayerNorm eps 1e-6).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { VitConfig } from "./vit.ts";
 * const c: VitConfig = { imgSize: 28, patchSize: 7, inChans: 1, numClasses: 10, embedDim: 32, depth: 2, numHeads: 2 };
 * assert.equal(c.embedDim / c.numHeads, 16);
 * ```
 */
export interface VitConfig {
  /** Training image size (square, or `[H, W]`); fixes the learned position grid. */
  imgSize: number | readonly [number, number];
  /** Patch side p. */
  patchSize: number;
  /** Input channels. */
  inChans: number;
  /** Classes of the linear head; 0 = no head (the pooled features are returned). */
  numClasses: number;
  /** Width D. */
  embedDim: number;
  /** Number of blocks L. */
  depth: number;
  /** Attention heads. */
  numHeads: number;
  /** MLP ratio (default 4). */
  mlpRatio?: number;
  /** qkv bias: "full" (timm; default), "qv" (BEiT) or "none". */
  qkvBias?: "full" | "qv" | "none";
  /** Prepend a CLS token (default true). */
  classToken?: boolean;
  /** Patch embedding: one stride-p conv ("patch", default) or a conv stem ("conv", nn/conv_stem.ts). */
  stem?: "patch" | "conv";
  /** Absolute positions: "learned" (default), fixed "sincos" (MAE; not a parameter), "none". */
  posEmbed?: "learned" | "sincos" | "none";
  /** Resampling of learned positions for another image size (default "bicubic"). */
  posInterp?: InterpMode;
  /** Pooling for the head: CLS "token" (default) or "avg" over patch tokens (BEiT fine-tune). */
  globalPool?: "token" | "avg";
  /** LayerNorm after pooling (`fc_norm`) instead of `norm` before it; default: globalPool "avg". */
  fcNorm?: boolean;
  /** Layer-scale init (0/undefined = none; BEiT base 0.1). */
  layerScaleInit?: number;
  /** Layer-scale parameter names: timm `ls1.gamma` (default) or BEiT `gamma_1`. */
  layerScaleNames?: "timm" | "beit";
  /** Add a learned `mask_token` `[1, 1, D]` (BEiT/SplitMask pre-training). */
  maskToken?: boolean;
  /** Dropout after position embedding, in the MLP and after attention proj (default 0). */
  dropRate?: number;
  /** Dropout on attention probabilities (default 0). */
  attnDropRate?: number;
  /** Stochastic-depth rate, linspace over blocks (default 0). */
  dropPathRate?: number;
  /** Same drop-path rate in every block instead of linspace (XCiT detection). */
  dropPathConstant?: boolean;
  /** LayerNorm eps (default 1e-6). */
  eps?: number;
  /**
   * Init scheme: "timm" (trunc-normal 0.02 linears, cls N(0, 1e-6²)), "beit" (fine-tune:
   * trunc-normal 0.02 everywhere), "beit-pretrain" (trunc-normal cut at ±1 std) or "mae"
   * (xavier-uniform linears and patch conv, tokens N(0, 0.02²)). Default "timm".
   */
  init?: "timm" | "beit" | "beit-pretrain" | "mae";
  /** BEiT's fix_init: block l's `attn.proj.weight` and `mlp.fc2.weight` ÷ √(2l). Default: beit schemes. */
  fixInit?: boolean;
  /** Head weight (and bias) multiplied by this after init (BEiT fine-tune: 0.001). Default 1. */
  headInitScale?: number;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

/**
 * ViT parameters (timm names).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initVit, type VitParams } from "./vit.ts";
 * import { random } from "../mod.ts";
 * const p: VitParams = initVit(random.key(0), { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 2, embedDim: 8, depth: 1, numHeads: 2 });
 * assert.deepEqual(p.pos_embed?.shape, [1, 5, 8]);
 * assert.equal(p.blocks.length, 1);
 * ```
 */
export interface VitParams {
  /** `[1, 1, D]` when `classToken`. */
  cls_token?: Tensor;
  /** `[1, prefix + N, D]` when `posEmbed` is "learned". */
  pos_embed?: Tensor;
  /** `[1, 1, D]` when `maskToken`. */
  mask_token?: Tensor;
  /** The patch-embedding conv. */
  patch_embed: PatchEmbedParams;
  /** The transformer blocks. */
  blocks: BlockParams[];
  /** Final LayerNorm (absent with `fcNorm`). */
  norm?: LayerNormParams;
  /** LayerNorm after pooling (with `fcNorm`). */
  fc_norm?: LayerNormParams;
  /** Linear classifier `[classes, D]` (absent when numClasses is 0). */
  head?: LinearParams;
}

/**
 * Token grid `[h, w]` of the configured image size.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vitGrid } from "./vit.ts";
 * assert.deepEqual(
 *   vitGrid({ imgSize: [224, 160], patchSize: 16, inChans: 3, numClasses: 0, embedDim: 8, depth: 0, numHeads: 1 }),
 *   [14, 10],
 * );
 * ```
 */
export function vitGrid(config: VitConfig): [number, number] {
  const [h, w] = typeof config.imgSize === "number"
    ? [config.imgSize, config.imgSize]
    : config.imgSize;
  const p = config.patchSize;
  if (h % p !== 0 || w % p !== 0) {
    throw new TesseraError("vit", `image size ${h}×${w} is not divisible by patch size ${p}`);
  }
  return [h / p, w / p];
}

function useFcNorm(c: VitConfig): boolean {
  return c.fcNorm ?? (c.globalPool ?? "token") === "avg";
}

/**
 * Parameter spec of a ViT (shapes + initialisers; nothing allocated).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vitSpec } from "./vit.ts";
 * import { VIT_PRESETS } from "./vit_presets.ts";
 * assert.deepEqual(vitSpec(VIT_PRESETS.vit_small_patch16_224).pos_embed?.shape, [1, 197, 384]);
 * ```
 */
export function vitSpec(config: VitConfig): Spec<VitParams> {
  const c = config;
  const scheme = c.init ?? "timm";
  if (!["timm", "beit", "beit-pretrain", "mae"].includes(scheme)) {
    throw new TesseraError("vitSpec", `unknown init scheme "${scheme}"`);
  }
  const d = c.embedDim, dtype = c.dtype;
  const [gh, gw] = vitGrid(c);
  const prefix = (c.classToken ?? true) ? 1 : 0;
  const tn: Initializer = scheme === "beit-pretrain"
    ? truncNormalInit(0.02, { a: -0.02, b: 0.02 })
    : truncNormalInit(0.02);
  const lin = scheme === "mae" ? xavierUniformInit() : tn;
  const token = scheme === "timm" ? normalInit(1e-6) : scheme === "mae" ? normalInit(0.02) : tn;
  const fix = c.fixInit ?? scheme.startsWith("beit");
  const spec: Spec<VitParams> = {} as Spec<VitParams>;
  if (prefix) spec.cls_token = new ParamSpec([1, 1, d], token, dtype);
  if ((c.posEmbed ?? "learned") === "learned") {
    spec.pos_embed = new ParamSpec([1, prefix + gh * gw, d], tn, dtype);
  }
  if (c.maskToken) spec.mask_token = new ParamSpec([1, 1, d], token, dtype);
  spec.patch_embed = patchEmbedSpec({
    patchSize: c.patchSize,
    inChans: c.inChans,
    embedDim: d,
    weightInit: scheme === "mae" ? xavierUniformInit() : undefined,
    dtype,
    stem: c.stem,
  });
  spec.blocks = Array.from({ length: c.depth }, (_, i) =>
    blockSpec({
      dim: d,
      numHeads: c.numHeads,
      mlpRatio: c.mlpRatio,
      qkvBias: c.qkvBias,
      layerScaleInit: c.layerScaleInit,
      layerScaleNames: c.layerScaleNames,
      weightInit: lin,
      residualWeightInit: fix ? scaledInit(lin, 1 / Math.sqrt(2 * (i + 1))) : lin,
      dtype,
    }));
  if (useFcNorm(c)) spec.fc_norm = layerNormSpec(d, dtype);
  else spec.norm = layerNormSpec(d, dtype);
  if (c.numClasses > 0) {
    const s = c.headInitScale ?? 1;
    spec.head = linearSpec({
      inFeatures: d,
      outFeatures: c.numClasses,
      weightInit: scaledInit(tn, s),
      dtype,
    });
  }
  return spec;
}

/**
 * Initialises a ViT.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initVit } from "./vit.ts";
 * import { random } from "../mod.ts";
 * const p = initVit(random.key(0), { imgSize: 28, patchSize: 7, inChans: 1, numClasses: 10, embedDim: 32, depth: 2, numHeads: 2 });
 * assert.deepEqual(p.patch_embed.proj.weight.shape, [32, 1, 7, 7]);
 * assert.deepEqual(p.head?.weight.shape, [10, 32]);
 * ```
 */
export function initVit(key: Tensor, config: VitConfig): VitParams {
  return initFromSpec(key, vitSpec(config)) as VitParams;
}

/**
 * Number of parameters of a ViT config, computed from shapes only.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { countVitParams } from "./vit.ts";
 * import { VIT_PRESETS } from "./vit_presets.ts";
 * assert.equal(countVitParams(VIT_PRESETS.vit_base_patch16_224), 86567656);
 * ```
 */
export function countVitParams(config: VitConfig): number {
  return countParams(vitSpec(config));
}
