/**
 * A convolutional stem for a ViT (Xiao et al., "Early Convolutions Help Transformers See
 * Better", NeurIPS 2021): `log2 p` stride-2 3×3 convolutions, each followed by a channel
 * LayerNorm and ReLU, in place of the single stride-p patch convolution; the patch
 * embedding's `proj` then becomes the paper's final 1×1 convolution. Overlapping receptive
 * fields give a from-scratch ViT a local prior, which the paper finds makes it train faster and
 * less sensitive to lr. The paper's stem uses BatchNorm; a channel LayerNorm keeps the encoder
 * free of running statistics (one pytree of parameters, nothing to thread through a step).
 * @module
 */
import { type DType, relu, type Tensor, TesseraError } from "../tensor/mod.ts";
import { channelLayerNorm, convLayer, type ConvLayerParams, convLayerSpec } from "./conv.ts";
import type { Spec } from "./init.ts";
import { type LayerNormParams, layerNormSpec } from "./norm.ts";

/**
 * One stage of a {@link convStem}: a bias-free 3×3 stride-2 conv and its channel LayerNorm.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { convStemSpec, type ConvStemStage } from "./conv_stem.ts";
 * import type { Spec } from "./init.ts";
 * const s: Spec<ConvStemStage> = convStemSpec({ patchSize: 2, inChans: 1, embedDim: 8 })[0]!;
 * assert.deepEqual(s.conv.weight.shape, [8, 1, 3, 3]);
 * ```
 */
export interface ConvStemStage {
  /** `[out, in, 3, 3]`, no bias (the norm's bias follows). */
  conv: ConvLayerParams;
  /** LayerNorm over the `out` channels. */
  norm: LayerNormParams;
}

/**
 * The widths of a stem's stages for patch side `patchSize` and width `embedDim`: one stage per
 * halving, doubling up to `embedDim` (at least 8 channels), as Xiao et al.'s stems.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { convStemWidths } from "./conv_stem.ts";
 * assert.deepEqual(convStemWidths(8, 128), [32, 64, 128]);
 * assert.deepEqual(convStemWidths(16, 64), [8, 16, 32, 64]);
 * assert.throws(() => convStemWidths(7, 64), /convStem: the patch size must be a power of 2/);
 * ```
 */
export function convStemWidths(patchSize: number, embedDim: number): number[] {
  const stages = Math.log2(patchSize);
  if (!Number.isInteger(stages) || stages < 1) {
    throw new TesseraError(
      "convStem",
      `the patch size must be a power of 2 of at least 2 (one stride-2 conv per halving), got ${patchSize}`,
    );
  }
  if (!Number.isInteger(embedDim) || embedDim < 1) {
    throw new TesseraError("convStem", `embedDim must be a positive integer, got ${embedDim}`);
  }
  return Array.from(
    { length: stages },
    (_, i) => Math.max(8, Math.floor(embedDim / 2 ** (stages - 1 - i))),
  );
}

/**
 * Spec of the stages of a conv stem ({@link convStemWidths} wide); `proj` (the 1×1 conv to
 * `embedDim`) is the patch embedding's own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { convStemSpec } from "./conv_stem.ts";
 * import { countParams } from "./init.ts";
 * const s = convStemSpec({ patchSize: 4, inChans: 3, embedDim: 16 });
 * assert.equal(countParams(s), 8 * 3 * 9 + 2 * 8 + 16 * 8 * 9 + 2 * 16);
 * ```
 */
export function convStemSpec(
  config: { patchSize: number; inChans: number; embedDim: number; dtype?: DType },
): Spec<ConvStemStage>[] {
  const widths = convStemWidths(config.patchSize, config.embedDim);
  const dtype = config.dtype ?? "float32";
  return widths.map((w, i) => ({
    conv: convLayerSpec({
      inChannels: i === 0 ? config.inChans : widths[i - 1]!,
      outChannels: w,
      kernel: 3,
      bias: false,
      dtype,
    }),
    norm: layerNormSpec(w, dtype),
  }));
}

/**
 * Runs the stem's stages on images `[B, C, H, W]` (H, W multiples of 2^stages):
 * `[B, C_last, H / 2^stages, W / 2^stages]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { convStem, convStemSpec } from "./conv_stem.ts";
 * import { initFromSpec } from "./init.ts";
 * import { ones, random } from "../mod.ts";
 * const stem = initFromSpec(random.key(0), convStemSpec({ patchSize: 4, inChans: 1, embedDim: 8 }));
 * assert.deepEqual(convStem(stem, ones([2, 1, 16, 8])).shape, [2, 8, 4, 2]);
 * assert.throws(() => convStem(stem, ones([2, 1, 10, 8])), /convStem: .*multiples of 4/);
 * ```
 */
export function convStem(stages: readonly ConvStemStage[], images: Tensor): Tensor {
  const f = 2 ** stages.length;
  if (images.ndim !== 4 || images.shape[2]! % f !== 0 || images.shape[3]! % f !== 0) {
    throw new TesseraError(
      "convStem",
      `images must be [B, C, H, W] with H, W multiples of ${f} (${stages.length} stride-2 convs), got [${
        images.shape.join(", ")
      }]`,
    );
  }
  let x = images;
  for (const s of stages) {
    x = relu(channelLayerNorm(s.norm, convLayer(s.conv, x, { stride: 2, padding: 1 })));
  }
  return x;
}
