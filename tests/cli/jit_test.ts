/**
 * `train.ts finetune/pretrain/segment` compile their training step with `jit` by default and
 * `detect` its update (clipping + AdamW); `--no-jit` runs them eagerly. On the CPU both reach bit-identical checkpoints (parameters and optimizer
 * state) — DINO across the epoch where the last layer is unfrozen — on one rank (one program per
 * step) and with `--dist sim:2` (the gradient and update halves compiled apart around the mean
 * over the ranks; SplitMask's gradient half, with its gathered InfoNCE, stays eager there).
 */
import assert from "node:assert/strict";
import { captureIO } from "../../trainer/io.ts";
import { main } from "../../cli/main.ts";
import { checkpointBytes, runTrain, SAMPLE, tinyRun } from "./_util.ts";
import { generateScenes } from "../../data/scenes/generate.ts";
import { SCENES_VERSIONS } from "../../data/scenes/scene.ts";

const PRETRAIN = [
  "--data",
  SAMPLE,
  ...("--train-limit 64 --dim 16 --depth 1 --heads 2 --batch 16 --vocab 16 --kmeans-iters 3 " +
    "--out-dim 32 --hidden-dim 16 --bottleneck-dim 8 --local-crops 2").split(" "),
];

/**
 * The checkpoint of a run with `argv` (+ `--no-jit` when `eager`), in a fresh directory; in this
 * process, or as a `train.ts` subprocess when `sub` (a sim run's rank 0 prints to the terminal).
 */
async function finalCheckpoint(argv: (out: string) => string[], eager: boolean, sub = false) {
  const dir = await Deno.makeTempDir();
  try {
    const args = [...argv(`${dir}/run`), ...(eager ? ["--no-jit"] : [])];
    if (sub) {
      const r = await runTrain(args);
      assert.equal(r.code, 0, r.stderr);
    } else {
      const io = captureIO();
      assert.equal(await main(args, io), 0, io.stderr);
    }
    return await checkpointBytes(`${dir}/run/ckpt_latest.safetensors`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function assertSame(argv: (out: string) => string[], sub = false) {
  const jitted = await finalCheckpoint(argv, false, sub);
  const eager = await finalCheckpoint(argv, true, sub);
  assert.deepEqual([...jitted.keys()].sort(), [...eager.keys()].sort());
  for (const [k, v] of eager) assert.deepEqual(jitted.get(k), v, `${k} differs`);
}

Deno.test("train.ts finetune: jit (default) and --no-jit reach bit-identical checkpoints", async () => {
  await assertSame((out) => tinyRun(out, ["--steps", "6", "--warmup", "2", "--eval-every", "6"]));
});

for (const method of ["splitmask", "beit", "dino"]) {
  Deno.test(`train.ts pretrain --method ${method}: jit and --no-jit bit-identical`, async () => {
    // 4 steps per epoch: DINO's last layer is frozen for steps 1-4, free for 5-6
    await assertSame((
      out,
    ) => [
      "pretrain",
      "--method",
      method,
      ...PRETRAIN,
      "--steps",
      "6",
      "--warmup",
      "2",
      "--out",
      out,
    ]);
  });
}

Deno.test("train.ts finetune --dist sim:2: jit and --no-jit bit-identical", async () => {
  const sim = ["--dist", "sim:2", "--steps", "3", "--warmup", "1", "--eval-every", "3"];
  await assertSame((out) => tinyRun(out, sim), true);
});

for (const method of ["splitmask", "beit", "dino"]) {
  Deno.test(`train.ts pretrain --method ${method} --dist sim:2: jit and --no-jit bit-identical`, async () => {
    // DINO: 4 steps per epoch, so the last layer is unfrozen at step 5
    const steps = method === "dino" ? "5" : "3";
    const sim = ["--dist", "sim:2", "--steps", steps, "--warmup", "1"];
    await assertSame(
      (out) => ["pretrain", "--method", method, ...PRETRAIN, ...sim, "--out", out],
      true,
    );
  });
}

/** `f` on a tiny FMNIST-Scenes folder generated into a temp dir. */
async function withScenes(f: (data: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await generateScenes({ ...SCENES_VERSIONS.tiny, images: { train: 8, val: 4 } }, dir);
    await f(`${dir}/fmnist-scenes-tiny`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("train.ts segment --smoke: jit and --no-jit bit-identical", async () => {
  await withScenes((data) =>
    assertSame((out) => ["segment", "--data", data, "--smoke", "--eval-every", "3", "--out", out])
  );
});

Deno.test("train.ts detect --smoke: jit (the update) and --no-jit bit-identical", async () => {
  const argv = ["--smoke", "--steps", "3", "--clip-grad", "1", "--eval-every", "3"];
  await withScenes((data) =>
    assertSame((out) => ["detect", "--data", data, ...argv, "--out", out])
  );
});
