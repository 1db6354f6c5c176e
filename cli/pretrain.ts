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
import { TesseraError } from "../tensor/errors.ts";
import { dispose, memoryStats, random, scope, type Tensor, tensor } from "../mod.ts";
import { decodeCheckpoint, saveCheckpoint } from "../nn/checkpoint.ts";
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
import { resolveSpan, UsageError } from "./args.ts";
import { selectBackend } from "./backend.ts";
import { loadSplits } from "./fmnist.ts";
import { EXIT_INTERRUPTED, StopSignal } from "./interrupt.ts";
import type { CliIO } from "./io.ts";
import { MetricsLog, readMetrics } from "./metrics.ts";
import { cliVitConfig } from "./models.ts";
import { writeRunPlots } from "./plot.ts";
import { formatDuration, Progress } from "./progress.ts";
import { defaultRunDir, prepareRunDir, readResumePoint } from "./run_dir.ts";
import {
  checkPretrainOptions,
  parsePretrainArgs,
  PRETRAIN_DEFAULTS,
  PRETRAIN_HELP,
  type PretrainArgs,
  type PretrainOptions,
} from "./pretrain_args.ts";
import { disposeLogs, methodRunner } from "./pretrain_methods.ts";
import { batchesFrom, RecentLosses, reportStopped } from "./train_loop.ts";

/**
 * Test hooks of {@link runPretrain}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { PretrainHooks } from "./pretrain.ts";
 * const h: PretrainHooks = { onStep: (step) => void step };
 * assert.deepEqual(typeof h.onStep, "function");
 * ```
 */
export interface PretrainHooks {
  /** After every step: the step count and the live tensors of the backend. */
  onStep?(step: number, liveTensors: number): void;
  /** Install the SIGINT listener (default true). */
  listenSigint?: boolean;
}

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

/** Runs `pretrain`; returns the exit code (0, or 130 when stopped). */
export async function runPretrain(
  args: PretrainArgs,
  io: CliIO,
  hooks: PretrainHooks = {},
): Promise<number> {
  const t0 = performance.now();
  let ckptBytes: Uint8Array | null = null, resumeDir: string | null = null;
  let base: PretrainOptions = { ...PRETRAIN_DEFAULTS };
  if (args.resume) {
    const r = await readResumePoint<PretrainOptions>(args.resume, "pretrain");
    ckptBytes = r.bytes, resumeDir = r.runDir;
    base = { ...base, ...r.options };
    if (args.given.method !== undefined && args.given.method !== base.method) {
      throw new UsageError(
        `--method ${args.given.method}: the checkpoint is of a ${base.method} run`,
      );
    }
  }
  const o: PretrainOptions = { ...base, ...args.given };
  checkPretrainOptions(o);
  const backend = await selectBackend(o.backend, o.threads);

  const { train } = await loadSplits({ ...o, testLimit: 1 });
  const n = train.count;
  const spe = Math.floor(n / o.batch);
  if (spe < 1) throw new UsageError(`--batch ${o.batch} is larger than the ${n} training images`);
  const total = o.steps ?? Math.max(1, Math.round(o.epochs * spe));
  const warmup = Math.min(resolveSpan(o.warmup, spe), total);
  const ckptEvery = Math.max(1, resolveSpan(o.ckptEvery, spe));
  const encoder: VitConfig = {
    ...cliVitConfig(o.model, o, { dropPath: o.dropPath, numClasses: 0 }),
    classToken: o.clsToken,
  };

  const dir = args.out ?? resumeDir ?? defaultRunDir(`pretrain-${o.method}`);
  const paths = await prepareRunDir(dir, args.resume !== null);
  const tokPath = `${paths.dir}/tokenizer.safetensors`;
  const tokenizer = o.method === "dino"
    ? undefined
    : await prepareTokenizer(o, encoder, train, tokPath, ckptBytes !== null, io);
  const runner = methodRunner({ o, encoder, total, stepsPerEpoch: spe, warmup, tokenizer });
  const config = { command: "pretrain", method: o.method, options: o, encoder };

  let root: Tensor, params: unknown, opt: unknown, step: number;
  if (ckptBytes) {
    let ck;
    try {
      ck = decodeCheckpoint(ckptBytes, {
        params: runner.paramsTemplate,
        optState: runner.optTemplate,
      });
    } catch (e) {
      throw new UsageError(`--resume ${args.resume}: ${(e as Error).message}`);
    }
    if (!ck.rngKey) throw new UsageError(`--resume ${args.resume}: the checkpoint has no RNG key`);
    params = ck.params, opt = ck.optState, step = ck.step, root = ck.rngKey;
    if (step > total) {
      throw new UsageError(`--resume: the checkpoint is at step ${step}, past the run's ${total}`);
    }
  } else {
    root = random.key(o.seed);
    const k = random.foldIn(root, 0);
    ({ params, opt } = runner.init(k));
    k.dispose();
    step = 0;
  }
  const [dataKey, stepRoot] = scope(() => [random.foldIn(root, 1), random.foldIn(root, 2)]);
  const loader = new DataLoader(fashionMnistDataset(train), {
    batchSize: o.batch,
    seed: dataKey,
    shuffle: true,
    dropLast: true,
    prefetch: 4,
    transform: runner.transform,
  });

  const log = await MetricsLog.open(paths.metrics);
  const progress = new Progress(io, { total, every: o.logEvery, label: o.method, start: step });
  const stop = new StopSignal(io, { listen: hooks.listenSigint ?? true });
  const recent = new RecentLosses();
  let lastCkpt = -1, stepSeconds = 0, timedSteps = 0;
  try {
    log.write({
      type: "config",
      ...config,
      ...(args.resume ? { resume_step: step, resumed_from: args.resume } : {}),
      resolved: {
        total_steps: total,
        steps_per_epoch: spe,
        warmup_steps: warmup,
        ckpt_every: ckptEvery,
        flops_per_step: runner.flopsPerStep,
      },
      backend,
      data: { source: train.source, train_images: n },
      run_dir: paths.dir,
      started: new Date().toISOString(),
    });
    io.err(
      `pretrain: ${runner.describe}\npretrain: encoder dim ${encoder.embedDim}, depth ` +
        `${encoder.depth}, patch ${encoder.patchSize} on ${backend}; ${n} images from ` +
        `${train.source}; ${total} steps (${(total / spe).toFixed(1)} epochs), batch ${o.batch}, ` +
        `${(runner.flopsPerStep / 1e9).toFixed(2)} GFLOP/step; run directory ${paths.dir}` +
        `${step > 0 ? `; resuming at step ${step}` : ""}\n`,
    );
    const checkpoint = async () => {
      await saveCheckpoint(paths.checkpoint, { params, optState: opt, step, rngKey: root, config });
      lastCkpt = step;
      log.write({ type: "checkpoint", step, path: paths.checkpoint });
    };
    for await (
      const batch of batchesFrom(loader, spe, step, () => stop.requested || step >= total)
    ) {
      const ts = performance.now();
      const key = random.foldIn(stepRoot, step);
      let r;
      try {
        r = await runner.step(params, opt, batch.images, step, key);
      } finally {
        key.dispose();
        batch.dispose();
      }
      dispose([params, opt]);
      params = r.params, opt = r.opt;
      const loss = await r.loss.item();
      const logs: Record<string, number> = {};
      for (const [k, t] of Object.entries(r.logs)) logs[k] = await t.item();
      disposeLogs(r);
      stepSeconds += (performance.now() - ts) / 1000, timedSteps++;
      const lr = runner.lr(step);
      step++;
      if (!Number.isFinite(loss)) {
        throw new TesseraError(
          "pretrain",
          `the ${o.method} loss became ${loss} at step ${step}; lower --lr?`,
        );
      }
      recent.push(loss);
      log.write({ type: "train", step, epoch: step / spe, loss, lr, ...logs });
      progress.update(step, { loss, lr, epoch: Math.floor((step - 1) / spe) + 1 });
      hooks.onStep?.(step, memoryStats()[root.backend.name]?.tensors ?? 0);
      if (args.stopAfter !== null && step >= args.stopAfter) stop.request("--stop-after");
      if (step % ckptEvery === 0 && step < total) {
        await checkpoint();
        await writeRunPlots(paths.dir, await readMetrics(paths.metrics));
      }
    }
    progress.done();
    if (lastCkpt !== step) await checkpoint();
    await writeRunPlots(paths.dir, await readMetrics(paths.metrics));
    if (stop.requested) {
      log.write({ type: "interrupt", step, reason: stop.reason });
      reportStopped(io, "pretrain", stop.reason, step, total, paths.checkpoint);
      return EXIT_INTERRUPTED;
    }
    const final = {
      command: "pretrain",
      method: o.method,
      steps: step,
      epochs: Number((step / spe).toFixed(3)),
      train_images: n,
      loss: recent.mean(),
      flops_per_step: runner.flopsPerStep,
      pretrain_pflops: Number(((runner.flopsPerStep * step) / 1e15).toFixed(4)),
      seconds_per_step: Number((stepSeconds / Math.max(1, timedSteps)).toFixed(4)),
      seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
      backend,
      run_dir: paths.dir,
      checkpoint: paths.checkpoint,
    };
    log.write({ type: "final", ...final });
    io.err(`pretrain: done in ${formatDuration(final.seconds)}; final loss ${final.loss}\n`);
    io.out(JSON.stringify(final));
    return 0;
  } finally {
    stop.dispose();
    log.close();
    dispose([params, opt, root, dataKey, stepRoot]);
    if (tokenizer) dispose([tokenizer.codebook, tokenizer.centre]);
  }
}

/** The `pretrain` command: parses `argv` and runs. */
export async function pretrainCommand(
  argv: string[],
  io: CliIO,
  hooks?: PretrainHooks,
): Promise<number> {
  const args = parsePretrainArgs(argv);
  if (args === "help") {
    io.out(PRETRAIN_HELP);
    return 0;
  }
  return await runPretrain(args, io, hooks);
}
