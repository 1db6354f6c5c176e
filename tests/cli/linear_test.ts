/**
 * The softmax-regression trainer (`cli/softmax_regression.ts`) and `train.ts linear`, the
 * pixel floor: convergence to 100% on a separable problem, standardisation by the training
 * statistics only, a real run on sample images without leaks, and usage errors.
 */
import assert from "node:assert/strict";
import { captureIO } from "../../cli/io.ts";
import { linearCommand, parseLinearArgs } from "../../cli/linear.ts";
import {
  evaluateSoftmaxRegression,
  featureStats,
  predictSoftmaxRegression,
  standardize,
  trainSoftmaxRegression,
} from "../../cli/softmax_regression.ts";
import { UsageError } from "../../cli/args.ts";
import { memoryStats } from "../../mod.ts";
import { SAMPLE } from "./_util.ts";

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
  await assert.rejects(trainSoftmaxRegression(new Float32Array(5), [0, 1]), /expected 2×2/);
  await assert.rejects(trainSoftmaxRegression(new Float32Array(4), [0, -1]), /label -1/);
  await assert.rejects(
    trainSoftmaxRegression(new Float32Array(4), [0, 3], { classes: 2 }),
    /label 3 is not below 2 classes/,
  );
});

Deno.test("train.ts linear: converged logistic regression on sample pixels, no leaks", async () => {
  const before = memoryStats().cpu?.tensors ?? 0;
  const io = captureIO();
  const argv = ["--data", SAMPLE, "--train-subset", "500", "--test-limit", "300"];
  assert.equal(await linearCommand(argv, io), 0, io.stderr);
  assert.equal(memoryStats().cpu?.tensors ?? 0, before, "tensors leaked");
  assert.equal(io.stdout.length, 1);
  const r = JSON.parse(io.stdout[0]!);
  assert.equal(r.command, "linear");
  assert.equal(r.train_images, 500);
  assert.equal(r.test_images, 300);
  assert.equal(r.converged, true);
  assert.ok(r.train_accuracy > 0.9, `train top-1 ${r.train_accuracy}`);
  assert.ok(r.test_accuracy > 0.7 && r.test_accuracy < 1, `test top-1 ${r.test_accuracy}`);
  assert.match(io.stderr, /linear: \d+ iterations \(converged\)/);
});

Deno.test("train.ts linear: flags and usage errors", async () => {
  const o = parseLinearArgs(["--steps", "30", "--weight-decay", "0.1", "--test-limit", "all"]);
  assert.ok(o !== "help");
  assert.equal(o.maxIter, 30);
  assert.equal(o.weightDecay, 0.1);
  assert.equal(o.testLimit, null);
  assert.equal(o.trainLimit, 4000);
  const cases: [string[], RegExp][] = [
    [["--lr", "0.1"], /--lr no longer applies: .*L-BFGS/],
    [["--batch", "64"], /--batch no longer applies/],
    [["--train-subset", "15"], /--train-subset must be a multiple of 10, got "15"/],
    [["--train-subset", "100", "--train-limit", "100"], /--train-subset or --train-limit/],
    [["--weight-decay=-1"], /--weight-decay must be a number >= 0, got "-1"/],
    [["--steps", "5", "--max-iter", "5"], /--max-iter or --steps/],
    [["--backend", "tpu"], /--backend must be one of cpu, webgpu, got "tpu"/],
    [["--data", "/no/such/dir"], /--data \/no\/such\/dir: /],
    [["--data", SAMPLE, "--train-subset", "4000"], /--train-subset 4000: .*too few images/],
  ];
  for (const [argv, want] of cases) {
    await assert.rejects(linearCommand(argv, captureIO()), (e: unknown) => {
      assert.ok(e instanceof UsageError, `${argv}: ${e}`);
      assert.equal(e.exitCode, 2);
      assert.match(e.message, want);
      return true;
    });
  }
  const io = captureIO();
  assert.equal(await linearCommand(["--help"], io), 0);
  assert.match(io.stdout[0]!, /--train-subset N/);
});
