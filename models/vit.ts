/**
 * Vision Transformer (methods.md §1) with timm's parameter names, so timm/BEiT/DINO/MAE
 * state dicts load unchanged: `cls_token`, `pos_embed`, `mask_token`, `patch_embed.proj.*`,
 * `blocks.N.{norm1,attn.{qkv,proj,q_bias,v_bias},ls1.gamma|gamma_1,norm2,mlp.{fc1,fc2},…}`,
 * `norm`, `fc_norm`, `head`. A config selects the variant (CLS token, learned or fixed sin-cos
 * positions, token or mean pooling, layer scale, BEiT qv-bias) and the init scheme.
 * @module
 */
import {
  add,
  broadcastTo,
  concat,
  mean,
  reshape,
  slice,
  type Tensor,
  TesseraError,
  where,
} from "../tensor/mod.ts";
import { block } from "../nn/block.ts";
import { dropout, dropPathRates } from "../nn/dropout.ts";
import { splitKey } from "../nn/row_keys.ts";
import { linear } from "../nn/linear.ts";
import { applyLayerNorm } from "../nn/norm.ts";
import { patchEmbed } from "../nn/patch_embed.ts";
import { interpolatePosEmbed, sincos2dPosEmbed } from "../nn/pos_embed.ts";
import { type VitConfig, vitGrid, type VitParams } from "./vit_params.ts";

export {
  countVitParams,
  initVit,
  type VitConfig,
  vitGrid,
  type VitParams,
  vitSpec,
} from "./vit_params.ts";

/**
 * Options of {@link vitForwardFeatures} and {@link vitForward}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { VitForwardOptions } from "./vit.ts";
 * const o: VitForwardOptions = { train: false, returnLayers: [3, 5, 7, 11] };
 * assert.equal(o.returnLayers?.length, 4);
 * ```
 */
export interface VitForwardOptions {
  /** Training mode: dropout and drop path active (default false). */
  train?: boolean;
  /** PRNG key, required in training mode when any dropout/drop-path rate is > 0. */
  key?: Tensor;
  /** bool `[B, N]`: patches replaced by `mask_token` before positions are added (BEiT). */
  mask?: Tensor;
  /** 0-based block indices whose outputs (before the final norm) are returned. */
  returnLayers?: readonly number[];
}

/**
 * Result of {@link vitForwardFeatures}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { VitFeatures } from "./vit.ts";
 * const show = (f: VitFeatures) => f.tokens.shape;
 * assert.equal(typeof show, "function");
 * ```
 */
export interface VitFeatures {
  /** Final tokens `[B, prefix + N, D]` (after `norm` when the model has one). */
  tokens: Tensor;
  /** Outputs of the blocks in `returnLayers`, in that order. */
  intermediates: Tensor[];
  /** Token grid `[h, w]` of this input. */
  grid: [number, number];
}

/**
 * Embeds images `[B, C, H, W]` and runs the blocks: patch embed → mask tokens → CLS → +
 * positions (resampled if the grid differs from the config's) → dropout → blocks → norm.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initVit, vitForwardFeatures } from "./vit.ts";
 * import { ones, random } from "../mod.ts";
 * const cfg = { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 2, numHeads: 2 };
 * const f = vitForwardFeatures(initVit(random.key(0), cfg), ones([2, 1, 8, 8]), cfg, { returnLayers: [0] });
 * assert.deepEqual(f.tokens.shape, [2, 5, 8]);
 * assert.equal(f.intermediates.length, 1);
 * assert.deepEqual(f.grid, [2, 2]);
 * ```
 */
export function vitForwardFeatures(
  params: VitParams,
  images: Tensor,
  config: VitConfig,
  opts: VitForwardOptions = {},
): VitFeatures {
  const c = config;
  const train = opts.train ?? false;
  const rates = dropPathRates(c.dropPathRate ?? 0, c.depth, { constant: c.dropPathConstant });
  const needKey = train &&
    ((c.dropRate ?? 0) > 0 || (c.attnDropRate ?? 0) > 0 || rates.some((r) => r > 0));
  if (needKey && !opts.key) {
    throw new TesseraError("vitForwardFeatures", "a PRNG key is required in training mode");
  }
  if (params.blocks.length !== c.depth) {
    throw new TesseraError(
      "vitForwardFeatures",
      `params have ${params.blocks.length} blocks, config ${c.depth}`,
    );
  }
  const want = opts.returnLayers ?? [];
  for (const l of want) {
    if (!(Number.isInteger(l) && l >= 0 && l < c.depth)) {
      throw new TesseraError("vitForwardFeatures", `no block ${l} (depth ${c.depth})`);
    }
  }
  let x = patchEmbed(params.patch_embed, images);
  const [b, n, d] = x.shape as [number, number, number];
  const grid: [number, number] = [images.shape[2]! / c.patchSize, images.shape[3]! / c.patchSize];
  if (opts.mask) {
    if (!params.mask_token) {
      throw new TesseraError("vitForwardFeatures", "mask given but no mask_token");
    }
    x = where(reshape(opts.mask, [b, n, 1]), params.mask_token, x);
  }
  const prefix = params.cls_token ? 1 : 0;
  if (params.cls_token) x = concat([broadcastTo(params.cls_token, [b, 1, d]), x], 1);
  const pos = c.posEmbed ?? "learned";
  if (pos === "learned") {
    if (!params.pos_embed) throw new TesseraError("vitForwardFeatures", "missing pos_embed");
    x = add(
      x,
      interpolatePosEmbed(params.pos_embed, vitGrid(c), grid, {
        numPrefixTokens: prefix,
        mode: c.posInterp,
      }),
    );
  } else if (pos === "sincos") {
    x = add(
      x,
      sincos2dPosEmbed(d, grid[0], grid[1], {
        clsToken: prefix === 1,
        dtype: x.dtype,
        backend: x.backend.name,
      }),
    );
  }
  const intermediates: Tensor[] = new Array(want.length);
  const tokens = runBlocks(params.blocks, params.norm, x, c, {
    train,
    key: opts.key,
    onBlock: (i, h) =>
      want.forEach((l, j) => {
        if (l === i) intermediates[j] = h;
      }),
  });
  return { tokens, intermediates, grid };
}

/**
 * Runs embedded tokens `[B, T, D]` (positions already added) through a block stack and an
 * optional final LayerNorm: dropout, blocks with linspace drop path, norm — the tail of
 * `vitForwardFeatures`. `depth` and rates come from `config`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initVit, runBlocks } from "./vit.ts";
 * import { ones, random } from "../mod.ts";
 * const cfg = { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 };
 * const p = initVit(random.key(0), cfg);
 * assert.deepEqual(runBlocks(p.blocks, p.norm, ones([2, 3, 8]), cfg).shape, [2, 3, 8]);
 * ```
 */
export function runBlocks(
  blocks: VitParams["blocks"],
  norm: VitParams["norm"],
  x: Tensor,
  config: Pick<
    VitConfig,
    "numHeads" | "dropRate" | "attnDropRate" | "dropPathRate" | "dropPathConstant" | "eps"
  >,
  opts: {
    train?: boolean;
    key?: Tensor;
    /** Called with each block's output (before the norm), in order. */
    onBlock?: (index: number, out: Tensor) => void;
  } = {},
): Tensor {
  const c = config, train = opts.train ?? false, depth = blocks.length;
  const rates = dropPathRates(c.dropPathRate ?? 0, depth, { constant: c.dropPathConstant });
  const need = train &&
    ((c.dropRate ?? 0) > 0 || (c.attnDropRate ?? 0) > 0 || rates.some((r) => r > 0));
  if (need && !opts.key) throw new TesseraError("runBlocks", "a PRNG key is required in training");
  const keys = need ? splitKey(opts.key!, depth + 1) : [];
  let h = dropout(x, { rate: c.dropRate ?? 0, train, key: keys[depth] });
  blocks.forEach((bp, i) => {
    h = block(bp, h, {
      numHeads: c.numHeads,
      dropPath: rates[i],
      dropRate: c.dropRate,
      attnDrop: c.attnDropRate,
      eps: c.eps,
      train,
      key: keys[i],
    });
    opts.onBlock?.(i, h);
  });
  return norm ? applyLayerNorm(norm, h, { eps: c.eps }) : h;
}

/**
 * Classification head on final tokens: CLS token (`globalPool` "token") or the mean of the
 * patch tokens ("avg"), then `fc_norm` if present, then `head` (skipped when absent).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initVit, vitHead } from "./vit.ts";
 * import { ones, random } from "../mod.ts";
 * const cfg = { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 3, embedDim: 8, depth: 0, numHeads: 2, globalPool: "avg" as const };
 * assert.deepEqual(vitHead(initVit(random.key(0), cfg), ones([2, 5, 8]), cfg).shape, [2, 3]);
 * ```
 */
export function vitHead(params: VitParams, tokens: Tensor, config: VitConfig): Tensor {
  const prefix = params.cls_token ? 1 : 0;
  let x: Tensor;
  if ((config.globalPool ?? "token") === "avg") {
    x = mean(prefix ? slice(tokens, [null, [prefix, null]]) : tokens, 1);
  } else {
    if (!prefix) throw new TesseraError("vitHead", `globalPool "token" needs a CLS token`);
    x = slice(tokens, [null, 0]);
  }
  if (params.fc_norm) x = applyLayerNorm(params.fc_norm, x, { eps: config.eps });
  return params.head ? linear(params.head, x) : x;
}

/**
 * Full classifier: images `[B, C, H, W]` → logits `[B, numClasses]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initVit, vitForward } from "./vit.ts";
 * import { ones, random } from "../mod.ts";
 * const cfg = { imgSize: 28, patchSize: 7, inChans: 1, numClasses: 10, embedDim: 16, depth: 1, numHeads: 2 };
 * assert.deepEqual(
 *   vitForward(initVit(random.key(0), cfg), ones([2, 1, 28, 28]), cfg).shape,
 *   [2, 10],
 * );
 * ```
 */
export function vitForward(
  params: VitParams,
  images: Tensor,
  config: VitConfig,
  opts: VitForwardOptions = {},
): Tensor {
  return vitHead(params, vitForwardFeatures(params, images, config, opts).tokens, config);
}
