/**
 * Tokenizers and masking on the webgpu backend (skipped without an adapter): the same key and
 * images give the same codebooks, token ids and masks as on the cpu backend, and k-means'
 * objective falls.
 */
import assert from "node:assert/strict";
import { getBackend, random, setBackend, type Tensor, tensor, toBackend } from "../../mod.ts";
import { loadFashionMnist } from "../../data/mod.ts";
import {
  blockMasks,
  disjointSubsets,
  kmeansTokenizer,
  randomMasking,
  randomPatchTokenizer,
  randomProjectionTokenizer,
  tokenize,
} from "../../models/mod.ts";
import { gpuTest } from "../webgpu/_setup.ts";

async function onBoth<T>(f: (backend: string) => Promise<T>): Promise<[T, T]> {
  const prev = getBackend().name;
  try {
    setBackend("cpu");
    const c = await f("cpu");
    setBackend("webgpu");
    const g = await f("webgpu");
    return [c, g];
  } finally {
    setBackend(prev);
  }
}

const arr = (t: Tensor) => t.toArray();

/**
 * Token ids agree, except where the two ids name codewords equal within f32 rounding: sampled
 * patches include several copies of the (constant) background patch, and which copy wins the
 * argmax depends on the matmul's last bits, which differ between the backends.
 */
async function assertSameTokens(
  got: Int32Array,
  want: Int32Array,
  codebook: Tensor,
  what: string,
): Promise<void> {
  assert.equal(got.length, want.length, what);
  const cb = (await (await toBackend(codebook, "cpu")).toArray()) as number[][];
  let swapped = 0;
  got.forEach((g, i) => {
    const w = want[i]!;
    if (g === w) return;
    const cos = cb[g]!.reduce((s, x, j) => s + x * cb[w]![j]!, 0);
    assert.ok(cos > 1 - 1e-5, `${what}: position ${i}: ${g} vs ${w} (cos ${cos})`);
    swapped++;
  });
  assert.ok(swapped < got.length / 2, `${what}: ${swapped} of ${got.length} ids differ`);
}

gpuTest("tokenizers and masks agree with the cpu backend", async () => {
  const fm = await loadFashionMnist({ split: "train", limit: 128 });
  const host = Float32Array.from(fm.images, (v) => v / 255);
  const [c, g] = await onBoth(async (backend) => {
    const imgs = tensor(host, { shape: [128, 1, 28, 28], backend });
    const rp = randomProjectionTokenizer(random.key(0), {
      vocabSize: 1024,
      patchSize: 7,
      inChans: 1,
    });
    const rpatch = await randomPatchTokenizer(random.key(1), imgs, {
      vocabSize: 64,
      patchSize: 7,
      inChans: 1,
    });
    const km = await kmeansTokenizer(random.key(2), imgs, {
      vocabSize: 64,
      patchSize: 7,
      inChans: 1,
      iterations: 5,
    });
    const rm = randomMasking(random.key(3), 4, 196, 0.75);
    const ds = disjointSubsets(random.key(4), 4, 196, 49);
    const bm = await blockMasks(random.key(5), 4, { gridH: 14, gridW: 14, numMasked: 98 });
    assert.equal(bm.backend.name, backend);
    return {
      rpIds: await tokenize(rp, imgs).data() as Int32Array,
      rpatchIds: await tokenize(rpatch, imgs).data() as Int32Array,
      rpCb: rp.codebook,
      rpatchCb: rpatch.codebook,
      kmIds: await tokenize(km.tokenizer, imgs).data(),
      objectives: km.objectives,
      rm: await arr(rm.mask),
      ds: await arr(ds.idsB),
      bm: await arr(bm),
      cb: km.tokenizer.codebook,
    };
  });
  for (const k of ["rpCb", "rpatchCb"] as const) {
    const gc = Array.from(await (await toBackend(g[k], "cpu")).data(), Number);
    const cc = Array.from(await c[k].data(), Number);
    const d = gc.reduce((m, v, i) => Math.max(m, Math.abs(v - cc[i]!)), 0);
    assert.ok(gc.length === cc.length && d < 1e-6, `${k}: codebooks differ by ${d}`);
  }
  await assertSameTokens(g.rpIds, c.rpIds, c.rpCb, "random projection");
  await assertSameTokens(g.rpatchIds, c.rpatchIds, c.rpatchCb, "random patches");
  assert.deepEqual(g.rm, c.rm);
  assert.deepEqual(g.ds, c.ds);
  assert.deepEqual(g.bm, c.bm);
  for (let t = 1; t < g.objectives.length; t++) {
    assert.ok(g.objectives[t]! <= g.objectives[t - 1]! + 1e-5);
  }
  // k-means may break near-ties differently in float32; the objectives agree closely.
  assert.ok(Math.abs(g.objectives.at(-1)! - c.objectives.at(-1)!) < 1e-2);
  const same = c.kmIds.filter((v, i) => v === g.kmIds[i]).length / c.kmIds.length;
  assert.ok(same > 0.9, `k-means ids agree on ${same}`);
  assert.equal((await toBackend(g.cb, "cpu")).shape[0], 64);
});
