import assert from "node:assert/strict";
import {
  cropDense,
  type DenseSample,
  hflipDense,
  keepRatioSize,
  largeScaleJitter,
  normalizeDense,
  padDense,
  randomCropSeg,
  randomFlipDense,
  resizeDense,
  resizeKeepRatio,
  segCropParams,
} from "../../data/dense_transforms/mod.ts";
import { rngFromSeed } from "../../tensor/host_rng.ts";
import { TesseraError } from "../../mod.ts";

const rng = (s: number) => rngFromSeed([s, 11, 13, 17]);

/** A random h×w scene: RGB noise, rectangles and discs as instances, their union as labels. */
function scene(h: number, w: number, seed: number, n = 3): DenseSample {
  const r = rng(seed);
  const img = Uint8Array.from({ length: h * w * 3 }, () => r.int(0, 255));
  const masks: Uint8Array[] = [], boxes: number[] = [], labels: number[] = [];
  const semantic = new Uint8Array(h * w);
  for (let i = 0; i < n; i++) {
    const bh = r.int(3, Math.floor(h / 2)), bw = r.int(3, Math.floor(w / 2));
    const y0 = r.int(0, h - bh), x0 = r.int(0, w - bw), disc = r.random() < 0.5;
    const m = new Uint8Array(h * w);
    let x1 = w, y1 = h, x2 = -1, y2 = -1;
    for (let y = y0; y < y0 + bh; y++) {
      for (let x = x0; x < x0 + bw; x++) {
        const dy = (y + 0.5 - y0 - bh / 2) / (bh / 2), dx = (x + 0.5 - x0 - bw / 2) / (bw / 2);
        if (disc && dx * dx + dy * dy > 1) continue;
        m[y * w + x] = 1;
        semantic[y * w + x] = i + 1;
        x1 = Math.min(x1, x), y1 = Math.min(y1, y), x2 = Math.max(x2, x), y2 = Math.max(y2, y);
      }
    }
    masks.push(m);
    boxes.push(x1, y1, x2 + 1, y2 + 1);
    labels.push(i);
  }
  return {
    image: { data: img, height: h, width: w, channels: 3 },
    boxes: Float32Array.from(boxes),
    labels: Int32Array.from(labels),
    masks,
    semantic,
  };
}

const area = (m: Uint8Array) => m.reduce((a, v) => a + v, 0);

/** Every box inside the image; every mask pixel's centre inside its box. */
function assertConsistent(s: DenseSample, what: string) {
  const { height: h, width: w } = s.image;
  const b = s.boxes!;
  assert.equal(b.length / 4, s.labels!.length, what);
  assert.equal(s.masks!.length, s.labels!.length, what);
  for (let i = 0; i < b.length / 4; i++) {
    const [x1, y1, x2, y2] = b.subarray(4 * i, 4 * i + 4);
    assert.ok(
      0 <= x1! && x1! < x2! && x2! <= w && 0 <= y1! && y1! < y2! && y2! <= h,
      `${what}: box ${i}`,
    );
    const m = s.masks![i]!;
    assert.equal(m.length, h * w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (!m[y * w + x]) continue;
        const cx = x + 0.5, cy = y + 0.5;
        assert.ok(
          cx >= x1! && cx <= x2! && cy >= y1! && cy <= y2!,
          `${what}: mask ${i} (${x},${y})`,
        );
      }
    }
  }
  if (s.semantic) assert.equal(s.semantic.length, h * w);
}

Deno.test("hflipDense: flipping twice gives the sample back; boxes mirror their masks", () => {
  for (let seed = 0; seed < 5; seed++) {
    const s = scene(13, 17, seed);
    const f = hflipDense(s);
    assertConsistent(f, `flip ${seed}`);
    assert.notDeepEqual(f.image.data, s.image.data);
    assert.deepEqual(hflipDense(f), s);
    const flip = randomFlipDense(1)(s, rng(seed));
    assert.deepEqual(flip, f);
    assert.equal(randomFlipDense(0)(s, rng(seed)), s);
  }
});

Deno.test("resizeDense: masks and labels resized with nearest, mask area scales with the factor", () => {
  const s = scene(12, 16, 3);
  const up = resizeDense(s, [24, 48]); // ×2 rows, ×3 columns: nearest replicates exactly
  assertConsistent(up, "×2×3");
  for (let i = 0; i < 3; i++) assert.equal(area(up.masks![i]!), 6 * area(s.masks![i]!));
  assert.deepEqual([...up.boxes!], [...s.boxes!].map((v, i) => v * (i % 2 === 0 ? 3 : 2)));
  // Label values are never blended.
  const vals = new Set(up.semantic), src = new Set(s.semantic);
  assert.deepEqual([...vals].sort(), [...src].sort());
  // A non-integer factor: area within the boundary's share of the scaled area.
  for (let seed = 0; seed < 6; seed++) {
    const t = scene(30, 40, seed);
    const r = resizeDense(t, [21, 26], "bicubic");
    assertConsistent(r, `resize ${seed}`);
    const f = (21 / 30) * (26 / 40);
    for (let i = 0; i < 3; i++) {
      const a0 = area(t.masks![i]!) * f, a1 = area(r.masks![i]!);
      const [x1, y1, x2, y2] = r.boxes!.subarray(4 * i, 4 * i + 4);
      const perimeter = 2 * (x2! - x1! + y2! - y1!);
      assert.ok(Math.abs(a1 - a0) <= perimeter, `seed ${seed} mask ${i}: ${a1} vs ${a0}`);
    }
  }
});

Deno.test("resizeKeepRatio: shorter side to the target unless the longer side would exceed its bound", () => {
  assert.deepEqual(keepRatioSize(64, 64, 32), [32, 32]);
  assert.deepEqual(keepRatioSize(50, 100, 80, 120), [60, 120]);
  assert.deepEqual(keepRatioSize(100, 50, 80), [160, 80]);
  const r = resizeKeepRatio(scene(20, 30, 1), 40, 1000);
  assert.deepEqual([r.image.height, r.image.width], [40, 60]);
  assertConsistent(r, "keep ratio");
  assert.throws(() => keepRatioSize(10, 10, 0), TesseraError);
});

Deno.test("cropDense/padDense: boxes clipped or dropped with their masks; pads 0 and 255", () => {
  const s = scene(20, 20, 4);
  for (const [t, l, h, w] of [[5, 5, 8, 8], [-4, -3, 30, 10], [15, 0, 10, 20], [0, 0, 20, 20]]) {
    const c = cropDense(s, t!, l!, h!, w!);
    assertConsistent(c, `crop ${t},${l}`);
    assert.equal(c.semantic![0], t! < 0 || l! < 0 ? 255 : s.semantic![t! * 20 + l!]);
  }
  const p = padDense(s, { divisor: 32 });
  assert.deepEqual([p.image.height, p.image.width], [32, 32]);
  assert.deepEqual(p.boxes, s.boxes);
  assert.equal(p.semantic![31 * 32 + 31], 255);
  assert.equal(p.image.data[(31 * 32 + 31) * 3], 0);
  assertConsistent(p, "pad");
  for (let i = 0; i < 3; i++) assert.equal(area(p.masks![i]!), area(s.masks![i]!));
  assert.deepEqual(padDense(s, { size: [20, 20] }), s);
  assert.throws(() => padDense(s, { size: [10, 30] }), /at least the image's 20×20/);
  assert.throws(
    () => cropDense({ ...s, labels: Int32Array.of(1) }, 0, 0, 2, 2),
    /1 labels for 3 boxes/,
  );
});

Deno.test("largeScaleJitter: fixed output size, boxes inside, masks inside their boxes, deterministic", () => {
  let dropped = 0, scales = 0;
  for (let seed = 0; seed < 24; seed++) {
    const s = scene(24, 32, seed);
    const t = largeScaleJitter([32, 32]);
    const out = t(s, rng(seed));
    assert.deepEqual([out.image.height, out.image.width, out.semantic!.length], [32, 32, 1024]);
    assertConsistent(out, `lsj ${seed}`);
    assert.deepEqual(t(s, rng(seed)), out); // determinism per seed
    dropped += 3 - out.labels!.length;
    // Each surviving box belongs to an instance whose label it keeps.
    for (const l of out.labels!) assert.ok(l >= 0 && l < 3);
    if (out.semantic!.includes(255)) scales++; // scale < 1 pads with the ignore label
  }
  assert.ok(dropped > 0, "large scales crop some instances away");
  assert.ok(scales > 0, "small scales pad");
  assert.notDeepEqual(
    largeScaleJitter([32, 32])(scene(24, 32, 1), rng(1)).image.data,
    largeScaleJitter([32, 32])(scene(24, 32, 1), rng(2)).image.data,
  );
  assert.throws(() => largeScaleJitter([32, 32], { minScale: 0 }), TesseraError);
});

Deno.test("segCropParams: mmseg's cat_max_ratio loop (10 checks, then the 11th draw unchecked)", () => {
  const h = 16, w = 16;
  const seg = new Uint8Array(h * w).fill(1);
  for (let y = 0; y < h; y++) for (let x = 12; x < w; x++) seg[y * w + x] = 2;
  for (let x = 0; x < w; x++) seg[x] = 255; // ignored row
  const ratio = (t: number, l: number, ch: number, cw: number) => {
    const c = new Map<number, number>();
    for (let y = t; y < t + ch; y++) {
      for (let x = l; x < l + cw; x++) {
        const v = seg[y * w + x]!;
        if (v !== 255) c.set(v, (c.get(v) ?? 0) + 1);
      }
    }
    const n = [...c.values()];
    return n.length > 1 ? Math.max(...n) / n.reduce((a, b) => a + b) : 1;
  };
  let ok = 0;
  for (let seed = 0; seed < 40; seed++) {
    const got = segCropParams(seg, h, w, [8, 8], rng(seed), { catMaxRatio: 0.75 });
    // Replay the draws: the first passing one of the first ten, else the eleventh.
    const r = rng(seed), draws: number[][] = [];
    for (let i = 0; i < 11; i++) draws.push([r.int(0, 8), r.int(0, 8)]);
    const pass = draws.slice(0, 10).find(([t, l]) => ratio(t!, l!, 8, 8) < 0.75) ?? draws[10]!;
    assert.deepEqual(got, [...pass, 8, 8], `seed ${seed}`);
    if (ratio(got[0], got[1], 8, 8) < 0.75) ok++;
  }
  assert.ok(ok >= 36, `${ok}/40 crops respect the ratio`);
  // catMaxRatio 1 takes the first draw; a smaller map gives a smaller crop.
  const r = rng(3);
  assert.deepEqual(segCropParams(seg, h, w, [8, 8], rng(3), { catMaxRatio: 1 }), [
    r.int(0, 8),
    r.int(0, 8),
    8,
    8,
  ]);
  assert.deepEqual(segCropParams(seg, h, w, [32, 20], rng(3)).slice(2), [16, 16]);
});

Deno.test("randomCropSeg: crops every target with the chosen window; needs a label map", () => {
  const s = scene(24, 24, 9);
  const t = randomCropSeg([12, 12]);
  const out = t(s, rng(5));
  const [top, left] = segCropParams(s.semantic!, 24, 24, [12, 12], rng(5));
  assert.deepEqual(out, cropDense(s, top, left, 12, 12));
  assertConsistent(out, "seg crop");
  assert.throws(() => t({ image: s.image }, rng(1)), /no semantic map/);
});

Deno.test("normalizeDense: float CHW image, targets untouched", () => {
  const s = scene(8, 10, 2);
  const n = normalizeDense(s, [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]);
  assert.deepEqual([n.image.channels, n.image.height, n.image.width], [3, 8, 10]);
  assert.equal(n.image.data[80], Math.fround((Math.fround(s.image.data[1]! / 255) - 0.5) / 0.25));
  assert.equal(n.boxes, s.boxes);
  assert.equal(n.masks, s.masks);
});
