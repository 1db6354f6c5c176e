/**
 * Paired tests (data/eval/paired_stats.ts): the exact McNemar p-value against hand-computed
 * binomial tails, the paired bootstrap's pairing (a shared per-image component cancels), its
 * interval against the normal approximation, reproducibility from the seed, and clear errors.
 */
import assert from "node:assert/strict";
import { mcnemar, pairedBootstrap } from "../../data/mod.ts";
import { TesseraError } from "../../tensor/errors.ts";

/** Correctness vectors with `both` images right in both runs, then onlyA and onlyB discordant. */
function runs(onlyA: number, onlyB: number, both: number, neither: number) {
  const a = [
    ...Array(both).fill(1),
    ...Array(onlyA).fill(1),
    ...Array(onlyB).fill(0),
    ...Array(neither).fill(0),
  ];
  const b = [
    ...Array(both).fill(1),
    ...Array(onlyA).fill(0),
    ...Array(onlyB).fill(1),
    ...Array(neither).fill(0),
  ];
  return { a, b };
}

Deno.test("mcnemar: exact binomial tails, symmetric, no discordance → p = 1", () => {
  const binomTail = (m: number, k: number) => {
    let s = 0, c = 1;
    for (let i = 0; i <= k; i++) s += c, c = (c * (m - i)) / (i + 1);
    return s / 2 ** m;
  };
  for (const [x, y] of [[10, 2], [30, 15], [7, 7], [0, 5], [40, 1]]) {
    const { a, b } = runs(x!, y!, 50, 20);
    const r = mcnemar(a, b);
    assert.deepEqual([r.onlyA, r.onlyB], [x, y]);
    const want = Math.min(1, 2 * binomTail(x! + y!, Math.min(x!, y!)));
    assert.ok(Math.abs(r.p - want) < 1e-12 * Math.max(1, want), `${x},${y}: ${r.p} vs ${want}`);
    assert.equal(mcnemar(b, a).p, r.p);
  }
  assert.equal(mcnemar([1, 0, 1], [1, 0, 1]).p, 1);
  assert.equal(mcnemar([true, false], [false, false]).onlyA, 1);
});

Deno.test("pairedBootstrap: identical runs give 0, [0, 0], p = 1", () => {
  const a = Array.from({ length: 50 }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const r = pairedBootstrap(a, a, { resamples: 500 });
  assert.deepEqual([r.diff, r.ci, r.p], [0, [0, 0], 1]);
});

Deno.test("pairedBootstrap: pairs images (a shared per-image component cancels)", () => {
  // Per-image scores vary widely; A is B plus 0.01 everywhere but on 1 image in 10. An unpaired
  // comparison would drown the 0.009 gain in the images' spread; the paired one finds it.
  const b = Array.from({ length: 300 }, (_, i) => ((i * 37) % 100) / 100);
  const a = b.map((v, i) => v + (i % 10 === 0 ? 0 : 0.01));
  const r = pairedBootstrap(a, b, { resamples: 2000, seed: 3 });
  assert.ok(Math.abs(r.diff - 0.009) < 1e-12);
  assert.ok(r.ci[0] > 0.008 && r.ci[1] < 0.01, `${r.ci}`);
  assert.ok(r.p <= 2 / 2001 + 1e-12, `${r.p}`);
});

Deno.test("pairedBootstrap: interval near the normal approximation; p near McNemar's", () => {
  const { a, b } = runs(30, 15, 300, 155); // 500 images, diff 0.03
  const r = pairedBootstrap(a, b, { resamples: 20_000, seed: 7 });
  assert.ok(Math.abs(r.diff - 0.03) < 1e-12);
  assert.deepEqual([r.n, r.meanA, r.meanB], [500, 330 / 500, 315 / 500]);
  const d = [...Array(30).fill(1), ...Array(15).fill(-1), ...Array(455).fill(0)];
  const sd = Math.sqrt(d.reduce((s, x) => s + (x - 0.03) ** 2, 0) / 500 / 500);
  const half = (r.ci[1] - r.ci[0]) / 2;
  assert.ok(Math.abs(half - 1.96 * sd) < 0.15 * 1.96 * sd, `half-width ${half} vs ${1.96 * sd}`);
  assert.ok(r.ci[0] < 0.03 && 0.03 < r.ci[1]);
  const exact = mcnemar(a, b).p; // ≈ 0.036
  assert.ok(r.p > exact / 3 && r.p < exact * 3, `bootstrap p ${r.p} vs McNemar ${exact}`);
});

Deno.test("pairedBootstrap: reproducible from its seed", () => {
  const { a, b } = runs(12, 8, 40, 40);
  const r1 = pairedBootstrap(a, b, { resamples: 1000, seed: 5 });
  assert.deepEqual(pairedBootstrap(a, b, { resamples: 1000, seed: 5 }), r1);
  assert.notDeepEqual(pairedBootstrap(a, b, { resamples: 1000, seed: 6 }).ci, r1.ci);
});

Deno.test("paired tests: bad input names the op and the offending value", () => {
  const bad: [() => unknown, RegExp][] = [
    [() => pairedBootstrap([1, 0], [1]), /pairedBootstrap: the two runs score 2 and 1 images/],
    [() => pairedBootstrap([], []), /pairedBootstrap: no paired scores/],
    [() => pairedBootstrap([1, NaN], [1, 0]), /score 1 of run A is NaN/],
    [() => pairedBootstrap([1], [1], { resamples: 0 }), /resamples must be a positive integer/],
    [() => pairedBootstrap([1], [1], { confidence: 1 }), /confidence must be in \(0, 1\), got 1/],
    [() => mcnemar([1, 2], [1, 0]), /mcnemar: correctness 1 of run A is 2, not 0\/1/],
    [() => mcnemar([1], [1, 0]), /mcnemar: the two runs score 1 and 2 images/],
  ];
  for (const [f, re] of bad) {
    assert.throws(f, (e: unknown) => e instanceof TesseraError && re.test(e.message));
  }
});
