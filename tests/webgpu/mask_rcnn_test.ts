/** Mask R-CNN (models/detection/) on WebGPU: plan, loss, gradient and prediction agree with CPU. */
import assert from "node:assert/strict";
import * as t from "../../mod.ts";
import {
  initMaskRcnn,
  type MaskRcnnConfig,
  maskRcnnLoss,
  maskRcnnPlan,
  maskRcnnPredict,
} from "../../models/detection/mod.ts";
import { gpuTest } from "./_setup.ts";
import { TINY_MASK_RCNN } from "../models/_tiny.ts";

const cfg: MaskRcnnConfig = TINY_MASK_RCNN;

async function step(backend: string): Promise<number[]> {
  const prev = t.getBackend().name;
  t.setBackend(backend);
  try {
    return await t.scope(async () => {
      const params = initMaskRcnn(t.random.key(0), cfg);
      const images = t.random.normal(t.random.key(1), [1, 1, 64, 64]);
      const tg = {
        boxes: t.tensor([[4, 6, 30, 28]]),
        labels: t.tensor([1], { dtype: "int32" }),
        masks: t.zeros([1, 64, 64]),
      };
      const plan = await maskRcnnPlan(params, images, [[64, 64]], [tg], cfg, {
        key: t.random.key(2),
      });
      const [l, g] = t.valueAndGrad((p: typeof params) => maskRcnnLoss(p, images, plan, cfg).total)(
        params,
      ) as [t.Tensor, typeof params];
      const [d] = await maskRcnnPredict(params, images, [[64, 64]], cfg);
      assert.equal(l.backend.name, backend);
      return [
        await l.item(),
        await t.sum(t.abs(g.backbone.patch_embed.proj.weight)).item(),
        await t.sum(t.abs(g.roi_heads.mask_predictor.mask_fcn_logits.weight)).item(),
        d!.boxes.shape[0]!,
      ];
    });
  } finally {
    t.setBackend(prev);
  }
}

gpuTest("Mask R-CNN step: loss, gradients and detection count match the CPU", async () => {
  const cpu = await step("cpu"), gpu = await step("webgpu");
  for (let i = 0; i < 3; i++) {
    assert.ok(
      Math.abs(gpu[i]! - cpu[i]!) <= 1e-4 * Math.abs(cpu[i]!) + 1e-6,
      `${i}: ${gpu} vs ${cpu}`,
    );
  }
  assert.equal(gpu[3], cpu[3]);
});
