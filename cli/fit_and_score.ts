/**
 * The logistic-regression job that `linear` (raw pixels) and `probe` (frozen features) share:
 * fit on the training features with progress lines, score on the test features, report, and
 * return the metrics both commands print.
 * @module
 */
import type { CliIO } from "../trainer/io.ts";
import { evaluateSoftmaxRegression, trainSoftmaxRegression } from "../nn/logistic_regression.ts";

/** Features `[n, d]` (row-major) and their labels. */
export interface LabelledFeatures {
  /** Row-major features. */
  x: Float32Array;
  /** One label per row. */
  labels: ArrayLike<number>;
}

/**
 * Fits a 10-class logistic regression on `train` and scores it on `test`; progress and the
 * summary go to stderr prefixed with `label`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fitAndScore } from "./fit_and_score.ts";
 * import { captureIO } from "../trainer/io.ts";
 * const x = Float32Array.of(-2, -1, 1, 2), labels = Uint8Array.of(0, 0, 1, 1);
 * const r = await fitAndScore({ x, labels }, { x, labels }, { label: "demo", weightDecay: 1e-3, maxIter: 100, logEvery: 50, classes: 2 }, captureIO());
 * assert.deepEqual(r.test_accuracy, 1);
 * ```
 */
export async function fitAndScore(
  train: LabelledFeatures,
  test: LabelledFeatures,
  opts: { label: string; weightDecay: number; maxIter: number; logEvery: number; classes?: number },
  io: CliIO,
): Promise<{
  weight_decay: number;
  iterations: number;
  converged: boolean;
  train_loss: number;
  train_accuracy: number;
  test_loss: number;
  test_accuracy: number;
}> {
  const model = await trainSoftmaxRegression(train.x, train.labels, {
    classes: opts.classes ?? 10,
    weightDecay: opts.weightDecay,
    maxIter: opts.maxIter,
    onIteration: ({ iteration, loss, gradMax }) => {
      if (iteration % opts.logEvery === 0) {
        io.err(
          `${opts.label}: iteration ${iteration}  objective ${loss.toFixed(5)}  ` +
            `grad ${gradMax.toExponential(2)}\n`,
        );
      }
    },
  });
  const ev = await evaluateSoftmaxRegression(model, test.x, test.labels);
  io.err(
    `${opts.label}: ${model.iterations} iterations${model.converged ? " (converged)" : ""}; ` +
      `train top-1 ${(model.trainAccuracy * 100).toFixed(2)}%, test top-1 ` +
      `${(ev.accuracy * 100).toFixed(2)}% on ${test.labels.length} images\n`,
  );
  return {
    weight_decay: opts.weightDecay,
    iterations: model.iterations,
    converged: model.converged,
    train_loss: Number(model.trainLoss.toFixed(5)),
    train_accuracy: Number(model.trainAccuracy.toFixed(4)),
    test_loss: Number(ev.loss.toFixed(5)),
    test_accuracy: Number(ev.accuracy.toFixed(4)),
  };
}
