/**
 * `train.ts detect` on the webgpu backend: a few steps of Mask R-CNN on a tiny FMNIST-Scenes
 * folder with the loss falling, the final record's 12 + 12 COCO numbers, then `detect --eval`
 * of its checkpoint on webgpu. On llvmpipe/lavapipe in CI.
 */
import assert from "node:assert/strict";
import { captureIO } from "../../trainer/io.ts";
import { main } from "../../cli/main.ts";
import { readMetrics } from "../../trainer/metrics.ts";
import { setBackend } from "../../mod.ts";
import { generateScenes } from "../../data/scenes/generate.ts";
import { SCENES_VERSIONS } from "../../data/scenes/scene.ts";
import { gpuTest } from "./_setup.ts";

gpuTest("train.ts detect trains a few steps (loss falls) and detect --eval scores it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await generateScenes({ ...SCENES_VERSIONS.tiny, images: { train: 8, val: 2 } }, dir);
    const data = `${dir}/fmnist-scenes-tiny`, out = `${dir}/run`;
    const io = captureIO();
    const argv = ["detect", "--data", data, "--smoke", "--steps", "12", "--lr", "1e-3"];
    try {
      const flags = ["--warmup", "2", "--eval-every", "100", "--out", out, "--backend", "webgpu"];
      assert.equal(await main([...argv, ...flags], io), 0, io.stderr);
    } finally {
      setBackend("cpu");
    }
    const final = JSON.parse(io.stdout.at(-1)!);
    assert.match(String(final.backend), /^webgpu/);
    assert.deepEqual([final.bbox.length, final.segm.length], [12, 12]);
    const loss = (await readMetrics(`${out}/metrics.jsonl`))
      .filter((r) => r.type === "train").map((r) => r.loss as number);
    assert.equal(loss.length, 12);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(mean(loss.slice(-3)) < mean(loss.slice(0, 3)), `loss did not fall: ${loss}`);
    const io2 = captureIO();
    try {
      const ev = ["detect", "--eval", out, "--data", data, "--backend", "webgpu", "--show", "1"];
      assert.equal(await main(ev, io2), 0, io2.stderr);
    } finally {
      setBackend("cpu");
    }
    assert.equal(JSON.parse(io2.stdout.at(-1)!).segm.length, 12);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
