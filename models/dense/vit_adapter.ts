/**
 * Single-scale ViT → four feature maps at strides 4, 8, 16, 32 (methods.md §11, the BEiT/XCiT
 * detection and segmentation adapter): token maps after four blocks (default `[3, 5, 7, 11]`),
 * CLS dropped, reshaped to `[B, D, H/16, W/16]`, then
 * `fpn1` = deconv 2×2 s2 → norm → GELU → deconv 2×2 s2 (stride 4), `fpn2` = deconv 2×2 s2
 * (stride 8), identity (stride 16), max-pool 2×2 s2 (stride 32). Head-agnostic: the FPN of
 * Mask R-CNN and UperNet both take these maps. Positions are the encoder's own (learned ones
 * resampled to the input grid, or sin-cos recomputed for it — `posEmbed: "sincos"` swaps).
 * The norm after the first deconv is SyncBN in BEiT/XCiT; here it is a channel LayerNorm
 * (ViTDet), which needs no running statistics in a pure function. With `pyramid: "xcit8"` a
 * patch-8 encoder (token maps at stride 8) takes XCiT's patch-8 branch instead: `fpn1` = one
 * deconv (stride 4), identity (8), max-pool 2 (16), max-pool 4 (32) — the same four strides
 * from a grid twice as fine. The default (`"beit"`) applies the patch-16 branch at any patch
 * size p (strides p/4 … 2p).
 * @module
 */
import {
  gelu,
  maxPool2d,
  permute,
  reshape,
  slice,
  type Tensor,
  TesseraError,
} from "../../tensor/mod.ts";
import { initFromSpec, type Spec } from "../../nn/init.ts";
import { type LayerNormParams, layerNormSpec } from "../../nn/norm.ts";
import { vitForwardFeatures, type VitForwardOptions } from "../vit.ts";
import type { VitConfig, VitParams } from "../vit_params.ts";
import {
  channelLayerNorm,
  type ConvLayerParams,
  convLayerSpec,
  convTransposeLayer,
} from "../../nn/conv.ts";

/**
 * Parameters of the adapter (BEiT's `fpn1` / `fpn2` with readable names).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initVitAdapter, type VitAdapterParams } from "./vit_adapter.ts";
 * import { random } from "../../mod.ts";
 * const p: VitAdapterParams = initVitAdapter(random.key(0), { embedDim: 8 });
 * assert.deepEqual(p.fpn1.deconv1.weight.shape, [8, 8, 2, 2]);
 * ```
 */
export interface VitAdapterParams {
  /**
   * Stride 16 → 4: deconv, norm (absent with `norm: "none"`), GELU, deconv; in the patch-8
   * branch stride 8 → 4, the first deconv alone.
   */
  fpn1: { deconv1: ConvLayerParams; norm?: LayerNormParams; deconv2?: ConvLayerParams };
  /** Stride 16 → 8: one deconv (absent in the patch-8 branch, where stride 8 is the map). */
  fpn2?: { deconv: ConvLayerParams };
}

/**
 * Which adapter branch (see the module doc): `"beit"` (strides p/4, p/2, p, 2p) or `"xcit8"`
 * (a patch-8 encoder to strides 4, 8, 16, 32).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VIT_PYRAMIDS } from "./vit_adapter.ts";
 * assert.deepEqual(VIT_PYRAMIDS, ["beit", "xcit8"]);
 * ```
 */
export const VIT_PYRAMIDS = ["beit", "xcit8"] as const;

/** One of {@link VIT_PYRAMIDS}. */
export type VitPyramid = typeof VIT_PYRAMIDS[number];

/**
 * Configuration of the adapter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { VitAdapterConfig } from "./vit_adapter.ts";
 * const c: VitAdapterConfig = { embedDim: 384, norm: "layer" };
 * assert.equal(c.embedDim, 384);
 * ```
 */
export interface VitAdapterConfig {
  /** Encoder width D (every output map has D channels). */
  embedDim: number;
  /** Norm between fpn1's deconvs: channel LayerNorm (default) or none. */
  norm?: "layer" | "none";
  /** The pyramid: BEiT's patch-16 branch (default) or XCiT's patch-8 one (module doc). */
  pyramid?: VitPyramid;
}

/**
 * Spec of the adapter's parameters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vitAdapterSpec } from "./vit_adapter.ts";
 * import { countParams } from "../../nn/init.ts";
 * assert.equal(countParams(vitAdapterSpec({ embedDim: 4 })), 3 * (4 * 4 * 4 + 4) + 8);
 * ```
 */
export function vitAdapterSpec(config: VitAdapterConfig): Spec<VitAdapterParams> {
  const d = config.embedDim;
  if (!Number.isInteger(d) || d < 1) {
    throw new TesseraError("vitAdapterSpec", `embedDim must be a positive integer, got ${d}`);
  }
  const norm = config.norm ?? "layer";
  if (norm !== "layer" && norm !== "none") {
    throw new TesseraError("vitAdapterSpec", `norm must be "layer" or "none", got ${String(norm)}`);
  }
  const deconv = () =>
    convLayerSpec({ inChannels: d, outChannels: d, kernel: 2, transposed: true });
  const pyramid = config.pyramid ?? "beit";
  if (!(VIT_PYRAMIDS as readonly string[]).includes(pyramid)) {
    throw new TesseraError(
      "vitAdapterSpec",
      `pyramid must be one of ${VIT_PYRAMIDS.join(", ")}, got ${String(pyramid)}`,
    );
  }
  if (pyramid === "xcit8") return { fpn1: { deconv1: deconv() } };
  const fpn1: Spec<VitAdapterParams>["fpn1"] = { deconv1: deconv(), deconv2: deconv() };
  if (norm === "layer") fpn1.norm = layerNormSpec(d);
  return { fpn1, fpn2: { deconv: deconv() } };
}

/**
 * Initialises the adapter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initVitAdapter } from "./vit_adapter.ts";
 * import { random } from "../../mod.ts";
 * assert.equal(initVitAdapter(random.key(0), { embedDim: 4, norm: "none" }).fpn1.norm, undefined);
 * ```
 */
export function initVitAdapter(key: Tensor, config: VitAdapterConfig): VitAdapterParams {
  return initFromSpec(key, vitAdapterSpec(config)) as VitAdapterParams;
}

/**
 * The default four block indices for a depth: BEiT's `[3, 5, 7, 11]` for 12 blocks and
 * `[7, 11, 15, 23]` for 24, else quarters `round((k+1)·depth/4) − 1`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultOutIndices } from "./vit_adapter.ts";
 * assert.deepEqual(defaultOutIndices(12), [3, 5, 7, 11]);
 * assert.deepEqual(defaultOutIndices(4), [0, 1, 2, 3]);
 * ```
 */
export function defaultOutIndices(depth: number): [number, number, number, number] {
  if (depth === 12) return [3, 5, 7, 11];
  if (depth === 24) return [7, 11, 15, 23];
  const q = (k: number) => Math.max(0, Math.round(((k + 1) * depth) / 4) - 1);
  return [q(0), q(1), q(2), q(3)];
}

/**
 * Drops the prefix (CLS) tokens of `[B, prefix + h·w, D]` and reshapes to `[B, D, h, w]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tokensToMap } from "./vit_adapter.ts";
 * import { arange, reshape } from "../../mod.ts";
 * const tok = reshape(arange(10), [1, 5, 2]); // CLS + 2×2 grid, D = 2
 * assert.deepEqual(await tokensToMap(tok, [2, 2], 1).toArray(), [[[[2, 4], [6, 8]], [[3, 5], [7, 9]]]]);
 * ```
 */
export function tokensToMap(
  tokens: Tensor,
  grid: readonly [number, number],
  prefix: number,
): Tensor {
  const [b, t, d] = tokens.shape as [number, number, number];
  if (tokens.ndim !== 3 || t !== prefix + grid[0] * grid[1]) {
    throw new TesseraError(
      "tokensToMap",
      `tokens [${tokens.shape}] do not hold ${prefix} prefix + ${grid[0]}×${grid[1]} tokens`,
    );
  }
  const patches = prefix ? slice(tokens, [null, [prefix, null]]) : tokens;
  return permute(reshape(patches, [b, grid[0], grid[1], d]), [0, 3, 1, 2]);
}

/**
 * The four scale branches on four stride-16 maps `[B, D, h, w]`: outputs at 4h, 2h, h and
 * ⌊h/2⌋ (strides 4, 8, 16, 32).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adaptScales, initVitAdapter } from "./vit_adapter.ts";
 * import { ones, random } from "../../mod.ts";
 * const p = initVitAdapter(random.key(0), { embedDim: 4 });
 * const m = ones([1, 4, 4, 6]);
 * assert.deepEqual(adaptScales(p, [m, m, m, m]).map((t) => t.shape.slice(2)), [[16, 24], [8, 12], [4, 6], [2, 3]]);
 * ```
 */
export function adaptScales(params: VitAdapterParams, maps: readonly Tensor[]): Tensor[] {
  if (maps.length !== 4) {
    throw new TesseraError("adaptScales", `expected 4 maps, got ${maps.length}`);
  }
  const f = params.fpn1;
  let x = convTransposeLayer(f.deconv1, maps[0]!, { stride: 2 });
  if (!params.fpn2 || !f.deconv2) { // XCiT's patch-8 branch: the maps are at stride 8
    return [
      x,
      maps[1]!,
      maxPool2d(maps[2]!, 2, { stride: 2 }),
      maxPool2d(maps[3]!, 4, { stride: 4 }),
    ];
  }
  if (f.norm) x = channelLayerNorm(f.norm, x);
  x = convTransposeLayer(f.deconv2, gelu(x), { stride: 2 });
  const y = convTransposeLayer(params.fpn2.deconv, maps[1]!, { stride: 2 });
  return [x, y, maps[2]!, maxPool2d(maps[3]!, 2, { stride: 2 })];
}

/**
 * Options of {@link vitMultiScale}: the encoder's forward options plus the block indices.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { VitMultiScaleOptions } from "./vit_adapter.ts";
 * const o: VitMultiScaleOptions = { outIndices: [3, 5, 7, 11], posEmbed: "sincos" };
 * assert.equal(o.outIndices?.length, 4);
 * ```
 */
export interface VitMultiScaleOptions extends Omit<VitForwardOptions, "returnLayers" | "mask"> {
  /** Four 0-based block indices (default {@link defaultOutIndices}). */
  outIndices?: readonly number[];
  /** Override the encoder's position scheme (spec §11 default for detection: "sincos"). */
  posEmbed?: "learned" | "sincos";
}

/**
 * Images `[B, C, H, W]` (H, W multiples of the patch size) → four maps `[B, D, ·, ·]` at
 * strides p/4, p/2, p, 2p (4, 8, 16, 32 for p = 16; for p = 8 with the patch-8 adapter also
 * 4, 8, 16, 32).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initVitAdapter, vitMultiScale } from "./vit_adapter.ts";
 * import { initVit } from "../vit.ts";
 * import { ones, random } from "../../mod.ts";
 * const cfg = { imgSize: 32, patchSize: 16, inChans: 1, numClasses: 0, embedDim: 8, depth: 2, numHeads: 2 };
 * const vit = initVit(random.key(0), cfg), ad = initVitAdapter(random.key(1), { embedDim: 8 });
 * const maps = vitMultiScale(ad, vit, ones([1, 1, 64, 96]), cfg);
 * assert.deepEqual(maps.map((m) => m.shape), [[1, 8, 16, 24], [1, 8, 8, 12], [1, 8, 4, 6], [1, 8, 2, 3]]);
 * ```
 */
export function vitMultiScale(
  params: VitAdapterParams,
  vit: VitParams,
  images: Tensor,
  vitConfig: VitConfig,
  opts: VitMultiScaleOptions = {},
): Tensor[] {
  const op = "vitMultiScale";
  const p = vitConfig.patchSize;
  if (images.ndim !== 4 || images.shape[2]! % p !== 0 || images.shape[3]! % p !== 0) {
    throw new TesseraError(
      op,
      `images must be [B, C, H, W] with H, W multiples of the patch size ${p}, got [${images.shape}]`,
    );
  }
  if (!params.fpn2 && p !== 8) {
    throw new TesseraError(op, `the xcit8 pyramid needs a patch-8 encoder, got patch ${p}`);
  }
  const idx = opts.outIndices ?? defaultOutIndices(vitConfig.depth);
  if (idx.length !== 4) {
    throw new TesseraError(op, `outIndices must have 4 entries, got ${idx.length}`);
  }
  const config = opts.posEmbed ? { ...vitConfig, posEmbed: opts.posEmbed } : vitConfig;
  const f = vitForwardFeatures(vit, images, config, {
    train: opts.train,
    key: opts.key,
    returnLayers: idx,
  });
  // Without a final norm (avg-pool presets) the tokens are the last block's output itself.
  if (!f.intermediates.includes(f.tokens)) f.tokens.dispose();
  const prefix = vit.cls_token ? 1 : 0;
  return adaptScales(params, f.intermediates.map((t) => tokensToMap(t, f.grid, prefix)));
}
