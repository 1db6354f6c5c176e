/**
 * A separable Gaussian blur on uint8 HWC images (torchvision's `F.gaussian_blur` weights and
 * reflect padding) and its random transform, as in the SimCLR/DINO/SplitMask augmentations.
 *
 * @module
 */

import { TesseraError } from "../../tensor/errors.ts";
import { checkImage, type Image, type Transform } from "./image.ts";

/**
 * The default kernel size for a Gaussian of standard deviation `sigma`: 2·⌈3σ⌉ + 1 (at least
 * 3), covering ±3σ.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blurKernelSize } from "./blur.ts";
 * assert.equal(blurKernelSize(0.1), 3);
 * assert.equal(blurKernelSize(1), 7);
 * assert.equal(blurKernelSize(2), 13);
 * ```
 */
export function blurKernelSize(sigma: number): number {
  return Math.max(3, 2 * Math.ceil(3 * sigma) + 1);
}

/**
 * Gaussian blur, separable, as torchvision's `F.gaussian_blur(img, kernel_size, sigma)`:
 * weights exp(−x²/2σ²) at x = −(k−1)/2 … (k−1)/2, normalised; reflect padding (edge not
 * repeated); rounded half to even. Sigma may be as small as you like (σ = 0.1 is
 * effectively the identity); `kernelSize` defaults to {@link blurKernelSize}. DINO's PIL
 * `GaussianBlur(radius=σ)` is a 3-pass box approximation of the same Gaussian, so results
 * differ from it by a few grey levels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { image } from "./image.ts";
 * import { gaussianBlur } from "./blur.ts";
 * const img = image(new Uint8Array([0, 0, 255, 0, 0]), 1, 5, 1);
 * assert.deepEqual([...gaussianBlur(img, 1).data], [28, 63, 102, 63, 28]);
 * ```
 */
export function gaussianBlur(img: Image, sigma: number, kernelSize = blurKernelSize(sigma)): Image {
  checkImage("gaussianBlur", img);
  if (!(sigma > 0)) throw new TesseraError("gaussianBlur", `sigma must be > 0, got ${sigma}`);
  if (!Number.isInteger(kernelSize) || kernelSize < 1 || kernelSize % 2 === 0) {
    throw new TesseraError(
      "gaussianBlur",
      `kernelSize must be a positive odd integer, got ${kernelSize}`,
    );
  }
  const half = (kernelSize - 1) / 2;
  const k = new Float64Array(kernelSize);
  let sum = 0;
  for (let i = 0; i < kernelSize; i++) sum += k[i] = Math.exp(-0.5 * ((i - half) / sigma) ** 2);
  for (let i = 0; i < kernelSize; i++) k[i]! /= sum;
  const { height: H, width: W, channels: ch, data } = img;
  const reflect = (i: number, n: number) => {
    if (n === 1) return 0;
    const p = 2 * (n - 1);
    i = ((i % p) + p) % p;
    return i < n ? i : p - i;
  };
  const tmp = new Float64Array(data.length);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < ch; c++) {
        let s = 0;
        for (let i = 0; i < kernelSize; i++) {
          s += k[i]! * data[(y * W + reflect(x + i - half, W)) * ch + c]!;
        }
        tmp[(y * W + x) * ch + c] = s;
      }
    }
  }
  const out = new Uint8Array(data.length);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < ch; c++) {
        let s = 0;
        for (let i = 0; i < kernelSize; i++) {
          s += k[i]! * tmp[(reflect(y + i - half, H) * W + x) * ch + c]!;
        }
        const r = Math.round(s);
        const v = s % 1 === 0.5 && r % 2 !== 0 ? r - 1 : r;
        out[(y * W + x) * ch + c] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return { ...img, data: out };
}

/** Options of {@link randomGaussianBlur}. */
export interface RandomBlurOptions {
  /** Probability of blurring (default 0.5). */
  p?: number;
  /** σ is drawn from U[sigma[0], sigma[1]] (default DINO's [0.1, 2]). */
  sigma?: readonly [number, number];
  /** Fixed kernel size; default {@link blurKernelSize}(σ). */
  kernelSize?: number;
}

/**
 * DINO's `GaussianBlur(p, radius_min, radius_max)` with our kernel: when `rng.random() < p`,
 * blur with σ ~ U[sigma].
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { image } from "./image.ts";
 * import { randomGaussianBlur } from "./blur.ts";
 * import { rngFromSeed } from "../mod.ts";
 * const blur = randomGaussianBlur({ p: 1, sigma: [0.1, 2] });
 * assert.equal(blur(image(new Uint8Array(9), 3, 3, 1), rngFromSeed([1, 2, 3, 4])).width, 3);
 * ```
 */
export function randomGaussianBlur(opts: RandomBlurOptions = {}): Transform<Image, Image> {
  const { p = 0.5, sigma = [0.1, 2], kernelSize } = opts;
  if (!(sigma[0] > 0 && sigma[0] <= sigma[1])) {
    throw new TesseraError("randomGaussianBlur", `need 0 < sigma[0] <= sigma[1], got [${sigma}]`);
  }
  return (img, rng) => {
    if (!(rng.random() < p)) return img;
    const s = rng.uniform(sigma[0], sigma[1]);
    return gaussianBlur(img, s, kernelSize ?? blurKernelSize(s));
  };
}
