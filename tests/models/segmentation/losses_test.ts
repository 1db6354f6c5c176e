import assert from "node:assert/strict";
import {
  fcnHead,
  initFcnHead,
  initFcnHeadState,
  segCrossEntropy,
  uperNetLoss,
} from "../../../models/mod.ts";
import {
  cast,
  checkGrad,
  interpolate,
  random,
  type Tensor,
  tensor,
  treeMap,
} from "../../../mod.ts";
import { noLeak } from "../../nn/_fixture.ts";

/** −log softmax(v)[y] by hand. */
const nll = (v: number[], y: number) => Math.log(v.reduce((a, z) => a + Math.exp(z), 0)) - v[y]!;

Deno.test("segCrossEntropy: ignore 255, valid vs all averaging, by hand", async () => {
  await noLeak(async () => {
    const lv = [[0.5, -1, 2, 0], [1, 0, -0.5, 3], [0, 0, 1, -2]]; // [K=3][4 pixels]
    const logits = tensor([lv.map((r) => [r])]); // [1, 3, 1, 4]
    const y = [2, 255, 0, 1];
    const labels = tensor([[y]], { dtype: "int32" });
    const per = y.map((c, i) => (c === 255 ? 0 : nll(lv.map((r) => r[i]!), c)));
    const total = per.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(await segCrossEntropy(logits, labels).item() - total / 3) < 1e-5);
    const all = await segCrossEntropy(logits, labels, { average: "all" }).item();
    assert.ok(Math.abs(all - total / 4) < 1e-5);
    const none = tensor([[[255, 255, 255, 255]]], { dtype: "int32" });
    assert.equal(await segCrossEntropy(logits, none).item(), 0);
    assert.throws(() => segCrossEntropy(logits, tensor([[[1, 2, 0, 1]]])), /labels must be int32/);
  });
});

Deno.test("segCrossEntropy resizes coarse logits bilinearly to the label size; aux weight 0.4", async () => {
  await noLeak(async () => {
    const coarse = random.normal(random.key(0), [2, 3, 2, 2]);
    const labels = tensor(
      [[[0, 1, 2, 255], [1, 1, 0, 2], [2, 0, 255, 1], [0, 0, 1, 2]], [
        [1, 2, 0, 0],
        [255, 1, 2, 1],
        [0, 0, 0, 1],
        [2, 2, 1, 0],
      ]],
      { dtype: "int32" },
    );
    const up = interpolate(coarse, { size: [4, 4], mode: "bilinear", alignCorners: false });
    const a = await segCrossEntropy(coarse, labels).item(),
      b = await segCrossEntropy(up, labels).item();
    assert.equal(a, b);
    const main = random.normal(random.key(1), [2, 3, 4, 4]);
    const t = await uperNetLoss(main, coarse, labels).item();
    assert.ok(Math.abs(t - (await segCrossEntropy(main, labels).item() + 0.4 * a)) < 1e-5);
    const t1 = await uperNetLoss(main, coarse, labels, { auxWeight: 1 }).item();
    assert.ok(Math.abs(t1 - (await segCrossEntropy(main, labels).item() + a)) < 1e-5);
  });
});

Deno.test("segCrossEntropy and fcnHead gradients (float64)", async () => {
  const labels = tensor([[[0, 255, 1], [2, 1, 0]]], { dtype: "int32" });
  const x = random.normal(random.key(2), [1, 3, 1, 2], { dtype: "float64" });
  await checkGrad((l: Tensor) => segCrossEntropy(l, labels), [x]);
  const cfg = { inChannels: 2, channels: 2, numClasses: 3 };
  const to64 = <T>(t: T) => treeMap((z: Tensor) => cast(z, "float64"), t) as T;
  const p = to64(initFcnHead(random.key(3), cfg)), s = to64(initFcnHeadState(cfg));
  const m = random.normal(random.key(4), [2, 2, 3, 3], { dtype: "float64" });
  const f = (mm: Tensor, ww: Tensor, seg: Tensor) =>
    fcnHead(
      {
        convs: [{ ...p.convs[0]!, conv: { weight: ww } }],
        conv_seg: { ...p.conv_seg, weight: seg },
      },
      s,
      mm,
      {
        train: true,
        dropout: 0,
      },
    ).logits;
  await checkGrad(f, [m, p.convs[0]!.conv.weight, p.conv_seg.weight], { modes: ["rev"] });
});
