/**
 * DINO training pieces (methods.md §9): teacher-temperature warm-up, the teacher's cosine EMA
 * momentum schedule, last-layer gradient cancelling during the first epoch(s), the zero centre
 * and one full training step (teacher on global crops → student on all crops → loss →
 * per-tensor clipping → cancelling → optimizer → EMA teacher → centre update).
 * @module
 */
import {
  add,
  concat,
  mean,
  mul,
  scope,
  stopGradient,
  type Tensor,
  where,
  zeros,
  zerosLike,
} from "../tensor/mod.ts";
import { treeMap } from "../autodiff/tree.ts";
import { valueAndGrad } from "../autodiff/mod.ts";
import { clipByNorm } from "../nn/optim/clip.ts";
import { emaUpdate } from "../nn/optim/ema.ts";
import { cosineScheduler } from "../nn/optim/schedules.ts";
import type { Optimizer } from "../nn/optim/types.ts";
import {
  type DinoConfig,
  dinoForward,
  type DinoHeadParams,
  dinoLoss,
  type DinoParams,
} from "./dino.ts";

/**
 * Teacher temperature per epoch: linear from `warmupTemp` to `temp` over `warmupEpochs`
 * (numpy.linspace, both ends included), then constant.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { teacherTempSchedule } from "./dino_train.ts";
 * assert.deepEqual(
 *   teacherTempSchedule({ warmupTemp: 0.04, temp: 0.07, warmupEpochs: 4, epochs: 6 }).map((t) => t.toFixed(2)),
 *   ["0.04", "0.05", "0.06", "0.07", "0.07", "0.07"],
 * );
 * ```
 */
export function teacherTempSchedule(
  opts: { warmupTemp?: number; temp?: number; warmupEpochs?: number; epochs: number },
): number[] {
  const w0 = opts.warmupTemp ?? 0.04, t = opts.temp ?? 0.04, we = opts.warmupEpochs ?? 0;
  return Array.from(
    { length: opts.epochs },
    (_, e) => e >= we ? t : we === 1 ? w0 : w0 + (t - w0) * e / (we - 1),
  );
}

/**
 * Teacher EMA momentum per iteration: cosine from `base` (0.996) to 1 over all iterations,
 * no warmup (DINO's `cosine_scheduler(momentum_teacher, 1, epochs, niter_per_ep)`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { teacherMomentumSchedule } from "./dino_train.ts";
 * const m = teacherMomentumSchedule(0.996, 2, 5);
 * assert.equal(m.length, 10);
 * assert.ok(Math.abs(m[0]! - 0.996) < 1e-6);
 * ```
 */
export function teacherMomentumSchedule(
  base: number,
  epochs: number,
  itersPerEpoch: number,
): number[] {
  return cosineScheduler(base, 1, epochs, itersPerEpoch);
}

/**
 * DINO's `cancel_gradients_last_layer`: zero gradients of `dino_head.last_layer` while
 * `epoch < freezeEpochs` (default 1). {@link dinoTrainStep} also keeps those weights
 * bit-identical (no weight decay) during the frozen epochs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cancelLastLayerGrads } from "./dino_train.ts";
 * import { ones } from "../mod.ts";
 * const g = { dino_head: { mlp: [], last_layer: { weight_v: ones([2, 2]) } } };
 * assert.deepEqual(
 *   await cancelLastLayerGrads(g, 0).dino_head.last_layer.weight_v.toArray(),
 *   [[0, 0], [0, 0]],
 * );
 * ```
 */
export function cancelLastLayerGrads<T extends { dino_head: DinoHeadParams }>(
  grads: T,
  epoch: number,
  freezeEpochs = 1,
): T {
  if (epoch >= freezeEpochs) return grads;
  const ll = grads.dino_head.last_layer;
  const zero: DinoHeadParams["last_layer"] = { weight_v: zerosLike(ll.weight_v) };
  if (ll.weight_g) zero.weight_g = zerosLike(ll.weight_g);
  return { ...grads, dino_head: { ...grads.dino_head, last_layer: zero } };
}

/**
 * DINO training state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { DinoState } from "./dino_train.ts";
 * const f = (s: DinoState<unknown>) => s.center.shape;
 * assert.equal(typeof f, "function");
 * ```
 */
export interface DinoState<S> {
  /** Student parameters (trained by the optimizer). */
  student: DinoParams;
  /** Teacher parameters (EMA of the student). */
  teacher: DinoParams;
  /** Centre `[1, K]`. */
  center: Tensor;
  /** Optimizer state of the student. */
  opt: S;
}

/**
 * Options of {@link dinoTrainStep}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { DinoStepOptions } from "./dino_train.ts";
 * const f = (o: DinoStepOptions<unknown>) => o.epoch;
 * assert.equal(typeof f, "function");
 * ```
 */
export interface DinoStepOptions<S> {
  /** The model configuration. */
  config: DinoConfig;
  /** The student's optimizer (e.g. AdamW with `weightDecayMask()` and a cosine wd schedule). */
  optimizer: Optimizer<S>;
  /** Current epoch (teacher temperature is chosen by the caller; freezing uses this). */
  epoch: number;
  /** Teacher temperature τ_t for this epoch (a scalar tensor to have `jit` trace it). */
  teacherTemp: number | Tensor;
  /** Teacher EMA momentum for this iteration (a scalar tensor to have `jit` trace it). */
  momentum: number | Tensor;
  /** Per-tensor gradient clipping norm (default 3.0; 0 disables). */
  clipGrad?: number;
  /** Epochs during which the last layer is frozen (default 1). */
  freezeLastLayer?: number;
  /**
   * Whether the last layer is frozen this step, as a bool scalar tensor (overrides `epoch`, so
   * `jit` traces one program for the frozen and the free epochs; same bits as the epoch path).
   */
  lastLayerFrozen?: Tensor;
  /** PRNG key for the student's dropout / drop path. */
  key?: Tensor;
}

/**
 * One DINO step: teacher outputs of the global crops (eval mode, no gradient) → student
 * outputs of all crops (training mode) → loss → gradients → per-tensor clipping → last-layer
 * cancelling → optimizer step → teacher EMA → centre update. Returns the new state and the
 * loss; the old state is left to the caller to dispose.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initDino } from "./dino.ts";
 * import { dinoTrainStep, initCenter } from "./dino_train.ts";
 * import { adamw } from "../nn/optim/adamw.ts";
 * import { random, zeros } from "../mod.ts";
 * const config = { backbone: { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 }, outDim: 16, hiddenDim: 8, bottleneckDim: 4 };
 * const optimizer = adamw({ lr: 1e-3 });
 * const { student, teacher } = initDino(random.key(0), config);
 * const s0 = { student, teacher, center: zeros([1, 16]), opt: optimizer.init(student) };
 * const g = [random.normal(random.key(1), [2, 1, 8, 8]), random.normal(random.key(2), [2, 1, 8, 8])];
 * const r = dinoTrainStep(s0, { globals: g, locals: [zeros([2, 1, 4, 4])] }, { config, optimizer, epoch: 0, teacherTemp: 0.04, momentum: 0.996 });
 * assert.equal(r.terms, 4);
 * ```
 */
export function dinoTrainStep<S>(
  state: DinoState<S>,
  crops: { globals: readonly Tensor[]; locals: readonly Tensor[] },
  opts: DinoStepOptions<S>,
): { state: DinoState<S>; loss: Tensor; terms: number } {
  return scope(() => {
    const { loss, terms, ...stats } = dinoStepGradients(state, crops, opts);
    return { state: dinoStepApply(state, stats, opts), loss, terms };
  });
}

/**
 * What {@link dinoStepGradients} computes from a batch: the loss, the student's raw
 * gradients and the teacher outputs' batch mean (the centre statistic). A data-parallel step
 * averages `grads` and `batchCenter` over the ranks before {@link dinoStepApply}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { DinoStepStats } from "./dino_train.ts";
 * const f = (s: DinoStepStats) => s.batchCenter.shape;
 * assert.equal(typeof f, "function");
 * ```
 */
export interface DinoStepStats {
  /** The student's gradients (before clipping). */
  grads: DinoParams;
  /** Mean teacher output over the batch's global crops `[1, K]`. */
  batchCenter: Tensor;
}

/**
 * The first half of {@link dinoTrainStep}: teacher outputs of the global crops (eval mode, no
 * gradient) → student outputs of all crops (training mode) → loss → gradients, and the centre
 * statistic. Nothing is updated.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initDino } from "./dino.ts";
 * import { dinoStepGradients, initCenter } from "./dino_train.ts";
 * import { adamw } from "../nn/optim/adamw.ts";
 * import { random, zeros } from "../mod.ts";
 * const config = { backbone: { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 }, outDim: 16, hiddenDim: 8, bottleneckDim: 4 };
 * const optimizer = adamw({ lr: 1e-3 });
 * const { student, teacher } = initDino(random.key(0), config);
 * const s0 = { student, teacher, center: zeros([1, 16]), opt: optimizer.init(student) };
 * const g = [random.normal(random.key(1), [2, 1, 8, 8]), random.normal(random.key(2), [2, 1, 8, 8])];
 * const r = dinoStepGradients(s0, { globals: g, locals: [zeros([2, 1, 4, 4])] }, { config, optimizer, epoch: 0, teacherTemp: 0.04, momentum: 0.996 });
 * assert.deepEqual(r.batchCenter.shape, [1, 16]);
 * ```
 */
export function dinoStepGradients<S>(
  state: DinoState<S>,
  crops: { globals: readonly Tensor[]; locals: readonly Tensor[] },
  opts: DinoStepOptions<S>,
): DinoStepStats & { loss: Tensor; terms: number } {
  const cfg = opts.config;
  const tOut = dinoForward(state.teacher, crops.globals, cfg).map(stopGradient);
  const all = [...crops.globals, ...crops.locals];
  let terms = 0;
  const lossFn = (p: DinoParams) => {
    const sOut = dinoForward(p, all, cfg, { train: true, key: opts.key });
    const r = dinoLoss(sOut, tOut, state.center, {
      teacherTemp: opts.teacherTemp,
      studentTemp: cfg.studentTemp,
    });
    terms = r.terms;
    return r.loss;
  };
  const [loss, grads] = valueAndGrad(lossFn)(state.student) as [Tensor, DinoParams];
  const batchCenter = mean(stopGradient(concat([...tOut], 0)), 0, true);
  return { loss, grads, batchCenter, terms };
}

/**
 * The second half of {@link dinoTrainStep}: per-tensor clipping → last-layer cancelling →
 * optimizer step → teacher EMA → centre update from `stats.batchCenter`. Returns the new
 * state; the old one is left to the caller.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initDino } from "./dino.ts";
 * import { dinoStepApply, dinoStepGradients } from "./dino_train.ts";
 * import { adamw } from "../nn/optim/adamw.ts";
 * import { random, zeros } from "../mod.ts";
 * const config = { backbone: { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 }, outDim: 16, hiddenDim: 8, bottleneckDim: 4 };
 * const optimizer = adamw({ lr: 1e-3 });
 * const { student, teacher } = initDino(random.key(0), config);
 * const s0 = { student, teacher, center: zeros([1, 16]), opt: optimizer.init(student) };
 * const g = [random.normal(random.key(1), [2, 1, 8, 8]), random.normal(random.key(2), [2, 1, 8, 8])];
 * const o = { config, optimizer, epoch: 0, teacherTemp: 0.04, momentum: 0.996 };
 * const s1 = dinoStepApply(s0, dinoStepGradients(s0, { globals: g, locals: [zeros([2, 1, 4, 4])] }, o), o);
 * assert.deepEqual(s1.center.shape, [1, 16]);
 * ```
 */
export function dinoStepApply<S>(
  state: DinoState<S>,
  stats: DinoStepStats,
  opts: DinoStepOptions<S>,
): DinoState<S> {
  const clip = opts.clipGrad ?? 3.0;
  let grads = clip > 0 ? clipByNorm(stats.grads, clip) : stats.grads;
  const flag = opts.lastLayerFrozen;
  const frozen = !flag && opts.epoch < (opts.freezeLastLayer ?? 1);
  if (flag) {
    const zero = cancelLastLayerGrads(grads, 0, 1).dino_head.last_layer;
    const last = treeMap(
      (z: Tensor, g: Tensor) => where(flag, z, g),
      zero,
      grads.dino_head.last_layer,
    );
    grads = { ...grads, dino_head: { ...grads.dino_head, last_layer: last } };
  } else grads = cancelLastLayerGrads(grads, opts.epoch, opts.freezeLastLayer ?? 1);
  const up = opts.optimizer.update(grads, state.opt, state.student);
  let student = up.params;
  if (flag) {
    const kept = treeMap(
      (old: Tensor, next: Tensor) => where(flag, add(old, 0), next),
      state.student.dino_head.last_layer,
      student.dino_head.last_layer,
    );
    student = { ...student, dino_head: { ...student.dino_head, last_layer: kept } };
  } else if (frozen) {
    const ll = state.student.dino_head.last_layer;
    const keep = {
      weight_v: add(ll.weight_v, 0),
      ...(ll.weight_g ? { weight_g: add(ll.weight_g, 0) } : {}),
    };
    student = { ...student, dino_head: { ...student.dino_head, last_layer: keep } };
  }
  const teacher = emaUpdate(state.teacher, student, opts.momentum);
  const m = opts.config.centerMomentum ?? 0.9;
  // updateCenter (models/dino.ts) with the batch mean given.
  const center = add(mul(state.center, m), mul(stats.batchCenter, 1 - m));
  return { student, teacher, center, opt: up.state };
}

/**
 * A zero centre `[1, K]` for a config (on `opts.backend`, default the current backend).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initCenter } from "./dino_train.ts";
 * assert.deepEqual(
 *   initCenter({ backbone: { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 }, outDim: 16 }).shape,
 *   [1, 16],
 * );
 * ```
 */
export function initCenter(config: DinoConfig, opts: { backend?: string } = {}): Tensor {
  return zeros([1, config.outDim], {
    dtype: config.backbone.dtype ?? "float32",
    backend: opts.backend,
  });
}
