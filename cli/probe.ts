/**
 * `train.ts probe`: linear probe of a frozen ViT encoder on Fashion-MNIST. The encoder comes
 * from a `pretrain` or `finetune` checkpoint (`--init`), or is randomly initialised
 * (`--init none`, the "random features" control). Features of one block are extracted once in
 * eval mode, average-pooled over the patch tokens (or the CLS token), and a multinomial
 * logistic regression ({@link trainSoftmaxRegression}: standardised features, weight decay,
 * L-BFGS to convergence) is trained on them. Progress on stderr, one JSON line on stdout.
 * @module
 */
import { dispose, mean, random, scope, slice, tensor } from "../mod.ts";
import { initVit, type VitConfig, vitForwardFeatures, type VitParams } from "../models/vit.ts";
import type { FashionMnist } from "../data/fashion_mnist.ts";
import { selectBackend } from "./backend.ts";
import { loadSplits } from "./fmnist.ts";
import { choiceFlag, intFlag, limitFlag, numFlag, parseFlags, UsageError } from "./args.ts";

import type { CliIO } from "./io.ts";
import { FASHION_MNIST_MEAN, FASHION_MNIST_STD } from "../data/fashion_mnist_stats.ts";
import { CLI_MODELS, cliVitConfig, loadInitEncoder } from "./models.ts";
import { fitAndScore } from "./fit_and_score.ts";

const MEAN = FASHION_MNIST_MEAN[0]!, STD = FASHION_MNIST_STD[0]!;

/** `--help` of `probe`. */
export const PROBE_HELP = `train.ts probe — linear probe of a frozen ViT encoder on Fashion-MNIST

Usage: deno run -A train.ts probe --init <checkpoint file | run dir | none> [flags]

Features of block L, average-pooled over the patch tokens, are extracted once; a softmax
regression (standardised features, weight decay, L-BFGS to convergence) is trained on them.

  --init PATH|none       pretrain/finetune checkpoint or run directory; none = random encoder
  --layer L              block 1..depth (default: the last, with the encoder's final norm)
  --pool avg|cls         patch-token mean (default) or the CLS token
  --train-subset N       class-balanced subset: the first N/10 images of each class
  --train-limit N|all    first N training images (default 4000)
  --test-limit N|all     test images (default all)
  --data DIR             IDX folder (default: Debian's fashion-mnist, else the bundled sample)
  --weight-decay X       L2 on the probe weights (default 1e-2)
  --max-iter N           L-BFGS iterations at most (default 1000)
  --backend cpu|webgpu   (default: $TESSERA_BACKEND, else cpu)   --threads N  matmul threads
  --out DIR              also write the result to DIR/probe.json
  --log-every N          progress line every N iterations (default 50)
With --init none only (random-init encoder of that shape):
  --model NAME           ${Object.keys(CLI_MODELS).join(", ")} (default vit-tiny-fmnist)
  --patch N --dim N --depth N --heads N   override the preset's shape
  --cls-token            prepend a CLS token
  --seed N               init seed (default 0)
  -h, --help             this help

Prints progress on stderr and one JSON line of results on stdout.`;

/**
 * Options of a probe run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseProbeArgs } from "./probe.ts";
 * const o = parseProbeArgs(["--init", "none", "--layer", "2"]);
 * assert.deepEqual(o !== "help" && [o.init, o.layer, o.testLimit], ["none", 2, null]);
 * ```
 */
export interface ProbeOptions {
  /** Checkpoint file or run directory, or "none". */
  init: string;
  /** 1-based block, or null for the last. */
  layer: number | null;
  /** Pooling of the tokens. */
  pool: "avg" | "cls";
  /** Balanced subset size (null = use `trainLimit`). */
  trainSubset: number | null;
  /** First N training images (null = all). */
  trainLimit: number | null;
  /** Test images (null = all). */
  testLimit: number | null;
  /** Data folder (null = default search). */
  data: string | null;
  /** Probe weight decay. */
  weightDecay: number;
  /** L-BFGS iteration cap. */
  maxIter: number;
  /** Backend (null = environment/default). */
  backend: "cpu" | "webgpu" | null;
  /** CPU matmul threads (null = default). */
  threads: number | null;
  /** Result folder. */
  out: string | null;
  /** Progress period (iterations). */
  logEvery: number;
  /** Random encoder preset (`--init none`). */
  model: string;
  /** Shape overrides (`--init none`). */
  patch: number | null;
  /** Shape overrides (`--init none`). */
  dim: number | null;
  /** Shape overrides (`--init none`). */
  depth: number | null;
  /** Shape overrides (`--init none`). */
  heads: number | null;
  /** CLS token (`--init none`). */
  clsToken: boolean;
  /** Init seed (`--init none`). */
  seed: number;
}

const SHAPE_FLAGS = ["model", "patch", "dim", "depth", "heads", "cls-token", "seed"] as const;

/** Parses `probe` flags ({@link UsageError} on anything wrong). */
export function parseProbeArgs(argv: string[]): ProbeOptions | "help" {
  const decl = { type: "string" } as const;
  const v = parseFlags(argv, {
    init: decl,
    layer: decl,
    pool: decl,
    "train-subset": decl,
    "train-limit": decl,
    "test-limit": decl,
    data: decl,
    "weight-decay": decl,
    "max-iter": decl,
    backend: decl,
    threads: decl,
    out: decl,
    "log-every": decl,
    model: decl,
    patch: decl,
    dim: decl,
    depth: decl,
    heads: decl,
    "cls-token": { type: "boolean" },
    seed: decl,
    help: { type: "boolean", short: "h" },
  }) as Record<string, string | undefined> & { help?: boolean; "cls-token"?: boolean };
  if (v.help) return "help";
  if (v.init === undefined || v.init.trim() === "") {
    throw new UsageError("--init is required: a checkpoint file, a run directory or none");
  }
  if (v.init !== "none") {
    const given = SHAPE_FLAGS.find((k) => v[k] !== undefined);
    if (given) throw new UsageError(`--${given} only applies with --init none`);
  }
  if (v["train-subset"] !== undefined && v["train-limit"] !== undefined) {
    throw new UsageError("give --train-subset or --train-limit, not both");
  }
  const int = (k: string, min = 1) => v[k] === undefined ? null : intFlag(k, v[k]!, { min });
  const subset = int("train-subset", 10);
  if (subset !== null && subset % 10 !== 0) {
    throw new UsageError(`--train-subset must be a multiple of 10, got "${v["train-subset"]}"`);
  }
  for (const k of ["data", "out"]) {
    if (v[k] !== undefined && v[k]!.trim() === "") throw new UsageError(`--${k} needs a directory`);
  }
  return {
    init: v.init,
    layer: int("layer"),
    pool: v.pool === undefined ? "avg" : choiceFlag("pool", v.pool, ["avg", "cls"] as const),
    trainSubset: subset,
    trainLimit: v["train-limit"] === undefined ? 4000 : limitFlag("train-limit", v["train-limit"]),
    testLimit: v["test-limit"] === undefined ? null : limitFlag("test-limit", v["test-limit"]),
    data: v.data ?? null,
    weightDecay: v["weight-decay"] === undefined
      ? 1e-2
      : numFlag("weight-decay", v["weight-decay"], { min: 0 }),
    maxIter: int("max-iter") ?? 1000,
    backend: v.backend === undefined
      ? null
      : choiceFlag("backend", v.backend, ["cpu", "webgpu"] as const),
    threads: v.threads === undefined ? null : intFlag("threads", v.threads, { min: 1, max: 256 }),
    out: v.out ?? null,
    logEvery: int("log-every") ?? 50,
    model: v.model === undefined ? "vit-tiny-fmnist" : choiceFlag(
      "model",
      v.model,
      Object.keys(CLI_MODELS),
    ),
    patch: int("patch"),
    dim: int("dim"),
    depth: int("depth"),
    heads: int("heads"),
    clsToken: v["cls-token"] ?? false,
    seed: int("seed", 0) ?? 0,
  };
}

/**
 * Frozen features of `images` (uint8 `[n, 28·28]`): block `layer` (1-based) of the encoder,
 * pooled over the patch tokens ("avg", CLS excluded) or the CLS token ("cls"); the last block
 * gets the encoder's final `norm` when it has one. Batches of `batch` images, each in a
 * `scope`, so nothing but the parameters stays alive. Returns `[n, D]` on the host.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { extractFeatures } from "./probe.ts";
 * import { initVit } from "../models/vit.ts";
 * import { dispose, random } from "../mod.ts";
 * const cfg = { imgSize: 28, patchSize: 7, inChans: 1, numClasses: 0, embedDim: 8, depth: 2, numHeads: 2 };
 * const params = initVit(random.key(0), cfg);
 * const f = await extractFeatures(params, cfg, new Uint8Array(3 * 784), { layer: 1 });
 * assert.deepEqual(f.length, 24);
 * dispose(params);
 * ```
 */
export async function extractFeatures(
  params: VitParams,
  config: VitConfig,
  images: Uint8Array,
  opts: { layer: number; pool?: "avg" | "cls"; batch?: number; onBatch?(done: number): void },
): Promise<Float32Array> {
  const n = images.length / 784, d = config.embedDim, bs = opts.batch ?? 500;
  const depth = opts.layer, pool = opts.pool ?? "avg";
  const prefix = params.cls_token ? 1 : 0;
  if (pool === "cls" && !prefix) throw new UsageError("--pool cls: the encoder has no CLS token");
  const sub: VitParams = {
    ...params,
    blocks: params.blocks.slice(0, depth),
    norm: depth === config.depth ? params.norm : undefined,
  };
  const cfg: VitConfig = { ...config, depth };
  const out = new Float32Array(n * d);
  for (let lo = 0; lo < n; lo += bs) {
    const hi = Math.min(n, lo + bs), b = hi - lo;
    const pooled = scope(() => {
      const px = Float32Array.from(
        images.subarray(lo * 784, hi * 784),
        (v) => (v / 255 - MEAN) / STD,
      );
      const x = tensor(px, { shape: [b, 1, 28, 28] });
      const t = vitForwardFeatures(sub, x, cfg).tokens; // [b, prefix + N, D]
      if (pool === "cls") return slice(t, [null, 0]); // [b, D]
      return mean(slice(t, [null, [prefix, null]]), 1);
    });
    out.set(await pooled.data(), lo * d);
    pooled.dispose();
    opts.onBatch?.(hi);
  }
  return out;
}

async function encoderOf(o: ProbeOptions) {
  if (o.init !== "none") return await loadInitEncoder(o.init);
  const config: VitConfig = {
    ...cliVitConfig(o.model, o, { dropPath: 0, numClasses: 0 }),
    classToken: o.clsToken,
    fcNorm: false,
  };
  const key = random.key(o.seed);
  const params = initVit(key, config);
  key.dispose();
  return { params, config, method: "random", step: 0, path: "none" };
}

/** Runs the probe; returns the result record (also printed by {@link probeCommand}). */
export async function runProbe(o: ProbeOptions, io: CliIO): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const backend = await selectBackend(o.backend, o.threads);
  const encoder = await encoderOf(o);
  try {
    const { params, config } = encoder;
    const layer = o.layer ?? config.depth;
    if (layer > config.depth) {
      throw new UsageError(`--layer ${layer} is beyond the encoder's depth ${config.depth}`);
    }
    if (o.pool === "cls" && !params.cls_token) {
      throw new UsageError("--pool cls: the encoder has no CLS token");
    }
    const { train, test } = await loadSplits(o);
    io.err(
      `probe: ${encoder.method} encoder (${o.init}, step ${encoder.step}; dim ${config.embedDim}, ` +
        `depth ${config.depth}) on ${backend}; block ${layer}, ${o.pool} pooling; ` +
        `${train.count} train / ${test.count} test images from ${train.source}\n`,
    );
    const feats = async (split: FashionMnist, name: string) => {
      let last = 0;
      return await extractFeatures(params, config, split.images, {
        layer,
        pool: o.pool,
        onBatch: (done) => {
          if (done - last >= 2000 || done === split.count) {
            io.err(`probe: ${name} features ${done}/${split.count}\n`);
            last = done;
          }
        },
      });
    };
    const xTrain = await feats(train, "train"), xTest = await feats(test, "test");
    const fit = await fitAndScore(
      { x: xTrain, labels: train.labels },
      { x: xTest, labels: test.labels },
      { label: "probe", ...o },
      io,
    );
    const result = {
      command: "probe",
      init: o.init,
      method: encoder.method,
      step: encoder.step,
      layer,
      depth: config.depth,
      pool: o.pool,
      feature_dim: config.embedDim,
      train_images: train.count,
      test_images: test.count,
      ...fit,
      seconds: Number(((performance.now() - t0) / 1000).toFixed(2)),
      backend,
    };
    if (o.out !== null) {
      await Deno.mkdir(o.out, { recursive: true });
      await Deno.writeTextFile(`${o.out}/probe.json`, JSON.stringify(result) + "\n");
    }
    return result;
  } finally {
    dispose(encoder.params);
  }
}

/** The `probe` command. */
export async function probeCommand(argv: string[], io: CliIO): Promise<number> {
  const opts = parseProbeArgs(argv);
  if (opts === "help") {
    io.out(PROBE_HELP);
    return 0;
  }
  io.out(JSON.stringify(await runProbe(opts, io)));
  return 0;
}
