/**
 * The softmax (multinomial logistic) regression trainer (`nn/logistic_regression.ts`): convergence
 * to 100% on a separable problem, weight decay, standardisation by the training statistics only,
 * and errors on bad shapes and labels.
 */
import assert from "node:assert/strict";
import {
  evaluateSoftmaxRegression,
  featureStats,
  predictSoftmaxRegression,
  standardize,
  trainSoftmaxRegression,
} from "../../nn/logistic_regression.ts";
import { memoryStats, TesseraError } from "../../mod.ts";

/** Points of `classes` well-separated Gaussian blobs in `d` dimensions (seeded). */
function blobs(n: number, d: number, classes: number, seed: number) {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const x = new Float32Array(n * d), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    y[i] = c;
    for (let j = 0; j < d; j++) {
      // Centre: class c sits at 10·c on axis c mod d, plus a large offset and scale on axis 0.
      x[i * d + j] = (j === c % d ? 10 * (c + 1) : 0) + rnd() + (j === 0 ? 50 : 0);
    }
  }
  return { x, y };
}

Deno.test("softmax regression converges to 100% on a separable problem, train and test", async () => {
  const before = memoryStats().cpu?.tensors ?? 0;
  const train = blobs(300, 6, 4, 1), test = blobs(200, 6, 4, 2);
  const m = await trainSoftmaxRegression(train.x, train.y, { weightDecay: 1e-3 });
  assert.ok(m.converged, `not converged after ${m.iterations} iterations (grad ${m.gradMax})`);
  assert.equal(m.classes, 4);
  assert.equal(m.dim, 6);
  assert.equal(m.trainAccuracy, 1);
  assert.ok(m.trainLoss < 0.1, `train loss ${m.trainLoss}`);
  const ev = await evaluateSoftmaxRegression(m, test.x, test.y);
  assert.equal(ev.accuracy, 1);
  assert.deepEqual([...await predictSoftmaxRegression(m, test.x)], [...test.y]);
  assert.equal(memoryStats().cpu?.tensors ?? 0, before, "tensors leaked");
});

Deno.test("softmax regression: weight decay shrinks the weights; the optimum is deterministic", async () => {
  const { x, y } = blobs(120, 4, 3, 3);
  const norm = (w: Float32Array) => Math.sqrt(w.reduce((a, v) => a + v * v, 0));
  const weak = await trainSoftmaxRegression(x, y, { weightDecay: 1e-3 });
  const strong = await trainSoftmaxRegression(x, y, { weightDecay: 1 });
  const again = await trainSoftmaxRegression(x, y, { weightDecay: 1 });
  assert.ok(norm(strong.weight) < norm(weak.weight) / 2);
  assert.deepEqual(strong.weight, again.weight);
  // At the optimum of CE + ½λ‖W‖², the gradient is ~0: λW = −∂CE/∂W, so ‖W‖ is bounded.
  assert.ok(strong.converged && strong.gradMax <= 1e-4);
});

Deno.test("standardisation uses the training statistics only", async () => {
  const train = blobs(200, 3, 2, 4);
  const m = await trainSoftmaxRegression(train.x, train.y);
  const s = featureStats(train.x, 200, 3);
  assert.deepEqual(m.stats!.mean, s.mean);
  assert.deepEqual(m.stats!.scale, s.scale);
  assert.ok(Math.abs(m.stats!.mean[0]! - 55) < 1, "axis 0 is centred at ~55 in training");
  // A shifted test set: predictions follow the train statistics, not the test set's own.
  const test = blobs(50, 3, 2, 5).x.map((v, i) => (i % 3 === 0 ? v + 7 : v));
  const z = standardize(test, m.stats!);
  const manual = Array.from({ length: 50 }, (_, i) => {
    const logit = [0, 1].map((k) => {
      let a = m.bias[k]!;
      for (let j = 0; j < 3; j++) a += z[i * 3 + j]! * m.weight[j * 2 + k]!;
      return a;
    });
    return logit[1]! > logit[0]! ? 1 : 0;
  });
  assert.deepEqual([...await predictSoftmaxRegression(m, test)], manual);
  // Constant features get scale √eps, never NaN.
  const c = featureStats(new Float32Array(8).fill(3), 4, 2, 0);
  assert.deepEqual([...c.scale], [1, 1]);
  assert.deepEqual([...standardize(Float32Array.of(3, 3), c)], [0, 0]);
});

Deno.test("softmax regression rejects bad shapes and labels", async () => {
  await assert.rejects(trainSoftmaxRegression(new Float32Array(5), [0, 1]), TesseraError);
  await assert.rejects(trainSoftmaxRegression(new Float32Array(5), [0, 1]), /expected 2×2/);
  await assert.rejects(trainSoftmaxRegression(new Float32Array(4), [0, -1]), /label -1/);
  await assert.rejects(
    trainSoftmaxRegression(new Float32Array(4), [0, 3], { classes: 2 }),
    /label 3 is not below 2 classes/,
  );
});
