/**
 * data/eval/paired_metric.ts and the evaluate/accumulate split of COCOeval it relies on: the
 * split reproduces pycocotools on every committed case, a draw of all images in order is the
 * whole set, a draw with repeats weighs images as copies would, the bootstrap is antisymmetric
 * in its two methods, segMiou is the data-set mIoU, the two-level (runs × images) version widens
 * its interval with seed spread, and bad input is named.
 */
import assert from "node:assert/strict";
import { parseCocoGt, parseCocoResults } from "../../data/coco/json.ts";
import { accumulateCoco, cocoImageEvals, evaluateCoco } from "../../data/eval/coco_eval.ts";
import {
  pairedBootstrapDraws,
  pairedBootstrapMetric,
  pairedBootstrapRunDraws,
  segMiou,
} from "../../data/eval/paired_metric.ts";
import { segAreas, segMetrics, sumSegAreas } from "../../data/eval/seg_metrics.ts";

interface Case {
  name: string;
  iouType: "bbox" | "segm";
  gt?: unknown;
  dt: unknown[];
  stats: number[];
}
const FIX: { cases: Case[] } = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/coco_eval.json", import.meta.url)),
);

Deno.test("cocoImageEvals + accumulateCoco: pycocotools' numbers; the identity draw is the whole set", () => {
  const cases = FIX.cases.filter((c) => c.gt !== undefined);
  assert.ok(cases.length >= 30);
  for (const c of cases) {
    const gt = parseCocoGt(structuredClone(c.gt));
    const dt = parseCocoResults(structuredClone(c.dt), gt);
    const e = cocoImageEvals(gt, dt, c.iouType);
    const whole = accumulateCoco(e).stats;
    whole.forEach((v, i) => assert.ok(Math.abs(v - c.stats[i]!) <= 1e-9, `${c.name} stat ${i}`));
    assert.deepEqual(evaluateCoco(gt, dt, c.iouType).stats, whole, c.name);
    const all = Int32Array.from(gt.imgIds, (_, i) => i);
    assert.deepEqual(accumulateCoco(e, all).stats, whole, `${c.name}: identity draw`);
  }
});

Deno.test("accumulateCoco: a draw with repeats scores as the duplicated data set would", () => {
  const c = FIX.cases.find((x) =>
    x.gt !== undefined && x.iouType === "bbox" && x.name.startsWith("random")
  )!;
  const gt0 = c.gt as { images: { id: number }[]; annotations: { id: number; image_id: number }[] };
  const dt0 = c.dt as { image_id: number }[];
  // Duplicate image 0 under a new id, with its annotations and detections.
  const first = gt0.images[0]!.id, copy = 1 + Math.max(...gt0.images.map((im) => im.id));
  let nextAnn = 1 + Math.max(...gt0.annotations.map((a) => a.id));
  const gt1 = structuredClone(gt0);
  gt1.images.push({ ...gt0.images[0]!, id: copy });
  for (const a of gt0.annotations.filter((x) => x.image_id === first)) {
    gt1.annotations.push({ ...structuredClone(a), id: nextAnn++, image_id: copy });
  }
  const dt1 = [
    ...structuredClone(dt0),
    ...dt0.filter((d) => d.image_id === first).map((d) => ({ ...d, image_id: copy })),
  ];
  const g0 = parseCocoGt(structuredClone(gt0)), g1 = parseCocoGt(gt1);
  const want = evaluateCoco(g1, parseCocoResults(dt1, g1), "bbox").stats;
  const e = cocoImageEvals(g0, parseCocoResults(structuredClone(dt0), g0), "bbox");
  const i0 = g0.imgIds.indexOf(first);
  // The duplicate is appended last in gt1's image order, so the draw puts it last too.
  const draw = Int32Array.from([...g0.imgIds.keys(), i0]);
  accumulateCoco(e, draw).stats.forEach((v, i) =>
    assert.ok(Math.abs(v - want[i]!) <= 1e-12, `stat ${i}`)
  );
});

Deno.test("pairedBootstrapMetric: antisymmetric in A and B; segMiou is the data-set mIoU; errors", () => {
  let s = 7;
  const rnd = () => (s = (s * 48271) % 2147483647) / 2147483647;
  const image = (bias: number) => {
    const label = Uint8Array.from({ length: 64 }, () => Math.floor(rnd() * 3));
    const pred = label.map((v) => (rnd() < bias ? v : Math.floor(rnd() * 3)));
    return segAreas(pred, label, 3);
  };
  const a = Array.from({ length: 25 }, () => image(0.8)),
    b = Array.from({ length: 25 }, () => image(0.6));
  const all = Int32Array.from(a, (_, i) => i);
  assert.equal(segMiou(a, all), segMetrics(sumSegAreas(a)).mIoU);
  const ab = pairedBootstrapMetric(a, b, segMiou, { resamples: 400, seed: 5 });
  const ba = pairedBootstrapMetric(b, a, segMiou, { resamples: 400, seed: 5 });
  assert.ok(Math.abs(ab.diff + ba.diff) < 1e-15 && ab.diff > 0);
  assert.ok(Math.abs(ab.ci[0] + ba.ci[1]) < 1e-12 && Math.abs(ab.ci[1] + ba.ci[0]) < 1e-12);
  assert.equal(ab.p, ba.p);
  assert.ok(ab.ci[0] <= ab.diff && ab.diff <= ab.ci[1]);
  assert.throws(
    () => pairedBootstrapMetric(a, b.slice(1), segMiou),
    /pairedBootstrapMetric: the two methods score 25 and 24 images/,
  );
  assert.throws(() => pairedBootstrapDraws(0, () => 0, () => 0), /no paired images \(n = 0\)/);
  assert.throws(() => pairedBootstrapDraws(3, () => NaN, () => 0), /the metric of A is NaN/);
});

Deno.test("pairedBootstrapRunDraws: run means; seed spread widens the interval; antisymmetric; errors", () => {
  const n = 200;
  const acc = (run: Uint8Array, d: Int32Array) => {
    let s = 0;
    for (const i of d) s += run[i]!;
    return s / d.length;
  };
  // B: one fixed run. A: runs that differ from each other (seed spread) around the same mean.
  const rng = (seed: number) => () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const hits = (p: number, r: () => number) =>
    Uint8Array.from({ length: n }, () => (r() < p ? 1 : 0));
  const r = rng(7);
  const b = [hits(0.6, r)];
  const same = [b[0]!, b[0]!, b[0]!];
  const spread = [hits(0.4, r), hits(0.6, r), hits(0.8, r)];
  const opts = { resamples: 2000, seed: 3 };
  const zero = pairedBootstrapRunDraws(n, same, b, acc, opts);
  // Identical runs: every resample's difference is 0 (up to the rounding of 1/3-weights).
  for (const v of [zero.diff, zero.ci[0], zero.ci[1]]) assert.ok(Math.abs(v) < 1e-12);
  const wide = pairedBootstrapRunDraws(n, spread, b, acc, opts);
  const mean = spread.reduce((t, x) => t + acc(x, Int32Array.from({ length: n }, (_, i) => i)), 0) /
    3;
  assert.ok(
    Math.abs(wide.diff - (mean - acc(b[0]!, Int32Array.from({ length: n }, (_, i) => i)))) < 1e-12,
  );
  // One run per method: the image-only bootstrap; three spread runs: a wider interval.
  const one = pairedBootstrapRunDraws(n, [spread[1]!], b, acc, opts);
  assert.ok(wide.ci[1] - wide.ci[0] > 1.5 * (one.ci[1] - one.ci[0]));
  assert.deepEqual([wide.runsA, wide.runsB], [3, 1]);
  const back = pairedBootstrapRunDraws(n, b, spread, acc, opts);
  assert.ok(Math.abs(back.diff + wide.diff) < 1e-12);
  assert.throws(() => pairedBootstrapRunDraws(n, [], b, acc), /method A has no runs/);
  assert.throws(() => pairedBootstrapRunDraws(0, b, b, acc), /no paired images \(n = 0\)/);
  assert.throws(
    () => pairedBootstrapRunDraws(n, b, b, () => NaN),
    /the metric of run 0 of A is NaN/,
  );
});
