/**
 * Patch embedding: a `p×p`, stride-`p` convolution written as patch extraction
 * (reshape/permute) plus one matrix product. The weight keeps timm's conv layout
 * `patch_embed.proj.weight` `[D, C, p, p]`, so PyTorch checkpoints load unchanged. With a
 * conv stem (`stem: "conv"`, nn/conv_stem.ts) the stem's stride-2 stages run first and `proj` is
 * the 1×1 conv `[D, C_last, 1, 1]` after them.
 * @module
 */
import {
  add,
  type DType,
  matmul,
  permute,
  reshape,
  type Tensor,
  TesseraError,
} from "../tensor/mod.ts";
import { convStem, convStemSpec, type ConvStemStage, convStemWidths } from "./conv_stem.ts";
import { initFromSpec, type Initializer, ParamSpec, type Spec, torchDefaultInit } from "./init.ts";

/**
 * Parameters of {@link patchEmbed} (`patch_embed.proj.*` in timm).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initPatchEmbed, type PatchEmbedParams } from "./patch_embed.ts";
 * import { random } from "../mod.ts";
 * const p: PatchEmbedParams = initPatchEmbed(random.key(0), { patchSize: 4, inChans: 3, embedDim: 8 });
 * assert.deepEqual(p.proj.weight.shape, [8, 3, 4, 4]);
 * ```
 */
export interface PatchEmbedParams {
  /** The conv: weight `[D, C, p, p]`, bias `[D]`. */
  proj: { weight: Tensor; bias?: Tensor };
  /** The conv stem's stages (`stem: "conv"`); absent for the plain patch conv. */
  stem?: ConvStemStage[];
}

/**
 * Configuration of a patch embedding.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { PatchEmbedConfig } from "./patch_embed.ts";
 * const c: PatchEmbedConfig = { patchSize: 16, inChans: 3, embedDim: 768 };
 * assert.equal(c.patchSize, 16);
 * ```
 */
export interface PatchEmbedConfig {
  /** Patch side p. */
  patchSize: number;
  /** Input channels C. */
  inChans: number;
  /** Embedding width D. */
  embedDim: number;
  /** Whether the conv has a bias (default true). */
  bias?: boolean;
  /** Weight initialiser (default PyTorch's conv default U(±1/√(C·p·p)), as timm leaves it). */
  weightInit?: Initializer;
  /** Bias initialiser (default PyTorch's conv default). */
  biasInit?: Initializer;
  /** Parameter dtype (default float32). */
  dtype?: DType;
  /** `"patch"` (default): one stride-p conv; `"conv"`: a conv stem (nn/conv_stem.ts). */
  stem?: "patch" | "conv";
}

/**
 * Spec of a patch embedding.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { patchEmbedSpec } from "./patch_embed.ts";
 * import { countParams } from "./init.ts";
 * assert.equal(countParams(patchEmbedSpec({ patchSize: 16, inChans: 3, embedDim: 768 })), 590592);
 * ```
 */
export function patchEmbedSpec(config: PatchEmbedConfig): Spec<PatchEmbedParams> {
  const { patchSize: p, inChans: c, embedDim: d } = config;
  for (const [name, v] of [["patchSize", p], ["inChans", c], ["embedDim", d]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new TesseraError("patchEmbedSpec", `${name} must be a positive integer, got ${v}`);
    }
  }
  const dtype = config.dtype ?? "float32";
  const conv = config.stem === "conv";
  // With a stem, proj is its final 1×1 conv over the last stage's channels.
  const [cin, k] = conv ? [convStemWidths(p, d).at(-1)!, 1] : [c, p];
  const def = torchDefaultInit(cin * k * k);
  const proj: Spec<PatchEmbedParams>["proj"] = {
    weight: new ParamSpec([d, cin, k, k], config.weightInit ?? def, dtype),
  };
  if (config.bias ?? true) proj.bias = new ParamSpec([d], config.biasInit ?? def, dtype);
  if (!conv) return { proj };
  return { proj, stem: convStemSpec({ patchSize: p, inChans: c, embedDim: d, dtype }) };
}

/**
 * Initialises a patch embedding.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initPatchEmbed } from "./patch_embed.ts";
 * import { random } from "../mod.ts";
 * assert.deepEqual(
 *   initPatchEmbed(random.key(0), { patchSize: 7, inChans: 1, embedDim: 4 }).proj.bias?.shape,
 *   [4],
 * );
 * ```
 */
export function initPatchEmbed(key: Tensor, config: PatchEmbedConfig): PatchEmbedParams {
  return initFromSpec(key, patchEmbedSpec(config)) as PatchEmbedParams;
}

/**
 * Splits images `[B, C, H, W]` into non-overlapping `p×p` patches, returning
 * `[B, (H/p)·(W/p), C·p·p]`: patches in row-major grid order, each flattened channel-major
 * (c, y, x) — the order a conv weight `[D, C, p, p]` flattens to. (MAE's `patchify` uses
 * (y, x, c) instead.)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { extractPatches } from "./patch_embed.ts";
 * import { arange, reshape } from "../mod.ts";
 * const img = reshape(arange(16), [1, 1, 4, 4]);
 * assert.deepEqual(
 *   await extractPatches(img, 2).toArray(),
 *   [[[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]]],
 * );
 * ```
 */
export function extractPatches(images: Tensor, patchSize: number): Tensor {
  if (images.ndim !== 4) {
    throw new TesseraError(
      "extractPatches",
      `images must be [B, C, H, W], got [${images.shape.join(", ")}]`,
    );
  }
  const [b, c, h, w] = images.shape as [number, number, number, number];
  const p = patchSize;
  if (!Number.isInteger(p) || p < 1 || h % p !== 0 || w % p !== 0) {
    throw new TesseraError(
      "extractPatches",
      `image size ${h}×${w} is not divisible by the patch size ${p}`,
    );
  }
  const gh = h / p, gw = w / p;
  const x = reshape(images, [b, c, gh, p, gw, p]);
  return reshape(permute(x, [0, 2, 4, 1, 3, 5]), [b, gh * gw, c * p * p]);
}

/**
 * Embeds images `[B, C, H, W]` as tokens `[B, (H/p)·(W/p), D]` — identical to timm's
 * `proj(x).flatten(2).transpose(1, 2)` with a stride-p conv (after the stages of a conv stem,
 * when the params have one).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initPatchEmbed, patchEmbed } from "./patch_embed.ts";
 * import { ones, random } from "../mod.ts";
 * const p = initPatchEmbed(random.key(0), { patchSize: 7, inChans: 1, embedDim: 16 });
 * assert.deepEqual(patchEmbed(p, ones([2, 1, 28, 28])).shape, [2, 16, 16]);
 * const s = initPatchEmbed(random.key(0), { patchSize: 8, inChans: 1, embedDim: 16, stem: "conv" });
 * assert.deepEqual([s.stem!.length, s.proj.weight.shape], [3, [16, 16, 1, 1]]);
 * assert.deepEqual(patchEmbed(s, ones([2, 1, 32, 32])).shape, [2, 16, 16]);
 * ```
 */
export function patchEmbed(params: PatchEmbedParams, images: Tensor): Tensor {
  if (params.stem) images = convStem(params.stem, images);
  const w = params.proj.weight;
  if (w.ndim !== 4 || w.shape[2] !== w.shape[3]) {
    throw new TesseraError(
      "patchEmbed",
      `weight must be [D, C, p, p], got [${w.shape.join(", ")}]`,
    );
  }
  const [d, c, p] = w.shape as [number, number, number];
  if (images.ndim !== 4 || images.shape[1] !== c) {
    throw new TesseraError(
      "patchEmbed",
      `images must be [B, ${c}, H, W] for a ${c}-channel weight, got [${images.shape.join(", ")}]`,
    );
  }
  const patches = extractPatches(images, p);
  const [b, n, k] = patches.shape as [number, number, number];
  const y = matmul(reshape(patches, [b * n, k]), reshape(w, [d, k]), { transB: true });
  const yb = params.proj.bias ? add(y, params.proj.bias) : y;
  return reshape(yb, [b, n, d]);
}
