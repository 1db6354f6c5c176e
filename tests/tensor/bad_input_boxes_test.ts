/**
 * Property-based bad-input suite over the box ops (issue 20): random boxes with NaN/±Infinity
 * coordinates and scores, degenerate and empty boxes. The policy under test: ops that select
 * or assign boxes reject non-finite input — nms/batchedNms throw a TesseraError naming the op,
 * nmsPadded (no readback) returns count −1 and all −1, fpnLevels gives level −1, roiAlign
 * throws — and the arithmetic box ops (boxArea, boxIou, clipBoxes) keep a non-finite box's
 * NaN to that box. Finite input gives finite results equal to a reference.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import * as T from "../../mod.ts";
import { decodeBoxes, encodeBoxes } from "../../models/detection/box_coder.ts";
import { fpnLevels } from "../../models/detection/fpn_levels.ts";
import { allFinite, attempt, attemptAsync, property, values } from "./_bad_input.ts";

const coord = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity) },
);
/** `[K, 4]` boxes (x1 ≤ x2 and y1 ≤ y2 unless `raw`), K from 0 to 6, as nested arrays. */
const boxesArb = fc.array(fc.tuple(coord, coord, coord, coord), { maxLength: 6 }).map((bs) =>
  bs.map(([a, b, c, d]) => [Math.min(a, c), Math.min(b, d), Math.max(a, c), Math.max(b, d)])
);
const scoreArb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 8 }).map((v) => v / 8) },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity) },
);
const iouArb = fc.constantFrom(0, 0.3, 0.5, 0.7, 1);

const finiteBox = (b: readonly number[]) => b.every(Number.isFinite);
const boxT = (bs: number[][]) => T.tensor(Float64Array.from(bs.flat()), { shape: [bs.length, 4] });

/** IoU in float64, as the kernel computes it (torchvision's order). */
function iou(a: readonly number[], b: readonly number[]): number {
  const area = (p: readonly number[]) => (p[2]! - p[0]!) * (p[3]! - p[1]!);
  const w = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const h = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const inter = w * h;
  return inter / (area(a) + area(b) - inter);
}

/** Greedy NMS reference: descending score, ties by index, drop IoU > thr. */
function refNms(bs: number[][], sc: number[], thr: number, groups?: number[]): number[] {
  const order = sc.map((_, i) => i).sort((i, j) => sc[j]! - sc[i]! || i - j);
  const kept: number[] = [];
  for (const i of order) {
    if (kept.some((k) => (groups ? groups[k] === groups[i] : true) && iou(bs[k]!, bs[i]!) > thr)) {
      continue;
    }
    kept.push(i);
  }
  return kept;
}

property(
  "nms, batchedNms and nmsPadded: the reference on finite input, an error (or −1) otherwise",
  fc.asyncProperty(
    boxesArb,
    fc.array(scoreArb, { maxLength: 6 }),
    iouArb,
    fc.array(fc.nat(2), { maxLength: 6 }),
    async (bs, sc0, thr, g0) => {
      const k = bs.length;
      const sc = Array.from({ length: k }, (_, i) => sc0[i] ?? 0.5);
      const g = Array.from({ length: k }, (_, i) => g0[i] ?? 0);
      const finite = bs.every(finiteBox) && sc.every(Number.isFinite);
      const boxes = boxT(bs), scores = T.tensor(Float64Array.from(sc));
      const groups = T.tensor(g, { dtype: "int32" });
      try {
        const n = await attemptAsync("nms", () => T.nms(boxes, scores, thr));
        assert.equal(n.ok, finite, `nms of ${JSON.stringify(bs)} scored ${sc}`);
        if (n.ok) {
          assert.deepEqual(values(n.value), refNms(bs, sc, thr));
          n.value.dispose();
        } else assert.match(n.error.message, /box \d+ \[.*\] has a non-finite|score \d+ is/);
        const b = await attemptAsync("batchedNms", () => T.batchedNms(boxes, scores, groups, thr));
        assert.equal(b.ok, finite);
        if (b.ok) {
          // kept indices in descending score order
          const want = refNms(bs, sc, thr, g);
          assert.deepEqual(values(b.value), want);
          b.value.dispose();
        }
        T.scope(() => {
          const p = attempt("nmsPadded", () => T.nmsPadded(boxes, scores, thr, { maxOutput: 4 }));
          assert.ok(p.ok);
          const count = values(p.value.count)[0]!, idx = values(p.value.indices);
          if (!finite && k > 0) {
            assert.equal(count, -1);
            assert.deepEqual(idx, [-1, -1, -1, -1]);
          } else if (finite) {
            const want = refNms(bs, sc, thr);
            assert.equal(count, want.length);
            assert.deepEqual(idx, [...want, -1, -1, -1, -1].slice(0, 4));
          }
        });
      } finally {
        for (const t of [boxes, scores, groups]) t.dispose();
      }
    },
  ),
  80,
);

property(
  "boxArea, boxIou, clipBoxes and fpnLevels: finite boxes give finite results; NaN stays in its box",
  fc.property(boxesArb, boxesArb, (a, b) => {
    T.scope(() => {
      const area = values(T.boxArea(boxT(a)));
      a.forEach((box, i) => {
        if (finiteBox(box)) assert.equal(area[i], (box[2]! - box[0]!) * (box[3]! - box[1]!));
      });
      const m = values(T.boxIou(boxT(a), boxT(b)));
      a.forEach((p, i) =>
        b.forEach((q, j) => {
          const v = m[i * b.length + j]!;
          if (!finiteBox(p) || !finiteBox(q)) return; // only this row/column may be NaN
          const want = iou(p, q);
          assert.ok(Number.isFinite(v) && v >= 0 && v <= 1, `IoU of ${p} and ${q} is ${v}`);
          assert.equal(v, Number.isNaN(want) ? 0 : want);
        })
      );
      const c = values(T.clipBoxes(boxT(a), [6, 8]));
      a.forEach((box, i) =>
        box.forEach((v, j) => {
          const got = c[4 * i + j]!;
          if (Number.isNaN(v)) assert.ok(Number.isNaN(got));
          else assert.equal(got, Math.min(Math.max(v, 0), j % 2 === 0 ? 8 : 6));
        })
      );
      const lv = values(fpnLevels(boxT(a)));
      a.forEach((box, i) => {
        if (finiteBox(box)) assert.ok(lv[i]! >= 2 && lv[i]! <= 5, `level ${lv[i]} of ${box}`);
        else assert.equal(lv[i], -1, `level of ${box}`);
      });
    });
  }),
  80,
);

property(
  "encodeBoxes and decodeBoxes: finite boxes of positive size give finite results; NaN stays in its box",
  fc.property(
    boxesArb,
    fc.array(fc.constantFrom(0, 0.5, -1, 10, NaN, Infinity), { minLength: 4 }),
    (a, d) => {
      T.scope(() => {
        const grown = a.map(([x1, y1, x2, y2]) => [x1!, y1!, x2! + 1, y2! + 1]); // positive size
        const rowsOk = (v: number[], ok: (i: number) => boolean) =>
          grown.forEach((_, i) => {
            if (ok(i)) assert.ok(allFinite(v.slice(4 * i, 4 * i + 4)), `row ${i} of ${v}`);
          });
        const enc = values(encodeBoxes(boxT(grown), boxT(grown.slice().reverse())));
        rowsOk(enc, (i) => finiteBox(grown[i]!) && finiteBox(grown[grown.length - 1 - i]!));
        const deltas = T.tensor(Float64Array.from(grown.flatMap(() => d.slice(0, 4))), {
          shape: [grown.length, 4],
        });
        const dec = values(decodeBoxes(deltas, boxT(grown)));
        rowsOk(dec, (i) => finiteBox(grown[i]!) && allFinite(d.slice(0, 4)));
      });
    },
  ),
);

property(
  "roiAlign: non-finite boxes are a TesseraError naming roiAlign, finite ones a finite result",
  fc.property(boxesArb, (bs) => {
    T.scope(() => {
      const rois = T.tensor(Float32Array.from(bs.flatMap((b) => [0, ...b])), {
        shape: [bs.length, 5],
      });
      const x = T.reshape(T.arange(2 * 16 * 16), [1, 2, 16, 16]);
      const r = attempt("roiAlign", () => T.roiAlign(x, rois, { outputSize: 2 }));
      assert.equal(r.ok, bs.every(finiteBox));
      if (r.ok) assert.ok(allFinite(values(r.value)));
    });
  }),
);
