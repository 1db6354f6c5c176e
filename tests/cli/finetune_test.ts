/**
 * End-to-end tests of `train.ts finetune` in process: a short run on a few hundred images
 * (the loss falls; metrics, plots and checkpoint are written; memory does not grow), and
 * kill-and-resume — a run stopped at step k and resumed reaches bit-identical parameters and
 * optimizer state to an uninterrupted run (CPU backend).
 */
import assert from "node:assert/strict";
import { captureIO } from "../../trainer/io.ts";
import { main } from "../../cli/main.ts";
import { readMetrics } from "../../trainer/metrics.ts";
import { loadCheckpoint } from "../../nn/checkpoint.ts";
import { dispose, memoryStats } from "../../mod.ts";
import { finetuneCommand } from "../../cli/finetune.ts";
import { allFinite } from "../../trainer/train_loop.ts";
import {
  assertLossFalls,
  assertSameCheckpoint,
  assertWellFormedXml,
  checkpointBytes,
  tinyRun,
  withTempDir,
} from "./_util.ts";

Deno.test("finetune trains a few steps on 320 images: loss falls, run directory complete", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/run`;
    const io = captureIO();
    const live: number[] = [];
    const before = memoryStats().cpu?.tensors ?? 0;
    const argv = tinyRun(out, [
      "--steps",
      "30",
      "--lr",
      "3e-3",
      "--warmup",
      "3",
      "--eval-every",
      "15",
      "--ckpt-every",
      "10",
      "--log-every",
      "10",
    ]);
    const code = await finetuneCommand(argv.slice(1), io, {
      onStep: (_s, n) => live.push(n),
    });
    assert.equal(code, 0, io.stderr);
    assert.equal(memoryStats().cpu?.tensors ?? 0, before, "the run leaked tensors");
    assert.ok(live.slice(1).every((n) => n === live[1]), `live tensors changed: ${live}`);

    const final = JSON.parse(io.stdout.at(-1)!);
    assert.equal(final.steps, 30);
    assert.equal(final.test_images, 200);
    assert.ok(final.test_accuracy > 0.1 && final.test_accuracy <= 1);

    const recs = await readMetrics(`${out}/metrics.jsonl`);
    assert.equal(recs[0]!.type, "config");
    assert.equal((recs[0]!.options as { batch: number }).batch, 32);
    const train = recs.filter((r) => r.type === "train");
    assert.deepEqual(train.map((r) => r.step), Array.from({ length: 30 }, (_, i) => i + 1));
    const loss = train.map((r) => r.loss as number);
    assertLossFalls(loss, 5, 0.1);
    assert.deepEqual(recs.filter((r) => r.type === "eval").map((r) => r.step), [15, 30]);
    assert.deepEqual(recs.filter((r) => r.type === "checkpoint").map((r) => r.step), [10, 20, 30]);
    assert.equal(recs.at(-1)!.type, "final");
    for (const f of ["loss.svg", "lr.svg", "accuracy.svg"]) {
      const svg = await Deno.readTextFile(`${out}/${f}`);
      assertWellFormedXml(svg);
      assert.match(svg, /<polyline/);
    }
    const ck = await loadCheckpoint(`${out}/ckpt_latest.safetensors`);
    assert.equal(ck.step, 30);
    assert.equal((ck.optState as { count: number }).count, 30);
    dispose([ck.params, ck.optState, ck.rngKey]);
    // Plain progress: one line per 10 steps, no control characters.
    assert.equal(io.stderr.match(/^finetune +\d+\/30/gm)?.length, 3);
    assert.ok(!io.stderr.includes("\r") && !io.stderr.includes("\u001b"));

    // A second run into the same directory is refused (exit 2), not mixed in.
    const io2 = captureIO();
    assert.equal(await main(argv, io2), 2);
    assert.match(io2.stderr, /already holds a run/);
  });
});

Deno.test("finetune stopped at step k and resumed reaches bit-identical parameters", async () => {
  await withTempDir(async (dir) => {
    // Stochastic depth, crops, flips, RandAugment and Mixup/CutMix all draw randomness; the
    // run crosses an epoch boundary (10 steps per epoch) and stops mid-epoch.
    const flags = (
      "--steps 14 --warmup 4 --drop-path 0.2 --randaug 9 --mixup 0.8 --cutmix 1 " +
      "--eval-every 7 --ckpt-every 5 --seed 3 --backend cpu"
    ).split(" ");
    const full = `${dir}/full`, part = `${dir}/part`;
    const io1 = captureIO();
    assert.equal(await main(tinyRun(full, flags), io1), 0, io1.stderr);

    const io2 = captureIO();
    assert.equal(await main(tinyRun(part, [...flags, "--stop-after", "12"]), io2), 130, io2.stderr);
    assert.match(io2.stderr, /stopped \(--stop-after\) at step 12\/14/);
    assert.match(io2.stderr, /resume with: deno run -A train\.ts finetune --resume /);
    assert.equal(io2.stdout.length, 0);
    const mid = await checkpointBytes(`${part}/ckpt_latest.safetensors`);
    assert.equal(new TextDecoder().decode(mid.get("step")), "12");

    const io3 = captureIO();
    assert.equal(
      await main(["finetune", "--resume", `${part}/ckpt_latest.safetensors`], io3),
      0,
      io3.stderr,
    );
    assert.match(io3.stderr, /resuming at step 12/);

    await assertSameCheckpoint(full, part);

    // The resumed run appended to the same metrics; the reader sees each step once.
    const recs = await readMetrics(`${part}/metrics.jsonl`);
    const steps = recs.filter((r) => r.type === "train").map((r) => r.step);
    assert.deepEqual(steps, Array.from({ length: 14 }, (_, i) => i + 1));
    const loss = (rs: typeof recs) => rs.filter((r) => r.type === "train").map((r) => r.loss);
    assert.deepEqual(loss(recs), loss(await readMetrics(`${full}/metrics.jsonl`)));
  });
});

Deno.test("finetune --resume reports a missing file and a mismatched model clearly", async () => {
  const io = captureIO();
  assert.equal(await main(["finetune", "--resume", "/nonexistent/ckpt.safetensors"], io), 2);
  assert.match(io.stderr, /--resume \/nonexistent\/ckpt\.safetensors: no such file or directory/);
  await withTempDir(async (dir) => {
    const io1 = captureIO();
    assert.equal(await main(tinyRun(`${dir}/a`, ["--steps", "1"]), io1), 0, io1.stderr);
    const io2 = captureIO();
    assert.equal(
      await main(["finetune", "--resume", `${dir}/a`, "--dim", "32", "--heads", "2"], io2),
      2,
    );
    assert.match(io2.stderr, /mismatch/);
    assert.match(io2.stderr, /patch_embed\.proj\.weight/);
  });
});

Deno.test("finetune --lr 1e10 --epochs 2: exits 1 on non-finite parameters, keeps the last finite checkpoint", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/run`;
    const io = captureIO();
    const argv = tinyRun(out, ["--lr", "1e10", "--epochs", "2", "--ckpt-every", "1"]);
    assert.equal(await main(argv, io), 1, io.stderr);
    const m =
      /finetune: the (?:training loss became \S+ at|parameters became non-finite by) step (\d+); stopped at step \d+\/20; the last finite checkpoint \(step (\d+)\)/
        .exec(io.stderr);
    assert.ok(m, io.stderr);
    assert.equal(io.stdout.length, 0);
    const recs = await readMetrics(`${out}/metrics.jsonl`);
    assert.equal(recs.at(-1)!.type, "abort");
    assert.ok(
      !recs.some((r) => r.type === "final" || (r.type === "eval" && !Number.isFinite(r.test_loss))),
    );
    const ck = await loadCheckpoint(`${out}/ckpt_latest.safetensors`);
    assert.equal(ck.step, Number(m[2]));
    assert.ok(ck.step < Number(m[1]));
    assert.ok(await allFinite(ck.params), "the kept checkpoint is not finite");
    dispose([ck.params, ck.optState, ck.rngKey]);
  });
});
