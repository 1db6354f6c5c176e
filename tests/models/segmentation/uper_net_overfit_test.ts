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
import { rngFromSeed } from "../../../tensor/host_rng.ts";
import { noLeak } from "../../nn/_fixture.ts";

/**
 * `n` FMNIST-Scenes-like 32×32 scenes: a textured background (class 0) with a bright
 * rectangle (class 1) and a checkered one (class 2) of random place and size (sides 10..18,
 * from a seeded host generator; they may overlap, B on top); a 255 (ignore) band on two
 * borders.
 */
function scenes(n: number): { images: Tensor; labels: Tensor; flat: Uint8Array } {
  const S = 32, img = new Float32Array(n * S * S), lab = new Int32Array(n * S * S);
  const rng = rngFromSeed([7, 1, 2, 3]);
  const box = () => {
    const h = rng.int(10, 18), w = rng.int(10, 18);
    const y = rng.int(0, S - h), x = rng.int(0, S - w);
    return (yy: number, xx: number) => yy >= y && yy < y + h && xx >= x && xx < x + w;
  };
  for (let k = 0; k < n; k++) {
    const inA = box(), inB = box();
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const i = k * S * S + y * S + x;
        const b = inB(y, x), a = !b && inA(y, x);
        img[i] = a ? 1.5 : b ? ((x + y) % 2 ? 0.8 : -0.2) : 0.15 * Math.sin(x * 1.3 + y * 0.7);
        lab[i] = y === 0 || x === S - 1 ? 255 : a ? 1 : b ? 2 : 0;
      }
    }
  }
  return {
    images: tensor(img, { shape: [n, 1, S, S] }),
    labels: tensor(lab, { shape: [n, S, S], dtype: "int32" }),
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

Deno.test("uperNet overfits 32 tiny scenes: loss falls, train mIoU (data/eval seg metrics) passes 0.8", async () => {
  await noLeak(async () => {
    const { images, labels, flat } = scenes(32);
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
    for (let i = 0; i < 160; i++) {
      const out = step(st, bn, random.foldIn(random.key(4), i));
      dispose(bn);
      st = out.state, bn = out.aux;
      losses.push(await out.loss.item());
      out.loss.dispose();
    }
    const after = await miou(st.params, bn, images, flat);
    assert.ok(losses.at(-1)! < 0.5 * losses[0]!, `loss ${losses[0]} → ${losses.at(-1)}`);
    assert.ok(after > 0.8 && after > before, `mIoU ${before} → ${after}`);
    dispose([st.params, st.optState, bn, images, labels]);
  });
});
