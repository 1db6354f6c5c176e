/**
 * The two-level paired bootstrap: exact means, one run per method = the image-only bootstrap's
 * interval, seed variance widens the interval, identical methods give p = 1, bad input is named.
 */
import assert from "node:assert/strict";
import { pairedBootstrap, pairedBootstrapRuns } from "../../data/mod.ts";
import { rngFromSeed } from "../../tensor/host_rng.ts";

const coin = (seed: number, n: number, p: number) => {
  const rng = rngFromSeed([seed, 1, 2, 3]);
  return Array.from({ length: n }, () => (rng.uniform() < p ? 1 : 0));
};

Deno.test("pairedBootstrapRuns: means and difference over all runs and images", () => {
  const a = [coin(1, 400, 0.8), coin(2, 400, 0.8), coin(3, 400, 0.8)];
  const b = [coin(4, 400, 0.7), coin(5, 400, 0.7)];
  const r = pairedBootstrapRuns(a, b, { resamples: 500, seed: 3 });
  const mean = (xs: number[][]) => xs.flat().reduce((s, x) => s + x, 0) / xs.flat().length;
  assert.ok(Math.abs(r.meanA - mean(a)) < 1e-12 && Math.abs(r.meanB - mean(b)) < 1e-12);
  assert.ok(Math.abs(r.diff - (mean(a) - mean(b))) < 1e-12);
  assert.ok(r.ci[0] <= r.diff && r.diff <= r.ci[1]);
  assert.deepEqual([r.runsA, r.runsB, r.n, r.resamples], [3, 2, 400, 500]);
});

Deno.test("pairedBootstrapRuns: one run each matches the image-only bootstrap's interval", () => {
  const a = coin(7, 1000, 0.75), b = coin(8, 1000, 0.7);
  const one = pairedBootstrapRuns([a], [b], { resamples: 4000, seed: 1 });
  const img = pairedBootstrap(a, b, { resamples: 4000, seed: 1 });
  assert.equal(one.diff, img.diff);
  // Different draws, same distribution: the interval ends agree to Monte Carlo error.
  assert.ok(Math.abs(one.ci[0] - img.ci[0]) < 0.01 && Math.abs(one.ci[1] - img.ci[1]) < 0.01);
});

Deno.test("pairedBootstrapRuns: seed-to-seed variance widens the interval", () => {
  // Method A's runs disagree wildly (one good, one bad seed); averaging them first hides that.
  const good = coin(11, 2000, 0.9), bad = coin(12, 2000, 0.6), b = coin(13, 2000, 0.72);
  const runs = pairedBootstrapRuns([good, bad], [b], { resamples: 2000, seed: 2 });
  const avg = good.map((g, i) => (g + bad[i]!) / 2);
  const flat = pairedBootstrap(avg, b, { resamples: 2000, seed: 2 });
  assert.ok(Math.abs(runs.diff - flat.diff) < 1e-12);
  assert.ok(runs.ci[1] - runs.ci[0] > 3 * (flat.ci[1] - flat.ci[0]));
  assert.ok(flat.p < 0.05 && runs.p > 0.05, `image-only p ${flat.p}, with runs p ${runs.p}`);
});

Deno.test("pairedBootstrapRuns: identical methods give p = 1 and a zero interval", () => {
  const a = coin(21, 300, 0.5);
  const r = pairedBootstrapRuns([a, a], [a], { resamples: 200 });
  assert.deepEqual([r.diff, r.ci, r.p], [0, [0, 0], 1]);
});

Deno.test("pairedBootstrapRuns: bad input names the op and the offending run", () => {
  assert.throws(() => pairedBootstrapRuns([], [[1]]), /pairedBootstrapRuns: method A has no runs/);
  assert.throws(
    () => pairedBootstrapRuns([[1, 0]], [[1, 0], [1]]),
    /pairedBootstrapRuns: run 1 of method B scores 1 images, run 0 of A scores 2; pair them/,
  );
  assert.throws(() => pairedBootstrapRuns([[1, NaN]], [[1, 0]]), /score 1 of run 0 of A is NaN/);
  assert.throws(() => pairedBootstrapRuns([[1]], [[0]], { resamples: 0 }), /resamples must be/);
});
