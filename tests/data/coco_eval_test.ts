/**
 * data/eval COCOeval against pycocotools (tests/fixtures/coco_eval.json, made by
 * tools/make_coco_fixtures.py: the golden cases of spec data-eval.md §1.8, random bbox and
 * segm sets with crowd regions, tied scores and area-range edges, box results scored as
 * masks), plus the spec's golden numbers written out by hand and the loaders' input errors.
 */
import assert from "node:assert/strict";
import { parseCocoGt, parseCocoResults } from "../../data/coco/json.ts";
import { evaluateCoco } from "../../data/eval/coco_eval.ts";
import { formatCocoSummary } from "../../data/eval/coco_summary.ts";

interface Case {
  name: string;
  iouType: "bbox" | "segm";
  gt?: unknown;
  gtFile?: string;
  dt: unknown[];
  stats: number[];
  lines: string[];
}
const FIX: { cases: Case[] } = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/coco_eval.json", import.meta.url)),
);

function run(gt: unknown, dt: unknown, iouType: "bbox" | "segm" = "bbox") {
  const g = parseCocoGt(structuredClone(gt));
  return evaluateCoco(g, parseCocoResults(structuredClone(dt), g), iouType);
}

Deno.test("COCOeval: all 12 numbers equal pycocotools on every committed case", () => {
  const cases = FIX.cases.filter((c) => c.gt !== undefined);
  assert.ok(cases.length >= 30);
  let exact = 0;
  for (const c of cases) {
    const { stats } = run(c.gt, c.dt, c.iouType);
    assert.equal(stats.length, 12);
    stats.forEach((v, i) => {
      assert.ok(Math.abs(v - c.stats[i]!) <= 1e-9, `${c.name} stat ${i}: ${v} vs ${c.stats[i]}`);
      if (v === c.stats[i]) exact++;
    });
    assert.deepEqual(formatCocoSummary(stats), c.lines, c.name);
  }
  assert.equal(exact, cases.length * 12); // bit for bit, in fact
});

const box = (id: number, image: number, cat: number, b: number[], iscrowd = 0, area?: number) => ({
  id,
  image_id: image,
  category_id: cat,
  bbox: b,
  area: area ?? b[2]! * b[3]!,
  iscrowd,
});
const img = (id: number, w = 100, h = 100) => ({ id, width: w, height: h, file_name: `${id}.png` });
const cats = (n: number) => Array.from({ length: n }, (_, k) => ({ id: k + 1, name: `c${k + 1}` }));
const det = (image: number, cat: number, bbox: number[], score: number) => ({
  image_id: image,
  category_id: cat,
  bbox,
  score,
});
const gt1 = (annotations: unknown[], images = [img(1)], n = 1) => ({
  images,
  categories: cats(n),
  annotations,
});
const close = (a: number, b: number) => Math.abs(a - b) < 5e-5;

Deno.test("COCOeval: spec §1.8 golden numbers (hand-written)", () => {
  const two = [box(1, 1, 1, [0, 0, 20, 20]), box(2, 1, 1, [50, 50, 20, 20])];
  let s = run(gt1(two), [
    det(1, 1, [80, 0, 10, 10], 0.9),
    det(1, 1, [0, 0, 20, 20], 0.8),
    det(1, 1, [50, 50, 20, 20], 0.7),
  ]).stats;
  assert.ok(close(s[0]!, 2 / 3) && s[6] === 0 && close(s[7]!, 1), "C3");
  s = run(gt1(two), [
    det(1, 1, [0, 0, 20, 20], 0.8),
    det(1, 1, [80, 0, 10, 10], 0.75),
    det(1, 1, [50, 50, 20, 20], 0.7),
  ]).stats;
  assert.ok(close(s[0]!, (51 + 50 * 2 / 3) / 101), "C3c envelope");
  // C5: detections inside a crowd region are ignored, not false positives.
  const crowd = [box(1, 1, 1, [0, 0, 20, 20]), box(2, 1, 1, [50, 50, 40, 40], 1)];
  const cd = [
    det(1, 1, [55, 55, 10, 10], 0.95),
    det(1, 1, [70, 70, 10, 10], 0.94),
    det(1, 1, [0, 0, 20, 20], 0.5),
  ];
  assert.ok(close(run(gt1(crowd), cd).stats[0]!, 1), "C5");
  assert.ok(close(run(gt1(crowd.slice(0, 1)), cd).stats[0]!, 1 / 3), "C5b");
  // C6: area ranges.
  s = run(
    gt1([
      box(1, 1, 1, [0, 0, 10, 10]),
      box(2, 1, 1, [20, 20, 50, 50]),
      box(3, 1, 1, [90, 90, 100, 100]),
    ], [
      img(1, 200, 200),
    ]),
    [det(1, 1, [0, 0, 10, 10], 0.9), det(1, 1, [90, 90, 100, 100], 0.8)],
  ).stats;
  assert.ok([67 / 101, 1, 0, 1].every((v, i) => close(s[[0, 3, 4, 5][i]!]!, v)), "C6");
  // C9: a true positive ranked 101st is cut by maxDets 100.
  const fps = (n: number) => Array.from({ length: n }, (_, i) => det(1, 1, [i * 9, 0, 8, 8], 0.9));
  const far = gt1([box(1, 1, 1, [900, 900, 50, 50])], [img(1, 1000, 1000)]);
  assert.equal(run(far, [...fps(100), det(1, 1, [900, 900, 50, 50], 0.1)]).stats[0], 0);
  s = run(far, [...fps(9), det(1, 1, [900, 900, 50, 50], 0.1)]).stats;
  assert.ok(close(s[0]!, 0.1) && s[6] === 0 && close(s[7]!, 1), "C9b");
  // C13: crowd absorbs the detection at high thresholds. C17/C18: recall cut-offs.
  s = run(gt1([box(1, 1, 1, [0, 0, 20, 20], 1), box(2, 1, 1, [0, 0, 20, 16])]), [
    det(1, 1, [0, 0, 20, 20], 0.9),
  ]).stats;
  assert.ok(close(s[0]!, 0.7), "C13");
  assert.ok(close(run(gt1(two), [det(1, 1, [0, 0, 20, 20], 0.9)]).stats[0]!, 51 / 101), "C17");
  // C19: ranges use the `area` field, not the box.
  s = run(gt1([box(1, 1, 1, [10, 10, 40, 40], 0, 500)]), [det(1, 1, [10, 10, 40, 40], 0.9)]).stats;
  assert.deepEqual([s[3], s[4]].map((v) => Math.round(v! * 1e6) / 1e6), [1, -1]);
});

Deno.test("COCOeval: segm on masks (C10) and box-only results scored as masks", () => {
  const c10 = FIX.cases.find((c) => c.name === "C10")!;
  const s = run(c10.gt, c10.dt, "segm").stats;
  assert.ok(close(s[0]!, 0.4) && close(s[1]!, 1), "C10");
  // A box result evaluated as segm is rasterised as its box polygon (pycocotools loadRes).
  const g = gt1(
    [{ ...box(1, 1, 1, [2, 2, 10, 10]), segmentation: [[2, 2, 2, 12, 12, 12, 12, 2]] }],
    [
      img(1, 20, 20),
    ],
  );
  assert.ok(close(run(g, [det(1, 1, [2, 2, 10, 10], 0.9)], "segm").stats[0]!, 1));
});

Deno.test("COCO loaders: bad inputs give errors naming file, record and field", () => {
  const g = gt1([box(1, 1, 1, [0, 0, 10, 10])]);
  const gt = parseCocoGt(g, "gt.json");
  const bad = (dt: unknown, re: RegExp) =>
    assert.throws(() => parseCocoResults(dt, gt, "r.json"), re);
  bad([det(7, 1, [0, 0, 1, 1], 0.5)], /r\.json: result 0: image_id 7 is not an image/);
  bad([det(1, 4, [0, 0, 1, 1], 0.5)], /result 0: category_id 4 is not a category/);
  bad([det(1, 1, [0, 0, 1], 0.5)], /result 0: bbox \[0,0,1\] is not \[x, y, w, h\]/);
  bad([det(1, 1, [0, 0, -1, 1], 0.5)], /negative width/);
  bad([det(1, 1, [0, 0, 1, 1], NaN)], /result 0: score null is not a finite number/);
  bad(
    [det(1, 1, [0, 0, 1, 1], 0.5), { image_id: 1, category_id: 1, score: 1 }],
    /result 1: has no bbox/,
  );
  bad(
    [{ image_id: 1, category_id: 1, score: 1, segmentation: { size: [10, 10], counts: "d0" } }],
    /RLE size \[10, 10\] differs from image 1's \[100, 100\]/,
  );
  bad(
    [{ image_id: 1, category_id: 1, score: 1, segmentation: { size: [100, 100], counts: "d0" } }],
    /counts sum to 20 pixels/,
  );
  bad({}, /top level is not an array/);
  const badGt = (ann: unknown, re: RegExp) =>
    assert.throws(() => parseCocoGt({ ...g, annotations: [ann] }, "gt.json"), re);
  badGt(
    { ...box(0, 1, 1, [0, 0, 1, 1]) },
    /gt\.json: annotations\[0\]: id 0 is not an integer ≥ 1/,
  );
  badGt({ ...box(3, 2, 1, [0, 0, 1, 1]) }, /annotation id 3: image_id 2 is not an image id/);
  badGt({ ...box(3, 1, 9, [0, 0, 1, 1]) }, /annotation id 3: category_id 9 is not a category id/);
  badGt({ ...box(3, 1, 1, [0, 0, 1, 1]), bbox: "x" }, /annotation id 3: bbox "x"/);
  badGt({ ...box(3, 1, 1, [0, 0, 1, 1]), area: NaN }, /annotation id 3: area null/);
  badGt({ ...box(3, 1, 1, [0, 0, 1, 1]), iscrowd: 2 }, /annotation id 3: iscrowd 2/);
  badGt(
    { ...box(3, 1, 1, [0, 0, 1, 1]), segmentation: { size: [100, 100], counts: [1, 2] } },
    /annotation id 3: segmentation counts sum to 3/,
  );
  badGt(
    { ...box(3, 1, 1, [0, 0, 1, 1]), segmentation: [[1, 2, 3]] },
    /polygon 0 is not a flat list/,
  );
  assert.throws(() => parseCocoGt({ ...g, images: [img(1), img(1)] }), /image id 1 appears twice/);
  assert.throws(() => parseCocoGt([], "gt.json"), /gt\.json: top level is not an object/);
  assert.throws(() => evaluateCoco(gt, [], "segm"), /annotation id 1 has no segmentation/);
});
