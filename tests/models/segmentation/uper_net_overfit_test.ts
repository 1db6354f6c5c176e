import assert from "node:assert/strict";
import {
  initUperNet,
  initUperNetState,
  uperNet,
  uperNetLoss,
  type UperNetParams,
  type UperNetState,
} from "../../../models/mod.ts";
import { adamw, createTrainState, trainStepWithAux } from "../../../nn/mod.ts";
import { argmax, dispose, random, type Tensor, tensor } from "../../../mod.ts";
import { segAreas, segMetrics, sumSegAreas } from "../../../data/eval/seg_metrics.ts";
import { TINY_UPERNET } from "../_tiny.ts";
import { noLeak } from "../../nn/_fixture.ts";

/**
 * Two FMNIST-Scenes-like 32×32 scenes: a textured background (class 0) with a bright
 * rectangle (class 1) and a checkered one (class 2), each about a quarter of the image (smaller
 * objects need many more steps at this size); a 255 (ignore) band on two borders.
 */
function scenes(): { images: Tensor; labels: Tensor; flat: Uint8Array } {
  const S = 32, img = new Float32Array(2 * S * S), lab = new Int32Array(2 * S * S);
  const boxes = [[[0, 0, 16, 16], [16, 12, 32, 32]], [[8, 16, 24, 32], [0, 0, 16, 12]]];
  for (let n = 0; n < 2; n++) {
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const i = n * S * S + y * S + x;
        const [a, b] = boxes[n]!;
        const inA = y >= a![0]! && y < a![2]! && x >= a![1]! && x < a![3]!;
        const inB = y >= b![0]! && y < b![2]! && x >= b![1]! && x < b![3]!;
        img[i] = inA ? 1.5 : inB ? ((x + y) % 2 ? 0.8 : -0.2) : 0.15 * Math.sin(x * 1.3 + y * 0.7);
        lab[i] = y === 0 || x === S - 1 ? 255 : inA ? 1 : inB ? 2 : 0;
      }
    }
  }
  return {
    images: tensor(img, { shape: [2, 1, S, S] }),
    labels: tensor(lab, { shape: [2, S, S], dtype: "int32" }),
    flat: Uint8Array.from(lab, (v) => v),
  };
}

/** Eval-mode (running BN statistics) mIoU of the argmax prediction, by data/eval's metric. */
async function miou(p: UperNetParams, s: UperNetState, images: Tensor, flat: Uint8Array) {
  const { logits, auxLogits } = uperNet(p, s, images, TINY_UPERNET);
  const pred = argmax(logits, 1);
  const m = segMetrics(sumSegAreas([segAreas(await pred.data(), flat, 3)]));
  dispose([logits, auxLogits, pred]);
  return m.mIoU;
}

Deno.test("uperNet overfits two tiny scenes: loss falls, mIoU (data/eval seg metrics) rises", async () => {
  await noLeak(async () => {
    const { images, labels, flat } = scenes();
    const opt = adamw({ lr: 5e-3, weightDecay: 0 });
    let bn = initUperNetState(TINY_UPERNET);
    let st = createTrainState(initUperNet(random.key(3), TINY_UPERNET), opt);
    const before = await miou(st.params, bn, images, flat);
    const step = trainStepWithAux(
      (p: UperNetParams, s: UperNetState, key: Tensor): [Tensor, UperNetState] => {
        const out = uperNet(p, s, images, TINY_UPERNET, { train: true, key });
        return [uperNetLoss(out.logits, out.auxLogits, labels), out.state];
      },
      opt,
    );
    const losses: number[] = [];
    for (let i = 0; i < 100; i++) {
      const out = step(st, bn, random.foldIn(random.key(4), i));
      dispose(bn);
      st = out.state, bn = out.aux;
      losses.push(await out.loss.item());
      out.loss.dispose();
    }
    const after = await miou(st.params, bn, images, flat);
    assert.ok(losses[99]! < 0.5 * losses[0]!, `loss ${losses[0]} → ${losses[99]}`);
    assert.ok(after > 0.8 && after > before, `mIoU ${before} → ${after}`);
    dispose([st.params, st.optState, bn, images, labels]);
  });
});
