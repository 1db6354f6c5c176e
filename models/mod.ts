/**
 * Models built on `nn/`: today the Vision Transformer (timm-compatible names, init schemes of
 * timm/BEiT/MAE, classifier head) and its named presets.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { countVitParams, VIT_PRESETS } from "./mod.ts";
 * assert.equal(countVitParams(VIT_PRESETS.vit_small_patch16_224), 22050664);
 * ```
 * @module
 */
export * from "./vit.ts";
export * from "./vit_presets.ts";
export * from "./masking.ts";
export * from "./detection/mod.ts";
export * from "./dense/mod.ts";
export * from "./segmentation/mod.ts";
export * from "./beit.ts";
export * from "./splitmask.ts";
export * from "./dino.ts";
export * from "./tokenizers.ts";
export * from "./kmeans.ts";
export * from "./tokenizer_io.ts";
export * from "./tokenizers_fit.ts";
export * from "./dino_train.ts";
export * from "./encoder_checkpoint.ts";
export * from "./encoder_features.ts";
export * from "./flops.ts";

// Types referenced by the public signatures above, re-exported so the entry point documents them.
export type * from "../tensor/core_types.ts";
export type {
  AttentionParams,
  BlockParams,
  InfoNCEOptions,
  Initializer,
  InterpMode,
  LayerNormParams,
  LinearParams,
  MlpParams,
  Optimizer,
  ParamSpec,
  PatchEmbedParams,
  Spec,
} from "../nn/mod.ts";
export type { Rng } from "../tensor/host_rng.ts";
