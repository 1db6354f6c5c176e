/**
 * Fashion-MNIST normalisation statistics: the pixel mean and standard deviation of the train
 * split (one channel, pixels in [0, 1]), as used by `normalize` in every training recipe.
 * @module
 */

/**
 * Pixel mean of the Fashion-MNIST train split (one channel).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FASHION_MNIST_MEAN, FASHION_MNIST_STD } from "./fashion_mnist_stats.ts";
 * // A pixel of value 255 normalised: (1 − 0.2860) / 0.3530 ≈ 2.0227
 * const z = (255 / 255 - FASHION_MNIST_MEAN[0]!) / FASHION_MNIST_STD[0]!;
 * assert.ok(Math.abs(z - 2.0227) < 1e-4);
 * ```
 */
export const FASHION_MNIST_MEAN: readonly number[] = Object.freeze([0.2860]);
/** Pixel standard deviation of the Fashion-MNIST train split (one channel). */
export const FASHION_MNIST_STD: readonly number[] = Object.freeze([0.3530]);
