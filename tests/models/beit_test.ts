/**
 * BEiT pre-training (methods.md §7): masked pixels never reach the encoder, logits only at
 * masked positions, loss ≈ ln V at init, checkGrad on a tiny float64 model, loss falls.
 */
import assert from "node:assert/strict";
import { add, mul, random, type Tensor, where } from "../../mod.ts";
import {
  type BeitConfig,
  beitEncoderConfig,
  beitForward,
  beitLoss,
  initBeit,
  vitForwardFeatures,
} from "../../models/mod.ts";
import { checkMimLossGrad, pixelMask, randomMask, trainSteps } from "./_pretrain.ts";
import { TINY_ENCODER } from "./_tiny.ts";

const CFG: BeitConfig = {
  encoder: TINY_ENCODER,
  vocabSize: 64,
};

function batch(seed: number, b = 4, k = 6) {
  const key = random.key(seed);
  const [k1, k2, k3] = random.splitKeys(key, 3);
  return {
    images: random.normal(k1!, [b, 1, 16, 16]),
    mask: randomMask(k2!, b, 16, k),
    targets: random.randint(k3!, [b, 16], 0, CFG.vocabSize),
  };
}

Deno.test("beit: masked pixels cannot leak into the encoder input or the loss", async () => {
  const params = initBeit(random.key(0), CFG);
  const bt = batch(1);
  const pix = pixelMask(bt.mask, 4, 4, 4);
  const noise = mul(random.normal(random.key(9), bt.images.shape), 5);
  const changedMasked = where(pix, add(bt.images, noise), bt.images);
  const enc = beitEncoderConfig(CFG);
  const tok = (im: Tensor) =>
    vitForwardFeatures(params, im, enc, { mask: bt.mask }).tokens.toArray();
  assert.deepEqual(await tok(changedMasked), await tok(bt.images));
  const loss = (im: Tensor) =>
    beitLoss(params, { ...bt, images: im }, undefined, { config: CFG }).item();
  assert.equal(await loss(changedMasked), await loss(bt.images));
  // Sanity: changing visible pixels does change the loss.
  const changedVisible = where(pix, bt.images, add(bt.images, noise));
  assert.notEqual(await loss(changedVisible), await loss(bt.images));
});

Deno.test("beit: logits only at masked positions; loss ≈ ln V at init", async () => {
  const params = initBeit(random.key(0), CFG);
  const bt = batch(2, 4, 6);
  const out = beitForward(params, bt, undefined, { config: CFG });
  assert.deepEqual(out.logits.shape, [4 * 6, 64]);
  assert.deepEqual(out.targets.shape, [24]);
  const l = await out.loss.item();
  assert.ok(Math.abs(l - Math.log(64)) < 0.3, `loss ${l} vs ln 64 = ${Math.log(64)}`);
  // Uneven masks are refused (batches must be rectangular).
  const uneven = { ...bt, mask: randomMask(random.key(3), 4, 16, 5) };
  const rows = await uneven.mask.toArray() as boolean[][];
  rows[0]![rows[0]!.indexOf(false)] = true;
  const { tensor } = await import("../../mod.ts");
  assert.throws(() => beitLoss(params, { ...bt, mask: tensor(rows) }, undefined, { config: CFG }));
});

Deno.test("beit: checkGrad of the loss on a tiny float64 model", async () => {
  const config: BeitConfig = {
    encoder: { ...CFG.encoder, imgSize: 8, embedDim: 8, dtype: "float64" },
    vocabSize: 8,
  };
  const params = initBeit(random.key(0), config);
  await checkMimLossGrad(
    params,
    (p, batch) => beitLoss(p, batch, undefined, { config }),
    2,
  );
});

Deno.test("beit: a few AdamW steps on the CPU make the loss fall", async () => {
  const bt = batch(4, 8, 6);
  const losses = await trainSteps(
    initBeit(random.key(0), CFG),
    (p) => beitLoss(p, bt, undefined, { config: CFG }),
    8,
  );
  assert.ok(losses.at(-1)! < losses[0]! - 0.1, `losses ${losses}`);
});
