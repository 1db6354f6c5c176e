/**
 * Mixup / CutMix with label smoothing, timm's `Mixup` in mode `"batch"` (`timm/data/mixup.py`),
 * as DeiT and BEiT fine-tuning use it, applied to a host batch before upload.
 *
 * @module
 */

import { TesseraError } from "../../tensor/errors.ts";
import type { Rng } from "../../tensor/host_rng.ts";
import type { HostBatch, Transform } from "./image.ts";

/** Options of {@link mixup} (DeiT's values are α 0.8 / 1.0, prob 1, switch 0.5, smoothing 0.1). */
export interface MixupOptions {
  /** Number of classes K (targets are `[B, K]`). */
  numClasses: number;
  /** Mixup λ ~ Beta(α, α); 0 disables Mixup (default 0.8). */
  mixupAlpha?: number;
  /** CutMix λ ~ Beta(α, α); 0 disables CutMix (default 1.0). */
  cutmixAlpha?: number;
  /** Probability of mixing a batch at all (default 1). */
  prob?: number;
  /** Probability of CutMix instead of Mixup when both are enabled (default 0.5). */
  switchProb?: number;
  /** Label smoothing ε: off = ε/K, on = 1 − ε + ε/K (default 0.1). */
  labelSmoothing?: number;
  /** Recompute λ from the clipped CutMix box (default true). */
  correctLam?: boolean;
}

/** The per-batch draw of {@link mixup}: λ, whether CutMix, and the box `[yl, yh, xl, xh]`. */
export interface MixupParams {
  /** The mixing weight of each sample itself (after CutMix's correction). */
  lam: number;
  /** CutMix (true) or Mixup (false). */
  cutmix: boolean;
  /** CutMix box rows [yl, yh) and columns [xl, xh); null for Mixup. */
  box: [number, number, number, number] | null;
}

/**
 * timm's `rand_bbox` + `cutmix_bbox_and_lam`: cut sides int(H·√(1−λ)), int(W·√(1−λ)); centre
 * cy ∈ [0, H), cx ∈ [0, W) uniformly (two `int` draws); rows [cy − ⌊cut_h/2⌋, cy + ⌊cut_h/2⌋)
 * clipped to the image, likewise columns; corrected λ = 1 − box area / (H·W).
 *
 * @example
 * ```ts
 * import { cutmixBox } from "./mixup.ts";
 * import { rngFromSeed } from "../mod.ts";
 * const { box, lam } = cutmixBox(rngFromSeed([1, 2, 3, 4]), 32, 32, 0.75, true);
 * const [yl, yh, xl, xh] = box;
 * console.log(lam === 1 - ((yh - yl) * (xh - xl)) / 1024); // true
 * ```
 */
export function cutmixBox(
  rng: Rng,
  height: number,
  width: number,
  lam: number,
  correctLam = true,
): { box: [number, number, number, number]; lam: number } {
  const ratio = Math.sqrt(1 - lam);
  const cutH = Math.trunc(height * ratio);
  const cutW = Math.trunc(width * ratio);
  const cy = rng.int(0, height - 1);
  const cx = rng.int(0, width - 1);
  const clip = (v: number, hi: number) => Math.min(hi, Math.max(0, v));
  const yl = clip(cy - Math.floor(cutH / 2), height);
  const yh = clip(cy + Math.floor(cutH / 2), height);
  const xl = clip(cx - Math.floor(cutW / 2), width);
  const xh = clip(cx + Math.floor(cutW / 2), width);
  if (correctLam) lam = 1 - ((yh - yl) * (xh - xl)) / (height * width);
  return { box: [yl, yh, xl, xh], lam };
}

/**
 * timm's `mixup_target`: `λ·smooth(y) + (1 − λ)·smooth(y reversed)` with smooth one-hot rows
 * (off = ε/K, on = 1 − ε + ε/K); every row sums to 1.
 *
 * @example
 * ```ts
 * import { mixupTargets } from "./mixup.ts";
 * const t = mixupTargets(new Int32Array([0, 1]), 2, 0.7, 0);
 * console.log([...t].map((v) => +v.toFixed(3))); // [0.7, 0.3, 0.3, 0.7]
 * ```
 */
export function mixupTargets(
  labels: Int32Array,
  numClasses: number,
  lam: number,
  smoothing: number,
): Float32Array {
  const B = labels.length;
  const off = smoothing / numClasses;
  const on = 1 - smoothing + off;
  const out = new Float32Array(B * numClasses);
  for (let i = 0; i < B; i++) {
    const a = labels[i]!, b = labels[B - 1 - i]!;
    for (const l of [a, b]) {
      if (!(Number.isInteger(l) && l >= 0 && l < numClasses)) {
        throw new TesseraError("mixup", `label ${l} is outside 0..${numClasses - 1}`);
      }
    }
    for (let k = 0; k < numClasses; k++) {
      out[i * numClasses + k] = lam * (k === a ? on : off) + (1 - lam) * (k === b ? on : off);
    }
  }
  return out;
}

/**
 * timm's `Mixup(mode="batch")` as a batch transform: per batch, with probability `prob`,
 * CutMix (probability `switchProb`, λ ~ Beta(cutmixAlpha)) or Mixup (λ ~ Beta(mixupAlpha));
 * the partner of sample i is sample B−1−i. Mixup: x = λx + (1−λ)x_rev. CutMix: one box for the
 * batch, pasted from x_rev, λ corrected to the pasted area. Sets `targets` (`[B, K]`) and
 * keeps `labels`. The batch size must be even. Draw order: prob test, switch test, Beta, box.
 *
 * @example
 * ```ts
 * import { mixup } from "./mixup.ts";
 * import { rngFromSeed } from "../mod.ts";
 * const mix = mixup({ numClasses: 3 });
 * const out = mix({
 *   images: new Float32Array(2 * 1 * 4 * 4), shape: [2, 1, 4, 4], labels: new Int32Array([0, 2]),
 * }, rngFromSeed([1, 2, 3, 4]));
 * console.log(out.targets!.length, +(out.targets![0]! + out.targets![1]! + out.targets![2]!).toFixed(5)); // 6 1
 * ```
 */
export function mixup(opts: MixupOptions): Transform<HostBatch, HostBatch> {
  const {
    numClasses,
    mixupAlpha = 0.8,
    cutmixAlpha = 1.0,
    prob = 1,
    switchProb = 0.5,
    labelSmoothing = 0.1,
    correctLam = true,
  } = opts;
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new TesseraError("mixup", `numClasses must be a positive integer, got ${numClasses}`);
  }
  if (!(mixupAlpha >= 0 && cutmixAlpha >= 0)) {
    throw new TesseraError("mixup", `alphas must be >= 0, got ${mixupAlpha}, ${cutmixAlpha}`);
  }
  const enabled = mixupAlpha > 0 || cutmixAlpha > 0;
  return (batch, rng) => {
    const [B, C, H, W] = batch.shape;
    if (B % 2 !== 0) {
      throw new TesseraError(
        "mixup",
        `batch size must be even, got ${B} (use dropLast for the last batch)`,
      );
    }
    const p = mixupParams(rng, H, W, {
      mixupAlpha,
      cutmixAlpha,
      prob,
      switchProb,
      correctLam,
      enabled,
    });
    const x = batch.images.slice();
    const src = batch.images;
    const chw = C * H * W;
    if (p.lam !== 1) {
      if (p.box) {
        const [yl, yh, xl, xh] = p.box;
        for (let i = 0; i < B; i++) {
          const j = B - 1 - i;
          for (let c = 0; c < C; c++) {
            for (let y = yl; y < yh; y++) {
              const row = (c * H + y) * W;
              for (let xx = xl; xx < xh; xx++) x[i * chw + row + xx] = src[j * chw + row + xx]!;
            }
          }
        }
      } else {
        const lam = Math.fround(p.lam);
        for (let i = 0; i < B; i++) {
          const j = B - 1 - i;
          for (let k = 0; k < chw; k++) {
            x[i * chw + k] = src[i * chw + k]! * lam + src[j * chw + k]! * (1 - lam);
          }
        }
      }
    }
    return {
      ...batch,
      images: x,
      targets: mixupTargets(batch.labels, numClasses, p.lam, labelSmoothing),
      numClasses,
    };
  };
}

/**
 * timm's `_params_per_batch` (+ the CutMix box): the random part of {@link mixup}.
 *
 * @example
 * ```ts
 * import { mixupParams } from "./mixup.ts";
 * import { rngFromSeed } from "../mod.ts";
 * const o = { mixupAlpha: 0.8, cutmixAlpha: 1, prob: 1, switchProb: 0.5, correctLam: true };
 * console.log(mixupParams(rngFromSeed([1, 2, 3, 4]), 8, 8, o)); // { lam: 0.4375, cutmix: true, box: [0, 6, 2, 8] }
 * ```
 */
export function mixupParams(
  rng: Rng,
  height: number,
  width: number,
  o: {
    mixupAlpha: number;
    cutmixAlpha: number;
    prob: number;
    switchProb: number;
    correctLam: boolean;
    enabled?: boolean;
  },
): MixupParams {
  if (o.enabled === false || !(rng.random() < o.prob)) return { lam: 1, cutmix: false, box: null };
  let cutmix: boolean;
  if (o.mixupAlpha > 0 && o.cutmixAlpha > 0) cutmix = rng.random() < o.switchProb;
  else cutmix = o.cutmixAlpha > 0;
  const alpha = cutmix ? o.cutmixAlpha : o.mixupAlpha;
  const lam = rng.beta(alpha, alpha);
  if (!cutmix) return { lam, cutmix, box: null };
  const r = cutmixBox(rng, height, width, lam, o.correctLam);
  return { lam: r.lam, cutmix, box: r.box };
}
