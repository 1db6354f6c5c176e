/**
 * The normalisation of scene images (detection, segmentation, and pre-training on a dense
 * folder): ImageNet's per-channel mean and standard deviation on the 0..1 scale, as mmdet and
 * mmseg normalise every data set (123.675, 116.28, 103.53 / 58.395, 57.12, 57.375), and their
 * channel averages for a greyscale (1-channel) encoder, which sees the channel mean. One table,
 * so an encoder pre-trained on the scene images sees the inputs `detect` and `segment` feed it.
 * @module
 */

import { IMAGENET_MEAN, IMAGENET_STD } from "./transforms/image.ts";

const avg = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * The mean and standard deviation for an encoder of `inChans` channels: the RGB table for 3,
 * the channel averages (one entry) for a greyscale encoder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denseStats } from "./dense_stats.ts";
 * const g = denseStats(1);
 * assert.ok(Math.abs(g.mean[0]! - 0.449) < 1e-12 && Math.abs(g.std[0]! - 0.226) < 1e-12);
 * assert.equal(denseStats(3).mean.length, 3);
 * ```
 */
export function denseStats(inChans: number): { mean: number[]; std: number[] } {
  if (inChans === 1) return { mean: [avg(IMAGENET_MEAN)], std: [avg(IMAGENET_STD)] };
  return { mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] };
}
