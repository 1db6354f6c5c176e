/**
 * The paired bootstrap of {@link pairedBootstrap} when each method has several runs (pre-training
 * and fine-tuning seeds): "does method A beat method B on these test images, whatever seed one
 * draws?". Each resample draws the images with replacement (the same indices for both methods,
 * so the image-to-image variance they share cancels) and, independently for each method, its runs
 * with replacement; the statistic is the difference of the two methods' mean scores over the
 * drawn runs and images. Seed-to-seed variance therefore widens the interval, which an image-only
 * bootstrap of seed-averaged scores would hide. With one run per method it reduces to the
 * image-only paired bootstrap.
 *
 * @module
 */
import { TesseraError } from "../../tensor/errors.ts";
import {
  bootstrapResult,
  bootstrapSettings,
  type PairedBootstrapOptions,
  type PairedBootstrapResult,
} from "./paired_stats.ts";

/** The result of {@link pairedBootstrapRuns}: {@link PairedBootstrapResult} plus run counts. */
export interface PairedRunsResult extends PairedBootstrapResult {
  /** Runs of A. */
  runsA: number;
  /** Runs of B. */
  runsB: number;
}

function checkRuns(op: string, name: string, runs: readonly ArrayLike<number>[], n: number) {
  if (runs.length === 0) throw new TesseraError(op, `method ${name} has no runs`);
  runs.forEach((r, k) => {
    if (r.length !== n) {
      throw new TesseraError(
        op,
        `run ${k} of method ${name} scores ${r.length} images, run 0 of A scores ${n}; pair them`,
      );
    }
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(r[i])) {
        throw new TesseraError(op, `score ${i} of run ${k} of ${name} is ${r[i]}, not finite`);
      }
    }
  });
}

/**
 * Two-level paired bootstrap (images shared, runs per method) of the difference of two methods'
 * mean per-image scores.
 *
 * @param a per-image scores of each run of method A (`a[run][image]`, e.g. 1/0 correctness)
 * @param b the same for method B, on the same images in the same order
 * @param options resamples (default 10,000), confidence level (0.95) and seed (0)
 * @returns the means over all runs and images, their difference, the percentile interval and
 *   the two-sided p-value (twice the smaller tail about 0, as {@link pairedBootstrap})
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pairedBootstrapRuns } from "./paired_runs.ts";
 * const run = (right: number) => Array.from({ length: 300 }, (_, i) => (i % 10 < right ? 1 : 0));
 * const r = pairedBootstrapRuns([run(8), run(8)], [run(6), run(7)], { resamples: 2000 });
 * assert.ok(Math.abs(r.diff - 0.15) < 1e-12 && r.ci[0] > 0 && r.p < 0.01);
 * assert.deepEqual([r.runsA, r.runsB, r.n], [2, 2, 300]);
 * ```
 */
export function pairedBootstrapRuns(
  a: readonly ArrayLike<number>[],
  b: readonly ArrayLike<number>[],
  options: PairedBootstrapOptions = {},
): PairedRunsResult {
  const op = "pairedBootstrapRuns";
  const n = a[0]?.length ?? 0;
  checkRuns(op, "A", a, n);
  checkRuns(op, "B", b, n);
  if (n === 0) throw new TesseraError(op, "no paired scores");
  const { resamples, confidence, rng } = bootstrapSettings(op, options, 0x7e55e7b);
  const mean = (runs: readonly ArrayLike<number>[]) => {
    let s = 0;
    for (const r of runs) for (let i = 0; i < n; i++) s += r[i]!;
    return s / (runs.length * n);
  };
  const meanA = mean(a), meanB = mean(b);
  // Per resample: draw run multiplicities for each method, then images; the per-image score of a
  // method is the multiplicity-weighted mean of its runs' scores at that image.
  const wa = new Float64Array(a.length), wb = new Float64Array(b.length);
  const boot = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    wa.fill(0), wb.fill(0);
    for (let k = 0; k < a.length; k++) wa[rng.int(0, a.length - 1)]! += 1 / a.length;
    for (let k = 0; k < b.length; k++) wb[rng.int(0, b.length - 1)]! += 1 / b.length;
    let s = 0;
    for (let t = 0; t < n; t++) {
      const i = rng.int(0, n - 1);
      let d = 0;
      for (let k = 0; k < a.length; k++) if (wa[k]! > 0) d += wa[k]! * a[k]![i]!;
      for (let k = 0; k < b.length; k++) if (wb[k]! > 0) d -= wb[k]! * b[k]![i]!;
      s += d;
    }
    boot[r] = s / n;
  }
  return {
    ...bootstrapResult(n, meanA, meanB, boot, confidence),
    runsA: a.length,
    runsB: b.length,
  };
}
