/**
 * `train.ts detect` on the webgpu backend: a few steps of Mask R-CNN on a tiny FMNIST-Scenes
 * folder with the loss falling, the final record's 12 + 12 COCO numbers, then `detect --eval`
 * of its checkpoint on webgpu. On llvmpipe/lavapipe in CI.
 */
import assert from "node:assert/strict";
import { withScenes } from "../cli/_dense_helpers.ts";
import { assertLossFalls, trainLosses } from "../cli/_util.ts";
import { mainOk } from "./_cli.ts";
import { gpuTest } from "./_setup.ts";

gpuTest("train.ts detect trains a few steps (loss falls) and detect --eval scores it", async () => {
  await withScenes(async (data, dir) => {
    const out = `${dir}/run`;
    const argv = ["detect", "--data", data, "--smoke", "--steps", "12", "--lr", "1e-3"];
    const flags = ["--warmup", "2", "--eval-every", "100", "--out", out, "--backend", "webgpu"];
    const final = await mainOk([...argv, ...flags]) as { backend: string; bbox: []; segm: [] };
    assert.match(String(final.backend), /^webgpu/);
    assert.deepEqual([final.bbox.length, final.segm.length], [12, 12]);
    const loss = await trainLosses(out);
    assert.equal(loss.length, 12);
    assertLossFalls(loss, 3);
    const ev = ["detect", "--eval", out, "--data", data, "--backend", "webgpu", "--show", "1"];
    assert.equal(((await mainOk(ev)) as { segm: [] }).segm.length, 12);
  }, { train: 8, val: 2 });
});
