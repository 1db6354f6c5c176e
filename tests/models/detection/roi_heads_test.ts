/**
 * RoI heads (MultiScaleRoIAlign, box head, targets, losses, postprocessing, mask branch)
 * against torchvision 0.14 (tests/fixtures/detection_roi.safetensors, written by
 * tools/make_detection_fixtures.py on the FPN maps and proposals of detection_rpn).
 */
import assert from "node:assert/strict";
import * as t from "../../../mod.ts";
import {
  assignProposals,
  boxHead,
  type BoxHeadParams,
  encodeBoxes,
  fastRcnnLoss,
  featureLevels,
  maskHead,
  type MaskHeadParams,
  maskLoss,
  maskProbabilities,
  maskTargets,
  multiScaleRoiAlign,
  pasteMasks,
  postprocessDetections,
  ROI_BOX_WEIGHTS,
  roiTargets,
} from "../../../models/detection/mod.ts";
import { assertClose, noLeak } from "../../nn/_fixture.ts";
import { fixtureConfig, fx } from "./_fixture.ts";
import { expectError } from "../../_helpers.ts";

const cfg = fixtureConfig<{
  imageSizes: [number, number][];
  detectionsPerImg: number;
  scoreThresh: number;
  nmsThresh: number;
}>("roi");
const lin = (p: string) => ({ weight: fx(`heads/${p}.weight`), bias: fx(`heads/${p}.bias`) });
const boxParams: BoxHeadParams = {
  box_head: { fc6: lin("box_head.fc6"), fc7: lin("box_head.fc7") },
  box_predictor: {
    cls_score: lin("box_predictor.cls_score"),
    bbox_pred: lin("box_predictor.bbox_pred"),
  },
};
const maskParams: MaskHeadParams = {
  mask_head: [0, 1, 2, 3].map((i) => lin(`mask_head.${i}.0`)),
  mask_predictor: {
    conv5_mask: lin("mask_predictor.conv5_mask"),
    mask_fcn_logits: lin("mask_predictor.mask_fcn_logits"),
  },
};
const feats = [0, 1, 2, 3].map((i) => fx(`fpn_out/${i}`));
const sizes = cfg.imageSizes;
const imgs = [0, 1];
const F32 = { rtol: 1e-5, atol: 2e-5 };
const int = (x: t.Tensor) => t.cast(x, "int32");

Deno.test("MultiScaleRoIAlign and the box head match torchvision", async () => {
  await t.scope(async () => {
    const props = imgs.map((i) => fx(`props/boxes${i}`));
    const pooled = await multiScaleRoiAlign(feats, props, sizes, { outputSize: 7 });
    await assertClose(pooled, fx("pool/out"), { ...F32, what: "pooled" });
    const o = boxHead(boxParams, fx("pool/out"));
    await assertClose(o.classLogits, fx("box/class_logits"), { ...F32, what: "class logits" });
    await assertClose(o.boxRegression, fx("box/box_regression"), {
      ...F32,
      what: "box regression",
    });
  });
});

Deno.test("proposal assignment (GT appended, IoU 0.5) matches torchvision", async () => {
  await t.scope(async () => {
    for (const i of imgs) {
      const a = assignProposals(fx(`props/boxes${i}`), fx(`gt/boxes${i}`), fx(`gt/labels${i}`));
      await assertClose(a.proposals, fx(`assign/proposals${i}`), { atol: 0, rtol: 0 });
      assert.deepEqual(await a.matched.toArray(), await fx(`assign/matched${i}`).toArray());
      assert.deepEqual(await a.labels.toArray(), await fx(`assign/labels${i}`).toArray());
    }
  });
});

Deno.test("Fast R-CNN and mask losses equal torchvision's on its sampled RoIs", async () => {
  await t.scope(async () => {
    const sp = imgs.map((i) => fx(`train/proposals${i}`));
    const labels = t.concat(imgs.map((i) => fx(`train/labels${i}`)), 0);
    const reg = imgs.map((i) =>
      encodeBoxes(sp[i]!, t.gather(fx(`gt/boxes${i}`), fx(`train/matched${i}`), 0), {
        weights: ROI_BOX_WEIGHTS,
      })
    );
    for (const i of imgs) await assertClose(reg[i]!, fx(`train/regression${i}`), F32);
    const o = boxHead(boxParams, await multiScaleRoiAlign(feats, sp, sizes, { outputSize: 7 }));
    const l = fastRcnnLoss(o.classLogits, o.boxRegression, labels, t.concat(reg, 0));
    await assertClose(l.classifier, fx("train/loss_classifier"), { ...F32, what: "classifier" });
    await assertClose(l.boxReg, fx("train/loss_box_reg"), { ...F32, what: "box reg" });
    // mask branch on the foreground RoIs
    const pos = await Promise.all(imgs.map(async (i) => {
      const lab = await fx(`train/labels${i}`).data();
      const idx = t.tensor(Int32Array.from([...lab.keys()].filter((j) => lab[j]! > 0)));
      return {
        boxes: t.gather(sp[i]!, idx, 0),
        matched: t.gather(fx(`train/matched${i}`), idx, 0),
        labels: t.gather(fx(`train/labels${i}`), idx, 0),
      };
    }));
    const logits = maskHead(
      maskParams,
      await multiScaleRoiAlign(feats, pos.map((p) => p.boxes), sizes, { outputSize: 14 }),
    );
    await assertClose(logits, fx("train/mask_logits"), { ...F32, what: "mask logits" });
    const targets = imgs.map((i) =>
      maskTargets(fx(`gt/masks${i}`), pos[i]!.boxes, pos[i]!.matched)
    );
    for (const i of imgs) await assertClose(targets[i]!, fx(`train/mask_targets${i}`), F32);
    const ml = maskLoss(logits, t.concat(pos.map((p) => p.labels), 0), t.concat(targets, 0));
    await assertClose(ml, fx("train/loss_mask"), { ...F32, what: "mask loss" });
  });
});

Deno.test("postprocessed detections, mask probabilities and pasted masks match torchvision", async () => {
  await t.scope(async () => {
    const props = imgs.map((i) => fx(`props/boxes${i}`));
    const dets = await postprocessDetections(
      fx("box/class_logits"),
      fx("box/box_regression"),
      props,
      sizes,
      {
        detectionsPerImage: cfg.detectionsPerImg,
        scoreThresh: cfg.scoreThresh,
        nmsThresh: cfg.nmsThresh,
      },
    );
    for (const i of imgs) {
      await assertClose(dets[i]!.boxes, fx(`det/boxes${i}`), {
        rtol: 1e-5,
        atol: 1e-4,
        what: "boxes",
      });
      await assertClose(dets[i]!.scores, fx(`det/scores${i}`), { ...F32, what: "scores" });
      assert.deepEqual(await dets[i]!.labels.toArray(), await fx(`det/labels${i}`).toArray());
    }
    const pooled = await multiScaleRoiAlign(feats, dets.map((d) => d.boxes), sizes, {
      outputSize: 14,
    });
    const probs = maskProbabilities(
      maskHead(maskParams, pooled),
      t.concat(dets.map((d) => d.labels), 0),
    );
    const per = t.split(probs, 2, 0);
    for (const i of imgs) {
      await assertClose(per[i]!, fx(`det/mask_probs${i}`), { ...F32, what: "mask probs" });
      // paste torch's probabilities at torch's boxes: isolates the pasting
      const four = [[0, 4]] as [[number, number]];
      const pasted = await pasteMasks(
        t.slice(fx(`det/mask_probs${i}`), four),
        t.slice(fx(`det/boxes${i}`), four),
        sizes[i]!,
      );
      const px = await pasted.data();
      assert.ok(px.some((v) => v > 0) && px.some((v) => v === 0)); // a box, not the whole image
      await assertClose(pasted, fx(`det/pasted${i}`), { ...F32, what: "pasted" });
    }
  });
});

Deno.test("roiTargets: ≤ 25% foreground of the batch, key-deterministic, no leaks", async () => {
  await noLeak(async () => {
    const props = imgs.map((i) => fx(`props/boxes${i}`));
    const gts = imgs.map((i) => fx(`gt/boxes${i}`)), labs = imgs.map((i) => fx(`gt/labels${i}`));
    const opts = { sampler: { batchSize: 16, positiveFraction: 0.25 } };
    const a = await roiTargets(t.random.key(3), props, gts, labs, opts);
    const b = await roiTargets(t.random.key(3), props, gts, labs, opts);
    assert.deepEqual(await a.labels.toArray(), await b.labels.toArray());
    assert.deepEqual(await a.proposals[0]!.toArray(), await b.proposals[0]!.toArray());
    const l = await a.labels.data();
    assert.equal(l.length, 32);
    let off = 0;
    for (const p of a.proposals) {
      const n = p.shape[0]!;
      assert.ok(l.slice(off, off + n).filter((v) => v > 0).length <= 4);
      off += n;
    }
    t.dispose([a, b]);
  });
});

Deno.test("fastRcnnLoss and maskLoss: checkGrad in float64", async () => {
  await t.scope(async () => {
    const f64 = (x: t.Tensor) => t.cast(x, "float64");
    const logits = f64(t.random.normal(t.random.key(0), [4, 3]));
    const deltas = f64(t.random.normal(t.random.key(1), [4, 12]));
    const labels = t.tensor([1, 0, 2, 0], { dtype: "int32" });
    const reg = f64(t.random.normal(t.random.key(2), [4, 4]));
    await t.checkGrad((x: t.Tensor) => fastRcnnLoss(x, deltas, labels, reg).classifier, [logits]);
    await t.checkGrad((d: t.Tensor) => fastRcnnLoss(logits, d, labels, reg).boxReg, [deltas]);
    const ml = f64(t.random.normal(t.random.key(3), [2, 3, 4, 4]));
    const mt = f64(t.cast(t.greater(t.random.uniform(t.random.key(4), [2, 4, 4]), 0.5), "float32"));
    await t.checkGrad((x: t.Tensor) => maskLoss(x, int(t.tensor([2, 1])), mt), [ml]);
  });
});

Deno.test("RoI parts: bad inputs are TesseraErrors naming the op and the values", async () => {
  const i32 = (v: number[]) => t.tensor(v, { dtype: "int32" });
  expectError(
    () => fastRcnnLoss(t.zeros([2, 3]), t.zeros([2, 8]), i32([0, 1]), t.zeros([2, 4])),
    "fastRcnnLoss",
    "[2,8]",
  );
  expectError(
    () => assignProposals(t.zeros([1, 4]), t.zeros([1, 4]), t.zeros([1])),
    "assignProposals",
    "float32",
  );
  expectError(
    () => featureLevels([t.zeros([1, 1, 16, 16]), t.zeros([1, 1, 4, 4])], [[64, 64]]),
    "featureLevels",
    "[2,4]",
  );
  expectError(
    () => maskLoss(t.zeros([1, 2, 4, 4]), t.zeros([1]), t.zeros([1, 4, 4])),
    "maskLoss",
    "int32",
  );
  await assert.rejects(
    postprocessDetections(t.zeros([2, 3]), t.zeros([2, 12]), [t.zeros([1, 4])], [[8, 8]]),
    /postprocessDetections.*1 proposals/,
  );
  await assert.rejects(
    roiTargets(t.random.key(0), [t.zeros([1, 4])], [], []),
    /roiTargets.*one proposal/,
  );
});
