/**
 * Tiny ViT configurations shared by the model, nn and webgpu tests (spread and override:
 * `{ ...TINY_VIT, depth: 3 }`).
 */
import type { MaskRcnnConfig, UperNetConfig, VitConfig } from "../../models/mod.ts";

/** 8×8 one-channel images, 4×4 patches (2×2 grid), width 8, 2 blocks, 2 heads, 3 classes. */
export const TINY_VIT: Readonly<VitConfig> = {
  imgSize: 8,
  patchSize: 4,
  inChans: 1,
  numClasses: 3,
  embedDim: 8,
  depth: 2,
  numHeads: 2,
};

/** The pre-training encoder: 16×16 images, 4×4 patches (16 tokens), width 16, 1 block, no head. */
export const TINY_ENCODER: Readonly<VitConfig> = {
  imgSize: 16,
  patchSize: 4,
  inChans: 1,
  numClasses: 0,
  embedDim: 16,
  depth: 1,
  numHeads: 2,
};

/**
 * Tiny Mask R-CNN: 64×64 one-channel images, 16×16 patches, width 16, 2 blocks; FPN 8,
 * box head 16, mask head 8, 3 classes (with background); anchors and RoI canonical size ×¼.
 */
export const TINY_MASK_RCNN: Readonly<MaskRcnnConfig> = {
  vit: { ...TINY_ENCODER, imgSize: 64, patchSize: 16, depth: 2 },
  numClasses: 3,
  fpnChannels: 8,
  boxRepresentation: 16,
  maskDim: 8,
  canvasScale: 0.25,
  posEmbed: "sincos",
  rpnBatchSize: 32,
  roiBatchSize: 16,
  rpnPreNmsTopN: { train: 100, test: 50 },
  rpnPostNmsTopN: 40,
};

/**
 * Tiny UperNet: 32×32 one-channel images, 8×8 patches (4×4 grid → maps 16, 8, 4, 2), width 16,
 * 2 blocks; head width 8, auxiliary width 8, PPM scales 1, 2; 3 classes.
 */
export const TINY_UPERNET: Readonly<UperNetConfig> = {
  vit: { ...TINY_ENCODER, imgSize: 32, patchSize: 8, depth: 2 },
  numClasses: 3,
  channels: 8,
  auxChannels: 8,
  poolScales: [1, 2],
  posEmbed: "sincos",
};
