/**
 * FPN, anchors, RPN head, proposals, targets and losses against torchvision 0.14
 * (tests/fixtures/detection_rpn.safetensors, written by tools/make_detection_fixtures.py).
 */
import assert from "node:assert/strict";
import * as t from "../../../mod.ts";
import {
  assignTargets,
  cellAnchors,
  filterProposals,
  fpn,
  type FpnParams,
  generateAnchors,
  matchBoxes,
  rpnHead,
  type RpnHeadParams,
  rpnLoss,
  rpnTargets,
  sampleFgBg,
} from "../../../models/detection/mod.ts";
import { encodeBoxes } from "../../../models/detection/box_coder.ts";
import { assertClose, noLeak } from "../../nn/_fixture.ts";
import { expectError } from "../../_helpers.ts";
import { fixtureConfig, fx } from "./_fixture.ts";

const cfg = fixtureConfig<{
  n: number;
  padSize: [number, number];
  imageSizes: [number, number][];
  grids: [number, number][];
  sizes: number[][];
  ratios: number[][];
  oddSizes: number[];
  oddRatios: number[];
  anchorsPerLevel: number[];
  preNmsTopN: number;
  postNmsTopN: number;
  nmsThresh: number;
  batchSizePerImage: number;
  positiveFraction: number;
}>("rpn");
const conv = (prefix: string) => ({ weight: fx(`${prefix}.weight`), bias: fx(`${prefix}.bias`) });
const fpnParams: FpnParams = {
  inner_blocks: [0, 1, 2, 3].map((i) => conv(`fpn/inner_blocks.${i}.0`)),
  layer_blocks: [0, 1, 2, 3].map((i) => conv(`fpn/layer_blocks.${i}.0`)),
};
const headParams: RpnHeadParams = {
  conv: conv("rpn_head/conv.0.0"),
  cls_logits: conv("rpn_head/cls_logits"),
  bbox_pred: conv("rpn_head/bbox_pred"),
};
const feats = [0, 1, 2, 3, 4].map((i) => fx(`fpn_out/${i}`));
const anchorCfg = { sizes: cfg.sizes, aspectRatios: cfg.ratios };
const gridsOf = (maps: t.Tensor[]) =>
  maps.map((m) => [m.shape[2]!, m.shape[3]!] as [number, number]);
const F32 = { rtol: 1e-5, atol: 2e-5 };
/** filterProposals on torchvision's head outputs with the fixture's settings. */
const fixtureProposals = (a: ReturnType<typeof generateAnchors>) =>
  filterProposals(fx("head/objectness"), fx("head/deltas"), a, cfg.imageSizes, {
    preNmsTopN: cfg.preNmsTopN,
    postNmsTopN: cfg.postNmsTopN,
    nmsThresh: cfg.nmsThresh,
  });

Deno.test("FPN matches torchvision FeaturePyramidNetwork + LastLevelMaxPool", async () => {
  await t.scope(async () => {
    const out = fpn(fpnParams, [0, 1, 2, 3].map((i) => fx(`fpn_in/${i}`)));
    assert.equal(out.length, 5);
    for (let i = 0; i < 5; i++) {
      await assertClose(out[i]!, feats[i]!, { ...F32, what: `P${i + 2}` });
    }
  });
});

Deno.test("anchors match torchvision AnchorGenerator (incl. round half to even)", async () => {
  await t.scope(async () => {
    const a = generateAnchors(cfg.padSize, gridsOf(feats), anchorCfg);
    assert.deepEqual(a.perLevel, cfg.anchorsPerLevel);
    await assertClose(a.boxes, fx("anchors/boxes"), { atol: 0, rtol: 0, what: "anchors" });
    const odd = fx("anchors/odd_cell");
    assert.deepEqual(
      Array.from(cellAnchors(cfg.oddSizes, cfg.oddRatios)),
      Array.from(await odd.data()),
    );
    // spec §12: an 800×1216 padded image has 3·Σ_l (H/s)(W/s) anchors over strides 4…64
    const grids = [4, 8, 16, 32, 64].map((s) => [800 / s, 1216 / s] as [number, number]);
    const big = generateAnchors([800, 1216], grids.map(([h, w]) => [Math.ceil(h), Math.ceil(w)]));
    const want = 3 * grids.reduce((s, [h, w]) => s + Math.ceil(h) * Math.ceil(w), 0);
    assert.equal(big.boxes.shape[0], want);
  });
});

Deno.test("RPN head matches torchvision RPNHead + concat_box_prediction_layers", async () => {
  await t.scope(async () => {
    const o = rpnHead(headParams, feats);
    await assertClose(o.objectness, fx("head/objectness"), { ...F32, what: "objectness" });
    await assertClose(o.deltas, fx("head/deltas"), { ...F32, what: "deltas" });
  });
});

Deno.test("proposals match torchvision filter_proposals (top-k, clip, NMS per level)", async () => {
  await t.scope(async () => {
    const a = generateAnchors(cfg.padSize, gridsOf(feats), anchorCfg);
    const props = await fixtureProposals(a);
    for (let i = 0; i < cfg.n; i++) {
      await assertClose(props[i]!.boxes, fx(`proposals/boxes${i}`), {
        rtol: 1e-5,
        atol: 1e-4,
        what: `boxes ${i}`,
      });
      await assertClose(props[i]!.scores, fx(`proposals/scores${i}`), { what: `scores ${i}` });
    }
    assert.equal(props[0]!.boxes.shape[0], cfg.postNmsTopN);
  });
});

Deno.test("anchor targets match torchvision (Matcher 0.7/0.3 + low quality, BoxCoder)", async () => {
  await t.scope(async () => {
    const a = generateAnchors(cfg.padSize, gridsOf(feats), anchorCfg).boxes;
    for (let i = 0; i < cfg.n; i++) {
      const m = assignTargets(fx(`targets/boxes${i}`), a);
      await assertClose(m.labels, fx(`targets/labels${i}`), { atol: 0, rtol: 0, what: "labels" });
      const reg = encodeBoxes(a, m.matchedBoxes);
      await assertClose(reg, fx(`targets/regression${i}`), { ...F32, what: "regression" });
    }
  });
});

Deno.test("RPN losses equal torchvision compute_loss for the same sampled anchors", async () => {
  await t.scope(async () => {
    const a = generateAnchors(cfg.padSize, gridsOf(feats), anchorCfg).boxes;
    const r = await rpnTargets(t.random.key(0), a, [fx("targets/boxes0"), fx("targets/boxes1")]);
    const fixed = { ...r, pos: fx("loss/pos"), neg: fx("loss/neg") };
    const l = rpnLoss(fx("head/objectness"), fx("head/deltas"), fixed);
    await assertClose(l.objectness, fx("loss/objectness"), { ...F32, what: "objectness loss" });
    await assertClose(l.boxReg, fx("loss/box_reg"), { ...F32, what: "box loss" });
  });
});

Deno.test("rpnTargets: the sampler keeps ≤ 25% foreground of 32 per image, is key-deterministic", async () => {
  await t.scope(async () => {
    const a = generateAnchors(cfg.padSize, gridsOf(feats), anchorCfg).boxes;
    const gts = [fx("targets/boxes0"), fx("targets/boxes1")];
    const opts = { sampler: { batchSize: 32, positiveFraction: 0.25 } };
    const r1 = await rpnTargets(t.random.key(7), a, gts, opts);
    const r2 = await rpnTargets(t.random.key(7), a, gts, opts);
    const r3 = await rpnTargets(t.random.key(8), a, gts, opts);
    assert.deepEqual(await r1.pos.toArray(), await r2.pos.toArray());
    assert.deepEqual(await r1.neg.toArray(), await r2.neg.toArray());
    assert.notDeepEqual(await r1.neg.toArray(), await r3.neg.toArray());
    const lab = await r1.labels.data(), pos = await r1.pos.data(), neg = await r1.neg.data();
    assert.ok(pos.length <= 2 * 8 && pos.length + neg.length === 64);
    for (const p of pos) assert.equal(lab[p], 1);
    for (const q of neg) assert.equal(lab[q], 0);
    const s = await sampleFgBg(t.random.key(1), t.tensor([1, 1, 1, -1]), { batchSize: 8 });
    assert.deepEqual([s.pos.shape[0], s.neg.shape[0]], [3, 0]);
  });
});

Deno.test("rpnLoss: checkGrad in float64", async () => {
  await t.scope(async () => {
    const f64 = (x: t.Tensor) => t.cast(x, "float64");
    const obj = f64(t.random.normal(t.random.key(0), [2, 6]));
    const del = f64(t.random.normal(t.random.key(1), [2, 6, 4]));
    const targets = {
      labels: f64(t.tensor([[1, 0, -1, 0, 1, 0], [0, 1, 0, 0, -1, 0]])),
      regression: f64(t.random.normal(t.random.key(2), [2, 6, 4])),
      pos: t.tensor([0, 4, 7], { dtype: "int32" }),
      neg: t.tensor([1, 3, 6, 9], { dtype: "int32" }),
    };
    await t.checkGrad((o: t.Tensor) => rpnLoss(o, del, targets).objectness, [obj]);
    await t.checkGrad((d: t.Tensor) => rpnLoss(obj, d, targets).boxReg, [del]);
  });
});

Deno.test("filterProposals, rpnTargets and rpnLoss leave no tensors behind", async () => {
  await noLeak(async () => {
    const a = generateAnchors(cfg.padSize, gridsOf(feats), anchorCfg);
    const props = await fixtureProposals(a);
    const r = await rpnTargets(t.random.key(0), a.boxes, [fx("targets/boxes0"), t.zeros([0, 4])]);
    const l = rpnLoss(fx("head/objectness"), fx("head/deltas"), r);
    assert.ok(Number.isFinite(await l.boxReg.item()));
    // an image without GT: all its anchors are background
    const lab = await t.slice(r.labels, [1]).data();
    assert.ok(lab.every((v) => v === 0));
    t.dispose([a.boxes, props, r, l]);
  });
});

Deno.test("detection parts: bad inputs are TesseraErrors naming the op and the values", async () => {
  const cell: [number, number][] = [[2, 2]];
  expectError(
    () => generateAnchors([32, 32], cell, { sizes: [[8], [16]], aspectRatios: [[1]] }),
    "generateAnchors",
    "1 feature maps",
  );
  expectError(() => fpn(fpnParams, [fx("fpn_in/0")]), "fpn", "expected 4 input maps");
  expectError(() => matchBoxes(t.zeros([0, 3])), "matchBoxes", "G >= 1");
  expectError(
    () => matchBoxes(t.zeros([1, 3]), { highThreshold: 0.3, lowThreshold: 0.7 }),
    "matchBoxes",
    "0.7",
  );
  const a = generateAnchors([32, 32], cell, { sizes: [[8]], aspectRatios: [[1]] });
  await assert.rejects(
    filterProposals(t.zeros([1, 4]), t.zeros([1, 3, 4]), a, [[32, 32]]),
    /filterProposals.*\[1,3,4\]/,
  );
  await assert.rejects(
    sampleFgBg(t.random.key(0), t.zeros([2, 2])),
    /sampleFgBg.*labels must be \[T\]/,
  );
  expectError(
    () =>
      rpnLoss(t.zeros([1, 2]), t.zeros([1, 2, 4]), {
        labels: t.zeros([1, 2]),
        regression: t.zeros([1, 2, 4]),
        pos: t.zeros([0], { dtype: "int32" }),
        neg: t.zeros([0], { dtype: "int32" }),
      }),
    "rpnLoss",
    "no sampled anchors",
  );
});
