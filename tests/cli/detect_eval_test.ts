/**
 * `train.ts detect --eval` on a tiny FMNIST-Scenes folder: a short detect run, then its
 * checkpoint scored on val (the same 12 + 12 COCO numbers as the run's own final evaluation,
 * a results JSON that `evaluate coco` reads back to the same AP, a PNG of the predictions, no
 * leak), and clear errors for a missing checkpoint, a non-detect checkpoint, a folder of
 * another shape and missing flags.
 */
import assert from "node:assert/strict";
import { captureIO } from "../../trainer/io.ts";
import { main } from "../../cli/main.ts";
import { memoryStats } from "../../mod.ts";
import { withScenes } from "./_dense_helpers.ts";
import { SCENES_VERSIONS } from "../../data/scenes/scene.ts";
import { loadSharp } from "../../data/image_folder.ts";

Deno.test("detect --eval scores a checkpoint, writes COCO results and a PNG; bad inputs exit 2", async () => {
  await withScenes(async (data, dir) => {
    const run = `${dir}/run`;
    const io0 = captureIO();
    const argv0 = ["detect", "--data", data, "--smoke", "--steps", "4", "--lr", "1e-3"];
    assert.equal(await main([...argv0, "--out", run, "--backend", "cpu"], io0), 0, io0.stderr);
    const trained = JSON.parse(io0.stdout.at(-1)!);

    const before = memoryStats().cpu?.tensors ?? 0;
    const io = captureIO();
    const out = `${dir}/eval`;
    const argv = ["detect", "--eval", run, "--data", data, "--out", out, "--show", "3"];
    assert.equal(await main([...argv, "--backend", "cpu", "--min-score", "0"], io), 0, io.stderr);
    assert.equal(memoryStats().cpu?.tensors ?? 0, before, "detect --eval leaked tensors");
    const r = JSON.parse(io.stdout.at(-1)!);
    assert.deepEqual([r.step, r.val_images], [4, 4]);
    assert.deepEqual(r.bbox, trained.bbox);
    assert.deepEqual(r.segm, trained.segm);
    assert.match(io.stderr, /detect --eval: bbox AP \d+\.\d\d, segm AP \d+\.\d\d/);

    const results = JSON.parse(await Deno.readTextFile(`${out}/detections_val.json`));
    assert.equal(results.length, r.detections);
    assert.ok(results.length > 0);
    assert.equal(typeof results[0].segmentation.counts, "string");
    const ioc = captureIO();
    const gt = `${data}/annotations/instances_val.json`;
    const ev = ["evaluate", "coco", "--gt", gt, "--results", `${out}/detections_val.json`];
    assert.equal(await main([...ev, "--iou-type", "segm"], ioc), 0, ioc.stderr);
    assert.deepEqual(JSON.parse(ioc.stdout.at(-1)!).stats, r.segm);

    const sharp = await loadSharp();
    const meta = await sharp(await Deno.readFile(`${out}/predictions_val.png`)).metadata();
    assert.deepEqual([meta.format, meta.channels], ["png", 3]);
    const side = SCENES_VERSIONS.tiny.canvas * 2;
    assert.deepEqual([meta.width, meta.height], [3 * side + 8, side]);

    const bad = async (args: string[]) => {
      const e = captureIO();
      const code = await main(["detect", ...args], e);
      return { code, err: e.stderr.split("\n")[0]! };
    };
    assert.deepEqual(await bad(["--eval", `${dir}/none`, "--data", data]), {
      code: 2,
      err: `train.ts detect: --eval ${dir}/none: no such file or directory`,
    });
    assert.match((await bad(["--eval", run])).err, /--data DIR is required/);
    assert.match(
      (await bad(["--eval", run, "--data", data, "--bogus"])).err,
      /unknown flag --bogus/,
    );
    const pre = `${dir}/pre`, iop = captureIO();
    assert.equal(await main(["pretrain", "--smoke", "--out", pre, "--backend", "cpu"], iop), 0);
    const notDetect = await bad(["--eval", pre, "--data", data]);
    assert.equal(notDetect.code, 2);
    assert.match(notDetect.err, /--eval .*pre.*: it is not a checkpoint of a detect run/);
    await Deno.writeTextFile(`${data}/annotations/instances_val.json`, "{");
    const broken = await bad(["--eval", run, "--data", data]);
    assert.equal(broken.code, 2);
    assert.match(broken.err, /^train\.ts detect: --data .*fmnist-scenes-tiny: /);
  });
});
