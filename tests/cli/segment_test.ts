/**
 * End-to-end tests of `train.ts segment` on a tiny FMNIST-Scenes folder generated into a temp
 * dir: a short run on cpu (loss falls, mIoU recorded, no leak), `--eval`, and a label PNG with
 * a value above the class count (exit 2 naming the file).
 */
import assert from "node:assert/strict";
import { captureIO } from "../../trainer/io.ts";
import { main } from "../../cli/main.ts";
import { memoryStats } from "../../mod.ts";
import { withScenes } from "./_dense_helpers.ts";
import { readLabelPng, writeLabelPng } from "../../data/label_png.ts";

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
