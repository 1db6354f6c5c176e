/**
 * Settings, defaults, `--help` and flag parsing of `train.ts pretrain` (the run loop is in
 * `pretrain.ts`, the methods in `pretrain_methods.ts`). Defaults follow BEiT (SplitMask, BEiT)
 * and DINO (methods.md §6, §9), scaled to 28×28 Fashion-MNIST images with 7×7 patches; the
 * choices the paper leaves open are recorded in docs/RESULTS.md.
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

/** The pre-training methods. */
export const PRETRAIN_METHODS = ["splitmask", "beit", "dino"] as const;
/** A pre-training method. */
export type PretrainMethodName = typeof PRETRAIN_METHODS[number];

/**
 * Every setting of a pretrain run; stored in the checkpoint so `--resume` continues with it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PRETRAIN_DEFAULTS } from "./pretrain_args.ts";
 * assert.deepEqual([PRETRAIN_DEFAULTS.method, PRETRAIN_DEFAULTS.vocab], ["splitmask", 256]);
 * ```
 */
export interface PretrainOptions {
  /** splitmask, beit or dino. */
  method: PretrainMethodName;
  /** `cpu`, `webgpu`, or null for `$TESSERA_BACKEND` / the default. */
  backend: "cpu" | "webgpu" | null;
  /** IDX folder or null. */
  data: string | null;
  /** First N training images (null = all). */
  trainLimit: number | null;
  /** Class-balanced subset of N training images (overrides trainLimit). */
  trainSubset: number | null;
  /** Model preset and shape overrides. */
  model: string;
  /** Patch side override. */
  patch: number | null;
  /** Width override. */
  dim: number | null;
  /** Depth override. */
  depth: number | null;
  /** Heads override. */
  heads: number | null;
  /** Prepend a CLS token (needed by DINO). */
  clsToken: boolean;
  /** Stochastic depth of the encoder. */
  dropPath: number;
  /** Total steps (overrides epochs). */
  steps: number | null;
  /** Epochs. */
  epochs: number;
  /** Batch size. */
  batch: number;
  /** Peak lr (null = the method's default). */
  lr: number | null;
  /** Final lr of the cosine. */
  minLr: number;
  /** Warmup span. */
  warmup: string;
  /** Weight decay at the start (null = method default: 0.05 MIM, 0.04 DINO). */
  weightDecay: number | null;
  /** Weight decay at the end (cosine; null = method default: same for MIM, 0.4 DINO). */
  weightDecayEnd: number | null;
  /** Gradient clipping: global norm (MIM) or per tensor (DINO); 0 = off. */
  clipGrad: number;
  /** MIM: tokenizer kind. */
  tokenizer: "kmeans" | "random-projection" | "random-patches";
  /** MIM: vocabulary size. */
  vocab: number;
  /** MIM: k-means iterations. */
  kmeansIters: number;
  /** MIM: masked fraction (null = 0.4 BEiT, 0.5 SplitMask). */
  maskRatio: number | null;
  /** SplitMask: "both", "inpaint" or "match" (Table 8). */
  splitmaskMode: "both" | "inpaint" | "match";
  /** SplitMask: decoder depth. */
  decoderDepth: number;
  /** SplitMask: InfoNCE temperature. */
  tau: number;
  /** MIM augmentation: RandomResizedCrop minimum area. */
  cropScale: number;
  /** MIM augmentation: brightness/contrast jitter strength (0 = off). */
  jitter: number;
  /** Horizontal flip probability (MIM). */
  flip: number;
  /** DINO: prototypes K. */
  outDim: number;
  /** DINO: head hidden width. */
  hiddenDim: number;
  /** DINO: head bottleneck width. */
  bottleneckDim: number;
  /** DINO: local crops. */
  localCrops: number;
  /** DINO: local crop side. */
  localSize: number;
  /** DINO: teacher temperature after warm-up. */
  teacherTemp: number;
  /** DINO: teacher temperature at the start of the warm-up. */
  warmupTeacherTemp: number;
  /** DINO: teacher-temperature warm-up epochs. */
  teacherTempEpochs: number;
  /** DINO: base EMA momentum of the teacher. */
  momentumTeacher: number;
  /** DINO: epochs with the last layer frozen. */
  freezeLastLayer: number;
  /** Seed. */
  seed: number;
  /** Checkpoint period (span). */
  ckptEvery: string;
  /** Progress line period (steps). */
  logEvery: number;
  /** CPU matmul threads. */
  threads: number | null;
}

/** Defaults of `pretrain`. */
export const PRETRAIN_DEFAULTS: Readonly<PretrainOptions> = Object.freeze({
  method: "splitmask",
  backend: null,
  data: null,
  trainLimit: null,
  trainSubset: 4000,
  model: "vit-tiny-fmnist",
  patch: null,
  dim: null,
  depth: null,
  heads: null,
  clsToken: true,
  dropPath: 0.1,
  steps: null,
  epochs: 100,
  batch: 64,
  lr: null,
  minLr: 1e-5,
  warmup: "10ep",
  weightDecay: null,
  weightDecayEnd: null,
  clipGrad: 3,
  tokenizer: "kmeans",
  vocab: 256,
  kmeansIters: 20,
  maskRatio: null,
  splitmaskMode: "both",
  decoderDepth: 2,
  tau: 0.2,
  cropScale: 0.4,
  jitter: 0.4,
  flip: 0.5,
  outDim: 1024,
  hiddenDim: 256,
  bottleneckDim: 64,
  localCrops: 6,
  localSize: 14,
  teacherTemp: 0.04,
  warmupTeacherTemp: 0.04,
  teacherTempEpochs: 0,
  momentumTeacher: 0.996,
  freezeLastLayer: 1,
  seed: 0,
  ckptEvery: "10ep",
  logEvery: 50,
  threads: null,
});

/** The method-dependent defaults (peak lr, weight decay start/end, masked fraction). */
export function methodDefaults(
  m: PretrainMethodName,
): { lr: number; weightDecay: number; weightDecayEnd: number; maskRatio: number } {
  return m === "dino"
    ? { lr: 5e-4, weightDecay: 0.04, weightDecayEnd: 0.4, maskRatio: 0 }
    : { lr: 1.5e-3, weightDecay: 0.05, weightDecayEnd: 0.05, maskRatio: m === "beit" ? 0.4 : 0.5 };
}

/** `--help` of `pretrain`. */
export const PRETRAIN_HELP =
  `train.ts pretrain — self-supervised pre-training of a ViT encoder on Fashion-MNIST

Usage: deno run -A train.ts pretrain --method splitmask|beit|dino [flags]
Progress on stderr, one JSON line of final metrics on stdout; the run directory gets
metrics.jsonl, loss.svg, lr.svg, ckpt_latest.safetensors (and tokenizer.safetensors for MIM).
Fine-tune the result with: train.ts finetune --init <run dir>; probe it with: train.ts probe --init <run dir>

Method and data:
  --method NAME          splitmask (default), beit or dino
  --train-subset N       class-balanced subset of N training images (default 4000)
  --train-limit N|all    use the first N training images instead (no balancing)
  --data DIR  --out DIR  --resume PATH  --backend cpu|webgpu  --threads N   as in finetune
Model (the encoder that finetune --init loads):
  --model NAME  --patch N --dim N --depth N --heads N   (default vit-tiny-fmnist)
  --no-cls-token         no CLS token (BEiT/SplitMask only)
  --drop-path X          stochastic depth (default 0.1)
Optimisation (AdamW β=(0.9,0.999), cosine lr and weight decay, linear warmup):
  --epochs X | --steps N (default 100 epochs)   --batch N (default 64)
  --lr X                 peak lr (default 1.5e-3 SplitMask/BEiT, 5e-4 DINO)   --min-lr X (1e-5)
  --warmup N|Xep         (default 10ep)
  --weight-decay X  --weight-decay-end X   (default 0.05/0.05; DINO 0.04/0.4)
  --clip-grad X          global norm (MIM) / per tensor (DINO), 0 = off (default 3)
  --seed N               (default 0)
SplitMask and BEiT (masked image modelling on patch tokens):
  --tokenizer kmeans|random-projection|random-patches   (default kmeans)
  --vocab N              vocabulary (default 256)   --kmeans-iters N (default 20)
  --mask-ratio X         masked fraction (default 0.4 BEiT, 0.5 SplitMask)
  --splitmask-mode both|inpaint|match   Table 8 ablations (default both)
  --decoder-depth N      SplitMask decoder blocks (default 2)   --tau X  InfoNCE τ (default 0.2)
  --crop-scale X  --jitter X  --flip P     augmentation (default 0.4, 0.4, 0.5)
DINO:
  --out-dim K  --hidden-dim N  --bottleneck-dim N   head (default 1024, 256, 64)
  --local-crops N  --local-size N                   (default 6 crops of 14×14)
  --teacher-temp X  --warmup-teacher-temp X  --teacher-temp-epochs N  (default 0.04, 0.04, 0)
  --momentum-teacher X   (default 0.996)   --freeze-last-layer N  epochs (default 1)
Logging:
  --ckpt-every N|Xep (default 10ep)   --log-every N (default 50)   -h, --help
Exit codes: 0 done, 1 failed, 2 bad flags or data, 130 interrupted (checkpoint written).`;

type Conv<K extends keyof PretrainOptions> = (name: string, v: string) => PretrainOptions[K];
const pos = (n: string, x: string) => intFlag(n, x, { min: 1 });
const nonNeg = (n: string, x: string) => intFlag(n, x, { min: 0 });
const posNum = (n: string, x: string) => numFlag(n, x, { min: 0, above: true });
const unit = (n: string, x: string) => numFlag(n, x, { min: 0, max: 1 });

/** flag → [option key, converter]. */
const FLAGS: { [flag: string]: [keyof PretrainOptions, Conv<keyof PretrainOptions>] } = {
  method: ["method", (n, x) => choiceFlag(n, x, PRETRAIN_METHODS)],
  backend: ["backend", (n, x) => choiceFlag(n, x, ["cpu", "webgpu"] as const)],
  data: ["data", (n, x) => {
    if (x.trim() === "") throw new UsageError(`--${n} needs a directory`);
    return x;
  }],
  "train-limit": ["trainLimit", limitFlag],
  "train-subset": ["trainSubset", pos],
  model: ["model", (n, x) => choiceFlag(n, x, Object.keys(CLI_MODELS))],
  patch: ["patch", pos],
  dim: ["dim", pos],
  depth: ["depth", pos],
  heads: ["heads", pos],
  "drop-path": ["dropPath", (n, x) => numFlag(n, x, { min: 0, max: 0.99 })],
  steps: ["steps", pos],
  epochs: ["epochs", posNum],
  batch: ["batch", (n, x) => intFlag(n, x, { min: 2 })],
  lr: ["lr", posNum],
  "min-lr": ["minLr", (n, x) => numFlag(n, x, { min: 0 })],
  warmup: ["warmup", (n, x) => spanFlag(n, x, { allowZero: true })],
  "weight-decay": ["weightDecay", (n, x) => numFlag(n, x, { min: 0 })],
  "weight-decay-end": ["weightDecayEnd", (n, x) => numFlag(n, x, { min: 0 })],
  "clip-grad": ["clipGrad", (n, x) => numFlag(n, x, { min: 0 })],
  tokenizer: [
    "tokenizer",
    (n, x) => choiceFlag(n, x, ["kmeans", "random-projection", "random-patches"] as const),
  ],
  vocab: ["vocab", (n, x) => intFlag(n, x, { min: 2, max: 65536 })],
  "kmeans-iters": ["kmeansIters", pos],
  "mask-ratio": ["maskRatio", (n, x) => numFlag(n, x, { min: 0, max: 1, above: true })],
  "splitmask-mode": [
    "splitmaskMode",
    (n, x) => choiceFlag(n, x, ["both", "inpaint", "match"] as const),
  ],
  "decoder-depth": ["decoderDepth", pos],
  tau: ["tau", posNum],
  "crop-scale": ["cropScale", (n, x) => numFlag(n, x, { min: 0, max: 1, above: true })],
  jitter: ["jitter", (n, x) => numFlag(n, x, { min: 0, max: 1 })],
  flip: ["flip", unit],
  "out-dim": ["outDim", (n, x) => intFlag(n, x, { min: 2 })],
  "hidden-dim": ["hiddenDim", pos],
  "bottleneck-dim": ["bottleneckDim", pos],
  "local-crops": ["localCrops", nonNeg],
  "local-size": ["localSize", pos],
  "teacher-temp": ["teacherTemp", posNum],
  "warmup-teacher-temp": ["warmupTeacherTemp", posNum],
  "teacher-temp-epochs": ["teacherTempEpochs", nonNeg],
  "momentum-teacher": ["momentumTeacher", unit],
  "freeze-last-layer": ["freezeLastLayer", nonNeg],
  seed: ["seed", (n, x) => intFlag(n, x, { min: 0, max: 2 ** 31 - 1 })],
  "ckpt-every": ["ckptEvery", (n, x) => spanFlag(n, x)],
  "log-every": ["logEvery", pos],
  threads: ["threads", (n, x) => intFlag(n, x, { min: 1, max: 256 })],
};

/**
 * A parsed `pretrain` command line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePretrainArgs } from "./pretrain_args.ts";
 * const a = parsePretrainArgs(["--method", "beit", "--steps", "5"]);
 * assert.deepEqual(a !== "help" && a.given, { method: "beit", steps: 5 });
 * ```
 */
export interface PretrainArgs {
  /** Settings given on the command line. */
  given: Partial<PretrainOptions>;
  /** `--out`. */
  out: string | null;
  /** `--resume`. */
  resume: string | null;
  /** Hidden `--stop-after N` (tests). */
  stopAfter: number | null;
}

/** Parses `pretrain` flags ({@link UsageError} on anything wrong). */
export function parsePretrainArgs(argv: string[]): PretrainArgs | "help" {
  const decls: Record<string, { type: "string" | "boolean"; short?: string }> = {
    out: { type: "string" },
    resume: { type: "string" },
    "stop-after": { type: "string" },
    "no-cls-token": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  };
  for (const f of Object.keys(FLAGS)) decls[f] = { type: "string" };
  const v = parseFlags(argv, decls);
  if (v.help) return "help";
  const given: Partial<PretrainOptions> = {};
  for (const [flag, [key, conv]] of Object.entries(FLAGS)) {
    const raw = v[flag];
    if (typeof raw === "string") (given as Record<string, unknown>)[key] = conv(flag, raw);
  }
  if (v["no-cls-token"]) given.clsToken = false;
  if (v.steps !== undefined && v.epochs !== undefined) {
    throw new UsageError("give --steps or --epochs, not both");
  }
  if (v.epochs !== undefined) given.steps = null;
  if (v["train-limit"] !== undefined && v["train-subset"] === undefined) given.trainSubset = null;
  const str = (k: string, what: string) => {
    const s = v[k];
    if (typeof s === "string" && s.trim() === "") throw new UsageError(`--${k} needs ${what}`);
    return typeof s === "string" ? s : null;
  };
  const stop = v["stop-after"];
  return {
    given,
    out: str("out", "a directory"),
    resume: str("resume", "a checkpoint file or run directory"),
    stopAfter: typeof stop === "string" ? intFlag("stop-after", stop, { min: 1 }) : null,
  };
}

/**
 * Checks the combination of settings (things single flags cannot check).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkPretrainOptions, PRETRAIN_DEFAULTS } from "./pretrain_args.ts";
 * assert.throws(() => checkPretrainOptions({ ...PRETRAIN_DEFAULTS, method: "dino", clsToken: false }), {
 *   message: "--method dino needs the CLS token (drop --no-cls-token)",
 * });
 * ```
 */
export function checkPretrainOptions(o: PretrainOptions): void {
  if (o.method === "dino" && !o.clsToken) {
    throw new UsageError("--method dino needs the CLS token (drop --no-cls-token)");
  }
  if (
    o.method === "dino" && o.localCrops > 0 &&
    o.localSize % (o.patch ?? CLI_MODELS[o.model]!.patch) !== 0
  ) {
    throw new UsageError(
      `--local-size ${o.localSize} is not a multiple of the patch size ${
        o.patch ?? CLI_MODELS[o.model]!.patch
      }`,
    );
  }
}
