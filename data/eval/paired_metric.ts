/**
 * The paired bootstrap for metrics that are not a mean of per-image scores: mIoU sums each
 * class's intersection and union over the images before dividing, and COCO AP accumulates
 * matches over the images, so a resample must recompute the metric from the resampled images'
 * records, not average per-image values. {@link pairedBootstrapMetric} draws image indices with
 * replacement (the same draw for both methods, so what the images share cancels) and computes
 * `metric(recordsA, draw) − metric(recordsB, draw)`; {@link segMiou} is the mIoU metric over
 * per-image {@link SegAreas}.
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
import { type SegAreas, segMetrics } from "./seg_metrics.ts";

/**
 * A data-set metric of per-image records: `records[draw[0]], records[draw[1]], …` (a draw may
 * repeat an image). {@link segMiou} is one.
 */
export type DrawMetric<T> = (records: readonly T[], draw: Int32Array) => number;

/**
 * Paired bootstrap of `metric(A) − metric(B)` over the images.
 *
 * @param a per-image records of method A
 * @param b per-image records of method B on the same images, in the same order
 * @param metric the data-set metric of a draw of records
 * @param options resamples, confidence level and seed
 * @returns the two metrics on the observed images (`meanA`, `meanB`), their difference, the
 *   percentile interval and the two-sided p-value
 * @throws {TesseraError} (op `pairedBootstrapMetric`) when the runs do not pair or a metric is
 *   not finite
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pairedBootstrapMetric } from "./paired_metric.ts";
 * // a ratio of sums (as mIoU is), not a mean of ratios
 * const ratio = (r: readonly [number, number][], d: Int32Array) => {
 *   let n = 0, m = 0;
 *   for (const i of d) n += r[i]![0], m += r[i]![1];
 *   return n / m;
 * };
 * const a = Array.from({ length: 100 }, (_, i): [number, number] => [i % 5 ? 9 : 1, 10]);
 * const b = Array.from({ length: 100 }, (): [number, number] => [5, 10]);
 * const r = pairedBootstrapMetric(a, b, ratio, { resamples: 1000, seed: 3 });
 * assert.ok(Math.abs(r.diff - (0.74 - 0.5)) < 1e-12);
 * assert.ok(r.ci[0] > 0 && r.p < 0.01);
 * ```
 */
export function pairedBootstrapMetric<T>(
  a: readonly T[],
  b: readonly T[],
  metric: DrawMetric<T>,
  options: PairedBootstrapOptions = {},
): PairedBootstrapResult {
  if (a.length !== b.length) {
    throw new TesseraError(
      "pairedBootstrapMetric",
      `the two methods score ${a.length} and ${b.length} images; pair them`,
    );
  }
  return pairedBootstrapDraws(a.length, (d) => metric(a, d), (d) => metric(b, d), options);
}

/**
 * The core of {@link pairedBootstrapMetric} for records that are not one array per method (COCO's
 * per-(category, area, image) matches: `(d) => accumulateCoco(evalsA, d).stats[0]`): `n` images,
 * each method's metric of a draw of image indices.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pairedBootstrapDraws } from "./paired_metric.ts";
 * const a = [1, 1, 0, 1], b = [0, 1, 0, 0];
 * const mean = (v: number[]) => (d: Int32Array) => d.reduce((s, i) => s + v[i]!, 0) / d.length;
 * const r = pairedBootstrapDraws(4, mean(a), mean(b), { resamples: 200 });
 * assert.equal(r.diff, 0.5);
 * ```
 */
export function pairedBootstrapDraws(
  n: number,
  metricA: (draw: Int32Array) => number,
  metricB: (draw: Int32Array) => number,
  options: PairedBootstrapOptions = {},
): PairedBootstrapResult {
  const op = "pairedBootstrapMetric";
  if (!Number.isInteger(n) || n < 1) throw new TesseraError(op, `no paired images (n = ${n})`);
  const { resamples, confidence, rng } = bootstrapSettings(op, options, 0x3e7a1c);
  const finite = (v: number, what: string) => {
    if (!Number.isFinite(v)) throw new TesseraError(op, `the metric of ${what} is ${v}`);
    return v;
  };
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const meanA = finite(metricA(all), "A"), meanB = finite(metricB(all), "B");
  const boot = new Float64Array(resamples), draw = new Int32Array(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) draw[i] = rng.int(0, n - 1);
    boot[r] = finite(metricA(draw), "a resample of A") - finite(metricB(draw), "a resample of B");
  }
  return bootstrapResult(n, meanA, meanB, boot, confidence);
}

/**
 * mmseg's mIoU of a draw of per-image areas: the classes' intersections and unions summed over
 * the drawn images (repeats counted), IoU per class present, mean over those classes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { segAreas } from "./seg_metrics.ts";
 * import { segMiou } from "./paired_metric.ts";
 * const im = [segAreas(Uint8Array.of(0, 1), Uint8Array.of(0, 0), 2), segAreas(Uint8Array.of(1), Uint8Array.of(1), 2)];
 * assert.equal(segMiou(im, Int32Array.of(0, 1)), (1 / 2 + 1 / 2) / 2);
 * assert.equal(segMiou(im, Int32Array.of(1, 1)), 1); // class 0 absent
 * ```
 */
export const segMiou: DrawMetric<SegAreas> = (records, draw) => {
  const c = records[0]!.intersect.length;
  const sum = (k: keyof SegAreas) => {
    const t = new Float64Array(c);
    for (const i of draw) {
      const v = records[i]![k];
      for (let j = 0; j < c; j++) t[j] = t[j]! + v[j]!;
    }
    return t;
  };
  return segMetrics({
    intersect: sum("intersect"),
    union: sum("union"),
    pred: sum("pred"),
    label: sum("label"),
  }).mIoU;
};

/**
 * The two-level paired bootstrap of a data-set metric over several runs (seeds) per method:
 * each resample draws each method's runs with replacement (seed variance) and one shared draw
 * of the `n` images (image variance); a method's value is the mean over its drawn runs of
 * `metric(run, draw)`. The estimate is the difference of the run means of the metric on all
 * images. With one run per method it is {@link pairedBootstrapDraws}'s image bootstrap.
 *
 * @param n images every run scores (draw indices are in [0, n))
 * @param a method A's runs (any record type `metric` reads)
 * @param b method B's runs
 * @param metric the metric of one run on a draw of images
 * @param options resamples, confidence, seed
 * @returns diff (A − B), interval, p, and the run counts
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pairedBootstrapRunDraws } from "./paired_metric.ts";
 * // Runs as per-image hit vectors; the metric is the accuracy on the draw.
 * const acc = (run: number[], d: Int32Array) => d.reduce((s, i) => s + run[i]!, 0) / d.length;
 * const a = [[1, 1, 1, 0], [1, 1, 0, 1]], b = [[0, 1, 0, 0], [1, 0, 0, 0]];
 * const r = pairedBootstrapRunDraws(4, a, b, acc, { resamples: 500 });
 * assert.equal(r.diff, 0.75 - 0.25);
 * assert.deepEqual([r.runsA, r.runsB], [2, 2]);
 * ```
 */
export function pairedBootstrapRunDraws<R>(
  n: number,
  a: readonly R[],
  b: readonly R[],
  metric: (run: R, draw: Int32Array) => number,
  options: PairedBootstrapOptions = {},
): PairedBootstrapResult & { runsA: number; runsB: number } {
  const op = "pairedBootstrapRunDraws";
  if (!Number.isInteger(n) || n < 1) throw new TesseraError(op, `no paired images (n = ${n})`);
  if (a.length === 0 || b.length === 0) {
    throw new TesseraError(op, `method ${a.length === 0 ? "A" : "B"} has no runs`);
  }
  const { resamples, confidence, rng } = bootstrapSettings(op, options, 0x2d3a7);
  const value = (runs: readonly R[], w: Float64Array | null, draw: Int32Array, what: string) => {
    let s = 0;
    for (let k = 0; k < runs.length; k++) {
      const wk = w ? w[k]! : 1 / runs.length;
      if (wk === 0) continue;
      const v = metric(runs[k]!, draw);
      if (!Number.isFinite(v)) {
        throw new TesseraError(op, `the metric of run ${k} of ${what} is ${v}`);
      }
      s += wk * v;
    }
    return s;
  };
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const meanA = value(a, null, all, "A"), meanB = value(b, null, all, "B");
  const wa = new Float64Array(a.length), wb = new Float64Array(b.length);
  const boot = new Float64Array(resamples), draw = new Int32Array(n);
  for (let r = 0; r < resamples; r++) {
    wa.fill(0), wb.fill(0);
    for (let k = 0; k < a.length; k++) wa[rng.int(0, a.length - 1)]! += 1 / a.length;
    for (let k = 0; k < b.length; k++) wb[rng.int(0, b.length - 1)]! += 1 / b.length;
    for (let i = 0; i < n; i++) draw[i] = rng.int(0, n - 1);
    boot[r] = value(a, wa, draw, "A") - value(b, wb, draw, "B");
  }
  return {
    ...bootstrapResult(n, meanA, meanB, boot, confidence),
    runsA: a.length,
    runsB: b.length,
  };
}
