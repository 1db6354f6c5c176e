/**
 * `train.ts linear`: the pixel floor of the paper comparison — multinomial logistic regression
 * on standardised Fashion-MNIST pixels, weight-decayed and trained to convergence with L-BFGS
 * ({@link trainSoftmaxRegression}). Every pre-trained encoder's probe must beat it. Progress on
 * stderr, one JSON line of final metrics on stdout.
 * @module
 */
import {
  type CommandFlags,
  group,
  int,
  type OptionsOf,
  preset,
  row,
  UsageError,
} from "../trainer/flags.ts";
import { parseOrHelp } from "./train_command.ts";
import { BACKEND, DATA, FIT, TEST } from "./flag_groups.ts";
import type { CliIO } from "../trainer/io.ts";
import { FASHION_MNIST_MEAN, FASHION_MNIST_STD } from "../data/fashion_mnist_stats.ts";
import { selectBackend } from "../trainer/backend.ts";
import { loadSplits } from "./fmnist.ts";
import { fitAndScore } from "./fit_and_score.ts";

const retired = (_x: string, f: string): never => {
  throw new UsageError(
    `--${f} no longer applies: linear trains full-batch with L-BFGS to convergence ` +
      `(use --max-iter and --weight-decay)`,
  );
};

const FLAGS = [
  ...DATA,
  ...TEST,
  ...FIT,
  ...group("Fit (softmax regression, L-BFGS)", [
    { ...row("steps", "N", int({ min: 1 }), 1000, "alias of --max-iter"), key: "maxIter" },
  ]),
  ...BACKEND,
  ...group("Run", [
    preset("smoke", "quick check", {
      trainLimit: 200,
      testLimit: 100,
      maxIter: 20,
    }),
  ]),
  ...group(
    "",
    ["batch", "lr", "seed"].map((f) => ({ ...row(f, "X", retired, null, ""), hidden: true })),
  ),
] as const;

/**
 * The flag table of `linear`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCommand } from "../trainer/flags.ts";
 * import { LINEAR } from "./linear.ts";
 * const p = parseCommand(LINEAR, ["--train-subset", "1000"]);
 * assert.deepEqual(p !== "help" && [p.options.trainSubset, p.options.maxIter], [1000, 1000]);
 * ```
 */
export const LINEAR: CommandFlags<typeof FLAGS> = {
  name: "linear",
  title: "logistic regression on Fashion-MNIST pixels (the floor)",
  intro:
    "Standardised pixels (training mean/std), L2 weight decay, full-batch L-BFGS to convergence.",
  flags: FLAGS,
  exclusive: [["train-subset", "train-limit"], ["max-iter", "steps"]],
  footer: "Prints progress on stderr and one JSON line of final metrics on stdout.",
};

/** Options of the `linear` job. */
export type LinearOptions = OptionsOf<typeof FLAGS>;

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
  const backend = await selectBackend(opts.backend, opts.threads);
  const { train: trainSet, test: testSet } = await loadSplits(opts);
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
  const p = parseOrHelp(LINEAR, argv, io);
  if (!p) return 0;
  io.out(JSON.stringify(await trainLinear(p.options, io)));
  return 0;
}
