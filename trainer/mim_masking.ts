/**
 * The input side of the masked-image-modelling runners (BEiT, SplitMask) of `pretrain`: the
 * augmentation of each image and the masks of each step. BEiT masks blocks; SplitMask splits the
 * patches into two subsets, either a block mask and its complement (the paper's default) or, with
 * `--masking disjoint`, the small-data recipe of §5.5: two disjoint uniform subsets of
 * (1 − mask ratio)·N patches each.
 * @module
 */
import { logicalNot, scope, stack, type Tensor } from "../tensor/mod.ts";
import { blockMasks, disjointMasks } from "../models/masking.ts";
import { randomHorizontalFlip, randomResizedCrop } from "../data/transforms/geometry.ts";
import { colorJitter, randomSolarize } from "../data/transforms/color.ts";
import { randomGaussianBlur } from "../data/transforms/blur.ts";
import { normalize, toFloat } from "../data/transforms/image.ts";
import type { FloatImage, Image, Transform } from "../data/transforms/image.ts";
import { FASHION_MNIST_MEAN, FASHION_MNIST_STD } from "../data/fashion_mnist_stats.ts";

/** The settings the MIM input side reads. */
export interface MimInputOptions {
  /** The pre-training method (`beit`, `splitmask`, `dino`). */
  method: string;
  /** Masked fraction (null: the method's default, passed as `defaultRatio`). */
  maskRatio: number | null;
  /** SplitMask: block mask + complement, or two disjoint uniform subsets. */
  masking: "block" | "disjoint";
  /** Lower bound of the random-resized-crop area fraction. */
  cropScale: number;
  /** Colour-jitter strength. */
  jitter: number;
  /** Horizontal-flip probability. */
  flip: number;
  /** Probability of solarizing (threshold 128). */
  solarize: number;
  /** Probability of a Gaussian blur (σ ~ U[0.1, 2], DINO's). */
  blur: number;
}

/**
 * The per-image augmentation: colour jitter (before the crop, as BEiT), random resized crop,
 * flip, then optional blur and solarize; normalised with `norm` (default: the Fashion-MNIST
 * statistics).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mimTransform } from "./mim_masking.ts";
 * import { image } from "../data/transforms/image.ts";
 * import { rngFromSeed } from "../tensor/host_rng.ts";
 * const t = mimTransform({ method: "beit", maskRatio: null, masking: "block", cropScale: 0.4, jitter: 0.4, flip: 0.5, solarize: 1, blur: 1 }, 28);
 * assert.equal(t(image(new Uint8Array(784), 28, 28, 1), rngFromSeed([1, 2, 3, 4])).width, 28);
 * ```
 */
export function mimTransform(
  o: MimInputOptions,
  size: number,
  norm: { mean: readonly number[]; std: readonly number[] } = {
    mean: FASHION_MNIST_MEAN,
    std: FASHION_MNIST_STD,
  },
): Transform<Image, Image | FloatImage> {
  const jitter = o.jitter > 0 ? colorJitter({ brightness: o.jitter, contrast: o.jitter }) : null;
  const crop = randomResizedCrop(size, { scale: [o.cropScale, 1], interpolation: "bicubic" });
  const flip = randomHorizontalFlip(o.flip);
  const blur = o.blur > 0 ? randomGaussianBlur({ p: o.blur, sigma: [0.1, 2] }) : null;
  const solarize = o.solarize > 0 ? randomSolarize(o.solarize) : null;
  return (img, rng) => {
    if (jitter) img = jitter(img, rng);
    img = flip(crop(img, rng), rng);
    if (blur) img = blur(img, rng);
    if (solarize) img = solarize(img, rng);
    return normalize(toFloat(img), norm.mean, norm.std);
  };
}

/** The masks of a MIM runner: what one step draws and what it means. */
export interface MimMasking {
  /** BEiT: masked patches per image. SplitMask: the sizes of subsets A and B. */
  counts: readonly [number, number];
  /** Draws a step's masks: BEiT bool `[B, N]`; SplitMask bool `[2, B, N]` (A, then B). */
  draw(key: Tensor, batch: number, backend: string, first: number): Promise<Tensor>;
  /** One phrase for the run's description. */
  describe: string;
}

/**
 * The masks of a BEiT or SplitMask run on a `g`×`g` patch grid.
 *
 * @param o the settings
 * @param g patches per side
 * @param defaultRatio the method's masked fraction when `o.maskRatio` is null
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mimMasking } from "./mim_masking.ts";
 * const o = { method: "splitmask", maskRatio: 0.75, masking: "disjoint" as const, cropScale: 1, jitter: 0, flip: 0, solarize: 0, blur: 0 };
 * assert.deepEqual(mimMasking(o, 7, 0.5).counts, [12, 12]);
 * ```
 */
export function mimMasking(o: MimInputOptions, g: number, defaultRatio: number): MimMasking {
  const n = g * g, ratio = o.maskRatio ?? defaultRatio;
  const numMasked = Math.max(1, Math.min(n - 1, Math.round(ratio * n)));
  if (o.method === "splitmask" && o.masking === "disjoint") {
    const keep = Math.max(1, Math.min(Math.floor(n / 2), n - numMasked));
    return {
      counts: [keep, keep],
      draw: (key, b, backend, first) => disjointMasks(key, b, n, keep, backend, first),
      describe: `two disjoint uniform subsets of ${keep} of ${n} patches`,
    };
  }
  // BEiT's block sizes (16 and, for SplitMask, 75 cells of a 14×14 grid) scaled to this grid.
  const minBlock = Math.max(1, Math.round((16 * n) / 196));
  const opts = {
    gridH: g,
    gridW: g,
    numMasked,
    minBlock,
    maxBlock: o.method === "splitmask" ? Math.max(minBlock, Math.round((75 * n) / 196)) : undefined,
  };
  if (o.method !== "splitmask") {
    return {
      counts: [numMasked, n - numMasked],
      draw: (key, b, backend, first) => blockMasks(key, b, opts, backend, first),
      describe: `${numMasked}/${n} patches masked (block-wise)`,
    };
  }
  return {
    counts: [numMasked, n - numMasked],
    async draw(key, b, backend, first) {
      const m = await blockMasks(key, b, opts, backend, first);
      try {
        return scope(() => stack([m, logicalNot(m)]));
      } finally {
        m.dispose();
      }
    },
    describe: `subsets of ${numMasked} and ${n - numMasked} of ${n} patches (block mask)`,
  };
}
