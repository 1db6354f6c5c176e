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
import {
  argmax,
  cast,
  dispose,
  equal,
  memoryStats,
  random,
  scope,
  setBackend,
  setCpuThreads,
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
import { loadFashionMnist } from "../data/fashion_mnist.ts";
import { fashionMnistDataset } from "../data/fashion_mnist_dataset.ts";
import { DataLoader } from "../data/loader.ts";
import { randomHorizontalFlip, randomResizedCrop } from "../data/transforms/geometry.ts";
import { randAugment } from "../data/transforms/rand_augment.ts";
import { mixup } from "../data/transforms/mixup.ts";
import { type Image, normalize, toFloat, type Transform } from "../data/transforms/image.ts";
import { initBackendFromEnv } from "../tensor/webgpu/env.ts";
import { initWebGPU } from "../tensor/webgpu/mod.ts";
import {
  choiceFlag,
  intFlag,
  limitFlag,
  numFlag,
  parseFlags,
  resolveSpan,
  spanFlag,
  UsageError,
} from "./args.ts";
import { EXIT_INTERRUPTED, StopSignal } from "./interrupt.ts";
import type { CliIO } from "./io.ts";
import { MetricsLog, readMetrics } from "./metrics.ts";
import { CLI_MODELS, cliVitConfig } from "./models.ts";
import { writeRunPlots } from "./plot.ts";
import { formatDuration, Progress } from "./progress.ts";
import { defaultRunDir, prepareRunDir, resolveResume } from "./run_dir.ts";

/** Fashion-MNIST pixel statistics (train split): mean 0.2860, std 0.3530. */
const MEAN = [0.2860], STD = [0.3530];

/**
 * Every setting of a finetune run; stored as the run's config (first metrics record and the
 * checkpoint's `config`), so `--resume` continues with the same settings.
 *
 * @example
 * ```ts
 * import { FINETUNE_DEFAULTS } from "./finetune.ts";
 * console.log(FINETUNE_DEFAULTS.model, FINETUNE_DEFAULTS.batch); // "vit-tiny-fmnist" 64
 * ```
 */
export interface FinetuneOptions {
  /** `cpu`, `webgpu`, or null for `$TESSERA_BACKEND` / the default. */
  backend: "cpu" | "webgpu" | null;
  /** Fashion-MNIST folder, or null for the default search. */
  data: string | null;
  /** Training images (null = all). */
  trainLimit: number | null;
  /** Test images (null = all). */
  testLimit: number | null;
  /** Model preset. */
  model: string;
  /** Preset overrides. */
  patch: number | null;
  /** Preset overrides. */
  dim: number | null;
  /** Preset overrides. */
  depth: number | null;
  /** Preset overrides. */
  heads: number | null;
  /** Total steps (overrides `epochs`). */
  steps: number | null;
  /** Epochs (when `steps` is null). */
  epochs: number;
  /** Batch size. */
  batch: number;
  /** Peak learning rate. */
  lr: number;
  /** Final learning rate of the cosine. */
  minLr: number;
  /** Warmup (span: steps or `<x>ep`). */
  warmup: string;
  /** AdamW weight decay. */
  weightDecay: number;
  /** Layer-wise lr decay (1 = off). */
  layerDecay: number;
  /** Stochastic depth rate. */
  dropPath: number;
  /** Label smoothing ε. */
  labelSmoothing: number;
  /** Mixup Beta α (0 = off). */
  mixup: number;
  /** CutMix Beta α (0 = off). */
  cutmix: number;
  /** RandomResizedCrop minimum area fraction (1 = no crop). */
  cropScale: number;
  /** Horizontal flip probability. */
  flip: number;
  /** RandAugment magnitude (0 = off). */
  randaug: number;
  /** Seed of every random draw. */
  seed: number;
  /** Evaluation period (span). */
  evalEvery: string;
  /** Checkpoint period (span). */
  ckptEvery: string;
  /** Plain progress line period (steps). */
  logEvery: number;
  /** CPU matmul threads (null = default). */
  threads: number | null;
}

/** Defaults of `finetune` (the main job when train.ts runs with no arguments). */
export const FINETUNE_DEFAULTS: Readonly<FinetuneOptions> = Object.freeze({
  backend: null,
  data: null,
  trainLimit: 4000,
  testLimit: 1000,
  model: "vit-tiny-fmnist",
  patch: null,
  dim: null,
  depth: null,
  heads: null,
  steps: null,
  epochs: 25,
  batch: 64,
  lr: 3e-3,
  minLr: 1e-6,
  warmup: "1ep",
  weightDecay: 0.05,
  layerDecay: 1,
  dropPath: 0,
  labelSmoothing: 0.1,
  mixup: 0,
  cutmix: 0,
  cropScale: 0.8,
  flip: 0.5,
  randaug: 0,
  seed: 0,
  evalEvery: "1ep",
  ckptEvery: "1ep",
  logEvery: 50,
  threads: null,
});

/** `--help` of `finetune`. */
export const FINETUNE_HELP =
  `train.ts finetune — train a ViT classifier on Fashion-MNIST (BEiT recipe)

Usage: deno run -A train.ts finetune [flags]
Progress goes to stderr, one JSON line of final metrics to stdout; the run directory gets
metrics.jsonl, loss.svg, lr.svg, accuracy.svg and ckpt_latest.safetensors.

Data and run:
  --data DIR             IDX folder (default: Debian's fashion-mnist, else the bundled sample)
  --train-limit N|all    training images (default 4000)   --test-limit N|all  (default 1000)
  --out DIR              run directory (default runs/finetune-<timestamp>)
  --resume PATH          continue a run from its checkpoint file or run directory
  --backend cpu|webgpu   (default: $TESSERA_BACKEND, else cpu)   --threads N  matmul threads
Model:
  --model NAME           ${
    Object.entries(CLI_MODELS).map(([k, v]) => `${k} (${v.summary})`).join(
      "\n                         ",
    )
  }
  --patch N --dim N --depth N --heads N     override the preset's shape
  --drop-path X          stochastic depth rate (default 0)
Optimisation (AdamW, cosine lr with linear warmup):
  --epochs X | --steps N run length (default 25 epochs)
  --batch N              batch size (default 64)
  --lr X  --min-lr X     peak and final learning rate (default 3e-3, 1e-6)
  --warmup N|Xep         warmup steps, or epochs with "ep" (default 1ep)
  --weight-decay X       decoupled weight decay (default 0.05; none on norms, biases, pos_embed)
  --layer-decay X        BEiT layer-wise lr decay, 1 = off (default 1)
  --label-smoothing X    (default 0.1)
  --mixup A --cutmix A   Mixup / CutMix Beta α, 0 = off (default 0, 0; batch must be even)
  --crop-scale X         RandomResizedCrop minimum area, 1 = off (default 0.8)
  --flip P               horizontal flip probability (default 0.5)
  --randaug M            RandAugment magnitude (timm rand-mM-mstd0.5), 0 = off (default 0)
  --seed N               seed of init, data order, augmentation and dropout (default 0)
Logging and checkpoints:
  --eval-every N|Xep     test-set evaluation period (default 1ep)
  --ckpt-every N|Xep     checkpoint period (default 1ep; also at the end and on Ctrl-C)
  --log-every N          progress line period when stderr is not a terminal (default 50)
  -h, --help             this help
Exit codes: 0 done, 1 failed, 2 bad flags or data, 130 interrupted (checkpoint written).`;

const DECLS = {
  backend: { type: "string" },
  data: { type: "string" },
  "train-limit": { type: "string" },
  "test-limit": { type: "string" },
  out: { type: "string" },
  resume: { type: "string" },
  threads: { type: "string" },
  model: { type: "string" },
  patch: { type: "string" },
  dim: { type: "string" },
  depth: { type: "string" },
  heads: { type: "string" },
  "drop-path": { type: "string" },
  epochs: { type: "string" },
  steps: { type: "string" },
  batch: { type: "string" },
  lr: { type: "string" },
  "min-lr": { type: "string" },
  warmup: { type: "string" },
  "weight-decay": { type: "string" },
  "layer-decay": { type: "string" },
  "label-smoothing": { type: "string" },
  mixup: { type: "string" },
  cutmix: { type: "string" },
  "crop-scale": { type: "string" },
  flip: { type: "string" },
  randaug: { type: "string" },
  seed: { type: "string" },
  "eval-every": { type: "string" },
  "ckpt-every": { type: "string" },
  "log-every": { type: "string" },
  "stop-after": { type: "string" }, // hidden: stop as if Ctrl-C came after step N (tests)
  help: { type: "boolean", short: "h" },
} as const;

/**
 * A parsed `finetune` command line: the settings given explicitly (the rest come from the
 * defaults or, with `--resume`, from the checkpoint) and the per-invocation flags.
 *
 * @example
 * ```ts
 * import { parseFinetuneArgs } from "./finetune.ts";
 * const a = parseFinetuneArgs(["--steps", "20", "--lr", "1e-3"]);
 * console.log(a !== "help" && a.given); // { steps: 20, lr: 0.001 }
 * ```
 */
export interface FinetuneArgs {
  /** Settings given on the command line. */
  given: Partial<FinetuneOptions>;
  /** `--out`. */
  out: string | null;
  /** `--resume`. */
  resume: string | null;
  /** Hidden `--stop-after N`. */
  stopAfter: number | null;
}

/** Parses `finetune` flags ({@link UsageError} on anything wrong). */
export function parseFinetuneArgs(argv: string[]): FinetuneArgs | "help" {
  const v = parseFlags(argv, DECLS) as Record<string, string | undefined> & { help?: boolean };
  if (v.help) return "help";
  const g: Partial<FinetuneOptions> = {};
  const s = (k: string) => v[k];
  const set = <K extends keyof FinetuneOptions>(
    key: K,
    flag: string,
    conv: (name: string, value: string) => FinetuneOptions[K],
  ) => {
    const raw = s(flag);
    if (raw !== undefined) g[key] = conv(flag, raw);
  };
  const pos = (n: string, x: string) => intFlag(n, x, { min: 1 });
  const unit = (n: string, x: string) => numFlag(n, x, { min: 0, max: 1 });
  set("backend", "backend", (n, x) => choiceFlag(n, x, ["cpu", "webgpu"] as const));
  set("data", "data", (n, x) => {
    if (x.trim() === "") throw new UsageError(`--${n} needs a directory`);
    return x;
  });
  set("trainLimit", "train-limit", limitFlag);
  set("testLimit", "test-limit", limitFlag);
  set("threads", "threads", (n, x) => intFlag(n, x, { min: 1, max: 256 }));
  set("model", "model", (n, x) => choiceFlag(n, x, Object.keys(CLI_MODELS)));
  set("patch", "patch", pos);
  set("dim", "dim", pos);
  set("depth", "depth", pos);
  set("heads", "heads", pos);
  set("dropPath", "drop-path", (n, x) => numFlag(n, x, { min: 0, max: 0.99 }));
  set("epochs", "epochs", (n, x) => numFlag(n, x, { min: 0, above: true }));
  set("steps", "steps", pos);
  set("batch", "batch", pos);
  set("lr", "lr", (n, x) => numFlag(n, x, { min: 0, above: true }));
  set("minLr", "min-lr", (n, x) => numFlag(n, x, { min: 0 }));
  set("warmup", "warmup", (n, x) => spanFlag(n, x, { allowZero: true }));
  set("weightDecay", "weight-decay", (n, x) => numFlag(n, x, { min: 0 }));
  set("layerDecay", "layer-decay", (n, x) => numFlag(n, x, { min: 0, max: 1, above: true }));
  set("labelSmoothing", "label-smoothing", (n, x) => numFlag(n, x, { min: 0, max: 0.99 }));
  set("mixup", "mixup", (n, x) => numFlag(n, x, { min: 0 }));
  set("cutmix", "cutmix", (n, x) => numFlag(n, x, { min: 0 }));
  set("cropScale", "crop-scale", (n, x) => numFlag(n, x, { min: 0, max: 1, above: true }));
  set("flip", "flip", unit);
  set("randaug", "randaug", (n, x) => numFlag(n, x, { min: 0, max: 10 }));
  set("seed", "seed", (n, x) => intFlag(n, x, { min: 0, max: 2 ** 31 - 1 }));
  set("evalEvery", "eval-every", (n, x) => spanFlag(n, x));
  set("ckptEvery", "ckpt-every", (n, x) => spanFlag(n, x));
  set("logEvery", "log-every", pos);
  if (v.steps !== undefined && v.epochs !== undefined) {
    throw new UsageError("give --steps or --epochs, not both");
  }
  if (v.epochs !== undefined) g.steps = null;
  const out = s("out");
  if (out !== undefined && out.trim() === "") throw new UsageError("--out needs a directory");
  const resume = s("resume");
  if (resume !== undefined && resume.trim() === "") {
    throw new UsageError("--resume needs a checkpoint file or run directory");
  }
  const stop = s("stop-after");
  return {
    given: g,
    out: out ?? null,
    resume: resume ?? null,
    stopAfter: stop === undefined ? null : intFlag("stop-after", stop, { min: 1 }),
  };
}

/**
 * Test hooks of {@link runFinetune}.
 *
 * @example
 * ```ts
 * import type { FinetuneHooks } from "./finetune.ts";
 * const h: FinetuneHooks = { onStep: (step) => void step };
 * console.log(typeof h.onStep); // "function"
 * ```
 */
export interface FinetuneHooks {
  /** Called after every training step with the step count and the live tensor count. */
  onStep?(step: number, liveTensors: number): void;
  /** Install the SIGINT listener (default true). */
  listenSigint?: boolean;
}

type Opt = ReturnType<typeof adamw>;

async function loadSplits(o: FinetuneOptions) {
  if (o.data !== null) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(o.data);
    } catch {
      throw new UsageError(`--data ${o.data}: no such directory`);
    }
    if (!info.isDirectory) throw new UsageError(`--data ${o.data}: not a directory`);
  }
  const dir = o.data ?? undefined;
  const load = async (split: "train" | "test", limit: number | null) => {
    try {
      return await loadFashionMnist({ split, dir, limit: limit ?? undefined });
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new UsageError(o.data === null ? msg : `--data ${o.data}: ${msg}`);
    }
  };
  return { train: await load("train", o.trainLimit), test: await load("test", o.testLimit) };
}

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
    return normalize(toFloat(img), MEAN, STD);
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
    const r = await resolveResume(args.resume);
    resumeDir = r.runDir;
    try {
      ckptBytes = await Deno.readFile(r.file);
      const peek = decodeCheckpoint(ckptBytes);
      dispose([peek.params, peek.optState, peek.rngKey]);
      const cfg = peek.config as { command?: string; options?: FinetuneOptions } | null;
      if (!cfg || cfg.command !== "finetune" || !cfg.options) {
        throw new Error("it is not a checkpoint of a finetune run (no finetune config)");
      }
      base = { ...base, ...cfg.options };
      resumeStep = peek.step;
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`--resume ${r.file}: ${(e as Error).message}`);
    }
  }
  const o: FinetuneOptions = { ...base, ...args.given };

  // Backend and threads.
  let backend: string;
  try {
    if (o.backend === "webgpu") {
      const gpu = await initWebGPU();
      setBackend("webgpu");
      backend = `webgpu (${gpu.description || gpu.vendor || "adapter"})`;
    } else if (o.backend === "cpu") {
      setBackend("cpu");
      backend = "cpu";
    } else backend = await initBackendFromEnv();
  } catch (e) {
    throw new UsageError(
      `--backend ${o.backend ?? "(from TESSERA_BACKEND)"}: ${(e as Error).message}`,
    );
  }
  if (o.threads !== null) setCpuThreads(o.threads);

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
  const vit: VitConfig = cliVitConfig(o.model, o, { dropPath: o.dropPath });
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
    transform: (img: Image) => normalize(toFloat(img), MEAN, STD),
  });

  const log = await MetricsLog.open(paths.metrics);
  const progress = new Progress(io, { total, every: o.logEvery, label: "finetune", start: step });
  const stop = new StopSignal(io, { listen: hooks.listenSigint ?? true });
  const recent: number[] = [];
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
        `run directory ${paths.dir}${step > 0 ? `; resuming at step ${step}` : ""}\n`,
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

    outer: while (step < total && !stop.requested) {
      const epoch = Math.floor(step / spe);
      const skip = step - epoch * spe;
      let b = 0;
      for await (const batch of trainLoader.epoch(epoch)) {
        if (b++ < skip) {
          batch.dispose();
          continue;
        }
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
          throw new Error(`the training loss became ${loss} at step ${step}; lower --lr?`);
        }
        recent.push(loss);
        if (recent.length > 50) recent.shift();
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
        if (stop.requested || step >= total) break outer;
      }
    }
    progress.done();
    if (lastCkptStep !== step) await checkpoint();
    if (stop.requested) {
      log.write({ type: "interrupt", step, reason: stop.reason });
      await writeRunPlots(paths.dir, await readMetrics(paths.metrics));
      io.err(
        `finetune: stopped (${stop.reason}) at step ${step}/${total}; checkpoint ` +
          `${paths.checkpoint}\nresume with: deno run -A train.ts finetune --resume ${paths.checkpoint}\n`,
      );
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
      train_loss: Number(
        (recent.reduce((a, c) => a + c, 0) / Math.max(1, recent.length)).toFixed(5),
      ),
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
