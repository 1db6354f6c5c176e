/**
 * SplitMask (methods.md §4): the patches of each image are split into two subsets A and B; a
 * shared ViT encoder sees each subset alone (visible tokens only, with their position
 * embeddings, plus CLS); a 2-block decoder at encoder width receives the encoder outputs
 * scattered back to their grid positions, a learned mask token at every other position, and a
 * decoder position embedding on all slots (so mask tokens carry position); the MIM head
 * predicts the tokenizer ids of the positions the branch did not see — branch A predicts B's
 * patches and vice versa, so every patch is predicted exactly once per step — and the
 * average-pooled decoder outputs of the two branches are matched by the symmetric InfoNCE
 * (τ = 0.2, in-batch negatives). Ablations of Table 8: `mode` "inpaint" (MIM only) or
 * "match" (InfoNCE only).
 *
 * Choices on the open points (methods.md §14.4–5): CLS prepended to both encoder sequences
 * and kept as the decoder's first slot; the pooled descriptor excludes CLS and is taken after
 * the decoder's final LayerNorm; the decoder has its own learned position embedding added to
 * all slots (MAE style) and the encoder positions are not re-added; InfoNCE on L2-normalised
 * descriptors, (ℓ_ab + ℓ_ba)/2 without the 2τ factor, weight 1:1, no projection head.
 * @module
 */
import {
  add,
  arange,
  broadcastTo,
  concat,
  div,
  expandDims,
  logicalNot,
  matmul,
  mean,
  mul,
  slice,
  split,
  takeAlongAxis,
  type Tensor,
  TesseraError,
  zeros,
} from "../tensor/mod.ts";

import { crossEntropy, infoNCE, type InfoNCEOptions, l2Normalize } from "../nn/losses.ts";
import { initFromSpec, ParamSpec, type Spec, truncNormalInit } from "../nn/init.ts";
import type { BlockParams } from "../nn/block.ts";
import { type LayerNormParams, layerNormSpec } from "../nn/norm.ts";
import { linear, type LinearParams, linearSpec } from "../nn/linear.ts";
import { patchEmbed } from "../nn/patch_embed.ts";
import { foldKey, repeatKey, splitKey } from "../nn/row_keys.ts";
import { runBlocks, type VitConfig, vitGrid, type VitParams, vitSpec } from "./vit.ts";
import {
  countMasked,
  flattenRows,
  gatherRows,
  inverseOrder,
  maskOrder,
  posEmbedParts,
  prependCls,
} from "./mim_common.ts";

/**
 * SplitMask configuration.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SplitMaskConfig } from "./splitmask.ts";
 * const c: SplitMaskConfig = {
 *   encoder: { imgSize: 16, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 16, depth: 1, numHeads: 2 },
 *   vocabSize: 64,
 * };
 * assert.equal(c.decoderDepth ?? 2, 2);
 * ```
 */
export interface SplitMaskConfig {
  /** The shared encoder (its `numClasses` is ignored). */
  encoder: VitConfig;
  /** Tokenizer vocabulary V. */
  vocabSize: number;
  /** Decoder blocks (default 2, paper §5.5); width and heads are the encoder's. */
  decoderDepth?: number;
  /** "both" (default), "inpaint" (MIM only) or "match" (InfoNCE only) — Table 8. */
  mode?: "both" | "inpaint" | "match";
  /** Weight of the MIM loss (default 1). */
  mimWeight?: number;
  /** Weight of the InfoNCE loss (default 1). */
  nceWeight?: number;
  /** InfoNCE options (default τ = 0.2, normalised, symmetrised mean, no 2τ). */
  infoNCE?: InfoNCEOptions;
}

/**
 * Decoder parameters: `mask_token` `[1, 1, D]`, `pos_embed` `[1, prefix + N, D]`, blocks, norm.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SplitMaskDecoderParams } from "./splitmask.ts";
 * const f = (d: SplitMaskDecoderParams) => d.blocks.length;
 * assert.equal(typeof f, "function");
 * ```
 */
export interface SplitMaskDecoderParams {
  /** Learned mask token `[1, 1, D]`, filling the positions a branch did not see. */
  mask_token: Tensor;
  /** Decoder position embedding `[1, prefix + N, D]`, added to all slots. */
  pos_embed: Tensor;
  /** The decoder blocks (width and heads of the encoder). */
  blocks: BlockParams[];
  /** Final LayerNorm of the decoder. */
  norm: LayerNormParams;
}

/**
 * SplitMask parameters: the encoder's (ViT names, no classifier) plus `decoder` and `lm_head`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initSplitMask, type SplitMaskParams } from "./splitmask.ts";
 * import { random } from "../mod.ts";
 * const p: SplitMaskParams = initSplitMask(random.key(0), {
 *   encoder: { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 },
 *   vocabSize: 16,
 * });
 * assert.equal(p.decoder.blocks.length, 2);
 * assert.deepEqual(p.decoder.pos_embed.shape, [1, 5, 8]);
 * ```
 */
export type SplitMaskParams = VitParams & {
  decoder: SplitMaskDecoderParams;
  lm_head: LinearParams;
};

function encoderConfig(c: SplitMaskConfig): VitConfig {
  return { ...c.encoder, numClasses: 0, fcNorm: false };
}

/**
 * Parameter spec of SplitMask (decoder blocks use the encoder's init scheme and fix_init;
 * mask token, decoder positions and `lm_head` trunc-normal 0.02).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitMaskSpec } from "./splitmask.ts";
 * const s = splitMaskSpec({ encoder: { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 }, vocabSize: 16 });
 * assert.deepEqual(s.lm_head.weight.shape, [16, 8]);
 * ```
 */
export function splitMaskSpec(config: SplitMaskConfig): Spec<SplitMaskParams> {
  if (!Number.isInteger(config.vocabSize) || config.vocabSize < 2) {
    throw new TesseraError("splitMaskSpec", `vocabSize must be an integer >= 2`);
  }
  const enc = encoderConfig(config);
  const encSpec = vitSpec(enc);
  const { mask_token: _unused, ...rest } = encSpec;
  const depth = config.decoderDepth ?? 2;
  const dec = vitSpec({ ...enc, depth, maskToken: false, posEmbed: "none" });
  const d = enc.embedDim, dtype = enc.dtype;
  const tn = truncNormalInit(0.02);
  const prefix = (enc.classToken ?? true) ? 1 : 0;
  const [h, w] = vitGrid(enc);
  return {
    ...rest,
    decoder: {
      mask_token: new ParamSpec([1, 1, d], tn, dtype),
      pos_embed: new ParamSpec([1, prefix + h * w, d], tn, dtype),
      blocks: dec.blocks,
      norm: layerNormSpec(d, dtype),
    },
    lm_head: linearSpec({ inFeatures: d, outFeatures: config.vocabSize, weightInit: tn, dtype }),
  } as Spec<SplitMaskParams>;
}

/**
 * Initialises SplitMask.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initSplitMask } from "./splitmask.ts";
 * import { random } from "../mod.ts";
 * const p = initSplitMask(random.key(0), { encoder: { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 }, vocabSize: 16 });
 * assert.equal(p.blocks.length, 1);
 * assert.equal(p.mask_token, undefined);
 * ```
 */
export function initSplitMask(key: Tensor, config: SplitMaskConfig): SplitMaskParams {
  return initFromSpec(key, splitMaskSpec(config)) as SplitMaskParams;
}

/**
 * A SplitMask batch: images `[B, C, H, W]`, bool `mask` `[B, N]` (subset A = true, the same
 * count in every row), int32 tokenizer ids `[B, N]`, and optionally `maskB` for the
 * two-disjoint-subsets variant (75% masking; default: B = complement of A).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SplitMaskBatch } from "./splitmask.ts";
 * import { ones, tensor, zeros } from "../mod.ts";
 * const b: SplitMaskBatch = { images: ones([1, 1, 8, 8]), mask: tensor([[true, false, true, false]]), targets: zeros([1, 4], { dtype: "int32" }) };
 * assert.equal(b.maskB, undefined);
 * ```
 */
export interface SplitMaskBatch {
  /** Images `[B, C, H, W]`. */
  images: Tensor;
  /** bool `[B, N]`: subset A (the patches branch A sees). */
  mask: Tensor;
  /** int32 tokenizer ids `[B, N]`. */
  targets: Tensor;
  /** bool `[B, N]`: subset B when it is not the complement of A (disjoint-subsets variant). */
  maskB?: Tensor;
}

/**
 * Options of {@link splitMaskLoss}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SplitMaskLossOptions } from "./splitmask.ts";
 * const o: SplitMaskLossOptions = { config: { encoder: { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 }, vocabSize: 8 } };
 * assert.equal(o.train ?? false, false);
 * ```
 */
export interface SplitMaskLossOptions {
  /** The model configuration. */
  config: SplitMaskConfig;
  /** Training mode (dropout / drop path; default false). */
  train?: boolean;
  /** Visible patches per branch; read from the masks on the host when omitted (CPU). */
  counts?: readonly [number, number];
  /**
   * Data-parallel InfoNCE: negatives from every rank's batch (see {@link gatheredInfoNCE});
   * omitted, the negatives are this batch's own.
   */
  negatives?: InfoNCENegatives;
}

/**
 * Where a data-parallel InfoNCE takes its negatives: `gather` concatenates every rank's rows
 * `[B, …]` → `[W·B, …]` in rank order (differentiable, e.g. distributed/ `allGather`), and
 * `offset` is the first global row of this rank's batch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { InfoNCENegatives } from "./splitmask.ts";
 * const one: InfoNCENegatives = { gather: (t) => t, offset: 0 };
 * assert.equal(one.offset, 0);
 * ```
 */
export interface InfoNCENegatives {
  /** Every rank's rows, concatenated in rank order. */
  gather: (t: Tensor) => Tensor;
  /** This rank's first row in the gathered global batch. */
  offset: number;
}

/**
 * nn/losses `infoNCE` with the negatives of the whole global batch: row i of this rank's
 * batch is scored against the gathered `[W·B, D]` embeddings of the other view (one gather of
 * both views), its positive at column `offset + i`; mean over this rank's rows (the global
 * loss is the mean over ranks). With `gather` the identity and offset 0 it is `infoNCE`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gatheredInfoNCE } from "./splitmask.ts";
 * import { infoNCE } from "../nn/losses.ts";
 * import { eye } from "../mod.ts";
 * const x = eye(3, 8);
 * const a = await gatheredInfoNCE(x, x, { gather: (t) => t, offset: 0 }).item();
 * assert.ok(Math.abs(a - (await infoNCE(x, x).item())) < 1e-6);
 * ```
 */
export function gatheredInfoNCE(
  xa: Tensor,
  xb: Tensor,
  negatives: InfoNCENegatives,
  opts: InfoNCEOptions = {},
): Tensor {
  const op = "gatheredInfoNCE";
  if (
    xa.ndim !== 2 || xb.ndim !== 2 || xa.shape[0] !== xb.shape[0] || xa.shape[1] !== xb.shape[1]
  ) {
    throw new TesseraError(
      op,
      `embeddings must both be [B, D], got [${xa.shape}] and [${xb.shape}]`,
    );
  }
  const tau = opts.temperature ?? 0.2;
  if (!(tau > 0)) throw new TesseraError(op, `temperature must be > 0, got ${tau}`);
  const norm = opts.normalize ?? true;
  const [b, d] = xa.shape as [number, number];
  const q = norm ? l2Normalize(xa) : xa;
  const k = norm ? l2Normalize(xb) : xb;
  const all = negatives.gather(concat([q, k], 1)); // [W·B, 2D]: both views in one gather
  const labels = arange(negatives.offset, negatives.offset + b, 1, {
    dtype: "int32",
    backend: xa.backend.name,
  });
  const ce = (x: Tensor, cols: [number, number]) =>
    crossEntropy(div(matmul(x, slice(all, [null, cols]), { transB: true }), tau), labels);
  let loss = ce(q, [d, 2 * d]);
  if (opts.symmetric ?? true) loss = mul(add(loss, ce(k, [0, d])), 0.5);
  return opts.scaleBy2Tau ? mul(loss, 2 * tau) : loss;
}

/**
 * Result of {@link splitMaskForward}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SplitMaskOutput } from "./splitmask.ts";
 * const f = (o: SplitMaskOutput) => o.predicted.length;
 * assert.equal(typeof f, "function");
 * ```
 */
export interface SplitMaskOutput {
  /** Weighted total loss (scalar). */
  loss: Tensor;
  /** MIM cross-entropy over all predicted positions of both branches (0 in "match" mode). */
  mim: Tensor;
  /** Symmetric InfoNCE of the pooled descriptors (0 in "inpaint" mode). */
  nce: Tensor;
  /** Positions predicted by branch A and by branch B, int32 `[B, N − |A|]`, `[B, N − |B|]`. */
  predicted: [Tensor, Tensor];
  /** Pooled descriptors x_a, x_b `[B, D]`. */
  pooled: [Tensor, Tensor];
}

/**
 * SplitMask forward: both branches, the MIM loss, the InfoNCE loss and their weighted sum.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initSplitMask, splitMaskForward } from "./splitmask.ts";
 * import { random, tensor, zeros } from "../mod.ts";
 * const config = { encoder: { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 }, vocabSize: 16 };
 * const batch = { images: random.normal(random.key(1), [2, 1, 8, 8]), mask: tensor([[true, false, true, false], [false, false, true, true]]), targets: zeros([2, 4], { dtype: "int32" }) };
 * const out = splitMaskForward(initSplitMask(random.key(0), config), batch, undefined, { config });
 * assert.deepEqual(out.predicted[0].shape, [2, 2]);
 * assert.deepEqual(out.pooled[1].shape, [2, 8]);
 * ```
 */
export function splitMaskForward(
  params: SplitMaskParams,
  batch: SplitMaskBatch,
  key: Tensor | undefined,
  opts: SplitMaskLossOptions,
): SplitMaskOutput {
  const op = "splitMaskLoss";
  const cfg = opts.config, enc = encoderConfig(cfg), mode = cfg.mode ?? "both";
  const { images, mask, targets } = batch;
  if (mask.dtype !== "bool" || targets.dtype !== "int32") {
    throw new TesseraError(op, "mask must be bool and targets int32");
  }
  const maskB = batch.maskB ?? logicalNot(mask);
  const [ka, kb] = opts.counts ?? [countMasked(mask), countMasked(maskB)];
  const train = opts.train ?? false;
  const [kEnc, kDec] = key ? splitKey(key, 2) : [undefined, undefined];

  // Embed once: patch embed + patch positions; then gather each branch's visible tokens.
  let x = patchEmbed(params.patch_embed, images);
  const [b, n, d] = x.shape as [number, number, number];
  if (mask.shape[0] !== b || mask.shape[1] !== n) {
    throw new TesseraError(op, `mask [${mask.shape}] does not match ${b} images of ${n} patches`);
  }
  const pe = posEmbedParts(params, enc);
  if (pe.patches) x = add(x, pe.patches);
  const orders = [maskOrder(mask), maskOrder(maskB)];
  const counts = [ka, kb];
  const visible = orders.map((o, i) =>
    prependCls(params, enc, gatherRows(x, slice(o, [null, [0, counts[i]!]])))
  );
  // Shared encoder: one pass over [2B, …] when the two subsets have the same size.
  const encoded = ka === kb
    ? split(
      runBlocks(params.blocks, params.norm, concat(visible, 0), enc, {
        train,
        key: kEnc && repeatKey(kEnc, 2),
      }),
      2,
      0,
    )
    : visible.map((v, i) =>
      runBlocks(params.blocks, params.norm, v, enc, {
        train,
        key: kEnc ? foldKey(kEnc, i) : undefined,
      })
    );

  // Decoder input: encoder outputs back at their positions, mask tokens elsewhere, + dec pos.
  const prefix = params.cls_token ? 1 : 0;
  const dp = params.decoder;
  const decIn = encoded.map((e, i) => {
    const patches = prefix ? slice(e, [null, [prefix, null]]) : e;
    const fill = broadcastTo(dp.mask_token, [b, n - counts[i]!, d]);
    const restore = expandDims(inverseOrder(orders[i]!), -1);
    let full = takeAlongAxis(concat([patches, fill], 1), restore, 1);
    if (prefix) full = concat([slice(e, [null, [0, 1]]), full], 1);
    return add(full, dp.pos_embed);
  });
  // The decoder has no dropout or drop path (as MAE's decoder).
  const decCfg = { ...enc, dropRate: 0, attnDropRate: 0, dropPathRate: 0 };
  const decoded = split(
    runBlocks(dp.blocks, dp.norm, concat(decIn, 0), decCfg, { train, key: kDec }),
    2,
    0,
  ).map((t) => (prefix ? slice(t, [null, [prefix, null]]) : t));

  // Branch i predicts the positions it did not see (A: the B patches, and vice versa).
  const predicted = orders.map((o, i) => slice(o, [null, [counts[i]!, null]])) as [Tensor, Tensor];
  const zero = zeros([], { dtype: x.dtype, backend: x.backend.name });
  let mim = zero;
  if (mode !== "match") {
    const logits = concat(
      decoded.map((t, i) => linear(params.lm_head, flattenRows(gatherRows(t, predicted[i]!)))),
      0,
    );
    const tgt = concat(predicted.map((p) => flattenRows(gatherRows(targets, p))), 0);
    mim = crossEntropy(logits, tgt);
  }
  const pooled = decoded.map((t) => mean(t, 1)) as [Tensor, Tensor];
  const nce = mode === "inpaint"
    ? zero
    : opts.negatives
    ? gatheredInfoNCE(pooled[0], pooled[1], opts.negatives, cfg.infoNCE)
    : infoNCE(pooled[0], pooled[1], cfg.infoNCE);
  const loss = add(mul(mim, cfg.mimWeight ?? 1), mul(nce, cfg.nceWeight ?? 1));
  return { loss, mim, nce, predicted, pooled };
}

/**
 * SplitMask's pre-training loss `w_mim·MIM + w_nce·InfoNCE` (a scalar for `valueAndGrad`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initSplitMask, splitMaskLoss } from "./splitmask.ts";
 * import { random, tensor, zeros } from "../mod.ts";
 * const config = { encoder: { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 }, vocabSize: 16, mode: "inpaint" as const };
 * const batch = { images: zeros([1, 1, 8, 8]), mask: tensor([[true, false, true, false]]), targets: zeros([1, 4], { dtype: "int32" }) };
 * const l = await splitMaskLoss(initSplitMask(random.key(0), config), batch, undefined, { config }).item();
 * assert.equal(Math.abs(l - Math.log(16)) < 0.5, true);
 * ```
 */
export function splitMaskLoss(
  params: SplitMaskParams,
  batch: SplitMaskBatch,
  key: Tensor | undefined,
  opts: SplitMaskLossOptions,
): Tensor {
  return splitMaskForward(params, batch, key, opts).loss;
}
