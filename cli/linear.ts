/**
 * `train.ts linear`: the pixel floor of the paper comparison — multinomial logistic regression
 * on standardised Fashion-MNIST pixels, weight-decayed and trained to convergence with L-BFGS
 * ({@link trainSoftmaxRegression}). Every pre-trained encoder's probe must beat it. Progress on
 * stderr, one JSON line of final metrics on stdout.
 * @module
 */
import { intFlag, limitFlag, numFlag, parseFlags, UsageError } from "./args.ts";
import type { CliIO } from "./io.ts";
import { FASHION_MNIST_MEAN, FASHION_MNIST_STD } from "../data/fashion_mnist_stats.ts";
import { selectBackend } from "./backend.ts";
import { loadSplits } from "./fmnist.ts";
import { fitAndScore } from "./fit_and_score.ts";

/** `--help` of `linear`. */
export const LINEAR_HELP =
  `train.ts linear — logistic regression on Fashion-MNIST pixels (the floor)

Usage: deno run -A train.ts linear [flags]

Standardised pixels (training mean/std), L2 weight decay, full-batch L-BFGS to convergence.

Flags:
  --train-subset N     class-balanced subset: the first N/10 images of each class
  --train-limit N|all  first N training images (default 4000)
  --test-limit N|all   test images to evaluate (default 1000)
  --weight-decay X     L2 on the weights (default 1e-2)
  --max-iter N         L-BFGS iterations at most (default 1000; --steps is an alias)
  --data DIR           folder with the Fashion-MNIST .gz IDX files
                       (default: /usr/share/datasets/fashion-mnist, else the bundled sample)
  --backend cpu|webgpu (default: $TESSERA_BACKEND, else cpu)
  --log-every N        progress line every N iterations (default 50)
  -h, --help           this help

Prints progress on stderr and one JSON line of final metrics on stdout.`;

/**
 * Options of the `linear` job.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseLinearArgs } from "./linear.ts";
 * const o = parseLinearArgs(["--train-subset", "1000"]);
 * assert.deepEqual(o !== "help" && [o.trainSubset, o.maxIter], [1000, 1000]);
 * ```
 */
export interface LinearOptions {
  /** Balanced subset size (null = use `trainLimit`). */
  trainSubset: number | null;
  /** Training images (null = all). */
  trainLimit: number | null;
  /** Test images (null = all). */
  testLimit: number | null;
  /** L2 coefficient. */
  weightDecay: number;
  /** L-BFGS iteration cap. */
  maxIter: number;
  /** Data folder. */
  data?: string;
  /** Backend (null = environment/default). */
  backend: "cpu" | "webgpu" | null;
  /** Progress period (iterations). */
  logEvery: number;
}

/** Parses `linear` flags ({@link UsageError} on anything wrong). */
export function parseLinearArgs(argv: string[]): LinearOptions | "help" {
  const s = { type: "string" } as const;
  const v = parseFlags(argv, {
    "train-subset": s,
    "train-limit": s,
    "test-limit": s,
    "weight-decay": s,
    "max-iter": s,
    steps: s,
    batch: s,
    lr: s,
    seed: s,
    data: s,
    backend: s,
    "log-every": s,
    help: { type: "boolean", short: "h" },
  }) as Record<string, string | undefined> & { help?: boolean };
  if (v.help) return "help";
  for (const old of ["batch", "lr", "seed"]) {
    if (v[old] !== undefined) {
      throw new UsageError(
        `--${old} no longer applies: linear trains full-batch with L-BFGS to convergence ` +
          `(use --max-iter and --weight-decay)`,
      );
    }
  }
  if (v.steps !== undefined && v["max-iter"] !== undefined) {
    throw new UsageError("give --max-iter or --steps (its alias), not both");
  }
  if (v["train-subset"] !== undefined && v["train-limit"] !== undefined) {
    throw new UsageError("give --train-subset or --train-limit, not both");
  }
  const int = (k: string, def: number, min = 1) =>
    v[k] === undefined ? def : intFlag(k, v[k]!, { min });
  let trainSubset: number | null = null;
  if (v["train-subset"] !== undefined) {
    trainSubset = intFlag("train-subset", v["train-subset"], { min: 10 });
    if (trainSubset % 10 !== 0) {
      throw new UsageError(`--train-subset must be a multiple of 10, got "${v["train-subset"]}"`);
    }
  }
  if (v.backend !== undefined && v.backend !== "cpu" && v.backend !== "webgpu") {
    throw new UsageError(`--backend must be one of cpu, webgpu, got "${v.backend}"`);
  }
  return {
    trainSubset,
    trainLimit: v["train-limit"] === undefined ? 4000 : limitFlag("train-limit", v["train-limit"]),
    testLimit: v["test-limit"] === undefined ? 1000 : limitFlag("test-limit", v["test-limit"]),
    weightDecay: v["weight-decay"] === undefined
      ? 1e-2
      : numFlag("weight-decay", v["weight-decay"], { min: 0 }),
    maxIter: v.steps !== undefined ? int("steps", 1000) : int("max-iter", 1000),
    ...(v.data !== undefined ? { data: v.data } : {}),
    backend: (v.backend as "cpu" | "webgpu" | undefined) ?? null,
    logEvery: int("log-every", 50),
  };
}

const MEAN = FASHION_MNIST_MEAN[0]!, STD = FASHION_MNIST_STD[0]!;

/** Normalised pixels `[n, 784]` (the per-pixel standardisation follows in the trainer). */
function pixels(images: Uint8Array): Float32Array {
  return Float32Array.from(images, (v) => (v / 255 - MEAN) / STD);
}

/** Runs the job; returns the final metrics. */
export async function trainLinear(
  opts: LinearOptions,
  io: CliIO,
): Promise<Record<string, number | string | boolean>> {
  const t0 = performance.now();
  const backend = await selectBackend(opts.backend, null);
  const { train: trainSet, test: testSet } = await loadSplits({
    data: opts.data ?? null,
    trainLimit: opts.trainLimit,
    trainSubset: opts.trainSubset,
    testLimit: opts.testLimit,
  });
  io.err(
    `linear: ${trainSet.count} train / ${testSet.count} test images from ${trainSet.source}` +
      ` on ${backend}; weight decay ${opts.weightDecay}\n`,
  );
  const fit = await fitAndScore(
    { x: pixels(trainSet.images), labels: trainSet.labels },
    { x: pixels(testSet.images), labels: testSet.labels },
    { label: "linear", ...opts },
    io,
  );
  return {
    command: "linear",
    job: "logistic-regression",
    ...fit,
    train_images: trainSet.count,
    test_images: testSet.count,
    seconds: Number(((performance.now() - t0) / 1000).toFixed(2)),
    backend,
  };
}

/** The `linear` command. */
export async function linearCommand(argv: string[], io: CliIO): Promise<number> {
  const opts = parseLinearArgs(argv);
  if (opts === "help") {
    io.out(LINEAR_HELP);
    return 0;
  }
  io.out(JSON.stringify(await trainLinear(opts, io)));
  return 0;
}
