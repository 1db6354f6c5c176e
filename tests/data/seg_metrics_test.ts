/**
 * data/eval/seg_metrics.ts against the numpy restatement of mmseg's IoUMetric
 * (tests/fixtures/seg_metrics.json from tools/make_seg_fixtures.py), the golden example of
 * spec data-eval.md §3.4 written out by hand, and label PNG round trips through sharp.
 */
import assert from "node:assert/strict";
import sharp from "npm:sharp@0.34.5";
import {
  mmsegPercent,
  reduceZeroLabel,
  segAreas,
  segMetrics,
  sumSegAreas,
} from "../../data/eval/seg_metrics.ts";
import { encodeLabelPng, readLabelPng, writeLabelPng } from "../../data/label_png.ts";
import { evaluateSegFolders } from "../../data/eval/seg_folders.ts";
import { join } from "node:path";

interface Case {
  name: string;
  C: number;
  reduceZeroLabel: boolean;
  images: { label: number[]; pred: number[] }[];
  expect: Record<string, number | (number | null)[]>;
}
const FIX: { cases: Case[] } = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/seg_metrics.json", import.meta.url)),
);
const nulls = (a: Float64Array) => [...a].map((x) => (Number.isNaN(x) ? null : x));

Deno.test("mIoU: equals the numpy mmseg arithmetic on every fixture, bit for bit", () => {
  assert.equal(FIX.cases.length, 5);
  for (const c of FIX.cases) {
    const per = c.images.map((im) => {
      const lab = Uint8Array.from(im.label);
      return segAreas(im.pred, c.reduceZeroLabel ? reduceZeroLabel(lab) : lab, c.C);
    });
    const total = sumSegAreas(per), m = segMetrics(total);
    for (const k of ["intersect", "union", "pred", "label"] as const) {
      assert.deepEqual([...total[k]], c.expect[k], `${c.name} ${k}`);
    }
    assert.deepEqual(nulls(m.iou), c.expect.iou, c.name);
    assert.deepEqual(nulls(m.acc), c.expect.acc, c.name);
    assert.deepEqual([m.aAcc, m.mIoU, m.mAcc], [c.expect.aAcc, c.expect.mIoU, c.expect.mAcc]);
  }
});

Deno.test("mIoU: spec §3.4 golden example; per-image averaging would be wrong", () => {
  const img1 = reduceZeroLabel(Uint8Array.of(0, 1, 1, 1, 2, 2, 2, 2));
  assert.deepEqual([...img1], [255, 0, 0, 0, 1, 1, 1, 1]);
  const img2 = reduceZeroLabel(Uint8Array.of(3, 3, 3, 3, 3, 3, 0, 0));
  const a1 = segAreas([2, 0, 0, 1, 1, 1, 1, 1], img1, 3),
    a2 = segAreas(new Array(8).fill(2), img2, 3);
  const t = sumSegAreas([a1, a2]), m = segMetrics(t);
  assert.deepEqual([[...t.intersect], [...t.union], [...t.pred], [...t.label]], [
    [2, 4, 6],
    [3, 5, 6],
    [2, 5, 6],
    [3, 4, 6],
  ]);
  assert.deepEqual([mmsegPercent(m.mIoU), mmsegPercent(m.aAcc), mmsegPercent(m.mAcc)], [
    82.22,
    92.31,
    88.89,
  ]);
  const perImage = (segMetrics(a1).mIoU + segMetrics(a2).mIoU) / 2;
  assert.equal(mmsegPercent(perImage), 86.67);
  assert.notEqual(mmsegPercent(perImage), mmsegPercent(m.mIoU));
  // reduce_zero_label maps 255 (already ignore) to 255 too.
  assert.deepEqual([...reduceZeroLabel(Uint8Array.of(255, 254))], [255, 253]);
  // np.round(x * 100, 2) values checked with numpy 1.24: halves go to even.
  assert.deepEqual([0.12345, 0.00025, 0.00125, 0.123456].map(mmsegPercent), [
    12.34,
    0.02,
    0.12,
    12.35,
  ]);
  assert.ok(Number.isNaN(mmsegPercent(NaN)));
});

Deno.test("label PNGs: exact round trip 0..255, 1 channel; RGB and palette refused", async () => {
  const data = Uint8Array.from({ length: 256 }, (_, i) => i);
  const png = await encodeLabelPng({ height: 16, width: 16, data });
  assert.equal((await sharp(png).metadata()).channels, 1);
  const back = await readLabelPng(png);
  assert.deepEqual([back.height, back.width], [16, 16]);
  assert.deepEqual(back.data, data);
  const rgb = await sharp(new Uint8Array(12), { raw: { width: 2, height: 2, channels: 3 } }).png()
    .toBuffer();
  await assert.rejects(readLabelPng(new Uint8Array(rgb), "rgb.png"), /rgb\.png: 3 channels/);
  const pal = await sharp(new Uint8Array(12), { raw: { width: 2, height: 2, channels: 3 } })
    .png({ palette: true }).toBuffer();
  await assert.rejects(readLabelPng(new Uint8Array(pal), "pal.png"), /pal\.png: palette PNG/);
  await assert.rejects(
    readLabelPng(Uint8Array.of(1, 2, 3), "junk.png"),
    /junk\.png: cannot decode/,
  );
  assert.throws(() => segAreas([1], [1, 2], 3), /prediction has 1 pixels, label map 2/);
});

Deno.test("evaluateSegFolders: missing or mis-sized predictions are named", async () => {
  const gt = await Deno.makeTempDir(), pred = await Deno.makeTempDir();
  try {
    const map = (w: number) => ({ height: 2, width: w, data: new Uint8Array(2 * w).fill(1) });
    await writeLabelPng(join(gt, "a.png"), map(3));
    await assert.rejects(
      evaluateSegFolders(gt, pred, { numClasses: 2 }),
      /no prediction .*a\.png for .*a\.png/,
    );
    await writeLabelPng(join(pred, "a.png"), map(4));
    await assert.rejects(
      evaluateSegFolders(gt, pred, { numClasses: 2 }),
      /is 4×2, its ground truth 3×2/,
    );
    await writeLabelPng(join(pred, "a.png"), {
      height: 2,
      width: 3,
      data: new Uint8Array(6).fill(1),
    });
    // ADE benchmark PNGs store class + 1: offset 1 maps them back.
    const r = await evaluateSegFolders(gt, pred, { numClasses: 2, predictionsOffset: 1 });
    assert.deepEqual([...r.total.intersect], [6, 0]);
    await assert.rejects(
      evaluateSegFolders(pred + "/none", pred, { numClasses: 2 }),
      /cannot list/,
    );
  } finally {
    await Deno.remove(gt, { recursive: true });
    await Deno.remove(pred, { recursive: true });
  }
});
