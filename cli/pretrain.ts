/**
 * `train.ts pretrain --method splitmask|beit|dino`: self-supervised pre-training of a ViT
 * encoder on (a class-balanced subset of) the Fashion-MNIST training images, labels unused.
 * MIM methods first fit their patch tokenizer on the training images (k-means in tessera ops by
 * default) and save it as `tokenizer.safetensors` in the run directory. Progress on stderr,
 * metrics JSONL and SVG plots, checkpoints every N steps, at the end and on Ctrl-C, `--resume`
 * (bit-identical on the CPU backend: every draw is a function of the seed and the step).
 * The checkpoint's config names the method and the encoder, so `finetune --init` and
 * `probe --init` can load the encoder alone.
 * @module
 */
import { dispose, random, type Tensor, tensor } from "../mod.ts";
import { type VitConfig } from "../models/vit.ts";
import { kmeansTokenizer } from "../models/kmeans.ts";
import {
  type PatchTokenizer,
  randomPatchTokenizer,
  randomProjectionTokenizer,
} from "../models/tokenizers.ts";
import { loadTokenizer, saveTokenizer } from "../models/tokenizer_io.ts";
import { fashionMnistDataset } from "../data/fashion_mnist_dataset.ts";
import type { FashionMnist } from "../data/fashion_mnist.ts";
import { DataLoader } from "../data/loader.ts";
import { defaultsOf, helpText, parseCommand, resolveSpan, UsageError } from "./args.ts";
import { loadSplits } from "./fmnist.ts";
import type { CliIO } from "./io.ts";
import { cliVitConfig } from "./models.ts";
import { formatDuration } from "./progress.ts";
import { checkPretrainOptions, PRETRAIN, type PretrainOptions } from "./pretrain_flags.ts";
import { methodRunner } from "./pretrain_methods.ts";
import { type Task, train, type TrainHooks } from "./train_loop.ts";

/** The training images as one float tensor `[N, 1, H, W]` in [0, 1] (tokenizer fitting). */
function imagesTensor(split: FashionMnist): Tensor {
  const data = new Float32Array(split.images.length);
  for (let i = 0; i < data.length; i++) data[i] = split.images[i]! / 255;
  return tensor(data, { shape: [split.count, 1, split.rows, split.cols] });
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
  // Tokens are computed on [0, 1] pixels (the tokenizer's own view), mean-centred patches.
  const opts = { vocabSize: o.vocab, patchSize: enc.patchSize, inChans: enc.inChans };
  let tok: PatchTokenizer;
  try {
    if (o.tokenizer === "random-projection") tok = randomProjectionTokenizer(key, opts);
    else {
      const images = imagesTensor(split);
      try {
        tok = o.tokenizer === "kmeans"
          ? (await kmeansTokenizer(key, images, { ...opts, iterations: o.kmeansIters })).tokenizer
          : await randomPatchTokenizer(key, images, opts);
      } finally {
        images.dispose();
      }
    }
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

/** The pretrain {@link Task} of settings `o` (the method's runner inside the shared parts). */
async function pretrainTask(o: PretrainOptions, resuming: boolean, backend: string, io: CliIO) {
  checkPretrainOptions(o);
  const images = (await loadSplits({ ...o, testLimit: 1 })).train;
  const n = images.count;
  const spe = Math.floor(n / o.batch);
  if (spe < 1) throw new UsageError(`--batch ${o.batch} is larger than the ${n} training images`);
  const total = o.steps ?? Math.max(1, Math.round(o.epochs * spe));
  const warmup = Math.min(resolveSpan(o.warmup, spe), total);
  const ckptEvery = Math.max(1, resolveSpan(o.ckptEvery, spe));
  const encoder: VitConfig = {
    ...cliVitConfig(o.model, o, { dropPath: o.dropPath, numClasses: 0 }),
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
  });
  const task: Task = {
    runName: `pretrain-${o.method}`,
    label: o.method,
    total,
    stepsPerEpoch: spe,
    ckptEvery,
    template: runner.template,
    config: { method: o.method, encoder },
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
    summary: ({ steps, loss, secondsPerStep }) => ({
      fields: {
        method: o.method,
        train_images: n,
        loss,
        flops_per_step: runner.flopsPerStep,
        pretrain_pflops: Number(((runner.flopsPerStep * steps) / 1e15).toFixed(4)),
        seconds_per_step: secondsPerStep,
      },
      text: `final loss ${loss}`,
    }),
    dispose() {
      if (tokenizer) dispose([tokenizer.codebook, tokenizer.centre]);
    },
  };
  return task;
}

/** The `pretrain` command: parses `argv` and runs the loop. */
export async function pretrainCommand(
  argv: string[],
  io: CliIO,
  hooks?: TrainHooks,
): Promise<number> {
  const p = parseCommand(PRETRAIN, argv);
  if (p === "help") {
    io.out(helpText(PRETRAIN));
    return 0;
  }
  return await train({
    command: "pretrain",
    defaults: defaultsOf(PRETRAIN.flags),
    given: p.given,
    io,
    hooks,
    build(o, saved, backend) {
      if (saved && p.given.method !== undefined && p.given.method !== saved.method) {
        throw new UsageError(
          `--method ${p.given.method}: the checkpoint is of a ${saved.method} run`,
        );
      }
      return pretrainTask(o, saved !== null, backend, io);
    },
  });
}
