/**
 * Patch tokenizers (spec methods.md §2): codewords tokenize to themselves and tokens are
 * scale-invariant, ids in range with the paper's shapes, random projection on centred
 * Fashion-MNIST patches uses many ids, spherical k-means objective non-increasing, no
 * gradient, determinism given a key, save/load round trip.
 */
import assert from "node:assert/strict";
import {
  add,
  arange,
  cast,
  grad,
  max,
  min,
  mul,
  random,
  reshape,
  sqrt,
  sum,
  type Tensor,
  tensor,
  writeSafetensorsFile,
} from "../../mod.ts";
import { loadFashionMnist } from "../../data/mod.ts";
import {
  centrePatches,
  kmeansTokenizer,
  loadTokenizer,
  patchify,
  type PatchTokenizer,
  randomPatchTokenizer,
  randomProjectionTokenizer,
  saveTokenizer,
  sphericalKmeans,
  tokenize,
} from "../../models/mod.ts";

const fashion = async (n: number): Promise<Tensor> => {
  const fm = await loadFashionMnist({ split: "train", limit: n });
  return tensor(Float32Array.from(fm.images, (v) => v / 255), { shape: [n, 1, 28, 28] });
};

/** Images whose single patch is codeword i scaled by `a`, mapped back through the centring. */
function codewordImages(tok: PatchTokenizer, a: number): Tensor {
  const [v] = tok.codebook.shape as [number, number];
  const p = tok.patchSize, c = tok.inChans;
  let x = mul(tok.codebook, a);
  if (tok.centre) x = add(x, tok.centre);
  if (tok.centring !== "none") x = add(mul(x, tok.pixelStd[0]!), tok.pixelMean[0]!);
  return reshape(x, [v, c, p, p]);
}

/**
 * Each codeword (scaled) tokenizes to itself, or to a duplicate equal to it within f32 rounding
 * (k-means with `keep` holds several copies of the background patch; which copy wins the argmax
 * depends on the dot products' last bits, so the order of the pair is not asserted).
 */
async function assertSelfTokens(tok: PatchTokenizer): Promise<void> {
  const v = tok.codebook.shape[0]!;
  const cb = (await tok.codebook.toArray()) as number[][];
  for (const a of [1, 0.25, 7]) {
    const ids = (await reshape(tokenize(tok, codewordImages(tok, a)), [v]).data()) as Int32Array;
    ids.forEach((id, i) => {
      const cos = cb[i]!.reduce((s, x, j) => s + x * cb[id]![j]!, 0);
      assert.ok(id === i || cos > 1 - 1e-5, `scale ${a}: ${i} -> ${id} (cos ${cos})`);
    });
  }
}

Deno.test("patchify: row-major grid, (c, y, x) patch layout", async () => {
  const img = reshape(arange(0, 2 * 4 * 4), [1, 2, 4, 4]);
  const p = patchify(img, 2);
  assert.deepEqual(p.shape, [1, 4, 8]);
  assert.deepEqual((await p.toArray() as number[][][])[0]![1], [2, 3, 6, 7, 18, 19, 22, 23]);
});

Deno.test("random projection: unit U(-1,1) codewords, self-tokens, scale invariance", async () => {
  const tok = randomProjectionTokenizer(random.key(0), { vocabSize: 64, patchSize: 4 });
  assert.deepEqual(tok.codebook.shape, [64, 48]);
  const norms = sqrt(sum(mul(tok.codebook, tok.codebook), 1));
  assert.ok(Math.abs((await max(norms).item()) - 1) < 1e-5);
  assert.ok(Math.abs((await min(norms).item()) - 1) < 1e-5);
  assert.ok((await min(tok.codebook).item()) < 0); // symmetric range
  await assertSelfTokens(tok);
  await assertSelfTokens({ ...tok, centring: "none" });
  // Determinism given a key; different keys differ.
  const again = randomProjectionTokenizer(random.key(0), { vocabSize: 64, patchSize: 4 });
  const other = randomProjectionTokenizer(random.key(1), { vocabSize: 64, patchSize: 4 });
  assert.deepEqual(await again.codebook.toArray(), await tok.codebook.toArray());
  assert.notDeepEqual(await other.codebook.toArray(), await tok.codebook.toArray());
});

Deno.test("tokenize: [B, 196] int32 in [0, 8191] for 112² RGB input; no gradient", async () => {
  const tok = randomProjectionTokenizer(random.key(0), { vocabSize: 8192, patchSize: 8 });
  const imgs = random.uniform(random.key(1), [2, 3, 112, 112]);
  const ids = tokenize(tok, imgs, { chunkElems: 2 ** 20 }); // several chunks
  assert.deepEqual(ids.shape, [2, 196]);
  assert.equal(ids.dtype, "int32");
  assert.ok((await min(ids).item()) >= 0 && (await max(ids).item()) <= 8191);
  assert.deepEqual(await ids.toArray(), await tokenize(tok, imgs).toArray());
  const g = grad((x: Tensor) => sum(mul(cast(tokenize(tok, x), "float32"), 1)))(imgs);
  assert.equal(await sum(mul(g, g)).item(), 0);
});

Deno.test("random projection on centred Fashion-MNIST patches uses many distinct ids", async () => {
  const imgs = await fashion(300);
  const tok = randomProjectionTokenizer(random.key(0), {
    vocabSize: 8192,
    patchSize: 7,
    inChans: 1,
  });
  const ids = new Set(await tokenize(tok, imgs).data());
  assert.ok(ids.size > 200, `${ids.size} distinct ids`);
  // Spec pitfall: non-negative pixels with U(0,1) codes collapse onto far fewer codes.
  const flat = random.uniform(random.key(2), [16, 3, 32, 32], { minval: 0.3, maxval: 0.7 });
  const pos = randomProjectionTokenizer(random.key(0), {
    vocabSize: 8192,
    patchSize: 8,
    range: "positive",
    centring: "none",
  });
  const sym = randomProjectionTokenizer(random.key(0), { vocabSize: 8192, patchSize: 8 });
  const nPos = new Set(await tokenize(pos, flat).data()).size;
  const nSym = new Set(await tokenize(sym, flat).data()).size;
  assert.ok(nSym > 2.5 * nPos, `centred ${nSym} vs positive ${nPos}`);
});

Deno.test("random patches: dataset-centred unit patches, self-tokens, ids in range", async () => {
  const imgs = await fashion(200);
  const opts = { vocabSize: 256, patchSize: 7, inChans: 1 };
  const tok = await randomPatchTokenizer(random.key(0), imgs, opts);
  assert.equal(tok.kind, "random-patches");
  assert.equal(tok.centring, "dataset");
  assert.deepEqual(tok.centre!.shape, [49]);
  await assertSelfTokens(tok);
  const ids = tokenize(tok, imgs);
  assert.ok((await min(ids).item()) >= 0 && (await max(ids).item()) < 256);
  const again = await randomPatchTokenizer(random.key(0), imgs, opts);
  assert.deepEqual(await again.codebook.toArray(), await tok.codebook.toArray());
  const other = await randomPatchTokenizer(random.key(1), imgs, opts);
  assert.notDeepEqual(await other.codebook.toArray(), await tok.codebook.toArray());
});

Deno.test("spherical k-means: objective non-increasing, unit centroids, both empty rules", async () => {
  const imgs = await fashion(300);
  for (const emptyClusters of ["reseed", "keep"] as const) {
    const r = await kmeansTokenizer(random.key(0), imgs, {
      vocabSize: 128,
      patchSize: 7,
      inChans: 1,
      iterations: 8,
      emptyClusters,
      chunkElems: 2 ** 18,
    });
    assert.equal(r.objectives.length, 9);
    for (let t = 1; t < r.objectives.length; t++) {
      assert.ok(r.objectives[t]! <= r.objectives[t - 1]! + 1e-6, `${emptyClusters} ${t}`);
    }
    assert.ok(r.objectives.at(-1)! < r.objectives[0]!);
    const cb = r.tokenizer.codebook;
    const norms = sqrt(sum(mul(cb, cb), 1));
    assert.ok(Math.abs((await min(norms).item()) - 1) < 1e-4);
    await assertSelfTokens(r.tokenizer);
    if (emptyClusters === "reseed") {
      // Duplicate background patches give empty clusters at first; reseeding revives them.
      const used = new Set(await tokenize(r.tokenizer, imgs).data());
      assert.ok(used.size > 120, `${used.size} of 128 codes used`);
    }
  }
  // Well-separated directions are recovered exactly.
  const x = tensor([[1, 0.05, 0], [1, -0.05, 0], [0, 1, 0.05], [0, 1, -0.05], [0, 0, 1]]);
  const r = await sphericalKmeans(random.key(4), x, 3, { iterations: 10 });
  assert.ok(r.objectives.at(-1)! < 2e-3, String(r.objectives));
});

Deno.test("save/load round trip keeps codebook, centring and tokens", async () => {
  const imgs = await fashion(64);
  const toks: PatchTokenizer[] = [
    randomProjectionTokenizer(random.key(0), { vocabSize: 32, patchSize: 7, inChans: 1 }),
    await randomPatchTokenizer(random.key(0), imgs, { vocabSize: 32, patchSize: 7, inChans: 1 }),
    (await kmeansTokenizer(random.key(0), imgs, {
      vocabSize: 32,
      patchSize: 7,
      inChans: 1,
      iterations: 3,
      pixelMean: [0.2860],
      pixelStd: [0.3530],
    })).tokenizer,
  ];
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  try {
    for (const tok of toks) {
      await saveTokenizer(path, tok, { run: "test" });
      const back = await loadTokenizer(path);
      assert.equal(back.kind, tok.kind);
      assert.equal(back.centring, tok.centring);
      assert.deepEqual([back.patchSize, back.inChans], [7, 1]);
      assert.deepEqual(back.pixelMean, tok.pixelMean);
      assert.deepEqual(back.pixelStd, tok.pixelStd);
      assert.deepEqual(await back.codebook.toArray(), await tok.codebook.toArray());
      assert.deepEqual(await tokenize(back, imgs).toArray(), await tokenize(tok, imgs).toArray());
      const p = reshape(patchify(imgs, 7), [64 * 16, 49]);
      const [c1, c2] = [centrePatches(back, p), centrePatches(tok, p)];
      assert.deepEqual(await c1.toArray(), await c2.toArray());
    }
    await writeSafetensorsFile(path, { codebook: tensor([[1]]) }, { format: "other" });
    await assert.rejects(loadTokenizer(path), /not a tokenizer/);
  } finally {
    await Deno.remove(path);
  }
});
