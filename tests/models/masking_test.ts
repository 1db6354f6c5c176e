/**
 * Masking (spec methods.md §3, §8): BEiT block-wise masks (exact counts after top-up, early
 * stop without it, block shapes and aspect limits), the SplitMask split, MAE random masking and
 * the two-disjoint-subsets variant; determinism given a key.
 */
import assert from "node:assert/strict";
import { cast, random, sum, type Tensor } from "../../mod.ts";
import { rngFromSeed } from "../../tensor/host_rng.ts";
import {
  blockMaskHost,
  blockMasks,
  disjointMasks,
  disjointSubsets,
  maskPositions,
  randomMasking,
  splitMaskSubsets,
} from "../../models/mod.ts";

const SPLITMASK = { gridH: 14, gridW: 14, numMasked: 98, minBlock: 16, maxBlock: 75 };
const BEIT = { gridH: 14, gridW: 14, numMasked: 75 };

const rows = async (t: Tensor) => (await t.toArray()) as (number | boolean)[][];
const count = (m: Uint8Array) => m.reduce((a, b) => a + b, 0);

Deno.test("block masks: exactly T after top-up; at most T and BEiT's early stop without", () => {
  let exact = 0;
  const draws = 1500;
  for (let s = 0; s < draws; s++) {
    const withTop = blockMaskHost(rngFromSeed([s, 1, 2, 3]), SPLITMASK);
    assert.equal(count(withTop.mask), 98);
    assert.equal(withTop.blockCount + withTop.toppedUp, 98);
    const raw = blockMaskHost(rngFromSeed([s, 1, 2, 3]), { ...SPLITMASK, topUp: false });
    const c = count(raw.mask);
    assert.ok(c <= 98 && c === raw.blockCount && raw.toppedUp === 0);
    // Same stream up to the top-up: the topped-up mask contains the raw one.
    raw.mask.forEach((v, i) => assert.ok(v <= withTop.mask[i]!));
    if (c === 98) exact++;
    const beit = blockMaskHost(rngFromSeed([s, 9, 9, 9]), BEIT);
    assert.equal(count(beit.mask), 75);
  }
  // Spec §3 measured ~70% of BEiT-routine masks reaching exactly 98 (T=98, m_max=75).
  const frac = exact / draws;
  assert.ok(frac > 0.55 && frac < 0.85, `fraction reaching T: ${frac}`);
});

Deno.test("block masks: blocks are rectangles within the limits and make up the mask", () => {
  let minRatio = Infinity, maxRatio = 0;
  for (let s = 0; s < 1000; s++) {
    const r = blockMaskHost(rngFromSeed([7, s, 0, 0]), { ...SPLITMASK, topUp: false });
    const union = new Uint8Array(196);
    let total = 0;
    for (const b of r.blocks) {
      assert.ok(b.height < 14 && b.width < 14 && b.height >= 1 && b.width >= 1);
      assert.ok(b.top >= 0 && b.left >= 0 && b.top + b.height <= 14 && b.left + b.width <= 14);
      assert.ok(b.added > 0 && b.added <= b.height * b.width && b.added <= 75);
      assert.ok(b.aspect >= 0.3 - 1e-12 && b.aspect <= 1 / 0.3 + 1e-12);
      let fresh = 0;
      for (let i = b.top; i < b.top + b.height; i++) {
        for (let j = b.left; j < b.left + b.width; j++) {
          if (!union[i * 14 + j]) fresh++;
          union[i * 14 + j] = 1;
        }
      }
      assert.equal(fresh, b.added);
      total += b.added;
    }
    assert.deepEqual(r.mask, union);
    assert.equal(total, r.blockCount);
    const first = r.blocks[0]!;
    const ratio = first.height / first.width;
    minRatio = Math.min(minRatio, ratio), maxRatio = Math.max(maxRatio, ratio);
  }
  // Rounded side ratios stay near the aspect range [0.3, 3.33] (rounding moves them a little).
  assert.ok(minRatio >= 0.25 && maxRatio <= 4, `ratios ${minRatio}..${maxRatio}`);
  assert.ok(minRatio < 0.5 && maxRatio > 2, `ratios ${minRatio}..${maxRatio} span the range`);
});

Deno.test("blockMasks: bool [B, N], exact counts, deterministic per key, keys differ", async () => {
  const a = await blockMasks(random.key(3), 8, SPLITMASK);
  const b = await blockMasks(random.key(3), 8, SPLITMASK);
  const c = await blockMasks(random.key(4), 8, SPLITMASK);
  assert.deepEqual(a.shape, [8, 196]);
  assert.equal(a.dtype, "bool");
  assert.deepEqual(await sum(cast(a, "int32"), 1).toArray(), new Array(8).fill(98));
  assert.deepEqual(await rows(a), await rows(b));
  assert.notDeepEqual(await rows(a), await rows(c));
  // Rows differ from one another (one stream per sample).
  const ra = await rows(a);
  assert.notDeepEqual(ra[0], ra[1]);
  for (const t of [a, b, c]) t.dispose();
});

Deno.test("SplitMask split: A and B disjoint, cover all 196 positions, 98 each", async () => {
  const mask = await blockMasks(random.key(11), 4, SPLITMASK);
  const s = splitMaskSubsets(mask, 98);
  assert.deepEqual(s.idsA.shape, [4, 98]);
  assert.deepEqual(s.idsB.shape, [4, 98]);
  const m = await rows(mask), ia = await rows(s.idsA), ib = await rows(s.idsB);
  const inA = await rows(s.inA), inB = await rows(s.inB);
  for (let r = 0; r < 4; r++) {
    const all = [...ia[r]!, ...ib[r]!].map(Number).sort((x, y) => x - y);
    assert.deepEqual(all, Array.from({ length: 196 }, (_, i) => i));
    for (const i of ia[r]!) assert.equal(m[r]![i as number], true);
    for (const i of ib[r]!) assert.equal(m[r]![i as number], false);
    for (let i = 0; i < 196; i++) assert.ok(inA[r]![i] !== inB[r]![i]);
    const sorted = [...ia[r]!].map(Number);
    assert.deepEqual(sorted, [...sorted].sort((x, y) => x - y));
  }
  for (const t of [mask, s.inA, s.inB, s.idsA, s.idsB]) t.dispose();
});

Deno.test("randomMasking (MAE): restore∘shuffle = id, N − ⌊N(1−r)⌋ removed per row", async () => {
  const r = randomMasking(random.key(5), 3, 196, 0.75);
  const sh = await rows(r.idsShuffle), re = await rows(r.idsRestore);
  const m = await rows(r.mask), keep = await rows(r.idsKeep);
  assert.deepEqual(await sum(cast(r.mask, "int32"), 1).toArray(), [147, 147, 147]);
  for (let b = 0; b < 3; b++) {
    for (let i = 0; i < 196; i++) assert.equal(sh[b]![re[b]![i] as number], i);
    for (const k of keep[b]!) assert.equal(m[b]![k as number], false);
  }
  const again = randomMasking(random.key(5), 3, 196, 0.75);
  assert.deepEqual(await rows(again.mask), m);
  const other = randomMasking(random.key(6), 3, 196, 0.75);
  assert.notDeepEqual(await rows(other.mask), m);
  assert.deepEqual(randomMasking(random.key(0), 1, 10, 0.3).idsKeep.shape, [1, 7]);
});

Deno.test("disjointSubsets: two disjoint random 49-sets (75%), or a set and its complement", async () => {
  const s = disjointSubsets(random.key(8), 4, 196, 49);
  assert.deepEqual(s.idsA.shape, [4, 49]);
  assert.deepEqual(s.idsB.shape, [4, 49]);
  const a = await rows(s.idsA), b = await rows(s.idsB), inB = await rows(s.inB);
  for (let r = 0; r < 4; r++) {
    assert.equal(new Set([...a[r]!, ...b[r]!]).size, 98);
    for (const i of b[r]!) assert.equal(inB[r]![i as number], true);
  }
  const c = disjointSubsets(random.key(8), 2, 196, 49, { mode: "complement" });
  assert.deepEqual(c.idsB.shape, [2, 147]);
  const ca = await rows(c.idsA), cb = await rows(c.idsB);
  for (let r = 0; r < 2; r++) assert.equal(new Set([...ca[r]!, ...cb[r]!]).size, 196);
  const again = disjointSubsets(random.key(8), 4, 196, 49);
  assert.deepEqual(await rows(again.idsA), a);
  assert.notDeepEqual(await rows(disjointSubsets(random.key(9), 4, 196, 49).idsA), a);
});

Deno.test("maskPositions lists the true cells in ascending order", async () => {
  const mask = await blockMasks(random.key(2), 2, {
    gridH: 4,
    gridW: 4,
    numMasked: 5,
    minBlock: 2,
  });
  const ids = await rows(maskPositions(mask, 5));
  const m = await rows(mask);
  for (let r = 0; r < 2; r++) {
    const want = m[r]!.flatMap((v, i) => (v ? [i] : []));
    assert.deepEqual(ids[r], want);
  }
});

Deno.test("disjointMasks: [2, B, N], keep each, disjoint, per-example streams, deterministic", async () => {
  const key = random.key(5);
  const m = await disjointMasks(key, 6, 49, 12);
  assert.deepEqual(m.shape, [2, 6, 49]);
  const d = (await m.data()) as Uint8Array;
  const used = new Array(49).fill(0);
  for (let b = 0; b < 6; b++) {
    const a = d.subarray(b * 49, (b + 1) * 49), bb = d.subarray((6 + b) * 49, (7 + b) * 49);
    assert.deepEqual([count(a), count(bb)], [12, 12]);
    assert.ok(a.every((x, i) => !(x && bb[i])), `row ${b} overlaps`);
    a.forEach((x, i) => (used[i] += x));
  }
  assert.ok(used.filter((u) => u > 0).length > 30, "subsets are spread over the grid");
  // Rows 2..3 drawn alone equal rows 2..3 of the batch (a rank's share of a global batch).
  const part = (await (await disjointMasks(key, 2, 49, 12, undefined, 2)).data()) as Uint8Array;
  assert.deepEqual([...part.subarray(0, 98)], [...d.subarray(2 * 49, 4 * 49)]);
  assert.deepEqual([...part.subarray(98)], [...d.subarray((6 + 2) * 49, (6 + 4) * 49)]);
  assert.deepEqual([...((await (await disjointMasks(key, 6, 49, 12)).data()) as Uint8Array)], [
    ...d,
  ]);
  await assert.rejects(disjointMasks(key, 1, 49, 25), /disjointMasks: keep=25: two disjoint/);
  [m].forEach((t) => t.dispose());
});
