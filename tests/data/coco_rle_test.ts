/**
 * data/coco RLE, polygon and IoU functions against pycocotools (tests/fixtures/coco_rle.json,
 * made by tools/make_coco_fixtures.py) and the test vectors of spec data-eval.md §2.3.
 */
import assert from "node:assert/strict";
import { bboxIou, rleIou } from "../../data/coco/iou.ts";
import { rleFromBbox, rleFromPolygon } from "../../data/coco/polygon.ts";
import {
  type Bbox,
  type Rle,
  rleArea,
  rleDecode,
  rleEncode,
  rleFromString,
  rleMerge,
  rleToBbox,
  rleToString,
} from "../../data/coco/rle.ts";
import { TesseraError } from "../../tensor/errors.ts";

const FIX = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/coco_rle.json", import.meta.url)),
);
const blob = (i: number): Rle =>
  rleFromString(FIX.blobs[i].counts, ...FIX.blobs[i].size as [number, number]);

Deno.test("RLE: spec §2.3 test vectors", () => {
  const v = (h: number, w: number, c: number[]) => ({ h, w, counts: Uint32Array.from(c) });
  assert.equal(rleToString(v(4, 5, [5, 2, 2, 2, 2, 2, 5])), "5220003");
  const neg = v(4, 5, [5, 10, 3, 2]);
  assert.equal(rleToString(neg), "5:3H");
  assert.equal(rleArea(neg), 12);
  assert.deepEqual(rleToBbox(neg), [1, 0, 4, 4]);
  assert.equal(rleToString(v(4, 5, [0, 3, 17])), "03a0");
  assert.equal(rleToString(v(4, 5, [20])), "d0");
  assert.deepEqual(rleToBbox(v(4, 5, [20])), [0, 0, 0, 0]);
  assert.equal(rleToString(v(4, 5, [0, 20])), "0d0");
  const big = v(51103, 1, [100, 1000, 50000, 3]);
  assert.equal(rleToString(big), "T3Xo0`j`1kPO");
  assert.equal(rleArea(big), 1003);
  const sq = new Uint8Array(400);
  for (let y = 2; y < 12; y++) for (let x = 2; x < 12; x++) sq[y * 20 + x] = 1;
  const r = rleEncode(sq, 20, 20);
  assert.equal(rleToString(r), "Z1::00000000000000000n4");
  assert.deepEqual([rleArea(r), ...rleToBbox(r)], [100, 2, 2, 10, 10]);
  const poly = rleFromPolygon([2, 2, 2, 12, 12, 12, 12, 2], 20, 20);
  assert.equal(rleToString(poly), rleToString(r));
  const inner = rleFromPolygon([2.5, 2.5, 2.5, 11.5, 11.5, 11.5, 11.5, 2.5], 20, 20);
  assert.deepEqual([rleArea(inner), ...rleToBbox(inner)], [81, 3, 3, 9, 9]);
});

Deno.test("RLE: encode/decode/string/area/toBbox equal pycocotools on random masks", () => {
  assert.ok(FIX.encode.length >= 18);
  for (const c of FIX.encode) {
    const mask = Uint8Array.from(c.mask as string, (ch) => (ch === "1" ? 1 : 0));
    const r = rleEncode(mask, c.h, c.w);
    assert.equal(rleToString(r), c.counts, `${c.h}×${c.w}`);
    assert.deepEqual(rleDecode(rleFromString(c.counts, c.h, c.w)), mask);
    assert.equal(rleArea(r), c.area);
    assert.deepEqual(rleToBbox(r), c.bbox);
  }
  for (const c of FIX.strings) {
    const r = rleFromString(c.counts, c.h, c.w);
    assert.deepEqual([...r.counts], c.runs);
    assert.equal(rleToString(r), c.counts);
  }
});

Deno.test("RLE: merge (union, intersection) and mask IoU with crowd equal pycocotools", () => {
  for (const m of FIX.merge) {
    const rs = (m.inputs as number[]).map(blob);
    assert.equal(rleToString(rleMerge(rs)), m.union);
    assert.equal(rleToString(rleMerge(rs, true)), m.intersection);
  }
  const all = FIX.blobs.map((_: unknown, i: number) => blob(i));
  const o = rleIou(all, all, (FIX.iou.crowd as number[]).map((c) => c === 1));
  assert.deepEqual(Array.from(o.data), (FIX.iou.values as number[][]).flat());
  const b = FIX.bboxIou;
  const ob = bboxIou(b.dt, b.gt, (b.crowd as number[]).map((c) => c === 1));
  assert.deepEqual([ob.dts, ob.gts], [b.dt.length, b.gt.length]);
  assert.deepEqual(Array.from(ob.data), (b.values as number[][]).flat());
});

Deno.test("RLE: polygons and boxes rasterise as pycocotools' frPyObjects", () => {
  assert.ok(FIX.polygons.length >= 30);
  for (const p of FIX.polygons) {
    assert.equal(rleToString(rleFromPolygon(p.xy, p.h, p.w)), p.counts, JSON.stringify(p.xy));
  }
  for (const p of FIX.bboxes) {
    assert.equal(rleToString(rleFromBbox(p.bbox as Bbox, p.h, p.w)), p.counts);
  }
});

Deno.test("RLE: malformed input gives errors naming the problem", () => {
  assert.throws(
    () => rleFromString("5:3H", 4, 4),
    (e: unknown) =>
      e instanceof TesseraError &&
      /counts sum to 20 pixels but size \[4, 4\] has 16/.test(e.message),
  );
  assert.throws(() => rleFromString("5:3~", 4, 5), /character "~" at 3 is outside/);
  assert.throws(() => rleFromString("5P", 4, 5), /string ends inside a value/);
  assert.throws(() => rleEncode(new Uint8Array(5), 2, 2), /mask has 5 values, expected h·w = 4/);
  const a = rleEncode(new Uint8Array(4), 2, 2), b = rleEncode(new Uint8Array(6), 2, 3);
  assert.throws(() => rleMerge([a, b]), /mask 1 is 2×3, mask 0 is 2×2/);
  assert.throws(() => rleMerge([]), /no masks/);
  // Masks of different sizes: IoU −1, as pycocotools.
  const f = rleEncode([1, 1, 1, 1], 2, 2), g = rleEncode([1, 1, 1, 1, 1, 1], 2, 3);
  assert.deepEqual([...rleIou([f], [g], [false]).data], [-1]);
});
