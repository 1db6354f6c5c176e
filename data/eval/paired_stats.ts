/**
 * Paired tests for "method A beats method B on the same test images" (issue 15's protocol):
 * per-image scores of two runs are compared image by image, so the image-to-image variance that
 * both runs share cancels.
 *
 * - {@link pairedBootstrap}: resamples images with replacement (the same indices for both runs),
 *   reports the mean difference, a percentile confidence interval and a two-sided p-value
 *   (twice the smaller tail of the resampled differences about 0, capped at 1; with R resamples the
 *   smallest reachable p is 2/(R+1), as the `+1` keeps the observed sample in the count).
 *   Works for any per-image score: top-1 correctness, per-image AP or IoU.
 * - {@link mcnemar}: for 0/1 correctness only; the exact two-sided binomial test on the discordant
 *   images (A right and B wrong, or the reverse), as `statsmodels`' `mcnemar(exact=True)`.
 *
 * Resampling draws from the host RNG (tensor/host_rng.ts) seeded by the caller, so a result is
 * reproducible from its seed.
 *
 * @module
 */
import { TesseraError } from "../../tensor/errors.ts";
import { type Rng, rngFromSeed } from "../../tensor/host_rng.ts";

/** The result of {@link pairedBootstrap}. */
export interface PairedBootstrapResult {
  /** Number of paired observations (images). */
  n: number;
  /** Mean score of A. */
  meanA: number;
  /** Mean score of B. */
  meanB: number;
  /** meanA − meanB on the observed images. */
  diff: number;
  /** Percentile confidence interval of the difference, `[lo, hi]`. */
  ci: [number, number];
  /** Two-sided p-value for "no difference". */
  p: number;
  /** Resamples drawn. */
  resamples: number;
  /** The confidence level used. */
  confidence: number;
}

/** Options of {@link pairedBootstrap}. */
export interface PairedBootstrapOptions {
  /** Resamples (default 10,000). */
  resamples?: number;
  /** Confidence level of the interval in (0, 1) (default 0.95). */
  confidence?: number;
  /** Seed of the resampling stream: four uint32 words or one integer (default 0). */
  seed?: number | ArrayLike<number>;
}

function checkPairs(op: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) {
    throw new TesseraError(op, `the two runs score ${a.length} and ${b.length} images; pair them`);
  }
  if (a.length === 0) throw new TesseraError(op, "no paired scores");
  for (const [name, s] of [["A", a], ["B", b]] as const) {
    for (let i = 0; i < s.length; i++) {
      if (!Number.isFinite(s[i])) {
        throw new TesseraError(op, `score ${i} of run ${name} is ${s[i]}, not a finite number`);
      }
    }
  }
}

/**
 * The checked settings of a bootstrap: resamples, confidence and the resampling stream (an
 * integer seed becomes the key `[seed, 0, 0, salt]`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bootstrapSettings } from "./paired_stats.ts";
 * assert.equal(bootstrapSettings("op", {}, 1).resamples, 10000);
 * assert.throws(() => bootstrapSettings("op", { confidence: 1 }, 1), /op: confidence must be in/);
 * ```
 */
export function bootstrapSettings(
  op: string,
  options: PairedBootstrapOptions,
  salt: number,
): { resamples: number; confidence: number; rng: Rng } {
  const resamples = options.resamples ?? 10_000;
  const confidence = options.confidence ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new TesseraError(op, `resamples must be a positive integer, got ${resamples}`);
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new TesseraError(op, `confidence must be in (0, 1), got ${confidence}`);
  }
  const seed = options.seed ?? 0;
  const rng = rngFromSeed(typeof seed === "number" ? [seed >>> 0, 0, 0, salt] : seed);
  return { resamples, confidence, rng };
}

/** The q-quantile of ascending values, linear between order statistics (numpy's default). */
function quantileSorted(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1), lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * The percentile interval and two-sided p-value of resampled differences (sorted in place): p is
 * twice the smaller tail about 0 (draws ≤ 0, draws ≥ 0), `+1` counting the observed sample.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bootstrapInterval } from "./paired_stats.ts";
 * const r = bootstrapInterval(new Float64Array([3, 1, 2, 0]), 0.5);
 * assert.deepEqual(r, { ci: [0.75, 2.25], p: 0.8 });
 * ```
 */
export function bootstrapInterval(
  boot: Float64Array,
  confidence: number,
): { ci: [number, number]; p: number } {
  let below = 0, above = 0;
  for (const m of boot) {
    if (m <= 0) below++;
    if (m >= 0) above++;
  }
  boot.sort();
  const tail = (1 - confidence) / 2;
  return {
    ci: [quantileSorted(boot, tail), quantileSorted(boot, 1 - tail)],
    p: Math.min(1, (2 * (Math.min(below, above) + 1)) / (boot.length + 1)),
  };
}

/**
 * The {@link PairedBootstrapResult} of observed values and resampled differences (`boot`, sorted
 * in place): the shared ending of the paired bootstraps.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bootstrapResult } from "./paired_stats.ts";
 * const r = bootstrapResult(4, 0.75, 0.5, new Float64Array([0.25, 0, 0.5, 0.25]), 0.5);
 * assert.deepEqual([r.diff, r.ci, r.resamples], [0.25, [0.1875, 0.3125], 4]);
 * ```
 */
export function bootstrapResult(
  n: number,
  meanA: number,
  meanB: number,
  boot: Float64Array,
  confidence: number,
): PairedBootstrapResult {
  return {
    n,
    meanA,
    meanB,
    diff: meanA - meanB,
    ...bootstrapInterval(boot, confidence),
    resamples: boot.length,
    confidence,
  };
}

/**
 * Paired bootstrap of the mean difference of two runs' per-image scores.
 *
 * @param a per-image scores of run A (e.g. 1/0 for a correct/wrong prediction)
 * @param b per-image scores of run B on the same images, in the same order
 * @param options resamples, confidence level and seed
 * @returns means, difference, confidence interval and two-sided p-value
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pairedBootstrap } from "./paired_stats.ts";
 * const a = Array.from({ length: 200 }, (_, i) => (i % 10 < 8 ? 1 : 0)); // 80 % right
 * const b = Array.from({ length: 200 }, (_, i) => (i % 10 < 6 ? 1 : 0)); // 60 % right
 * const r = pairedBootstrap(a, b, { resamples: 2000, seed: 1 });
 * assert.ok(Math.abs(r.diff - 0.2) < 1e-12);
 * assert.ok(r.ci[0] > 0 && r.p < 0.01);
 * ```
 */
export function pairedBootstrap(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: PairedBootstrapOptions = {},
): PairedBootstrapResult {
  const op = "pairedBootstrap";
  checkPairs(op, a, b);
  const { resamples, confidence, rng } = bootstrapSettings(op, options, 0x7e55e7a);
  const n = a.length, d = new Float64Array(n);
  let sa = 0, sb = 0;
  for (let i = 0; i < n; i++) sa += a[i]!, sb += b[i]!, d[i] = a[i]! - b[i]!;
  const diff = sa / n - sb / n;
  const boot = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[rng.int(0, n - 1)]!;
    boot[r] = s / n;
  }
  return { ...bootstrapResult(n, sa / n, sb / n, boot, confidence), diff };
}

/** The result of {@link mcnemar}. */
export interface McnemarResult {
  /** Images A got right and B wrong. */
  onlyA: number;
  /** Images B got right and A wrong. */
  onlyB: number;
  /** Exact two-sided p-value (binomial, p = ½, on the onlyA + onlyB discordant images). */
  p: number;
}

/** log C(n, k) from log-gamma-free sums (exact enough for the n of a test set). */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/**
 * Exact McNemar test of two runs' per-image correctness.
 *
 * @param a per-image correctness of run A (0/1 or booleans)
 * @param b per-image correctness of run B on the same images
 * @returns the discordant counts and the exact two-sided p-value
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mcnemar } from "./paired_stats.ts";
 * // 10 images only A gets right, 2 only B: p = 2·(1 + 12 + 66)/2¹² = 0.0386
 * const a = [...Array(10).fill(1), 0, 0, 1], b = [...Array(10).fill(0), 1, 1, 1];
 * const r = mcnemar(a, b);
 * assert.deepEqual([r.onlyA, r.onlyB], [10, 2]);
 * assert.ok(Math.abs(r.p - 158 / 4096) < 1e-12);
 * ```
 */
export function mcnemar(
  a: ArrayLike<number | boolean>,
  b: ArrayLike<number | boolean>,
): McnemarResult {
  const op = "mcnemar";
  const num = (s: ArrayLike<number | boolean>, name: string) =>
    Array.from(s, (v, i) => {
      const x = Number(v);
      if (x !== 0 && x !== 1) {
        throw new TesseraError(op, `correctness ${i} of run ${name} is ${v}, not 0/1`);
      }
      return x;
    });
  const [x, y] = [num(a, "A"), num(b, "B")];
  checkPairs(op, x, y);
  let onlyA = 0, onlyB = 0;
  for (let i = 0; i < x.length; i++) {
    if (x[i] === 1 && y[i] === 0) onlyA++;
    if (x[i] === 0 && y[i] === 1) onlyB++;
  }
  const m = onlyA + onlyB, k = Math.min(onlyA, onlyB);
  let tail = 0; // P(X ≤ k) for X ~ Binomial(m, ½)
  for (let i = 0; i <= k; i++) tail += Math.exp(logChoose(m, i) - m * Math.LN2);
  return { onlyA, onlyB, p: m === 0 ? 1 : Math.min(1, 2 * tail) };
}
