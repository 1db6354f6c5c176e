/**
 * Settings, defaults, `--help` and flag parsing of `train.ts finetune` (the run loop is in
 * `finetune.ts`).
 * @module
 */
import {
  choiceFlag,
  intFlag,
  limitFlag,
  numFlag,
  parseFlags,
  spanFlag,
  UsageError,
} from "./args.ts";
import { CLI_MODELS } from "./models.ts";

/**
 * Every setting of a finetune run; stored as the run's config (first metrics record and the
 * checkpoint's `config`), so `--resume` continues with the same settings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FINETUNE_DEFAULTS } from "./finetune_args.ts";
 * assert.deepEqual([FINETUNE_DEFAULTS.model, FINETUNE_DEFAULTS.batch], ["vit-tiny-fmnist", 64]);
 * ```
 */
export interface FinetuneOptions {
  /** `cpu`, `webgpu`, or null for `$TESSERA_BACKEND` / the default. */
  backend: "cpu" | "webgpu" | null;
  /** Fashion-MNIST folder, or null for the default search. */
  data: string | null;
  /** Training images (null = all). */
  trainLimit: number | null;
  /** Class-balanced training subset (first N/10 per class; overrides trainLimit). */
  trainSubset: number | null;
  /** Checkpoint (file or run dir) whose encoder initialises the model, or null. */
  init: string | null;
  /** Prepend a CLS token (pooling stays the mean of the patch tokens). */
  clsToken: boolean;
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
  trainSubset: null,
  init: null,
  clsToken: false,
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
  --train-subset N       class-balanced subset instead: the first N/10 images of each class
  --init PATH            start from the encoder of a pretrain (or finetune) checkpoint / run dir;
                         the model shape comes from it, the head and fc_norm are new
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
  --cls-token            prepend a CLS token (pooling stays the patch-token mean)
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
  "train-subset": { type: "string" },
  init: { type: "string" },
  "cls-token": { type: "boolean" },
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
 * import assert from "node:assert/strict";
 * import { parseFinetuneArgs } from "./finetune_args.ts";
 * const a = parseFinetuneArgs(["--steps", "20", "--lr", "1e-3"]);
 * assert.deepEqual(a !== "help" && a.given, { steps: 20, lr: 0.001 });
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
  const v = parseFlags(argv, DECLS) as Record<string, string | undefined> & {
    help?: boolean;
    "cls-token"?: boolean;
  };
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
  set("trainSubset", "train-subset", pos);
  set("init", "init", (n, x) => {
    if (x.trim() === "") throw new UsageError(`--${n} needs a checkpoint file or run directory`);
    return x;
  });
  if (v["cls-token"]) g.clsToken = true;
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
