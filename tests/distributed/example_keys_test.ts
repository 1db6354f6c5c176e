/**
 * Per-example randomness (nn/row_keys.ts, trainer/dist.ts): example i's block mask, dropout
 * and drop-path draws are the same whether it sits in a batch of 2B on one rank or in rank 1's
 * batch of B; row keys split and fold exactly as `random` does one key; a wrong number of row
 * keys is an error naming the op.
 */
import assert from "node:assert/strict";
import { dispose, ones, random, slice, type Tensor } from "../../mod.ts";
import { blockMasks } from "../../models/masking.ts";
import { dropout, dropPath } from "../../nn/dropout.ts";
import { foldKey, repeatKey, rowKeys, splitKey } from "../../nn/row_keys.ts";
import { initVit, vitForward } from "../../models/vit.ts";
import { exampleKeys, firstRow } from "../../trainer/dist.ts";
import type { Collectives } from "../../distributed/mod.ts";

const B = 4;
/** The rank/size of a 2-rank run as the trainer's helpers read them. */
const rank = (r: number) => ({ rank: r, size: 2 }) as Collectives;
const one = { rank: 0, size: 1 } as Collectives;
const rows = async (t: Tensor, lo = 0, hi = t.shape[0]!) => await slice(t, [[lo, hi]]).toArray();

Deno.test("example keys: rank 1's B examples draw as rows B…2B of one rank's 2B", async () => {
  const step = random.key(11);
  assert.equal(firstRow(B, rank(1)), B);
  const all = exampleKeys(step, 2 * B, one), mine = exampleKeys(step, B, rank(1));
  assert.deepEqual(await rows(all, B), await mine.toArray());
  // Block masks (MIM): drawn per global row.
  const o = { gridH: 4, gridW: 4, numMasked: 6, minBlock: 2 };
  const m2 = await blockMasks(step, 2 * B, o), m1 = await blockMasks(step, B, o, undefined, B);
  assert.deepEqual(await rows(m2, B), await m1.toArray());
  // Dropout (element-wise) and drop path (per sample), on [2B, 5, 6] vs rank 1's [B, 5, 6].
  const x2 = ones([2 * B, 5, 6]), x1 = ones([B, 5, 6]);
  for (const f of [dropout, dropPath]) {
    const y2 = f(x2, { rate: 0.5, train: true, key: all });
    const y1 = f(x1, { rate: 0.5, train: true, key: mine });
    assert.deepEqual(await rows(y2, B), await y1.toArray(), f.name);
    const flat = (await y2.data()) as Float32Array;
    assert.ok(flat.some((v) => v === 0) && flat.some((v) => v === 2), `${f.name} drops some`);
    dispose([y1, y2]);
  }
  dispose([step, all, mine, m1, m2, x1, x2]);
});

Deno.test("example keys: a ViT with drop path drops example i alike in a batch of 2B or B", async () => {
  const shape = { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 3, embedDim: 8 };
  const cfg = { ...shape, depth: 3, numHeads: 2, dropPathRate: 0.5 };
  const p = initVit(random.key(0), cfg);
  const x = random.normal(random.key(1), [2 * B, 1, 8, 8]), x1 = slice(x, [[B, 2 * B]]);
  const step = random.key(5);
  const all = exampleKeys(step, 2 * B, one), mine = exampleKeys(step, B, rank(1));
  const want = (await rows(vitForward(p, x, cfg, { train: true, key: all }), B)) as number[][];
  const gap = async (key: Tensor) => {
    const got = (await vitForward(p, x1, cfg, { train: true, key }).toArray()) as number[][];
    return Math.max(...got.flatMap((r, i) => r.map((v, j) => Math.abs(v - want[i]![j]!))));
  };
  // To rounding only: the CPU matmul's row results depend on the row count M (its blocking), so
  // 2B rows and B rows agree to float32 rounding, not to the bit (trainer/accum.ts).
  assert.ok(await gap(mine) < 1e-5, `${await gap(mine)}`);
  // Keys of local row indices (rank 1 drawing as if it were rank 0) drop other blocks.
  assert.ok(await gap(rowKeys(step, 0, B)) > 1e-3);
  dispose([p, x, x1, step, all, mine]);
});

Deno.test("example keys: row keys split and fold as random does each row's key", async () => {
  const k = random.key(3), rk = rowKeys(k, 7, 3);
  for (let i = 0; i < 3; i++) {
    const ki = random.foldIn(k, 7 + i);
    assert.deepEqual(await rows(rk, i, i + 1), [await ki.toArray()]);
    const want = random.splitKeys(ki, 3);
    const got = splitKey(rk, 3);
    for (let j = 0; j < 3; j++) {
      assert.deepEqual(await rows(got[j]!, i, i + 1), [await want[j]!.toArray()], `split ${j}`);
    }
    assert.deepEqual(await rows(foldKey(rk, 9), i, i + 1), [await random.foldIn(ki, 9).toArray()]);
  }
  // Two copies of the batch (SplitMask's shared encoder): copy j of row i is foldKey(·, j)[i].
  const rep = repeatKey(rk, 2);
  assert.deepEqual(await rows(rep, 3, 6), await foldKey(rk, 1).toArray());
  assert.equal(repeatKey(k, 2), k, "one key stays one key");
});

Deno.test("example keys: a row-key count that is not the batch is an error naming the op", () => {
  const rk = rowKeys(random.key(0), 0, 3);
  assert.throws(
    () => dropPath(ones([4, 2]), { rate: 0.1, train: true, key: rk }),
    /dropPath: 3 row keys for a batch of 4/,
  );
  assert.throws(
    () => dropout(ones([2, 2]), { rate: 0.1, train: true, key: rk }),
    /dropout: 3 row keys for a batch of 2/,
  );
  assert.throws(() => rowKeys(random.key(0), -1, 2), /rowKeys: rows \[-1, 1\)/);
});
