/**
 * Mask R-CNN + FPN on a ViT backbone (methods.md §11–12): configuration, parameters (ViT
 * encoder, 4-scale adapter, FPN, RPN head, box and mask heads), the shared forward to the FPN
 * maps and the RPN's proposals. Training and inference are in mask_rcnn.ts.
 * @module
 */
import { type Tensor, TesseraError } from "../../tensor/mod.ts";
import { initFromSpec, type Spec } from "../../nn/init.ts";
import { type VitConfig, type VitParams, vitSpec } from "../vit_params.ts";
import {
  type VitAdapterParams,
  vitAdapterSpec,
  vitMultiScale,
  type VitPyramid,
} from "../dense/vit_adapter.ts";
import { type AnchorConfig, type Anchors, generateAnchors, scaledAnchors } from "./anchors.ts";
import { type BoxHeadParams, boxHeadSpec } from "./box_head.ts";
import { fpn, type FpnParams, fpnSpec } from "./fpn.ts";
import { type MaskHeadParams, maskHeadSpec } from "./mask_head.ts";
import { filterProposals, type Proposals } from "./rpn.ts";
import { rpnHead, type RpnHeadOutput, type RpnHeadParams, rpnHeadSpec } from "./rpn_head.ts";

/**
 * Configuration of {@link maskRcnnSpec} and the forward functions (spec defaults in brackets;
 * shrink widths and `canvasScale` for tiny models and small canvases).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { MaskRcnnConfig } from "./mask_rcnn_model.ts";
 * const vit = { imgSize: 64, patchSize: 16, inChans: 1, numClasses: 0, embedDim: 16, depth: 2, numHeads: 2 };
 * const c: MaskRcnnConfig = { vit, numClasses: 11, canvasScale: 0.25, fpnChannels: 16 };
 * assert.equal(c.numClasses, 11);
 * ```
 */
export interface MaskRcnnConfig {
  /** The encoder (its classifier head is not used: set numClasses 0). */
  vit: VitConfig;
  /** Classes including background. */
  numClasses: number;
  /** FPN width [256]. */
  fpnChannels?: number;
  /** Box head width [1024]. */
  boxRepresentation?: number;
  /** Mask head width [256]. */
  maskDim?: number;
  /** Scales anchor sizes (32…512) and the RoI canonical size (224) [1]. */
  canvasScale?: number;
  /** Explicit anchors (default the spec's, scaled by canvasScale). */
  anchors?: AnchorConfig;
  /** Norm between the stride-4 deconvs ["layer"]. */
  adapterNorm?: "layer" | "none";
  /** The ViT → 4-scale adapter's branch (default "beit"; "xcit8" for patch 8). */
  pyramid?: VitPyramid;
  /** Blocks feeding the 4 scales [BEiT's 3, 5, 7, 11 for depth 12]. */
  outIndices?: readonly number[];
  /** Position scheme override ["sincos" per spec §11 default (a); undefined keeps the encoder's]. */
  posEmbed?: "learned" | "sincos";
  /** RPN top-k per level before NMS, training / test [2000 / 1000]. */
  rpnPreNmsTopN?: { train: number; test: number };
  /** RPN proposals per image after NMS [1000]. */
  rpnPostNmsTopN?: number;
  /** RPN anchors sampled per image [256] and their positive share [0.5]. */
  rpnBatchSize?: number;
  /** RPN positive share [0.5]. */
  rpnPositiveFraction?: number;
  /** RoIs sampled per image [512]. */
  roiBatchSize?: number;
  /** RoI positive share [0.25]. */
  roiPositiveFraction?: number;
  /** Inference: score threshold [0.05], NMS [0.5], detections per image [100]. */
  test?: { scoreThresh?: number; nmsThresh?: number; detectionsPerImage?: number };
}

/**
 * Parameters of Mask R-CNN (torchvision-like grouping; the encoder keeps timm names).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { MaskRcnnParams } from "./mask_rcnn_model.ts";
 * const parts = (p: MaskRcnnParams) => [p.backbone, p.adapter, p.fpn, p.rpn.head, p.roi_heads];
 * assert.equal(typeof parts, "function");
 * ```
 */
export interface MaskRcnnParams {
  /** The ViT encoder (loadable from any `pretrain` encoder checkpoint). */
  backbone: VitParams;
  /** ViT → 4 scales. */
  adapter: VitAdapterParams;
  /** FPN neck. */
  fpn: FpnParams;
  /** RPN head. */
  rpn: { head: RpnHeadParams };
  /** Box and mask heads. */
  roi_heads: BoxHeadParams & MaskHeadParams;
}

/**
 * The anchors of a config: explicit, or the spec's scaled by `canvasScale`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskRcnnAnchors } from "./mask_rcnn_model.ts";
 * const vit = { imgSize: 32, patchSize: 16, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 };
 * assert.deepEqual(maskRcnnAnchors({ vit, numClasses: 2, canvasScale: 0.5 }).sizes[0], [16]);
 * ```
 */
export function maskRcnnAnchors(c: MaskRcnnConfig): AnchorConfig {
  return c.anchors ?? scaledAnchors(c.canvasScale ?? 1);
}

/**
 * Spec of the whole model.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskRcnnSpec } from "./mask_rcnn_model.ts";
 * const vit = { imgSize: 32, patchSize: 16, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 };
 * const s = maskRcnnSpec({ vit, numClasses: 3, fpnChannels: 8, boxRepresentation: 16, maskDim: 8 });
 * assert.deepEqual(s.roi_heads.box_predictor.bbox_pred.weight.shape, [12, 16]);
 * ```
 */
export function maskRcnnSpec(config: MaskRcnnConfig): Spec<MaskRcnnParams> {
  const d = config.vit.embedDim, f = config.fpnChannels ?? 256, k = config.numClasses;
  const a = maskRcnnAnchors(config);
  const per = a.sizes[0]!.length * a.aspectRatios[0]!.length;
  if (
    a.sizes.some((s, i) => s.length * a.aspectRatios[i]!.length !== per) || a.sizes.length !== 5
  ) {
    throw new TesseraError(
      "maskRcnnSpec",
      `anchors need 5 levels (P2–P6) with the same number per location, got ${a.sizes.length} levels`,
    );
  }
  return {
    backbone: vitSpec(config.vit),
    adapter: vitAdapterSpec({
      embedDim: d,
      norm: config.adapterNorm,
      pyramid: config.pyramid,
    }),
    fpn: fpnSpec({ inChannels: [d, d, d, d], outChannels: f }),
    rpn: { head: rpnHeadSpec({ inChannels: f, numAnchors: per }) },
    roi_heads: {
      ...boxHeadSpec({
        inFeatures: f * 49,
        representation: config.boxRepresentation ?? 1024,
        numClasses: k,
      }),
      ...maskHeadSpec({ inChannels: f, dim: config.maskDim ?? 256, numClasses: k }),
    },
  } as Spec<MaskRcnnParams>;
}

/**
 * Initialises the whole model (replace `backbone` with pre-trained encoder weights to fine-tune).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initMaskRcnn } from "./mask_rcnn_model.ts";
 * import { random } from "../../mod.ts";
 * const vit = { imgSize: 32, patchSize: 16, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 };
 * const p = initMaskRcnn(random.key(0), { vit, numClasses: 3, fpnChannels: 8, boxRepresentation: 16, maskDim: 8 });
 * assert.equal(p.roi_heads.mask_head.length, 4);
 * ```
 */
export function initMaskRcnn(key: Tensor, config: MaskRcnnConfig): MaskRcnnParams {
  return initFromSpec(key, maskRcnnSpec(config)) as MaskRcnnParams;
}

/**
 * Forward options: training mode (dropout, drop path) and its PRNG key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ForwardOptions } from "./mask_rcnn_model.ts";
 * const o: ForwardOptions = { train: false };
 * assert.equal(o.train, false);
 * ```
 */
export interface ForwardOptions {
  /** Training mode (default false). */
  train?: boolean;
  /** PRNG key for dropout / drop path in training mode. */
  key?: Tensor;
}

/**
 * FPN maps P2…P6 of images `[N, C, H, W]` (H, W multiples of 32).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initMaskRcnn, maskRcnnFeatures } from "./mask_rcnn_model.ts";
 * import { ones, random } from "../../mod.ts";
 * const vit = { imgSize: 32, patchSize: 16, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 };
 * const cfg = { vit, numClasses: 3, fpnChannels: 8, boxRepresentation: 16, maskDim: 8 };
 * const maps = maskRcnnFeatures(initMaskRcnn(random.key(0), cfg), ones([1, 1, 64, 64]), cfg);
 * assert.deepEqual(maps.map((m) => m.shape[2]), [16, 8, 4, 2, 1]);
 * ```
 */
export function maskRcnnFeatures(
  params: MaskRcnnParams,
  images: Tensor,
  config: MaskRcnnConfig,
  opts: ForwardOptions = {},
): Tensor[] {
  if (images.ndim !== 4 || images.shape[2]! % 32 !== 0 || images.shape[3]! % 32 !== 0) {
    throw new TesseraError(
      "maskRcnnFeatures",
      `images must be [N, C, H, W] padded to multiples of 32, got [${images.shape}]`,
    );
  }
  const maps = vitMultiScale(params.adapter, params.backbone, images, config.vit, {
    train: opts.train,
    key: opts.key,
    outIndices: config.outIndices,
    posEmbed: config.posEmbed,
  });
  return fpn(params.fpn, maps);
}

/**
 * The RPN part of a forward on FPN maps.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RpnForward } from "./mask_rcnn_model.ts";
 * const n = (r: RpnForward) => r.proposals.length;
 * assert.equal(typeof n, "function");
 * ```
 */
export interface RpnForward {
  /** The head's flattened outputs. */
  head: RpnHeadOutput;
  /** The anchors of the padded batch. */
  anchors: Anchors;
  /** Proposals per image (no gradient). */
  proposals: Proposals[];
}

/**
 * RPN head, anchors and proposals on FPN maps `feats` of padded images `[N, C, H, W]`
 * (`imageSizes` unpadded), with the training or test top-k.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initMaskRcnn, maskRcnnFeatures, maskRcnnProposals } from "./mask_rcnn_model.ts";
 * import { dispose, ones, random } from "../../mod.ts";
 * const vit = { imgSize: 32, patchSize: 16, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 };
 * const cfg = { vit, numClasses: 3, fpnChannels: 8, boxRepresentation: 16, maskDim: 8, canvasScale: 0.25, rpnPostNmsTopN: 5 };
 * const p = initMaskRcnn(random.key(0), cfg), img = ones([1, 1, 64, 64]);
 * const r = await maskRcnnProposals(p, maskRcnnFeatures(p, img, cfg), img, [[64, 64]], cfg, "test");
 * assert.ok(r.proposals[0]!.boxes.shape[0]! <= 5);
 * dispose(r);
 * ```
 */
export async function maskRcnnProposals(
  params: MaskRcnnParams,
  feats: readonly Tensor[],
  images: Tensor,
  imageSizes: readonly (readonly [number, number])[],
  config: MaskRcnnConfig,
  phase: "train" | "test",
): Promise<RpnForward> {
  const head = rpnHead(params.rpn.head, feats);
  const grids = feats.map((m) => [m.shape[2]!, m.shape[3]!] as [number, number]);
  const anchors = generateAnchors(
    [images.shape[2]!, images.shape[3]!],
    grids,
    maskRcnnAnchors(config),
    { backend: images.backend.name },
  );
  try {
    const proposals = await filterProposals(head.objectness, head.deltas, anchors, imageSizes, {
      preNmsTopN: config.rpnPreNmsTopN?.[phase] ?? (phase === "train" ? 2000 : 1000),
      postNmsTopN: config.rpnPostNmsTopN ?? 1000,
    });
    return { head, anchors, proposals };
  } catch (e) {
    head.objectness.dispose(), head.deltas.dispose(), anchors.boxes.dispose();
    throw e;
  }
}
