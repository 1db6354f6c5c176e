/**
 * End-to-end tests of `train.ts segment` on a tiny FMNIST-Scenes folder generated into a temp
 * dir: a short run on cpu (loss falls, mIoU recorded, no leak), `--eval`, kill-and-resume
 * (bit-identical parameters, AdamW moments and BatchNorm statistics with the full training
 * pipeline: resize, cat_max_ratio crop, flip, photometric distortion, dropout), and label PNGs
 * with a value above the class count or of another size than their image (exit 2 naming the
 * file), and `--init` of a greyscale pretrain encoder (its shape, channels and position table
 * taken over; resumable). The webgpu run is tests/webgpu/segment_cli_test.ts.
 */
import assert from "node:assert/strict";
import { captureIO } from "../../trainer/io.ts";
import { main } from "../../cli/main.ts";
import { dispose, memoryStats } from "../../mod.ts";
import { initStoppedRun, smokeRun, withScenes } from "./_dense_helpers.ts";
import { readLabelPng, writeLabelPng } from "../../data/label_png.ts";
import { readMetrics } from "../../trainer/metrics.ts";
import { assertLossFalls, assertResumeIdentical, assertWellFormedXml } from "./_util.ts";
import { loadInitEncoder } from "../../trainer/models.ts";
import { loadCheckpoint } from "../../nn/checkpoint.ts";

Deno.test("segment --smoke trains on tiny FMNIST-Scenes and --eval scores the checkpoint", async () => {
  await withScenes(async (data, dir) => {
    const io = captureIO();
    const before = memoryStats().cpu?.tensors ?? 0;
    const argv = ["segment", "--data", data, "--smoke", "--steps", "12", "--lr", "3e-3"];
    const code = await main(
      [...argv, "--eval-every", "12", "--out", `${dir}/run`, "--backend", "cpu"],
      io,
    );
    assert.equal(code, 0, io.stderr);
    assert.equal(memoryStats().cpu?.tensors ?? 0, before, "the run leaked tensors");
    const recs = await readMetrics(`${dir}/run/metrics.jsonl`);
    const loss = recs.filter((r) => r.type === "train").map((r) => r.loss as number);
    assert.equal(loss.length, 12);
    const evals = recs.filter((r) => r.type === "eval");
    assert.deepEqual(evals.map((r) => r.step), [12]);
    assert.ok(typeof evals[0]!.mIoU === "number" && typeof evals[0]!.IoU_0 === "number");
    for (const f of ["loss.svg", "lr.svg"]) {
      const svg = await Deno.readTextFile(`${dir}/run/${f}`);
      assertWellFormedXml(svg);
      assert.match(svg, /<polyline/, f);
    }
    assertLossFalls(loss, 3);
    const final = JSON.parse(io.stdout.at(-1)!);
    assert.equal(final.IoU.length, 11);
    assert.ok(final.mIoU >= 0 && final.mIoU <= 1 && final.aAcc > 0);
    const io2 = captureIO();
    assert.equal(await main(["segment", "--eval", `${dir}/run`], io2), 0, io2.stderr);
    const ev = JSON.parse(await Deno.readTextFile(`${dir}/run/eval.json`));
    assert.equal(ev.mIoU, final.mIoU);
    assert.ok((await Deno.stat(`${dir}/run/eval.png`)).size > 0);
  });
});

Deno.test("segment: a label PNG with a value above the class count exits 2 naming it", async () => {
  await withScenes(async (data, dir) => {
    const f = `${data}/semantic/train/000001.png`;
    const m = await readLabelPng(f);
    const bad = Uint8Array.from(m.data);
    bad[0] = 40;
    await writeLabelPng(f, { ...m, data: bad });
    const io = captureIO();
    const code = await main(
      [
        "segment",
        "--data",
        data,
        "--smoke",
        "--out",
        `${dir}/r`,
        "--backend",
        "cpu",
        "--train-limit",
        "all",
        "--batch",
        "8",
      ],
      io,
    );
    assert.equal(code, 2, io.stderr);
    assert.match(io.stderr, /000001\.png has the value 40/);
  });
});

Deno.test("segment stopped at step k and resumed reaches bit-identical parameters and BN statistics", async () => {
  await withScenes(async (data, dir) => {
    const flags = "--steps 4 --seed 3 --flip 0.5 --eval-every 100 --ckpt-every 1";
    const { leaves, finals } = await assertResumeIdentical(
      "segment",
      smokeRun("segment", data, flags),
      dir,
      2,
    );
    assert.ok(
      [...leaves.keys()].some((k) => k.includes("running_var")),
      "BN statistics checkpointed",
    );
    const [fa, fb] = finals.map((line) => JSON.parse(line!));
    assert.equal(fb.mIoU, fa.mIoU);
  });
});

Deno.test("segment: a label PNG of another size than its image exits 2 naming both", async () => {
  await withScenes(async (data, dir) => {
    const f = `${data}/semantic/train/000001.png`;
    const m = await readLabelPng(f);
    await writeLabelPng(f, {
      ...m,
      width: m.width - 1,
      data: m.data.slice(0, m.height * (m.width - 1)),
    });
    const io = captureIO();
    const argv = ["segment", "--data", data, "--smoke", "--steps", "1", "--out", `${dir}/r`];
    const code = await main([...argv, "--backend", "cpu"], io);
    assert.equal(code, 2, io.stderr);
    assert.match(io.stderr, /000001\.png is 63×64, its image .*000001\.\w+ 64×64/);
  });
});

Deno.test("segment --init takes a greyscale pretrain encoder (patch 4, 28² table) and resumes with its shape", async () => {
  await withScenes(async (data, dir) => {
    const { pre, out, stderr } = await initStoppedRun("segment", data, dir);
    assert.match(stderr, /segment: encoder from .*pre.* \(splitmask, step \d+\)/);
    const recs = await readMetrics(`${out}/metrics.jsonl`);
    const o = recs[0]!.options as Record<string, unknown>;
    assert.deepEqual([o.patch, o.inChans, o.imgSize], [4, 1, 28]);
    // One AdamW step (lr ≤ 7e-4, layer-decayed) away from the pre-trained encoder.
    const enc = await loadInitEncoder(pre);
    const ck = await loadCheckpoint(`${out}/ckpt_latest.safetensors`);
    const p = ck.params as { backbone: typeof enc.params };
    for (const k of ["patch_embed", "pos_embed"] as const) {
      const t = k === "pos_embed" ? [enc.params.pos_embed!, p.backbone.pos_embed!] : [
        enc.params.patch_embed.proj.weight,
        p.backbone.patch_embed.proj.weight,
      ];
      assert.deepEqual(t[1]!.shape, t[0]!.shape, k);
      const [a, b] = [await t[0]!.data(), await t[1]!.data()];
      assert.ok(a.every((v, i) => Math.abs(v - b[i]!) <= 1e-3), `${k} was not taken over`);
    }
    dispose([enc.params, ck.params, ck.optState, ck.rngKey]);
    const io2 = captureIO();
    assert.equal(await main(["segment", "--resume", out], io2), 0, io2.stderr);
    const final = JSON.parse(io2.stdout.at(-1)!);
    assert.equal(final.IoU.length, 11);
    const io3 = captureIO();
    assert.equal(await main(["segment", "--eval", out], io3), 0, io3.stderr);
    assert.equal(JSON.parse(await Deno.readTextFile(`${out}/eval.json`)).mIoU, final.mIoU);
  });
});

Deno.test("segment --patch 8 --pyramid xcit8 trains, --eval --save-pred rebuilds and scores it; xcit8 at patch 16 exits 2", async () => {
  await withScenes(async (data, dir) => {
    const io = captureIO();
    const argv = ["segment", "--data", data, "--smoke", "--patch", "8", "--pyramid", "xcit8"];
    assert.equal(
      await main([...argv, "--out", `${dir}/run`, "--backend", "cpu"], io),
      0,
      io.stderr,
    );
    const ev = captureIO();
    const evArgs = ["segment", "--eval", `${dir}/run`, "--data", data, "--out", `${dir}/ev`];
    assert.equal(await main([...evArgs, "--save-pred"], ev), 0, ev.stderr);
    const preds = [...Deno.readDirSync(`${dir}/ev/pred`)].map((e) => e.name).sort();
    const names = [...Deno.readDirSync(`${data}/semantic/val`)].map((e) => e.name).sort();
    assert.deepEqual(preds, names); // one label map per val image, named as its label PNG
    const cmp = captureIO(); // the predictions score as --eval scored them
    const gt = ["--gt", `${data}/semantic/val`, "--pred", `${dir}/ev/pred`, "--reduce-zero-label"];
    assert.equal(await main(["evaluate", "seg", ...gt], cmp), 0, cmp.stderr);
    const evJson = JSON.parse(await Deno.readTextFile(`${dir}/ev/eval.json`));
    assert.equal(JSON.parse(cmp.stdout[0]!).mIoU, evJson.mIoU);
    const bad = captureIO();
    const badArgs = [
      "segment",
      "--data",
      data,
      "--smoke",
      "--pyramid",
      "xcit8",
      "--out",
      `${dir}/b`,
    ];
    assert.equal(await main(badArgs, bad), 2);
    assert.match(bad.stderr, /--pyramid xcit8 needs --patch 8, got 16/);
  });
});

Deno.test("segment --stem conv trains a conv-stem encoder that --eval rebuilds; --stem conv at patch 12 exits 2", async () => {
  await withScenes(async (data, dir) => {
    const io = captureIO();
    const run = smokeRun("segment", data, "--patch 8 --stem conv");
    assert.equal(await main(run(`${dir}/run`, []), io), 0, io.stderr);
    const ck = await loadCheckpoint(`${dir}/run/ckpt_latest.safetensors`);
    const stem = (ck.params as { backbone: { patch_embed: { stem: unknown[] } } }).backbone
      .patch_embed.stem;
    assert.equal(stem.length, 3); // patch 8: three stride-2 stages
    dispose([ck.params, ck.optState, ck.rngKey]);
    const ev = captureIO();
    const evArgs = ["segment", "--eval", `${dir}/run`, "--data", data, "--out", `${dir}/ev`];
    assert.equal(await main(evArgs, ev), 0, ev.stderr);
    const bad = captureIO();
    const badArgs = [
      "segment",
      "--data",
      data,
      "--smoke",
      "--crop",
      "96",
      "--patch",
      "12",
      "--stem",
      "conv",
    ];
    assert.equal(await main([...badArgs, "--out", `${dir}/b`], bad), 2);
    assert.match(bad.stderr, /--stem conv needs a power-of-2 --patch .*got 12/);
  });
});
