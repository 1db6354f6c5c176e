/**
 * Analytical FLOP counts of the ViT encoder and of one pre-training step per image
 * (multiply-adds × 2; the backward pass counts as twice the forward), for the compute columns
 * of the pre-training comparison and BEiT's equal-compute arm. Norms, softmax and elementwise
 * ops are not counted (they are small next to the matmuls).
 * @module
 */
import type { VitConfig } from "./vit.ts";

/**
 * Forward FLOPs of a ViT encoder on one image of `tokens` tokens (`patches` of them patch
 * tokens) of `chans`×p×p pixels: patch embedding, per block qkv/proj/MLP matmuls and the two
 * attention products.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encoderFlops } from "./flops.ts";
 * const enc = { imgSize: 28, patchSize: 7, inChans: 1, numClasses: 0, embedDim: 64, depth: 4, numHeads: 4 };
 * // 16 patches + CLS: embedding 2·16·64·49 = 100,352; each block 2·17·64²·12 + 4·17²·64 = 1,745,152
 * assert.equal(encoderFlops(enc, 17, 16), 100_352 + 4 * 1_745_152);
 * ```
 */
export function encoderFlops(enc: VitConfig, tokens: number, patches: number): number {
  const d = enc.embedDim, r = enc.mlpRatio ?? 4;
  const embed = 2 * patches * d * enc.inChans * enc.patchSize ** 2;
  const block = 2 * tokens * d * d * (4 + 2 * r) + 4 * tokens * tokens * d;
  return embed + enc.depth * block;
}

/** Patches of an image and whether the encoder prepends a CLS token (1) or not (0). */
function grid(enc: VitConfig): { n: number; prefix: number } {
  const g = (enc.imgSize as number) / enc.patchSize;
  return { n: g * g, prefix: (enc.classToken ?? true) ? 1 : 0 };
}

/**
 * FLOPs of assigning every patch of an image to the nearest of `vocab` tokenizer codewords.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tokenizerFlops } from "./flops.ts";
 * const enc = { imgSize: 28, patchSize: 7, inChans: 1, numClasses: 0, embedDim: 64, depth: 4, numHeads: 4 };
 * assert.equal(tokenizerFlops(enc, 256), 2 * 16 * 49 * 256);
 * ```
 */
export function tokenizerFlops(enc: VitConfig, vocab: number): number {
  return 2 * grid(enc).n * enc.inChans * enc.patchSize ** 2 * vocab;
}

/**
 * Training FLOPs per image of a BEiT step with `numMasked` masked patches: the encoder on all
 * patches, the LM head on the masked ones (both × 3 for the backward) and the tokenizer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { beitStepFlops, encoderFlops, tokenizerFlops } from "./flops.ts";
 * const encoder = { imgSize: 28, patchSize: 7, inChans: 1, numClasses: 0, embedDim: 64, depth: 4, numHeads: 4 };
 * const f = beitStepFlops({ encoder, vocabSize: 256 }, 6);
 * assert.equal(f, 3 * (encoderFlops(encoder, 17, 16) + 2 * 6 * 64 * 256) + tokenizerFlops(encoder, 256));
 * ```
 */
export function beitStepFlops(
  cfg: { encoder: VitConfig; vocabSize: number },
  numMasked: number,
): number {
  const { encoder: enc, vocabSize: v } = cfg, { n, prefix } = grid(enc);
  return 3 * (encoderFlops(enc, n + prefix, n) + 2 * numMasked * enc.embedDim * v) +
    tokenizerFlops(enc, v);
}

/**
 * Training FLOPs per image of a SplitMask step whose two patch subsets have `counts` patches:
 * the encoder on each subset, the decoder (encoder-shaped, `decoderDepth` blocks, no patch
 * embedding) on the full grid for each, the token head on every patch, and the tokenizer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitMaskStepFlops } from "./flops.ts";
 * const encoder = { imgSize: 28, patchSize: 7, inChans: 1, numClasses: 0, embedDim: 64, depth: 4, numHeads: 4 };
 * const f = splitMaskStepFlops({ encoder, vocabSize: 256, decoderDepth: 2 }, [8, 8]);
 * assert.ok(Number.isSafeInteger(f) && f > 0);
 * ```
 */
export function splitMaskStepFlops(
  cfg: { encoder: VitConfig; vocabSize: number; decoderDepth: number },
  counts: readonly [number, number],
): number {
  const { encoder: enc, vocabSize: v } = cfg, { n, prefix } = grid(enc);
  const dec = { ...enc, depth: cfg.decoderDepth };
  return 3 * (encoderFlops(enc, counts[0] + prefix, counts[0]) +
        encoderFlops(enc, counts[1] + prefix, counts[1]) +
        2 * (encoderFlops(dec, n + prefix, 0)) + 2 * n * enc.embedDim * v) +
    tokenizerFlops(enc, v);
}

/**
 * Training FLOPs per image of a DINO step: the student on the 2 global and `localCrops`
 * local crops (× 3 for the backward), the teacher on the 2 global crops (forward only), each
 * with the projection head.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dinoStepFlops, encoderFlops } from "./flops.ts";
 * const backbone = { imgSize: 28, patchSize: 7, inChans: 1, numClasses: 0, embedDim: 64, depth: 4, numHeads: 4 };
 * const cfg = { backbone, outDim: 8, hiddenDim: 16, bottleneckDim: 4 };
 * const head = 2 * (64 * 16 + 16 * 16 + 16 * 4 + 4 * 8);
 * const global = encoderFlops(backbone, 17, 16) + head;
 * assert.equal(dinoStepFlops(cfg, { localCrops: 0, localSize: 14 }), 3 * 2 * global + 2 * global);
 * ```
 */
export function dinoStepFlops(
  cfg: { backbone: VitConfig; outDim: number; hiddenDim: number; bottleneckDim: number },
  crops: { localCrops: number; localSize: number },
): number {
  const enc = cfg.backbone, p = enc.patchSize, d = enc.embedDim;
  const n = ((enc.imgSize as number) / p) ** 2, nl = (crops.localSize / p) ** 2;
  const h = cfg.hiddenDim, bot = cfg.bottleneckDim, k = cfg.outDim;
  const head = 2 * (d * h + h * h + h * bot + bot * k);
  const global = encoderFlops(enc, n + 1, n) + head;
  const local = encoderFlops(enc, nl + 1, nl) + head;
  return 3 * (2 * global + crops.localCrops * local) + 2 * global;
}
