/**
 * UperNet on a ViT (methods.md §13): the shared ViT → 4-scale adapter (models/dense), the
 * UperHead on all four maps and the auxiliary FCNHead on the stride-16 map (`in_index` 2).
 * Parameters as mmseg's `EncoderDecoder`: `backbone` (timm ViT names), `neck` (the adapter's
 * fpn1/fpn2), `decode_head`, `auxiliary_head`; BatchNorm running statistics in a separate
 * state pytree with the heads' structure.
 * @module
 */
import { random, type Tensor, TesseraError } from "../../tensor/mod.ts";
import { initVit } from "../vit.ts";
import type { VitConfig, VitParams } from "../vit_params.ts";
import {
  initVitAdapter,
  type VitAdapterParams,
  vitMultiScale,
  type VitPyramid,
} from "../dense/vit_adapter.ts";
import {
  fcnHead,
  type FcnHeadParams,
  type FcnHeadState,
  initFcnHead,
  initFcnHeadState,
} from "./fcn_head.ts";
import {
  initUperHead,
  initUperHeadState,
  uperHead,
  type UperHeadParams,
  type UperHeadState,
} from "./uper_head.ts";
import { resizeBilinear } from "./conv_module.ts";

/**
 * Configuration of {@link uperNet}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { UperNetConfig } from "./uper_net.ts";
 * import { VIT_PRESETS } from "../vit_presets.ts";
 * const c: UperNetConfig = { vit: { ...VIT_PRESETS.vit_base_patch16_224, numClasses: 0 }, numClasses: 150, channels: 768 };
 * assert.equal(c.auxChannels ?? 256, 256);
 * ```
 */
export interface UperNetConfig {
  /** The encoder (its classifier head is not used; `numClasses: 0`). */
  vit: VitConfig;
  /** Segmentation classes. */
  numClasses: number;
  /** UperHead width C (768 in the BEiT config, 512 in mmseg's). */
  channels: number;
  /** FCNHead width (default 256). */
  auxChannels?: number;
  /** PPM pool sizes (default [1, 2, 3, 6]). */
  poolScales?: readonly number[];
  /** Four encoder block indices (default the adapter's). */
  outIndices?: readonly number[];
  /** Override the encoder's position scheme. */
  posEmbed?: "learned" | "sincos";
  /** Dropout2d rate of both heads (default 0.1). */
  dropout?: number;
  /** The ViT → 4-scale adapter's branch (default "beit"; "xcit8" for patch 8). */
  pyramid?: VitPyramid;
}

/**
 * Parameters of UperNet (mmseg's top-level names).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initUperNet, type UperNetParams } from "./uper_net.ts";
 * import { random } from "../../mod.ts";
 * const vit = { imgSize: 32, patchSize: 8, inChans: 1, numClasses: 0, embedDim: 8, depth: 2, numHeads: 2 };
 * const p: UperNetParams = initUperNet(random.key(0), { vit, numClasses: 3, channels: 4, auxChannels: 4 });
 * assert.deepEqual(p.auxiliary_head.convs[0]!.conv.weight.shape, [4, 8, 3, 3]);
 * ```
 */
export interface UperNetParams {
  /** The ViT encoder. */
  backbone: VitParams;
  /** The 4-scale adapter. */
  neck: VitAdapterParams;
  /** UperHead. */
  decode_head: UperHeadParams;
  /** Auxiliary FCNHead. */
  auxiliary_head: FcnHeadParams;
}

/**
 * BatchNorm statistics of UperNet's heads.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initUperNetState } from "./uper_net.ts";
 * const vit = { imgSize: 32, patchSize: 8, inChans: 1, numClasses: 0, embedDim: 8, depth: 2, numHeads: 2 };
 * assert.equal(initUperNetState({ vit, numClasses: 3, channels: 4 }).auxiliary_head.convs.length, 1);
 * ```
 */
export interface UperNetState {
  /** Of the UperHead. */
  decode_head: UperHeadState;
  /** Of the FCNHead. */
  auxiliary_head: FcnHeadState;
}

function headConfigs(config: UperNetConfig) {
  const d = config.vit.embedDim;
  return {
    uper: {
      inChannels: d,
      channels: config.channels,
      numClasses: config.numClasses,
      poolScales: config.poolScales,
    },
    fcn: { inChannels: d, channels: config.auxChannels ?? 256, numClasses: config.numClasses },
  };
}

/**
 * Initialises UperNet from four independent keys (encoder, adapter, heads).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initUperNet } from "./uper_net.ts";
 * import { random } from "../../mod.ts";
 * const vit = { imgSize: 32, patchSize: 8, inChans: 1, numClasses: 0, embedDim: 8, depth: 2, numHeads: 2 };
 * const p = initUperNet(random.key(0), { vit, numClasses: 3, channels: 4 });
 * assert.deepEqual(p.decode_head.conv_seg.weight.shape, [3, 4, 1, 1]);
 * ```
 */
export function initUperNet(key: Tensor, config: UperNetConfig): UperNetParams {
  const h = headConfigs(config);
  const [k0, k1, k2, k3] = random.splitKeys(key, 4);
  return {
    backbone: initVit(k0, config.vit),
    neck: initVitAdapter(k1, { embedDim: config.vit.embedDim, pyramid: config.pyramid }),
    decode_head: initUperHead(k2, h.uper),
    auxiliary_head: initFcnHead(k3, h.fcn),
  };
}

/**
 * Fresh BatchNorm statistics of UperNet.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initUperNetState } from "./uper_net.ts";
 * const vit = { imgSize: 32, patchSize: 8, inChans: 1, numClasses: 0, embedDim: 8, depth: 2, numHeads: 2 };
 * assert.equal(initUperNetState({ vit, numClasses: 3, channels: 4, poolScales: [1, 2] }).decode_head.psp_modules.length, 2);
 * ```
 */
export function initUperNetState(config: UperNetConfig): UperNetState {
  const h = headConfigs(config);
  return { decode_head: initUperHeadState(h.uper), auxiliary_head: initFcnHeadState(h.fcn) };
}

/**
 * UperNet forward: images `[B, C, H, W]` (H, W multiples of the patch size) → `logits`
 * `[B, K, H, W]` (the UperHead's stride-4 output resized bilinearly to the input,
 * align_corners=False), `auxLogits` at stride 16 (resized by the loss) and the BN state
 * (updated in train mode). Train mode needs `key` (encoder drop rates and the Dropout2d).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initUperNet, initUperNetState, uperNet } from "./uper_net.ts";
 * import { ones, random } from "../../mod.ts";
 * const vit = { imgSize: 32, patchSize: 8, inChans: 1, numClasses: 0, embedDim: 8, depth: 2, numHeads: 2 };
 * const cfg = { vit, numClasses: 3, channels: 4, auxChannels: 4 };
 * const out = uperNet(initUperNet(random.key(0), cfg), initUperNetState(cfg), ones([1, 1, 32, 32]), cfg);
 * assert.deepEqual([out.logits.shape, out.auxLogits.shape], [[1, 3, 32, 32], [1, 3, 4, 4]]);
 * ```
 */
export function uperNet(
  params: UperNetParams,
  state: UperNetState,
  images: Tensor,
  config: UperNetConfig,
  opts: { train?: boolean; key?: Tensor } = {},
): { logits: Tensor; auxLogits: Tensor; state: UperNetState } {
  const train = opts.train ?? false;
  if (train && !opts.key) throw new TesseraError("uperNet", "train mode needs a key");
  const [kb, kd, ka] = opts.key ? random.splitKeys(opts.key, 3) : [undefined, undefined, undefined];
  const maps = vitMultiScale(params.neck, params.backbone, images, config.vit, {
    outIndices: config.outIndices,
    posEmbed: config.posEmbed,
    train,
    key: kb,
  });
  const dropout = config.dropout ?? 0.1;
  const dec = uperHead(params.decode_head, state.decode_head, maps, {
    train,
    key: kd,
    dropout,
    poolScales: config.poolScales,
  });
  const aux = fcnHead(params.auxiliary_head, state.auxiliary_head, maps[2]!, {
    train,
    key: ka,
    dropout,
  });
  return {
    logits: resizeBilinear(dec.logits, [images.shape[2]!, images.shape[3]!]),
    auxLogits: aux.logits,
    state: { decode_head: dec.state, auxiliary_head: aux.state },
  };
}
