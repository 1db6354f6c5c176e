/**
 * Tiny ViT configurations shared by the model, nn and webgpu tests (spread and override:
 * `{ ...TINY_VIT, depth: 3 }`).
 */
import type { MaskRcnnConfig, VitConfig } from "../../models/mod.ts";

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
  vit: {
    imgSize: 64,
    patchSize: 16,
    inChans: 1,
    numClasses: 0,
    embedDim: 16,
    depth: 2,
    numHeads: 2,
  },
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
