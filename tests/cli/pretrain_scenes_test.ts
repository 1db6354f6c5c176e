/**
 * `train.ts pretrain --data DIR` on a dense folder's own images (FMNIST-Scenes `images/train/`,
 * labels unused): every method pre-trains at the images' size (64² here), the checkpoint records
 * that size and the dense tasks' normalisation, and `segment`/`detect --init` fine-tune from it;
 * so does a `finetune --img-size` classifier (the supervised arm); an image folder refuses
 * `--train-subset` (no class labels) and mixed image sizes, naming the flag or the file.
 */
import assert from "node:assert/strict";
import { captureIO } from "../../trainer/io.ts";
import { main } from "../../cli/main.ts";
import { loadCheckpoint } from "../../nn/checkpoint.ts";
import { dispose } from "../../mod.ts";
import { loadImageSplit } from "../../data/image_split.ts";
import { loadSharp } from "../../data/image_folder.ts";
import { withScenes } from "./_dense_helpers.ts";
import { withTempDir } from "./_util.ts";
import { denseStats } from "../../data/dense_stats.ts";

const small = ["--patch", "16", "--dim", "16", "--depth", "1", "--heads", "2", "--batch", "4"];

Deno.test("pretrain on FMNIST-Scenes images: each method at 64², then segment and detect --init it", async () => {
  await withScenes(async (data, dir) => {
    for (const method of ["beit", "splitmask", "dino"]) {
      const io = captureIO();
      const argv = ["pretrain", "--method", method, "--data", data, ...small, "--vocab", "16"];
      const extra = [
        "--steps",
        "2",
        "--warmup",
        "1",
        "--local-size",
        "32",
        "--out",
        `${dir}/${method}`,
      ];
      assert.equal(await main([...argv, ...extra, "--backend", "cpu"], io), 0, io.stderr);
      const final = JSON.parse(io.stdout.at(-1)!);
      assert.equal(final.train_images, 8);
      assert.ok(Number.isFinite(final.loss), `${method} loss ${final.loss}`);
      const ckpt = await loadCheckpoint(`${dir}/${method}/ckpt_latest.safetensors`);
      const cfg = ckpt.config as {
        encoder: { imgSize: number; inChans: number };
        normalize: { mean: number[]; std: number[] };
      };
      dispose([ckpt.params, ckpt.optState, ckpt.rngKey]);
      assert.deepEqual([cfg.encoder.imgSize, cfg.encoder.inChans], [64, 1], method);
      // Normalised as detect and segment will feed the encoder, not with FMNIST's statistics.
      assert.deepEqual(cfg.normalize, denseStats(1), method);
    }
    for (const [command, init] of [["segment", "splitmask"], ["detect", "beit"]]) {
      const io = captureIO();
      const argv = [command!, "--data", data, "--init", `${dir}/${init}`, "--smoke"];
      const extra = ["--steps", "2", "--out", `${dir}/${command}`];
      assert.equal(await main([...argv, ...extra, "--backend", "cpu"], io), 0, io.stderr);
      assert.ok(Number.isFinite(JSON.parse(io.stdout.at(-1)!).train_loss), command);
    }
  }, { train: 8, val: 2 });
});

Deno.test("finetune --img-size 32 --patch 8: a 32² encoder in the checkpoint that segment --init takes", async () => {
  await withScenes(async (data, dir) => {
    const io = captureIO();
    const argv = ["finetune", "--smoke", "--img-size", "32", "--patch", "8", "--out", `${dir}/ft`];
    assert.equal(await main([...argv, "--backend", "cpu"], io), 0, io.stderr);
    const ckpt = await loadCheckpoint(`${dir}/ft/ckpt_latest.safetensors`);
    const enc = (ckpt.config as { encoder: { imgSize: number; patchSize: number } }).encoder;
    const pos = (ckpt.params as { pos_embed?: { shape: number[] } }).pos_embed;
    dispose([ckpt.params, ckpt.optState, ckpt.rngKey]);
    assert.deepEqual([enc.imgSize, enc.patchSize], [32, 8]);
    if (pos) assert.equal(pos.shape[1], 16); // a 4 × 4 grid of patches
    const seg = captureIO();
    const segArgv = ["segment", "--data", data, "--init", `${dir}/ft`, "--smoke", "--steps", "2"];
    assert.equal(
      await main([...segArgv, "--out", `${dir}/seg`, "--backend", "cpu"], seg),
      0,
      seg.stderr,
    );
    assert.match(seg.stderr, /patch 8/);
    assert.ok(Number.isFinite(JSON.parse(seg.stdout.at(-1)!).train_loss));
    // Out of range: a clear usage error naming the flag.
    const bad = captureIO();
    assert.equal(await main(["finetune", "--smoke", "--img-size", "0"], bad), 2);
    assert.match(bad.stderr, /--img-size must be an integer in \[1, 1024\], got "0"/);
  }, { train: 8, val: 2 });
});

Deno.test("pretrain on an image folder: --train-subset and mixed sizes exit 2 naming the cause", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/images/train`, { recursive: true });
    const sharp = await loadSharp();
    const png = async (name: string, w: number, h: number) => {
      const raw = { raw: { width: w, height: h, channels: 3 as const } };
      const bytes = await sharp(new Uint8Array(w * h * 3).fill(90), raw).png().toBuffer();
      await Deno.writeFile(`${dir}/images/train/${name}`, new Uint8Array(bytes));
    };
    for (const n of ["a", "b", "c", "d"]) await png(`${n}.png`, 16, 16);
    assert.equal((await loadImageSplit(dir)).count, 4);
    const run = async (...flags: string[]) => {
      const io = captureIO();
      const argv = ["pretrain", "--data", dir, ...small, "--steps", "1", ...flags];
      return { code: await main([...argv, "--out", `${dir}/run`, "--backend", "cpu"], io), io };
    };
    const subset = await run("--train-subset", "100");
    assert.equal(subset.code, 2);
    assert.match(
      subset.io.stderr,
      /--train-subset 100: .* without class labels; use --train-limit/,
    );
    const limit = await run("--train-limit", "5");
    assert.equal(limit.code, 2);
    assert.match(limit.io.stderr, /--train-limit 5 is more than the 4 training images/);
    const vocab = await run("--vocab", "100"); // 4 images × 1 patch of 16²
    assert.equal(vocab.code, 2);
    assert.match(vocab.io.stderr, /--vocab 100: k-means needs .* give 4 \(patch 16\)/);
    await png("e.png", 16, 8);
    const mixed = await run();
    assert.equal(mixed.code, 2);
    assert.match(mixed.io.stderr, /e\.png is 8×16 but a\.png is 16×16/);
  });
});
