/**
 * The training CLI on the webgpu backend (`--backend webgpu`): a few steps of finetune, of each
 * pre-training method and a probe, in process. On llvmpipe in CI; `bench/gpu_pretrain.sh` runs
 * the same commands on a real GPU.
 */
import assert from "node:assert/strict";
import { SAMPLE } from "../cli/_util.ts";
import { mainOk } from "./_cli.ts";
import { gpuTest } from "./_setup.ts";

const TINY = [
  ...["--data", SAMPLE, "--train-limit", "64", "--dim", "16", "--depth", "1", "--heads", "2"],
  ...["--batch", "32", "--backend", "webgpu"],
];

gpuTest("train.ts finetune, pretrain (each method) and probe run on --backend webgpu", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ft = await mainOk([
      "finetune",
      ...TINY,
      ...["--test-limit", "64", "--steps", "3", "--out", `${dir}/ft`],
    ]);
    assert.match(String(ft.backend), /^webgpu/);
    assert.ok((ft.test_accuracy as number) >= 0);
    for (const method of ["splitmask", "beit", "dino"]) {
      const r = await mainOk([
        "pretrain",
        "--method",
        method,
        ...TINY,
        ...["--steps", "3", "--vocab", "16", "--kmeans-iters", "2", "--out-dim", "32"],
        ...["--hidden-dim", "16", "--bottleneck-dim", "8", "--local-crops", "2"],
        ...["--out", `${dir}/${method}`],
      ]);
      assert.match(String(r.backend), /^webgpu/);
      assert.ok(Number.isFinite(r.loss as number), `${method}: loss ${r.loss}`);
    }
    const p = await mainOk([
      "probe",
      ...["--init", `${dir}/splitmask`, "--data", SAMPLE, "--train-limit", "64"],
      ...["--test-limit", "64", "--backend", "webgpu", "--max-iter", "20"],
    ]);
    assert.match(String(p.backend), /^webgpu/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
