/**
 * BEiT pre-training (methods.md §7): the ViT encoder with a learned `mask_token` that replaces
 * the patch embeddings of masked patches **before** position embeddings are added, and an MIM
 * head `lm_head` (Linear D → V) applied only at the masked positions, trained with
 * cross-entropy against the tokenizer ids of the unmasked image. Parameter names follow
 * unilm's `modeling_pretrain.py` (`cls_token`, `pos_embed`, `mask_token`, `patch_embed`,
 * `blocks`, `norm`, `lm_head`), so the encoder loads by name for fine-tuning.
 * @module
 */
import { argmax, cast, equal, mean, slice, type Tensor, TesseraError } from "../tensor/mod.ts";
import { crossEntropy } from "../nn/losses.ts";
import { initFromSpec, type Spec, truncNormalInit } from "../nn/init.ts";
import { linear, type LinearParams, linearSpec } from "../nn/linear.ts";
import { type VitConfig, vitForwardFeatures, type VitParams, vitSpec } from "./vit.ts";
import { flattenRows, gatherRows, maskIndices } from "./mim_common.ts";

/**
 * BEiT pre-training configuration.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { BeitConfig } from "./beit.ts";
 * const c: BeitConfig = {
 *   encoder: { imgSize: 16, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 16, depth: 1, numHeads: 2 },
 *   vocabSize: 64,
 * };
 * assert.equal(c.vocabSize, 64);
 * ```
 */
export interface BeitConfig {
  /** The encoder (its `numClasses` is ignored: no classifier; `maskToken` is forced on). */
  encoder: VitConfig;
  /** Tokenizer vocabulary V (8192 in the paper). */
  vocabSize: number;
}

/**
 * BEiT parameters: the ViT's (with `mask_token`) plus `lm_head` `[V, D]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initBeit, type BeitParams } from "./beit.ts";
 * import { random } from "../mod.ts";
 * const p: BeitParams = initBeit(random.key(0), {
 *   encoder: { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 },
 *   vocabSize: 32,
 * });
 * assert.deepEqual(p.mask_token?.shape, [1, 1, 8]);
 * assert.deepEqual(p.lm_head.weight.shape, [32, 8]);
 * ```
 */
export type BeitParams = VitParams & { lm_head: LinearParams };

/**
 * The encoder config actually used: no classifier, a mask token, the final `norm` (no `fc_norm`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { beitEncoderConfig } from "./beit.ts";
 * const enc = { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 10, embedDim: 8, depth: 1, numHeads: 2 };
 * assert.equal(beitEncoderConfig({ encoder: enc, vocabSize: 4 }).numClasses, 0);
 * ```
 */
export function beitEncoderConfig(config: BeitConfig): VitConfig {
  return { ...config.encoder, numClasses: 0, maskToken: true, fcNorm: false };
}

/**
 * Parameter spec of the BEiT pre-training model (`lm_head` trunc-normal 0.02, bias 0; cut at
 * ±1 std under the "beit-pretrain" init scheme, as unilm does).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { beitSpec } from "./beit.ts";
 * const s = beitSpec({ encoder: { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 }, vocabSize: 16 });
 * assert.deepEqual(s.lm_head.weight.shape, [16, 8]);
 * ```
 */
export function beitSpec(config: BeitConfig): Spec<BeitParams> {
  if (!Number.isInteger(config.vocabSize) || config.vocabSize < 2) {
    throw new TesseraError(
      "beitSpec",
      `vocabSize must be an integer >= 2, got ${config.vocabSize}`,
    );
  }
  const enc = beitEncoderConfig(config);
  const cut = enc.init === "beit-pretrain" ? { a: -0.02, b: 0.02 } : {};
  return {
    ...vitSpec(enc),
    lm_head: linearSpec({
      inFeatures: enc.embedDim,
      outFeatures: config.vocabSize,
      weightInit: truncNormalInit(0.02, cut),
      dtype: enc.dtype,
    }),
  } as Spec<BeitParams>;
}

/**
 * Initialises the BEiT pre-training model.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initBeit } from "./beit.ts";
 * import { random } from "../mod.ts";
 * const p = initBeit(random.key(0), { encoder: { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 }, vocabSize: 16 });
 * assert.equal(p.blocks.length, 1);
 * assert.equal(p.head, undefined);
 * ```
 */
export function initBeit(key: Tensor, config: BeitConfig): BeitParams {
  return initFromSpec(key, beitSpec(config)) as BeitParams;
}

/**
 * A BEiT batch: images `[B, C, H, W]`, bool mask `[B, N]` (true = masked; the same count in
 * every row) and int32 tokenizer ids `[B, N]` of the unmasked image.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { BeitBatch } from "./beit.ts";
 * import { ones, zeros } from "../mod.ts";
 * const b: BeitBatch = { images: ones([1, 1, 8, 8]), mask: ones([1, 4], { dtype: "bool" }), targets: zeros([1, 4], { dtype: "int32" }) };
 * assert.equal(b.mask.dtype, "bool");
 * ```
 */
export interface BeitBatch {
  /** Images `[B, C, H, W]`. */
  images: Tensor;
  /** bool `[B, N]`, true = masked (replaced by the mask token and predicted). */
  mask: Tensor;
  /** int32 tokenizer ids `[B, N]` of the unmasked image. */
  targets: Tensor;
}

/**
 * Options of {@link beitLoss} / {@link beitForward}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { BeitLossOptions } from "./beit.ts";
 * const enc = { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 };
 * const o: BeitLossOptions = { config: { encoder: enc, vocabSize: 8 }, train: true };
 * assert.equal(o.train, true);
 * ```
 */
export interface BeitLossOptions {
  /** The model configuration. */
  config: BeitConfig;
  /** Training mode (dropout / drop path active; default false). */
  train?: boolean;
  /** Masked patches per image; read from the mask on the host when omitted (CPU). */
  numMasked?: number;
}

/**
 * BEiT forward: MIM logits at the masked positions `[B·M, V]` (row-major over images, masked
 * positions ascending), their targets `[B·M]`, the loss (mean cross-entropy over masked
 * tokens) and the MLM accuracy (argmax match rate, for logging).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { beitForward, initBeit } from "./beit.ts";
 * import { random, tensor, zeros } from "../mod.ts";
 * const config = { encoder: { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 }, vocabSize: 16 };
 * const mask = tensor([[true, false, true, false]]);
 * const out = beitForward(initBeit(random.key(0), config), { images: zeros([1, 1, 8, 8]), mask, targets: zeros([1, 4], { dtype: "int32" }) }, undefined, { config });
 * assert.deepEqual(out.logits.shape, [2, 16]);
 * ```
 */
export function beitForward(
  params: BeitParams,
  batch: BeitBatch,
  key: Tensor | undefined,
  opts: BeitLossOptions,
): { loss: Tensor; logits: Tensor; targets: Tensor; accuracy: Tensor } {
  const enc = beitEncoderConfig(opts.config);
  const { images, mask, targets } = batch;
  if (mask.dtype !== "bool" || targets.dtype !== "int32") {
    throw new TesseraError("beitLoss", `mask must be bool and targets int32`);
  }
  const feats = vitForwardFeatures(params, images, enc, { mask, train: opts.train, key });
  const prefix = params.cls_token ? 1 : 0;
  const patches = prefix ? slice(feats.tokens, [null, [prefix, null]]) : feats.tokens;
  const idx = maskIndices(mask, opts.numMasked);
  const logits = linear(params.lm_head, flattenRows(gatherRows(patches, idx)));
  const tgt = flattenRows(gatherRows(targets, idx));
  const loss = crossEntropy(logits, tgt);
  const accuracy = mean(cast(equal(argmax(logits, -1), tgt), logits.dtype));
  return { loss, logits, targets: tgt, accuracy };
}

/**
 * BEiT's pre-training loss: mean cross-entropy of the MIM head at the masked positions
 * against the tokenizer ids (a scalar, ready for `valueAndGrad`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { beitLoss, initBeit } from "./beit.ts";
 * import { random, tensor, zeros } from "../mod.ts";
 * const config = { encoder: { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 }, vocabSize: 16 };
 * const batch = { images: zeros([1, 1, 8, 8]), mask: tensor([[true, false, false, true]]), targets: zeros([1, 4], { dtype: "int32" }) };
 * const l = await beitLoss(initBeit(random.key(0), config), batch, undefined, { config }).item();
 * assert.equal(Math.abs(l - Math.log(16)) < 0.5, true);
 * ```
 */
export function beitLoss(
  params: BeitParams,
  batch: BeitBatch,
  key: Tensor | undefined,
  opts: BeitLossOptions,
): Tensor {
  return beitForward(params, batch, key, opts).loss;
}
