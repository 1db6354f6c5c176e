/**
 * End-to-end tests of `train.ts detect` in process on a tiny FMNIST-Scenes folder generated
 * into a temp dir: a short run (the loss falls and is recorded; the final record carries the
 * 12 COCO bbox and segm numbers; no leak), kill-and-resume (bit-identical parameters and
 * optimizer state on the CPU backend, with flips, large-scale jitter and clipping), and bad
 * flags / a malformed COCO folder (exit 2 with a clear message).
 */
import assert from "node:assert/strict";
import { captureIO } from "../../trainer/io.ts";
import { main } from "../../cli/main.ts";
import { readMetrics } from "../../trainer/metrics.ts";
import { loadCheckpoint } from "../../nn/checkpoint.ts";
import { dispose, memoryStats } from "../../mod.ts";
import { detectCommand } from "../../cli/detect.ts";
import { initStoppedRun, smokeRun, withScenes } from "./_dense_helpers.ts";
import { loadInitEncoder } from "../../trainer/models.ts";
import { assertLossFalls, assertResumeIdentical } from "./_util.ts";

Deno.test("detect --smoke trains on tiny FMNIST-Scenes: loss falls, bbox and segm stats recorded", async () => {
  await withScenes(async (data, dir) => {
    const out = `${dir}/run`;
    const io = captureIO();
    const live: number[] = [];
    const before = memoryStats().cpu?.tensors ?? 0;
    const argv = ["--data", data, "--smoke", "--steps", "24", "--lr", "1e-3", "--warmup", "2"];
    const code = await detectCommand(
      [...argv, "--eval-every", "12", "--log-every", "12", "--out", out, "--backend", "cpu"],
      io,
      { onStep: (_s, n) => live.push(n) },
    );
    assert.equal(code, 0, io.stderr);
    assert.equal(memoryStats().cpu?.tensors ?? 0, before, "the run leaked tensors");
    assert.ok(live.slice(1).every((n) => n === live[1]), `live tensors changed: ${live}`);

    const final = JSON.parse(io.stdout.at(-1)!);
    assert.equal(final.command, "detect");
    assert.equal(final.steps, 24);
    assert.deepEqual([final.train_images, final.val_images], [8, 4]);
    for (const k of ["bbox", "segm"]) {
      assert.equal(final[k].length, 12, k);
      assert.ok(final[k].every((v: number) => v === -1 || (v >= 0 && v <= 1)), `${final[k]}`);
    }
    const recs = await readMetrics(`${out}/metrics.jsonl`);
    const train = recs.filter((r) => r.type === "train");
    assert.deepEqual(train.map((r) => r.step), Array.from({ length: 24 }, (_, i) => i + 1));
    const loss = train.map((r) => r.loss as number);
    assert.ok(loss.every(Number.isFinite));
    assertLossFalls(loss, 4);
    const evals = recs.filter((r) => r.type === "eval");
    assert.deepEqual(evals.map((r) => r.step), [12, 24]);
    assert.ok(typeof evals[1]!.segm_AP === "number" && typeof evals[1]!.bbox_AR100 === "number");
    assert.deepEqual(final.bbox[0], evals[1]!.bbox_AP);
    const ck = await loadCheckpoint(`${out}/ckpt_latest.safetensors`);
    assert.equal(ck.step, 24);
    dispose([ck.params, ck.optState, ck.rngKey]);
    assert.match(io.stderr, /eval {2}step 24\/24 {2}bbox AP \d+\.\d\d {2}segm AP/);
  });
});

Deno.test("detect stopped at step k and resumed reaches bit-identical parameters", async () => {
  await withScenes(async (data, dir) => {
    const flags = "--steps 6 --lsj --flip 0.5 --clip-grad 1 --drop-path 0.1 --seed 5 " +
      "--eval-every 100 --ckpt-every 2";
    const { full, finals } = await assertResumeIdentical(
      "detect",
      smokeRun("detect", data, flags),
      dir,
      5,
    );
    const recs = await readMetrics(`${full}/metrics.jsonl`);
    assert.ok(recs.some((r) => r.type === "train" && typeof r.grad_norm === "number"));
    assert.deepEqual(JSON.parse(finals[1]!).segm.length, 12);
  });
});

Deno.test("detect: bad flags and a malformed COCO folder exit 2 with a clear message", async () => {
  await withScenes(async (data, dir) => {
    const run = async (argv: string[]) => {
      const io = captureIO();
      const code = await main(["detect", ...argv], io);
      return { code, err: io.stderr.split("\n")[0]! };
    };
    assert.deepEqual(await run(["--smoke"]), {
      code: 2,
      err: "train.ts detect: --data DIR is required (a COCO folder; make one with train.ts scenes)",
    });
    assert.deepEqual((await run(["--data", data, "--flip", "2"])).code, 2);
    assert.deepEqual(
      (await run(["--data", data, "--bogus"])).err,
      "train.ts detect: unknown flag --bogus",
    );
    const r1 = await run(["--data", data, "--smoke", "--patch", "7", "--out", `${dir}/a`]);
    assert.equal(r1.code, 2);
    assert.match(r1.err, /--patch 7 does not divide 32/);
    const r2 = await run(["--data", data, "--smoke", "--batch", "9", "--out", `${dir}/b`]);
    assert.match(r2.err, /--batch 9 is larger than the 8 training images/);
    const r3 = await run(["--data", `${dir}/nothing`, "--smoke"]);
    assert.equal(r3.code, 2);
    assert.match(
      r3.err,
      /--data .*nothing: annotation file .*instances_train\.json does not exist/,
    );
    const r5 = await run(["--data", data, "--smoke", "--init", `${dir}/no-such.safetensors`]);
    assert.equal(r5.code, 2);
    assert.match(r5.err, /--init .*no-such/);
    await Deno.writeTextFile(`${data}/annotations/instances_val.json`, '{"images": [{"id": 1}]');
    const r4 = await run(["--data", data, "--smoke", "--out", `${dir}/c`]);
    assert.equal(r4.code, 2, r4.err);
    assert.match(r4.err, /^train\.ts detect: --data .*fmnist-scenes-tiny: /);
  });
});

Deno.test("detect --init takes a pretrain encoder (greyscale, patch 4) and resumes with its shape", async () => {
  await withScenes(async (data, dir) => {
    const { pre, out, stderr } = await initStoppedRun("detect", data, dir);
    assert.match(stderr, /detect: encoder from .*pre.* \(splitmask, step 3\)/);
    const recs = await readMetrics(`${out}/metrics.jsonl`);
    const o = recs[0]!.options as Record<string, unknown>;
    assert.deepEqual([o.patch, o.inChans, o.imgSize], [4, 1, 28]);
    // One AdamW step (lr ≤ 1e-4) away from the pre-trained encoder, far from a fresh init.
    const enc = await loadInitEncoder(pre);
    const ck = await loadCheckpoint(`${out}/ckpt_latest.safetensors`);
    const a = await enc.params.patch_embed.proj.weight.data();
    const p = ck.params as { backbone: typeof enc.params };
    const b = await p.backbone.patch_embed.proj.weight.data();
    assert.equal(a.length, b.length);
    assert.ok(a.every((v, i) => Math.abs(v - b[i]!) <= 2e-4), "the encoder was not taken over");
    dispose([enc.params, ck.params, ck.optState, ck.rngKey]);
    const io2 = captureIO();
    assert.equal(await main(["detect", "--resume", out], io2), 0, io2.stderr);
    assert.equal(JSON.parse(io2.stdout.at(-1)!).steps, 2);
  });
});
