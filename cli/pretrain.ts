/**
 * `train.ts pretrain --method splitmask|beit|dino`: self-supervised pre-training of a ViT
 * encoder on (a class-balanced subset of) the Fashion-MNIST training images, labels unused, or
 * on the training images of a dense folder such as FMNIST-Scenes (`--data DIR` with
 * `images/train/`; one channel, their own size), the target images alone.
 * MIM methods first fit their patch tokenizer on the training images (k-means in tessera ops by
 * default) and save it as `tokenizer.safetensors` in the run directory. Progress on stderr,
 * metrics JSONL and SVG plots, checkpoints every N steps, at the end and on Ctrl-C, `--resume`
 * (bit-identical on the CPU backend: every draw is a function of the seed and the step).
 * The checkpoint's config names the method and the encoder, so `finetune --init` and
 * `probe --init` can load the encoder alone.
 * @module
 */
import { dispose, random } from "../mod.ts";
import { type VitConfig } from "../models/vit.ts";
import type { PatchTokenizer } from "../models/tokenizers.ts";
import { fitTokenizer } from "../models/tokenizers_fit.ts";
import { loadTokenizer, saveTokenizer } from "../models/tokenizer_io.ts";
import { fashionMnistDataset } from "../data/fashion_mnist_dataset.ts";
import type { FashionMnist } from "../data/fashion_mnist.ts";
import { DataLoader } from "../data/loader.ts";
import { resolveSpan, UsageError } from "../trainer/flags.ts";
import { loadSplits, sliceSplit } from "./fmnist.ts";
import { denseImageDir, loadImageSplit } from "../data/image_split.ts";
import { denseStats } from "../data/dense_stats.ts";
import { FASHION_MNIST_MEAN, FASHION_MNIST_STD } from "../data/fashion_mnist_stats.ts";
import { TesseraError } from "../tensor/errors.ts";
import type { CliIO } from "../trainer/io.ts";
import { cliVitConfig } from "../trainer/models.ts";
import { formatDuration } from "../trainer/progress.ts";
import { checkPretrainOptions, PRETRAIN, type PretrainOptions } from "./pretrain_flags.ts";
import { methodRunner } from "../trainer/pretrain_methods.ts";
import { trainCommand } from "./train_command.ts";
import type { Task } from "../trainer/train_loop.ts";

/** A FLOP count with its unit (`3.21 GFLOP`). */
function showFlops(n: number): string {
  const [d, u] = n >= 1e15
    ? [1e15, "P"]
    : n >= 1e12
    ? [1e12, "T"]
    : n >= 1e9
    ? [1e9, "G"]
    : [1e6, "M"];
  return `${(n / d).toPrecision(3)} ${u}FLOP`;
}

/** Fits (or, on resume, reloads) the MIM tokenizer; saved next to the checkpoint. */
async function prepareTokenizer(
  o: PretrainOptions,
  enc: VitConfig,
  split: FashionMnist,
  path: string,
  resuming: boolean,
  io: CliIO,
): Promise<PatchTokenizer> {
  if (resuming) {
    try {
      return await loadTokenizer(path);
    } catch (e) {
      throw new UsageError(`--resume: cannot read the run's tokenizer: ${(e as Error).message}`);
    }
  }
  const t0 = performance.now();
  const key = random.key(o.seed + 1_000_003);
  const patches = split.count * (split.rows / enc.patchSize) * (split.cols / enc.patchSize);
  if (o.tokenizer === "kmeans" && patches < o.vocab) {
    throw new UsageError(
      `--vocab ${o.vocab}: k-means needs at least that many patches, and the ${split.count} ` +
        `training images give ${patches} (patch ${enc.patchSize}); lower --vocab or add images`,
    );
  }
  // Tokens are computed on [0, 1] pixels (the tokenizer's own view), mean-centred patches.
  const opts = { vocabSize: o.vocab, patchSize: enc.patchSize, inChans: enc.inChans };
  let tok: PatchTokenizer;
  try {
    tok = await fitTokenizer(o.tokenizer, key, split.images, {
      ...opts,
      shape: [split.count, 1, split.rows, split.cols],
      iterations: o.kmeansIters,
    });
  } finally {
    key.dispose();
  }
  await saveTokenizer(path, tok, { fitted_on: `${split.count} images of ${split.source}` });
  io.err(
    `pretrain: ${o.tokenizer} tokenizer, vocabulary ${o.vocab}, fitted in ` +
      `${formatDuration((performance.now() - t0) / 1000)}; saved to ${path}\n`,
  );
  return tok;
}

/**
 * The pre-training images: Fashion-MNIST's training file, or the training images of a dense
 * folder (`--data` with `images/train/`, e.g. FMNIST-Scenes: the paper's §5.4 "pre-train on the
 * target images alone"), which have no class labels, so `--train-subset` does not apply to them.
 */
async function pretrainImages(
  o: PretrainOptions,
  given: Partial<PretrainOptions>,
): Promise<FashionMnist> {
  if (o.data === null || (await denseImageDir(o.data)) === null) {
    return (await loadSplits({ ...o, testLimit: 1 })).train;
  }
  if (given.trainSubset !== undefined && given.trainSubset !== null) {
    throw new UsageError(
      `--train-subset ${given.trainSubset}: ${o.data} is an image folder without class ` +
        `labels; use --train-limit`,
    );
  }
  let s: FashionMnist;
  try {
    s = await loadImageSplit(o.data);
  } catch (e) {
    if (e instanceof TesseraError) throw new UsageError(`--data ${o.data}: ${e.message}`);
    throw e;
  }
  if (s.rows !== s.cols) {
    throw new UsageError(
      `--data ${o.data}: images are ${s.rows}×${s.cols}; pre-training needs squares`,
    );
  }
  const held = o.valSplit ?? 0;
  if (held >= s.count) {
    throw new UsageError(
      `--val-split ${held} leaves no training images: ${s.source} has ${s.count}`,
    );
  }
  s = sliceSplit(s, 0, s.count - held);
  if (o.trainLimit !== null && o.trainLimit !== undefined) {
    if (o.trainLimit > s.count) {
      throw new UsageError(
        `--train-limit ${o.trainLimit} is more than the ${s.count} training images of ${s.source}`,
      );
    }
    s = sliceSplit(s, 0, o.trainLimit);
  }
  return s;
}

/** The pretrain {@link Task} of settings `o` (the method's runner inside the shared parts). */
async function pretrainTask(
  o: PretrainOptions,
  given: Partial<PretrainOptions>,
  resuming: boolean,
  backend: string,
  io: CliIO,
) {
  checkPretrainOptions(o);
  const images = await pretrainImages(o, given);
  // Scene images are normalised as detect/segment will feed them to the encoder.
  const dense = o.data !== null && (await denseImageDir(o.data)) !== null;
  const norm = dense ? denseStats(1) : { mean: FASHION_MNIST_MEAN, std: FASHION_MNIST_STD };
  const n = images.count;
  const spe = Math.floor(n / o.batch);
  if (spe < 1) throw new UsageError(`--batch ${o.batch} is larger than the ${n} training images`);
  const total = o.steps ?? Math.max(1, Math.round(o.epochs * spe));
  const warmup = Math.min(resolveSpan(o.warmup, spe), total);
  const ckptEvery = Math.max(1, resolveSpan(o.ckptEvery, spe));
  const encoder: VitConfig = {
    ...cliVitConfig(o.model, o, { dropPath: o.dropPath, numClasses: 0, imgSize: images.rows }),
    classToken: o.clsToken,
  };
  let tokenizer: PatchTokenizer | undefined;
  const runner = methodRunner({
    o,
    encoder,
    total,
    stepsPerEpoch: spe,
    warmup,
    tokenizer: () => tokenizer!,
    norm,
  });
  const task: Task = {
    runName: `pretrain-${o.method}`,
    label: o.method,
    total,
    stepsPerEpoch: spe,
    warmup: resolveSpan(o.warmup, spe),
    ckptEvery,
    template: runner.template,
    config: { method: o.method, encoder, normalize: norm },
    resolved: { warmup_steps: warmup, ckpt_every: ckptEvery, flops_per_step: runner.flopsPerStep },
    data: { source: images.source, train_images: n },
    async open(dir) {
      if (o.method === "dino") return;
      const path = `${dir}/tokenizer.safetensors`;
      tokenizer = await prepareTokenizer(o, encoder, images, path, resuming, io);
    },
    describe: (step, dir) =>
      `pretrain: ${runner.describe}\npretrain: encoder dim ${encoder.embedDim}, depth ` +
      `${encoder.depth}, patch ${encoder.patchSize} on ${backend}; ${n} images from ` +
      `${images.source}; ${total} steps (${(total / spe).toFixed(1)} epochs), batch ${o.batch}, ` +
      `${(runner.flopsPerStep / 1e9).toFixed(2)} GFLOP/step; run directory ${dir}` +
      `${step > 0 ? `; resuming at step ${step}` : ""}\n`,
    init: runner.init,
    loader: (seed) =>
      new DataLoader(fashionMnistDataset(images), {
        batchSize: o.batch,
        seed,
        shuffle: true,
        dropLast: true,
        prefetch: 4,
        transform: runner.transform,
      }),
    step: (s, batch, step, key) => runner.step(s, batch.images, step, key),
    lr: runner.lr,
    summary: ({ steps, loss, lossSteps: [a, b], secondsPerStep }) => ({
      fields: {
        method: o.method,
        train_images: n,
        loss,
        flops_per_step: runner.flopsPerStep,
        // Four significant digits: a short run's 2.5e-7 PFLOP is not rounded to 0.
        pretrain_pflops: Number(((runner.flopsPerStep * steps) / 1e15).toPrecision(4)),
        seconds_per_step: secondsPerStep,
      },
      text: `training loss ${loss} (mean over steps ${a}-${b}); ` +
        `${showFlops(runner.flopsPerStep * steps)} in all`,
    }),
    dispose() {
      runner.dispose();
      if (tokenizer) dispose([tokenizer.codebook, tokenizer.centre]);
    },
  };
  return task;
}

/** The `pretrain` command: parses `argv` and runs the loop. */
export const pretrainCommand = trainCommand(PRETRAIN, (o, saved, backend, given, io) => {
  if (saved && given.method !== undefined && given.method !== saved.method) {
    throw new UsageError(`--method ${given.method}: the checkpoint is of a ${saved.method} run`);
  }
  return pretrainTask(o, given, saved !== null, backend, io);
});
