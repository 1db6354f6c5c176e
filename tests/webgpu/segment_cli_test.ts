/**
 * `train.ts segment` on the webgpu backend: a few steps of UperNet on a tiny FMNIST-Scenes
 * folder with the loss falling and the final record's mIoU / per-class IoU, then
 * `segment --eval` of its checkpoint on webgpu. On llvmpipe/lavapipe in CI.
 */
import assert from "node:assert/strict";
import { withScenes } from "../cli/_dense_helpers.ts";
import { assertLossFalls, trainLosses } from "../cli/_util.ts";
import { mainOk } from "./_cli.ts";
import { gpuTest } from "./_setup.ts";

gpuTest(
  "train.ts segment trains a few steps (loss falls) and segment --eval scores it",
  async () => {
    await withScenes(async (data, dir) => {
      const out = `${dir}/run`;
      const argv = ["segment", "--data", data, "--smoke", "--steps", "8", "--lr", "3e-3"];
      const flags = ["--eval-every", "100", "--out", out, "--backend", "webgpu"];
      const final = await mainOk([...argv, ...flags]) as {
        backend: string;
        IoU: number[];
        mIoU: number;
        aAcc: number;
      };
      assert.match(String(final.backend), /^webgpu/);
      assert.equal(final.IoU.length, 11);
      assert.ok(final.mIoU >= 0 && final.mIoU <= 1 && final.aAcc > 0, JSON.stringify(final));
      const loss = await trainLosses(out);
      assert.equal(loss.length, 8);
      assertLossFalls(loss, 3);
      await mainOk(["segment", "--eval", out, "--data", data, "--backend", "webgpu"]);
      const ev = JSON.parse(await Deno.readTextFile(`${out}/eval.json`));
      assert.ok(Math.abs(ev.mIoU - final.mIoU) < 1e-6, `eval ${ev.mIoU} vs run ${final.mIoU}`);
    }, { train: 8, val: 2 });
  },
);
