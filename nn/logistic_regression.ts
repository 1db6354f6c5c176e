/**
 * Multinomial (softmax) logistic regression on host feature matrices, trained to convergence
 * with L-BFGS: the linear-probe and pixel-baseline trainer of `train.ts probe` and `train.ts
 * linear`.
 *
 * Features are standardised with the training mean and variance, `(x − μ) / √(σ² + ε)` (MAE's
 * BatchNorm-without-affine probe head), then the L2-regularised mean cross-entropy
 * `CE(xW + b, y) + ½·λ·‖W‖²` (bias not decayed) is minimised full-batch with L-BFGS and an
 * Armijo backtracking line search. The problem is strongly convex, so the optimum is unique and
 * the result does not depend on a seed or a learning rate. Loss and gradient are tessera ops
 * (`valueAndGrad`) on the default backend; the L-BFGS two-loop recursion runs on the host in
 * float64 over the `D·C + C` parameters.
 * @module
 */
import {
  add,
  argmax,
  dispose,
  logSoftmax,
  matmul,
  mean,
  mul,
  neg,
  scope,
  sum,
  type Tensor,
  tensor,
  TesseraError,
} from "../tensor/mod.ts";
import { valueAndGrad } from "../autodiff/mod.ts";

/**
 * Per-feature standardisation statistics (of the training features).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { featureStats } from "./logistic_regression.ts";
 * const s = featureStats(Float32Array.of(0, 1, 2, 3), 2, 2, 0);
 * assert.deepEqual([...s.mean, ...s.scale], [1, 2, 1, 1]);
 * ```
 */
export interface FeatureStats {
  /** Mean of each feature `[D]`. */
  mean: Float32Array;
  /** `√(variance + eps)` of each feature `[D]` (1 where that is 0). */
  scale: Float32Array;
}

/**
 * Mean and `√(var + eps)` (population variance) of each column of `x` `[n, d]`, in float64.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { featureStats } from "./logistic_regression.ts";
 * const s = featureStats(Float32Array.of(1, 5, 3, 5), 2, 2, 0);
 * assert.deepEqual([...s.mean], [2, 5]); // column 1 is constant: its scale falls back to 1
 * assert.deepEqual([...s.scale], [1, 1]);
 * ```
 */
export function featureStats(x: Float32Array, n: number, d: number, eps = 1e-6): FeatureStats {
  checkMatrix("featureStats", x, n, d);
  const m = new Float64Array(d), v = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) m[j]! += x[i * d + j]!;
  for (let j = 0; j < d; j++) m[j]! /= n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const c = x[i * d + j]! - m[j]!;
      v[j]! += c * c;
    }
  }
  const scale = new Float32Array(d);
  for (let j = 0; j < d; j++) scale[j] = Math.sqrt(v[j]! / n + eps) || 1;
  return { mean: Float32Array.from(m), scale };
}

/**
 * `(x − mean) / scale` row by row: a new `[n, d]` array.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { standardize } from "./logistic_regression.ts";
 * const z = standardize(Float32Array.of(1, 5, 3, 5), { mean: Float32Array.of(2, 5), scale: Float32Array.of(1, 2) });
 * assert.deepEqual([...z], [-1, 0, 1, 0]);
 * ```
 */
export function standardize(x: Float32Array, stats: FeatureStats): Float32Array {
  const d = stats.mean.length;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i += d) {
    for (let j = 0; j < d; j++) out[i + j] = (x[i + j]! - stats.mean[j]!) / stats.scale[j]!;
  }
  return out;
}

/**
 * Options of {@link trainSoftmaxRegression}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type SoftmaxRegressionOptions, trainSoftmaxRegression } from "./logistic_regression.ts";
 * const seen: number[] = [];
 * const o: SoftmaxRegressionOptions = { maxIter: 2, onIteration: (i) => seen.push(i.iteration) };
 * const m = await trainSoftmaxRegression(Float32Array.of(-1, 1), [0, 1], o);
 * assert.equal(m.iterations, seen.length);
 * assert.ok(m.iterations <= 2);
 * ```
 */
export interface SoftmaxRegressionOptions {
  /** Number of classes (default: largest label + 1). */
  classes?: number;
  /** L2 coefficient λ on the weights (default 1e-2). */
  weightDecay?: number;
  /** Maximum L-BFGS iterations (default 1000). */
  maxIter?: number;
  /** Converged when the largest gradient entry is below this (default 1e-4). */
  gradTol?: number;
  /** Converged when an iteration lowers the loss by less than this, relatively (default 1e-9). */
  lossTol?: number;
  /** L-BFGS memory (default 10). */
  history?: number;
  /** Standardise with the training statistics (default true). */
  standardize?: boolean;
  /** Variance epsilon of the standardisation (default 1e-6). */
  eps?: number;
  /** Called after every iteration. */
  onIteration?(info: { iteration: number; loss: number; gradMax: number }): void;
}

/**
 * A trained classifier: logits = `standardize(x)·weight + bias`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { trainSoftmaxRegression } from "./logistic_regression.ts";
 * const m = await trainSoftmaxRegression(Float32Array.of(-1, 0, 1, 0), [0, 1]);
 * assert.equal(m.weight.length, m.dim * m.classes); // [D, C] = [2, 2]
 * assert.equal(m.trainAccuracy, 1);
 * ```
 */
export interface SoftmaxRegressionModel {
  /** Weights `[D, C]`, row-major, acting on standardised features. */
  weight: Float32Array;
  /** Bias `[C]`. */
  bias: Float32Array;
  /** Feature dimension D. */
  dim: number;
  /** Classes C. */
  classes: number;
  /** Standardisation (null when disabled). */
  stats: FeatureStats | null;
  /** L-BFGS iterations run. */
  iterations: number;
  /** Whether a convergence criterion was met (rather than `maxIter`). */
  converged: boolean;
  /** Final objective (mean cross-entropy + ½λ‖W‖²). */
  objective: number;
  /** Final largest absolute gradient entry. */
  gradMax: number;
  /** Mean cross-entropy on the training set (without the penalty). */
  trainLoss: number;
  /** Top-1 accuracy on the training set. */
  trainAccuracy: number;
}

function checkMatrix(op: string, x: Float32Array, n: number, d: number): void {
  if (!Number.isInteger(n) || !Number.isInteger(d) || n < 1 || d < 1 || x.length !== n * d) {
    throw new TesseraError(op, `expected ${n}×${d} = ${n * d} features, got ${x.length}`);
  }
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const maxAbs = (a: Float64Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

type Params = { w: Tensor; b: Tensor };

/**
 * Trains multinomial logistic regression on `x` `[n, d]` (row-major) and integer `labels`
 * `[n]` until converged (see the module doc). Deterministic.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { predictSoftmaxRegression, trainSoftmaxRegression } from "./logistic_regression.ts";
 * const x = Float32Array.of(-2, 0, -1, 0, 1, 0, 2, 0); // 4 points in 2-D, split by the sign of x₀
 * const m = await trainSoftmaxRegression(x, [0, 0, 1, 1], { weightDecay: 1e-2 });
 * assert.ok(m.converged);
 * assert.equal(m.trainAccuracy, 1);
 * assert.deepEqual([...await predictSoftmaxRegression(m, x)], [0, 0, 1, 1]);
 * ```
 */
export async function trainSoftmaxRegression(
  x: Float32Array,
  labels: ArrayLike<number>,
  opts: SoftmaxRegressionOptions = {},
): Promise<SoftmaxRegressionModel> {
  const n = labels.length, d = x.length / Math.max(1, n);
  checkMatrix("trainSoftmaxRegression", x, n, d);
  let maxLabel = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0) {
      throw new TesseraError("trainSoftmaxRegression", `label ${y} at ${i} is not a class index`);
    }
    maxLabel = Math.max(maxLabel, y);
  }
  const c = opts.classes ?? maxLabel + 1;
  if (maxLabel >= c) {
    throw new TesseraError("trainSoftmaxRegression", `label ${maxLabel} is not below ${c} classes`);
  }
  const lambda = opts.weightDecay ?? 1e-2, maxIter = opts.maxIter ?? 1000;
  const gradTol = opts.gradTol ?? 1e-4, lossTol = opts.lossTol ?? 1e-9, m = opts.history ?? 10;
  const stats = (opts.standardize ?? true) ? featureStats(x, n, d, opts.eps ?? 1e-6) : null;
  const z = stats ? standardize(x, stats) : x;
  const onehot = new Float32Array(n * c);
  for (let i = 0; i < n; i++) onehot[i * c + labels[i]!] = 1;
  const xt = tensor(z, { shape: [n, d] }), yt = tensor(onehot, { shape: [n, c] });
  const nw = d * c, np = nw + c;

  const objective = (p: Params, xs: Tensor, ys: Tensor) => {
    const ce = neg(mean(sum(mul(logSoftmax(add(matmul(xs, p.w), p.b), -1), ys), -1)));
    return lambda > 0 ? add(ce, mul(sum(mul(p.w, p.w)), 0.5 * lambda)) : ce;
  };
  const vg = valueAndGrad(objective);
  const evalFG = async (theta: Float64Array): Promise<[number, Float64Array]> => {
    const [value, grads] = scope(() => {
      const p = {
        w: tensor(Float32Array.from(theta.subarray(0, nw)), { shape: [d, c] }),
        b: tensor(Float32Array.from(theta.subarray(nw)), { shape: [c] }),
      };
      return vg(p, xt, yt);
    });
    try {
      const g = new Float64Array(np);
      g.set(await grads.w.data()), g.set(await grads.b.data(), nw);
      return [await value.item(), g];
    } finally {
      dispose([value, grads]);
    }
  };

  try {
    let theta: Float64Array = new Float64Array(np);
    let [f, g] = await evalFG(theta);
    const S: Float64Array[] = [], Y: Float64Array[] = [], R: number[] = [];
    let iterations = 0, converged = false;
    while (iterations < maxIter) {
      if (maxAbs(g) <= gradTol) {
        converged = true;
        break;
      }
      // Two-loop recursion: dir = −H·g.
      const q = Float64Array.from(g), alpha = new Array<number>(S.length);
      for (let k = S.length - 1; k >= 0; k--) {
        alpha[k] = R[k]! * dot(S[k]!, q);
        for (let i = 0; i < np; i++) q[i]! -= alpha[k]! * Y[k]![i]!;
      }
      const gamma = S.length ? 1 / (R.at(-1)! * dot(Y.at(-1)!, Y.at(-1)!)) : 1;
      for (let i = 0; i < np; i++) q[i]! *= gamma;
      for (let k = 0; k < S.length; k++) {
        const beta = R[k]! * dot(Y[k]!, q);
        for (let i = 0; i < np; i++) q[i]! += (alpha[k]! - beta) * S[k]![i]!;
      }
      let dir = q.map((v) => -v), slope = dot(g, dir);
      if (!(slope < 0)) {
        S.length = Y.length = R.length = 0;
        dir = g.map((v) => -v), slope = -dot(g, g);
      }
      // Armijo backtracking; the first step is scaled to unit length.
      let t = S.length ? 1 : Math.min(1, 1 / Math.sqrt(dot(g, g)));
      let next: Float64Array | null = null, fn = f, gn = g;
      for (let tries = 0; tries < 40; tries++) {
        const cand = theta.map((v, i) => v + t * dir[i]!);
        [fn, gn] = await evalFG(cand);
        if (Number.isFinite(fn) && fn <= f + 1e-4 * t * slope) {
          next = cand;
          break;
        }
        t *= 0.5;
      }
      iterations++;
      if (!next) {
        // No decrease at float32 resolution: as converged as this precision allows.
        converged = maxAbs(g) <= 100 * gradTol;
        break;
      }
      const s = next.map((v, i) => v - theta[i]!), y = gn.map((v, i) => v - g[i]!);
      const sy = dot(s, y);
      if (sy > 1e-10 * dot(y, y)) {
        S.push(s), Y.push(y), R.push(1 / sy);
        if (S.length > m) S.shift(), Y.shift(), R.shift();
      }
      const drop = f - fn;
      theta = next, f = fn, g = gn;
      opts.onIteration?.({ iteration: iterations, loss: f, gradMax: maxAbs(g) });
      if (drop <= lossTol * Math.max(1, Math.abs(f))) {
        converged = true;
        break;
      }
    }
    const model: SoftmaxRegressionModel = {
      weight: Float32Array.from(theta.subarray(0, nw)),
      bias: Float32Array.from(theta.subarray(nw)),
      dim: d,
      classes: c,
      stats,
      iterations,
      converged: converged || maxAbs(g) <= gradTol,
      objective: f,
      gradMax: maxAbs(g),
      trainLoss: NaN,
      trainAccuracy: NaN,
    };
    const tr = await evaluateSoftmaxRegression(model, x, labels);
    model.trainLoss = tr.loss, model.trainAccuracy = tr.accuracy;
    return model;
  } finally {
    dispose([xt, yt]);
  }
}

/** Logits of rows `[lo, hi)` of raw features `x`, in a caller's scope. */
function logitsOf(model: SoftmaxRegressionModel, x: Float32Array, lo: number, hi: number) {
  const d = model.dim, rows = x.subarray(lo * d, hi * d);
  const z = model.stats ? standardize(rows, model.stats) : rows;
  const w = tensor(model.weight, { shape: [d, model.classes] });
  return add(matmul(tensor(z, { shape: [hi - lo, d] }), w), tensor(model.bias));
}

const BATCH = 8192;

/**
 * Predicted classes of raw (unstandardised) features `x` `[n, d]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { predictSoftmaxRegression } from "./logistic_regression.ts";
 * const m = { weight: Float32Array.of(-1, 1), bias: Float32Array.of(0, 0), dim: 1, classes: 2, stats: null,
 *   iterations: 0, converged: true, objective: 0, gradMax: 0, trainLoss: 0, trainAccuracy: 1 };
 * assert.deepEqual([...await predictSoftmaxRegression(m, Float32Array.of(-3, 2))], [0, 1]);
 * ```
 */
export async function predictSoftmaxRegression(
  model: SoftmaxRegressionModel,
  x: Float32Array,
): Promise<Int32Array> {
  const n = x.length / model.dim;
  checkMatrix("predictSoftmaxRegression", x, n, model.dim);
  const out = new Int32Array(n);
  for (let lo = 0; lo < n; lo += BATCH) {
    const hi = Math.min(n, lo + BATCH);
    const pred = scope(() => argmax(logitsOf(model, x, lo, hi), -1));
    out.set(await pred.data(), lo);
    pred.dispose();
  }
  return out;
}

/**
 * Top-1 accuracy and mean cross-entropy of the model on raw features `x` `[n, d]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { evaluateSoftmaxRegression } from "./logistic_regression.ts";
 * const m = { weight: Float32Array.of(-1, 1), bias: Float32Array.of(0, 0), dim: 1, classes: 2, stats: null,
 *   iterations: 0, converged: true, objective: 0, gradMax: 0, trainLoss: 0, trainAccuracy: 1 };
 * const r = await evaluateSoftmaxRegression(m, Float32Array.of(-3, 2, 1), [0, 1, 0]);
 * assert.equal(r.accuracy, 2 / 3);
 * assert.equal(r.count, 3);
 * ```
 */
export async function evaluateSoftmaxRegression(
  model: SoftmaxRegressionModel,
  x: Float32Array,
  labels: ArrayLike<number>,
): Promise<{ accuracy: number; loss: number; count: number }> {
  const n = labels.length, c = model.classes;
  checkMatrix("evaluateSoftmaxRegression", x, n, model.dim);
  let hits = 0, lossSum = 0;
  for (let lo = 0; lo < n; lo += BATCH) {
    const hi = Math.min(n, lo + BATCH);
    const lp = scope(() => logSoftmax(logitsOf(model, x, lo, hi), -1));
    const v = await lp.data();
    lp.dispose();
    for (let i = lo; i < hi; i++) {
      const row = (i - lo) * c, y = labels[i]!;
      let best = 0;
      for (let k = 1; k < c; k++) if (v[row + k]! > v[row + best]!) best = k;
      if (best === y) hits++;
      lossSum -= v[row + y]!;
    }
  }
  return { accuracy: hits / n, loss: lossSum / n, count: n };
}
