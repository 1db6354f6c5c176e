/**
 * `train.ts finetune`: trains a ViT classifier on Fashion-MNIST with the BEiT fine-tuning
 * recipe (methods.md §10) scaled to 28×28 images: AdamW, cosine lr with linear warmup,
 * optional layer-wise lr decay, weight-decay mask, stochastic depth, label smoothing,
 * Mixup/CutMix, RandomResizedCrop/flip/RandAugment. Progress on stderr, metrics JSONL and SVG
 * plots in the run directory, checkpoints every N steps and at the end, `--resume`, and
 * Ctrl-C → checkpoint + exit 130.
 *
 * Determinism: every random draw is a function of the seed and the step (init key, data
 * order and augmentation per epoch from the loader's key, dropout/drop-path key
 * `foldIn(key, step)`), so a run resumed from a checkpoint at step k reaches bit-identical
 * parameters to an uninterrupted run on the CPU backend.
 * @module
 */
import { TesseraError } from "../tensor/errors.ts";
import {
  argmax,
  cast,
  dispose,
  equal,
  memoryStats,
  random,
  scope,
  sum,
  type Tensor,
  valueAndGrad,
} from "../mod.ts";
import { crossEntropy } from "../nn/losses.ts";
import { adamw, type AdamWState } from "../nn/optim/adamw.ts";
import { layerDecayScale, weightDecayMask } from "../nn/optim/param_groups.ts";
import { cosineSchedule } from "../nn/optim/schedules.ts";
import { decodeCheckpoint, saveCheckpoint } from "../nn/checkpoint.ts";
import { countParams } from "../nn/init.ts";
import { initVit, type VitConfig, vitForward, type VitParams, vitSpec } from "../models/vit.ts";
import { fashionMnistDataset } from "../data/fashion_mnist_dataset.ts";
import { DataLoader } from "../data/loader.ts";
import { randomHorizontalFlip, randomResizedCrop } from "../data/transforms/geometry.ts";
import { randAugment } from "../data/transforms/rand_augment.ts";
import { mixup } from "../data/transforms/mixup.ts";
import { type Image, normalize, toFloat, type Transform } from "../data/transforms/image.ts";
import { selectBackend } from "./backend.ts";

import { FASHION_MNIST_MEAN, FASHION_MNIST_STD } from "../data/fashion_mnist_stats.ts";
import { loadSplits } from "./fmnist.ts";

import {
  FINETUNE_DEFAULTS,
  FINETUNE_HELP,
  type FinetuneArgs,
  type FinetuneOptions,
  parseFinetuneArgs,
} from "./finetune_args.ts";
import { resolveSpan, UsageError } from "./args.ts";
import { EXIT_INTERRUPTED, StopSignal } from "./interrupt.ts";
import type { CliIO } from "./io.ts";
import { MetricsLog, readMetrics } from "./metrics.ts";
import { cliVitConfig, loadInitEncoder, takeInitEncoder } from "./models.ts";
import { writeRunPlots } from "./plot.ts";
import { formatDuration, Progress } from "./progress.ts";
import { defaultRunDir, prepareRunDir, readResumePoint } from "./run_dir.ts";
import { batchesFrom, RecentLosses, reportStopped } from "./train_loop.ts";

/**
 * Test hooks of {@link runFinetune}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { FinetuneHooks } from "./finetune.ts";
 * const h: FinetuneHooks = { onStep: (step) => void step };
 * assert.deepEqual(typeof h.onStep, "function");
 * ```
 */
export interface FinetuneHooks {
  /** Called after every training step with the step count and the live tensor count. */
  onStep?(step: number, liveTensors: number): void;
  /** Install the SIGINT listener (default true). */
  listenSigint?: boolean;
}

type Opt = ReturnType<typeof adamw>;

function trainTransform(
  o: FinetuneOptions,
): Transform<
  Image,
  Image | { data: Float32Array; channels: number; height: number; width: number }
> {
  const geo: Transform<Image, Image>[] = [];
  if (o.cropScale < 1) {
    geo.push(randomResizedCrop(28, { scale: [o.cropScale, 1], interpolation: "bilinear" }));
  }
  if (o.flip > 0) geo.push(randomHorizontalFlip(o.flip));
  if (o.randaug > 0) {
    geo.push(randAugment({ magnitude: o.randaug, magnitudeStd: 0.5, fill: [0] }));
  }
  return (img, rng) => {
    for (const t of geo) img = t(img, rng);
    return normalize(toFloat(img), FASHION_MNIST_MEAN, FASHION_MNIST_STD);
  };
}

/** Runs `finetune`; returns the exit code (0, or 130 when stopped). */
export async function runFinetune(
  args: FinetuneArgs,
  io: CliIO,
  hooks: FinetuneHooks = {},
): Promise<number> {
  const t0 = performance.now();
  // Settings: defaults ← checkpoint config (on resume) ← flags given now.
  let ckptBytes: Uint8Array | null = null;
  let resumeDir: string | null = null;
  let base: FinetuneOptions = { ...FINETUNE_DEFAULTS };
  let resumeStep = 0;
  if (args.resume) {
    const r = await readResumePoint<FinetuneOptions>(args.resume, "finetune");
    ckptBytes = r.bytes, resumeDir = r.runDir, resumeStep = r.step;
    base = { ...base, ...r.options };
  }
  const o: FinetuneOptions = { ...base, ...args.given };

  const backend = await selectBackend(o.backend, o.threads);

  // Data.
  const splits = await loadSplits(o);
  const nTrain = splits.train.count, nTest = splits.test.count;
  const spe = Math.floor(nTrain / o.batch);
  if (spe < 1) {
    throw new UsageError(`--batch ${o.batch} is larger than the ${nTrain} training images`);
  }
  if ((o.mixup > 0 || o.cutmix > 0) && o.batch % 2 !== 0) {
    throw new UsageError(`--mixup/--cutmix need an even --batch, got ${o.batch}`);
  }
  const total = o.steps ?? Math.max(1, Math.round(o.epochs * spe));
  if (resumeStep > total) {
    throw new UsageError(
      `--resume: the checkpoint is at step ${resumeStep}, past the run's ${total} steps`,
    );
  }
  const warmup = Math.min(resolveSpan(o.warmup, spe), total);
  const evalEvery = Math.max(1, resolveSpan(o.evalEvery, spe));
  const ckptEvery = Math.max(1, resolveSpan(o.ckptEvery, spe));

  // Model and optimizer.
  // The encoder to start from (only for a fresh run: a resumed run has its own weights).
  const pre = o.init !== null && !ckptBytes ? await loadInitEncoder(o.init) : null;
  if (pre) {
    // The model takes the encoder's shape; recorded in the options so --resume rebuilds it.
    const c = pre.config;
    Object.assign(o, {
      patch: c.patchSize,
      dim: c.embedDim,
      depth: c.depth,
      heads: c.numHeads,
      clsToken: c.classToken ?? true,
    });
  }
  const vit: VitConfig = {
    ...cliVitConfig(o.model, o, { dropPath: o.dropPath }),
    classToken: o.clsToken,
  };
  const spec = vitSpec(vit);
  const nParams = countParams(spec);
  const schedule = cosineSchedule({
    base: o.lr,
    final: o.minLr,
    totalSteps: total,
    warmupSteps: warmup,
  });
  const opt: Opt = adamw({
    lr: schedule,
    weightDecay: o.weightDecay,
    weightDecayMask: weightDecayMask(),
    lrScale: o.layerDecay < 1 ? layerDecayScale(vit.depth, o.layerDecay) : undefined,
  });

  // Run directory, metrics.
  const dir = args.out ?? resumeDir ?? defaultRunDir("finetune");
  const paths = await prepareRunDir(dir, args.resume !== null);
  const config = { command: "finetune", options: o };

  let root: Tensor, params: VitParams, state: AdamWState, step: number;
  if (ckptBytes) {
    let ck;
    try {
      ck = decodeCheckpoint(ckptBytes, { params: spec, optState: { count: 0, m: spec, v: spec } });
    } catch (e) {
      throw new UsageError(`--resume ${args.resume}: ${(e as Error).message}`);
    }
    params = ck.params as VitParams;
    state = ck.optState as AdamWState;
    step = ck.step;
    if (!ck.rngKey) throw new UsageError(`--resume ${args.resume}: the checkpoint has no RNG key`);
    root = ck.rngKey;
  } else {
    root = random.key(o.seed);
    params = scope(() => initVit(random.foldIn(root, 0), vit));
    if (pre) params = takeInitEncoder(params, pre);
    state = opt.init(params);
    step = 0;
  }
  const [dataKey, dropKey] = scope(() => [random.foldIn(root, 1), random.foldIn(root, 2)]);

  const mixOn = o.mixup > 0 || o.cutmix > 0;
  const trainLoader = new DataLoader(fashionMnistDataset(splits.train), {
    batchSize: o.batch,
    seed: dataKey,
    shuffle: true,
    dropLast: true,
    prefetch: 4,
    numClasses: 10,
    transform: trainTransform(o),
    batchTransform: mixOn
      ? mixup({
        numClasses: 10,
        mixupAlpha: o.mixup,
        cutmixAlpha: o.cutmix,
        labelSmoothing: o.labelSmoothing,
      })
      : undefined,
  });
  const testLoader = new DataLoader(fashionMnistDataset(splits.test), {
    batchSize: 500,
    seed: 0,
    shuffle: false,
    prefetch: 1,
    transform: (img: Image) => normalize(toFloat(img), FASHION_MNIST_MEAN, FASHION_MNIST_STD),
  });

  const log = await MetricsLog.open(paths.metrics);
  const progress = new Progress(io, { total, every: o.logEvery, label: "finetune", start: step });
  const stop = new StopSignal(io, { listen: hooks.listenSigint ?? true });
  const recent = new RecentLosses();
  let lastEval: { step: number; test_accuracy: number; test_loss: number } | null = null;
  let lastCkptStep = -1;
  try {
    log.write({
      type: "config",
      ...config,
      ...(args.resume ? { resume_step: step, resumed_from: args.resume } : {}),
      resolved: {
        total_steps: total,
        steps_per_epoch: spe,
        warmup_steps: warmup,
        eval_every: evalEvery,
        ckpt_every: ckptEvery,
        vit,
        params: nParams,
        ...(pre ? { init: { path: pre.path, method: pre.method, step: pre.step } } : {}),
      },
      backend,
      data: { source: splits.train.source, train_images: nTrain, test_images: nTest },
      run_dir: paths.dir,
      started: new Date().toISOString(),
    });
    io.err(
      `finetune: ${o.model} (${(nParams / 1e6).toFixed(2)}M params, patch ${vit.patchSize}, ` +
        `dim ${vit.embedDim}, depth ${vit.depth}) on ${backend}; ${nTrain} train / ${nTest} test ` +
        `images from ${splits.train.source}\n` +
        `finetune: ${total} steps (${
          (total / spe).toFixed(2)
        } epochs of ${spe}), batch ${o.batch}, ` +
        `run directory ${paths.dir}${step > 0 ? `; resuming at step ${step}` : ""}\n` +
        (pre ? `finetune: encoder from ${pre.path} (${pre.method}, step ${pre.step})\n` : ""),
    );

    const lossFn = (p: VitParams, x: Tensor, target: Tensor, key: Tensor) =>
      crossEntropy(vitForward(p, x, vit, { train: true, key }), target, {
        labelSmoothing: mixOn ? 0 : o.labelSmoothing,
      });
    const gradFn = valueAndGrad(lossFn);

    const evaluate = async (): Promise<{ test_accuracy: number; test_loss: number } | null> => {
      let hits = 0, lossSum = 0;
      for await (const batch of testLoader.epoch(0)) {
        try {
          const [h, l] = scope(() => {
            const logits = vitForward(params, batch.images, vit);
            return [
              sum(cast(equal(argmax(logits, -1), batch.labels), "float32")),
              crossEntropy(logits, batch.labels, { reduction: "sum" }),
            ];
          });
          hits += await h!.item(), lossSum += await l!.item();
          dispose([h, l]);
        } finally {
          batch.dispose();
        }
        if (stop.requested) return null;
      }
      return { test_accuracy: hits / nTest, test_loss: lossSum / nTest };
    };

    const runEval = async () => {
      const r = await evaluate();
      if (!r) return;
      lastEval = { step, ...r };
      log.write({ type: "eval", step, epoch: step / spe, ...r });
      progress.log(
        `eval  step ${step}/${total}  test top-1 ${(r.test_accuracy * 100).toFixed(2)}%  ` +
          `test loss ${r.test_loss.toFixed(4)}  elapsed ${formatDuration(progress.elapsed)}`,
      );
      await writeRunPlots(paths.dir, await readMetrics(paths.metrics));
    };

    const checkpoint = async () => {
      await saveCheckpoint(paths.checkpoint, {
        params,
        optState: state,
        step,
        rngKey: root,
        config,
      });
      lastCkptStep = step;
      log.write({ type: "checkpoint", step, path: paths.checkpoint });
    };

    for await (
      const batch of batchesFrom(trainLoader, spe, step, () => stop.requested || step >= total)
    ) {
      const lr = schedule(step);
      const out = scope(() => {
        const key = random.foldIn(dropKey, step);
        const [loss, grads] = gradFn(params, batch.images, batch.targets ?? batch.labels, key);
        const next = opt.update(grads, state, params);
        return { loss, params: next.params, state: next.state };
      });
      batch.dispose();
      dispose([params, state]);
      params = out.params, state = out.state;
      const loss = await out.loss.item();
      out.loss.dispose();
      step++;
      if (!Number.isFinite(loss)) {
        throw new TesseraError(
          "finetune",
          `the training loss became ${loss} at step ${step}; lower --lr?`,
        );
      }
      recent.push(loss);
      log.write({ type: "train", step, epoch: step / spe, loss, lr });
      progress.update(step, { loss, lr, epoch: Math.floor((step - 1) / spe) + 1 });
      hooks.onStep?.(
        step,
        memoryStats()[params.patch_embed.proj.weight.backend.name]?.tensors ?? 0,
      );
      if (args.stopAfter !== null && step >= args.stopAfter) stop.request("--stop-after");
      if (step % evalEvery === 0 || step === total) await runEval();
      if (step % ckptEvery === 0 && step < total) {
        await checkpoint();
        await writeRunPlots(paths.dir, await readMetrics(paths.metrics));
      }
    }
    progress.done();
    if (lastCkptStep !== step) await checkpoint();
    if (stop.requested) {
      log.write({ type: "interrupt", step, reason: stop.reason });
      await writeRunPlots(paths.dir, await readMetrics(paths.metrics));
      reportStopped(io, "finetune", stop.reason, step, total, paths.checkpoint);
      return EXIT_INTERRUPTED;
    }
    const ev = lastEval as { step: number; test_accuracy: number; test_loss: number } | null;
    const final = {
      command: "finetune",
      model: o.model,
      params: nParams,
      steps: step,
      epochs: Number((step / spe).toFixed(3)),
      train_images: nTrain,
      test_images: nTest,
      train_loss: recent.mean(),
      test_loss: ev ? Number(ev.test_loss.toFixed(5)) : null,
      test_accuracy: ev ? Number(ev.test_accuracy.toFixed(4)) : null,
      seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
      backend,
      run_dir: paths.dir,
      checkpoint: paths.checkpoint,
    };
    log.write({ type: "final", ...final });
    await writeRunPlots(paths.dir, await readMetrics(paths.metrics));
    io.err(
      `finetune: done in ${formatDuration(final.seconds)}; test top-1 ` +
        `${ev ? (ev.test_accuracy * 100).toFixed(2) : "?"}% on ${nTest} images\n`,
    );
    io.out(JSON.stringify(final));
    return 0;
  } finally {
    stop.dispose();
    log.close();
    dispose([params, state, root, dataKey, dropKey]);
  }
}

/** The `finetune` command: parses `argv` and runs. */
export async function finetuneCommand(
  argv: string[],
  io: CliIO,
  hooks?: FinetuneHooks,
): Promise<number> {
  const args = parseFinetuneArgs(argv);
  if (args === "help") {
    io.out(FINETUNE_HELP);
    return 0;
  }
  return await runFinetune(args, io, hooks);
}
