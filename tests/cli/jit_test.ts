/**
 * `train.ts finetune/pretrain` compile their training step with `jit` by default; `--no-jit`
 * runs it eagerly. On the CPU both reach bit-identical checkpoints (parameters and optimizer
 * state) — DINO across the epoch where the last layer is unfrozen.
 */
import assert from "node:assert/strict";
import { captureIO } from "../../trainer/io.ts";
import { main } from "../../cli/main.ts";
import { checkpointBytes, SAMPLE, tinyRun } from "./_util.ts";

const PRETRAIN = [
  "--data",
  SAMPLE,
  ...("--train-limit 64 --dim 16 --depth 1 --heads 2 --batch 16 --vocab 16 --kmeans-iters 3 " +
    "--out-dim 32 --hidden-dim 16 --bottleneck-dim 8 --local-crops 2").split(" "),
];

/** The checkpoint of a run with `argv` (+ `--no-jit` when `eager`), in a fresh directory. */
async function finalCheckpoint(argv: (out: string) => string[], eager: boolean) {
  const dir = await Deno.makeTempDir();
  try {
    const io = captureIO();
    const code = await main([...argv(`${dir}/run`), ...(eager ? ["--no-jit"] : [])], io);
    assert.equal(code, 0, io.stderr);
    return await checkpointBytes(`${dir}/run/ckpt_latest.safetensors`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function assertSame(argv: (out: string) => string[]) {
  const jitted = await finalCheckpoint(argv, false);
  const eager = await finalCheckpoint(argv, true);
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
