/**
 * Fitting a MIM patch tokenizer of any kind from uint8 training images: the one entry the
 * pre-training command calls (k-means, random patches or a data-free random projection).
 * @module
 */
import { type Tensor, tensor } from "../tensor/mod.ts";
import { kmeansTokenizer } from "./kmeans.ts";
import {
  type PatchTokenizer,
  randomPatchTokenizer,
  randomProjectionTokenizer,
  type TokenizerKind,
  type TokenizerOptions,
} from "./tokenizers.ts";

/** Options of {@link fitTokenizer}. */
export interface FitTokenizerOptions extends TokenizerOptions {
  /** The images' shape `[N, C, H, W]` (the pixels are row-major in that order). */
  shape: readonly [number, number, number, number];
  /** k-means iterations (kind "kmeans"; its default otherwise). */
  iterations?: number;
}

/**
 * Fits a tokenizer of `kind` on uint8 `images` (seen as `[0, 1]` pixels, the tokenizer's own
 * view): "kmeans" ({@link kmeansTokenizer}), "random-patches" ({@link randomPatchTokenizer}) or
 * "random-projection" ({@link randomProjectionTokenizer}, which reads no images). `key` is not
 * consumed; the image tensor is freed before returning.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dispose, random } from "../tensor/mod.ts";
 * import { fitTokenizer } from "./tokenizers_fit.ts";
 * import { tokenize } from "./tokenizers.ts";
 * const images = Uint8Array.from({ length: 4 * 64 }, (_, i) => (i * 37) % 256);
 * const key = random.key(0);
 * const tok = await fitTokenizer("kmeans", key, images, { vocabSize: 4, patchSize: 4, inChans: 1, shape: [4, 1, 8, 8], iterations: 3 });
 * assert.deepEqual([tok.kind, tok.codebook.shape[0]], ["kmeans", 4]);
 * dispose([key, tok.codebook, tok.centre]);
 * ```
 */
export async function fitTokenizer(
  kind: TokenizerKind,
  key: Tensor,
  images: Uint8Array,
  opts: FitTokenizerOptions,
): Promise<PatchTokenizer> {
  const { shape, iterations, ...tokOpts } = opts;
  if (kind === "random-projection") return randomProjectionTokenizer(key, tokOpts);
  const data = new Float32Array(images.length);
  for (let i = 0; i < data.length; i++) data[i] = images[i]! / 255;
  const x = tensor(data, { shape: [...shape] });
  try {
    return kind === "kmeans"
      ? (await kmeansTokenizer(key, x, { ...tokOpts, iterations })).tokenizer
      : await randomPatchTokenizer(key, x, tokOpts);
  } finally {
    x.dispose();
  }
}
