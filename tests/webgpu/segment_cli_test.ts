/**
 * `train.ts segment` on the webgpu backend: a few steps of UperNet on a tiny FMNIST-Scenes
 * folder with the loss falling and the final record's mIoU / per-class IoU, then
 * `segment --eval` of its checkpoint on webgpu. On llvmpipe/lavapipe in CI.
 */
import assert from "node:assert/strict";
import { captureIO } from "../../trainer/io.ts";
import { main } from "../../cli/main.ts";
import { readMetrics } from "../../trainer/metrics.ts";
import { setBackend } from "../../mod.ts";
import { withScenes } from "../cli/_dense_helpers.ts";
import { gpuTest } from "./_setup.ts";

gpuTest(
  "train.ts segment trains a few steps (loss falls) and segment --eval scores it",
  async () => {
    await withScenes(async (data, dir) => {
      const out = `${dir}/run`;
      const io = captureIO();
      const argv = ["segment", "--data", data, "--smoke", "--steps", "8", "--lr", "3e-3"];
      try {
        const flags = ["--eval-every", "100", "--out", out, "--backend", "webgpu"];
        assert.equal(await main([...argv, ...flags], io), 0, io.stderr);
      } finally {
        setBackend("cpu");
      }
      const final = JSON.parse(io.stdout.at(-1)!);
      assert.match(String(final.backend), /^webgpu/);
      assert.equal(final.IoU.length, 11);
      assert.ok(final.mIoU >= 0 && final.mIoU <= 1 && final.aAcc > 0, JSON.stringify(final));
      const loss = (await readMetrics(`${out}/metrics.jsonl`))
        .filter((r) => r.type === "train").map((r) => r.loss as number);
      assert.equal(loss.length, 8);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      assert.ok(mean(loss.slice(-3)) < mean(loss.slice(0, 3)), `loss did not fall: ${loss}`);
      const io2 = captureIO();
      try {
        const ev = ["segment", "--eval", out, "--data", data, "--backend", "webgpu"];
        assert.equal(await main(ev, io2), 0, io2.stderr);
      } finally {
        setBackend("cpu");
      }
      const ev = JSON.parse(await Deno.readTextFile(`${out}/eval.json`));
      assert.ok(Math.abs(ev.mIoU - final.mIoU) < 1e-6, `eval ${ev.mIoU} vs run ${final.mIoU}`);
    }, { train: 8, val: 2 });
  },
);
