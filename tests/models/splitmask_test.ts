/**
 * SplitMask (methods.md §4): every patch predicted exactly once per step (branch A predicts
 * B's patches and vice versa), loss ≈ ln V + InfoNCE ≈ ln B at init, swap symmetry, Table 8
 * ablations, the two-disjoint-subsets variant, checkGrad on a tiny float64 model, loss falls.
 */
import assert from "node:assert/strict";
import {
  abs,
  argsort,
  grad,
  greaterEqual,
  less,
  logicalAnd,
  logicalNot,
  random,
  sum,
  type Tensor,
  where,
} from "../../mod.ts";
import {
  initSplitMask,
  type SplitMaskConfig,
  splitMaskForward,
  splitMaskLoss,
} from "../../models/mod.ts";
import { checkMimLossGrad, pixelMask, randomMask, trainSteps } from "./_pretrain.ts";
import { TINY_ENCODER } from "./_tiny.ts";

const CFG: SplitMaskConfig = {
  encoder: TINY_ENCODER,
  vocabSize: 64,
};

function batch(seed: number, b = 4) {
  const [k1, k2, k3] = random.splitKeys(random.key(seed), 3);
  return {
    images: random.normal(k1!, [b, 1, 16, 16]),
    mask: randomMask(k2!, b, 16, 8),
    targets: random.randint(k3!, [b, 16], 0, CFG.vocabSize),
  };
}

Deno.test("splitmask: every position is predicted exactly once; A predicts B's patches", async () => {
  const params = initSplitMask(random.key(0), CFG);
  const bt = batch(1);
  const out = splitMaskForward(params, bt, undefined, { config: CFG });
  const [pa, pb] = await Promise.all(out.predicted.map((t) => t.toArray())) as number[][][];
  const mask = await bt.mask.toArray() as boolean[][];
  mask.forEach((row, i) => {
    const all = [...pa![i]!, ...pb![i]!].sort((a, b) => a - b);
    assert.deepEqual(all, Array.from({ length: 16 }, (_, j) => j));
    assert.ok(pa![i]!.every((j) => !row[j]), "branch A (mask = true) predicts B's positions");
    assert.ok(pb![i]!.every((j) => row[j]), "branch B predicts A's positions");
  });
});

Deno.test("splitmask: at init MIM ≈ ln V and InfoNCE ≈ ln B", async () => {
  const params = initSplitMask(random.key(0), CFG);
  const b = 8;
  const out = splitMaskForward(params, batch(2, b), undefined, { config: CFG });
  const mim = await out.mim.item(), nce = await out.nce.item(), loss = await out.loss.item();
  assert.ok(Math.abs(mim - Math.log(64)) < 0.3, `MIM ${mim} vs ln 64`);
  // Random-init descriptors are neither collapsed nor matched: the loss sits near ln B (above
  // it by the spread of the logits), far from the matched value ~0.
  assert.ok(nce > Math.log(b) - 0.2 && nce < Math.log(b) + 1.5, `InfoNCE ${nce} vs ln ${b}`);
  assert.ok(Math.abs(loss - mim - nce) < 1e-5);
});

Deno.test("splitmask: swapping the two subsets gives the same loss", async () => {
  const params = initSplitMask(random.key(0), CFG);
  const bt = batch(3);
  const a = splitMaskForward(params, bt, undefined, { config: CFG });
  const s = splitMaskForward(params, { ...bt, mask: logicalNot(bt.mask) }, undefined, {
    config: CFG,
  });
  for (const k of ["loss", "mim", "nce"] as const) {
    const [x, y] = [await a[k].item(), await s[k].item()];
    assert.ok(Math.abs(x - y) < 1e-5 * Math.max(1, Math.abs(x)), `${k}: ${x} vs ${y}`);
  }
});

Deno.test("splitmask: Table 8 ablations (inpaint only, match only)", async () => {
  const params = initSplitMask(random.key(0), CFG);
  const bt = batch(4);
  const both = splitMaskForward(params, bt, undefined, { config: CFG });
  const inp = splitMaskForward(params, bt, undefined, { config: { ...CFG, mode: "inpaint" } });
  const mat = splitMaskForward(params, bt, undefined, { config: { ...CFG, mode: "match" } });
  assert.equal(await inp.nce.item(), 0);
  assert.equal(await inp.loss.item(), await both.mim.item());
  assert.equal(await mat.mim.item(), 0);
  assert.equal(await mat.loss.item(), await both.nce.item());
});

Deno.test("splitmask: two disjoint visible subsets (75% masking variant)", async () => {
  const params = initSplitMask(random.key(0), CFG);
  const bt = batch(5);
  // Disjoint A and B of 4 patches each (ranks 0–3 and 4–7 of a random order); 8 positions
  // are seen by neither, and each branch inpaints its 12 missing positions.
  const r = argsort(argsort(random.uniform(random.key(7), [4, 16]), 1), 1);
  const a = less(r, 4), b = logicalAnd(greaterEqual(r, 4), less(r, 8));
  const out = splitMaskForward(params, { ...bt, mask: a, maskB: b }, undefined, { config: CFG });
  assert.deepEqual(out.predicted[0].shape, [4, 12]);
  assert.deepEqual(out.predicted[1].shape, [4, 12]);
  assert.ok(Number.isFinite(await out.loss.item()));
});

Deno.test("splitmask: the MIM gradient reaches the input pixels of both subsets", async () => {
  const params = initSplitMask(random.key(0), CFG);
  const bt = batch(8, 2);
  const config = { ...CFG, mode: "inpaint" as const };
  const g = grad((im: Tensor) =>
    splitMaskLoss(params, { ...bt, images: im }, undefined, { config })
  )(
    bt.images,
  );
  const pix = pixelMask(bt.mask, 4, 4, 4);
  const absG = abs(g);
  const onA = await sum(where(pix, absG, 0)).item(), onB = await sum(where(pix, 0, absG)).item();
  assert.ok(onA > 0 && onB > 0, `|grad| on A ${onA}, on B ${onB}`);
});

Deno.test("splitmask: checkGrad of the loss on a tiny float64 model", async () => {
  const config: SplitMaskConfig = {
    encoder: { ...CFG.encoder, imgSize: 8, embedDim: 8, dtype: "float64" },
    vocabSize: 8,
    decoderDepth: 1,
  };
  const params = initSplitMask(random.key(0), config);
  await checkMimLossGrad(
    params,
    (p, batch) => splitMaskLoss(p, batch, undefined, { config }),
    3,
  );
});

Deno.test("splitmask: a few AdamW steps on the CPU make the loss fall", async () => {
  const bt = batch(6, 8);
  const losses = await trainSteps(
    initSplitMask(random.key(0), CFG),
    (p) => splitMaskLoss(p, bt, undefined, { config: CFG }),
    8,
  );
  assert.ok(losses.at(-1)! < losses[0]! - 0.1, `losses ${losses}`);
});
