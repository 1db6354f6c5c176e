/** The composed Mask R-CNN (models/detection/mask_rcnn.ts): plan → loss → gradients → predict. */
import assert from "node:assert/strict";
import * as t from "../../../mod.ts";
import {
  type DetectionTarget,
  initMaskRcnn,
  type MaskRcnnConfig,
  maskRcnnLoss,
  maskRcnnPlan,
  maskRcnnPredict,
} from "../../../models/detection/mod.ts";
import { adamw } from "../../../nn/optim/mod.ts";
import { expectError } from "../../_helpers.ts";
import { noLeak } from "../../nn/_fixture.ts";
import { TINY_MASK_RCNN } from "../_tiny.ts";

const vit = TINY_MASK_RCNN.vit;
const cfg: MaskRcnnConfig = TINY_MASK_RCNN;

function target(boxes: number[][], labels: number[]): DetectionTarget {
  const masks = new Float32Array(boxes.length * 64 * 64);
  boxes.forEach(([x1, y1, x2, y2], g) => {
    for (let y = Math.ceil(y1!); y < y2!; y++) {
      for (let x = Math.ceil(x1!); x < x2!; x++) masks[(g * 64 + y) * 64 + x] = 1;
    }
  });
  return {
    boxes: t.tensor(boxes),
    labels: t.tensor(labels, { dtype: "int32" }),
    masks: t.tensor(masks, { shape: [boxes.length, 64, 64] }),
  };
}

Deno.test("maskRcnnLoss: finite losses, gradients reach every part, descent lowers the loss", async () => {
  await noLeak(async () => {
    const params = initMaskRcnn(t.random.key(0), cfg);
    const images = t.random.normal(t.random.key(1), [2, 1, 64, 64]);
    const targets = [
      target([[4, 6, 30, 28], [36, 30, 60, 62]], [1, 2]),
      target([[10, 10, 50, 40]], [2]),
    ];
    const sizes: [number, number][] = [[64, 64], [60, 64]];
    const plan = await maskRcnnPlan(params, images, sizes, targets, cfg, { key: t.random.key(2) });
    assert.ok(plan.maskLabels.shape[0]! >= 3, "every GT box is a foreground RoI");
    const f = (p: typeof params) => maskRcnnLoss(p, images, plan, cfg).total;
    const [l0, g] = t.valueAndGrad(f)(params) as [t.Tensor, typeof params];
    const parts = maskRcnnLoss(params, images, plan, cfg);
    for (const [k, v] of Object.entries(parts)) assert.ok(Number.isFinite(await v.item()), k);
    const norm = async (x: t.Tensor) => await t.sum(t.abs(x)).item();
    for (
      const [name, x] of [
        ["patch_embed", g.backbone.patch_embed.proj.weight],
        ["adapter", g.adapter.fpn1.deconv1.weight],
        ["fpn", g.fpn.layer_blocks[0]!.weight],
        ["rpn", g.rpn.head.cls_logits.weight],
        ["box", g.roi_heads.box_predictor.bbox_pred.weight],
        ["mask", g.roi_heads.mask_predictor.mask_fcn_logits.weight],
      ] as const
    ) {
      const v = await norm(x);
      assert.ok(Number.isFinite(v) && v > 0, `${name} gradient ${v}`);
    }
    // gradient steps on the fixed plan lower the loss
    let p = params, last = await l0.item();
    for (let s = 0; s < 3; s++) {
      const [l, gr] = t.valueAndGrad(f)(p) as [t.Tensor, typeof params];
      const next = t.treeMap((w: t.Tensor, d: t.Tensor) => t.sub(w, t.mul(d, 0.05)), p, gr);
      const lv = await l.item();
      assert.ok(lv <= last + 1e-6, `step ${s}: ${lv} > ${last}`);
      last = lv;
      if (p !== params) t.dispose(p);
      t.dispose([l, gr]);
      p = next as typeof params;
    }
    const after = f(p);
    assert.ok((await after.item()) < (await l0.item()), "loss fell");
    t.dispose([p, params, images, targets, plan, g, l0, parts, after]);
  });
});

Deno.test("maskRcnnPredict: at most detectionsPerImage boxes inside the image, masks pasted", async () => {
  await t.scope(async () => {
    const c = { ...cfg, test: { detectionsPerImage: 7 } };
    const params = initMaskRcnn(t.random.key(0), c);
    const dets = await maskRcnnPredict(params, t.random.normal(t.random.key(1), [2, 1, 64, 64]), [[
      64,
      64,
    ], [50, 60]], c);
    assert.equal(dets.length, 2);
    const [d] = [dets[1]!];
    assert.ok(d.boxes.shape[0]! <= 7);
    assert.deepEqual(d.masks.shape, [d.boxes.shape[0], 1, 50, 60]);
    const b = await d.boxes.data();
    for (let i = 0; i < b.length; i += 4) {
      assert.ok(b[i]! >= 0 && b[i + 2]! <= 60 && b[i + 3]! <= 50);
    }
    for (const l of await d.labels.data()) assert.ok(l >= 1 && l < 3);
  });
});

Deno.test("Mask R-CNN: bad inputs are TesseraErrors", async () => {
  const params = initMaskRcnn(t.random.key(0), cfg);
  expectError(
    () => maskRcnnLoss(params, t.ones([1, 1, 48, 64]), null as never, cfg),
    "maskRcnnFeatures",
    "32",
  );
  await assert.rejects(
    maskRcnnPlan(params, t.ones([2, 1, 64, 64]), [[64, 64]], [], cfg, { key: t.random.key(0) }),
    /maskRcnnPlan.*one target/,
  );
});

Deno.test("Mask R-CNN overfits one image: both GT boxes found with their class and mask (80 AdamW steps)", async () => {
  await t.scope(async () => {
    const c: MaskRcnnConfig = {
      ...cfg,
      vit: { ...vit, embedDim: 32 },
      fpnChannels: 16,
      boxRepresentation: 32,
      maskDim: 16,
      rpnBatchSize: 64,
      roiBatchSize: 32,
      rpnPreNmsTopN: { train: 200, test: 100 },
      rpnPostNmsTopN: 50,
      test: { detectionsPerImage: 5 },
    };
    const gt = [[6, 8, 30, 30], [36, 28, 60, 60]];
    const tg = target(gt, [1, 2]);
    const images = t.reshape(
      t.sum(t.mul(tg.masks, t.tensor([[[1]], [[-1]]])), 0), // +1 / −1 squares on 0
      [1, 1, 64, 64],
    );
    let params = initMaskRcnn(t.random.key(0), c);
    const opt = adamw({ lr: 1e-3, weightDecay: 0 });
    let state = opt.init(params);
    for (let s = 0; s < 80; s++) {
      const plan = await maskRcnnPlan(params, images, [[64, 64]], [tg], c, {
        key: t.random.key(100 + s),
      });
      const [l, g] = t.valueAndGrad((p: typeof params) => maskRcnnLoss(p, images, plan, c).total)(
        params,
      ) as [t.Tensor, typeof params];
      const r = opt.update(g, state, params);
      t.dispose([l, g, plan, params]);
      params = r.params, state = r.state;
    }
    const [d] = await maskRcnnPredict(params, images, [[64, 64]], c);
    const boxes = await d!.boxes.toArray() as number[][];
    const labels = await d!.labels.data(), scores = await d!.scores.data();
    const iou = (a: number[], b: number[]) => {
      const w = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
      const h = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
      const area = (x: number[]) => (x[2]! - x[0]!) * (x[3]! - x[1]!);
      return (w * h) / (area(a) + area(b) - w * h);
    };
    const masks = await d!.masks.data();
    gt.forEach((g, k) => {
      const j = boxes.findIndex((b, i) =>
        labels[i] === k + 1 && scores[i]! > 0.5 && iou(b, g) > 0.7
      );
      assert.ok(j >= 0, `GT ${k} not found: ${JSON.stringify(boxes)} ${labels} ${scores}`);
      let inter = 0, pred = 0;
      for (let y = 0; y < 64; y++) {
        for (let x = 0; x < 64; x++) {
          const on = masks[j * 4096 + y * 64 + x]! > 0.5;
          pred += on ? 1 : 0;
          if (on && x >= g[0]! && x < g[2]! && y >= g[1]! && y < g[3]!) inter++;
        }
      }
      const area = (g[2]! - g[0]!) * (g[3]! - g[1]!);
      assert.ok(inter / (pred + area - inter) > 0.5, `mask IoU of GT ${k}`);
    });
  });
});
