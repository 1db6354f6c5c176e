/**
 * The three pre-training methods behind one interface for the `pretrain` loop: what a step
 * trains (`params`, optimizer state), the per-sample augmentation, one training step, the
 * checkpoint templates and the analytical FLOP count per step (models/flops.ts, for the compute
 * columns of the comparison). SplitMask and BEiT share the masked-image-modelling runner (tokenizer targets,
 * block masks, global-norm clipping); DINO wraps {@link dinoTrainStep}.
 * @module
 */
import { add, dispose, mul, random, scope, slice, squeeze, Tensor, tensor } from "../tensor/mod.ts";
import { valueAndGrad } from "../autodiff/mod.ts";
import { adamw, type AdamWState } from "../nn/optim/adamw.ts";
import { ParamSpec, zerosInit } from "../nn/init.ts";
import { clipByGlobalNorm } from "../nn/optim/clip.ts";
import { weightDecayMask } from "../nn/optim/param_groups.ts";
import { cosineSchedule } from "../nn/optim/schedules.ts";
import type { VitConfig } from "../models/vit.ts";
import { type BeitConfig, beitForward, beitSpec, initBeit } from "../models/beit.ts";
import {
  initSplitMask,
  type SplitMaskConfig,
  splitMaskForward,
  splitMaskSpec,
} from "../models/splitmask.ts";
import { type DinoConfig, type DinoParams, dinoSpec, initDino } from "../models/dino.ts";
import {
  dinoStepApply,
  dinoStepGradients,
  type DinoStepStats,
  initCenter,
  teacherMomentumSchedule,
  teacherTempSchedule,
} from "../models/dino_train.ts";
import { beitStepFlops, dinoStepFlops, splitMaskStepFlops } from "../models/flops.ts";
import { type PatchTokenizer, tokenize } from "../models/tokenizers.ts";
import { cropLayout, multiCrop, unpackCrops } from "../data/transforms/multicrop.ts";
import { FASHION_MNIST_MEAN, FASHION_MNIST_STD } from "../data/fashion_mnist_stats.ts";
import type { Task, TrainState } from "./train_loop.ts";
import * as dist from "./dist.ts";
import { jitTrainStep } from "./jit_step.ts";
import type { FloatImage, Image, Transform } from "../data/transforms/image.ts";
import { type MimInputOptions, mimMasking, mimTransform } from "./mim_masking.ts";

/** The pre-training methods. */
export const PRETRAIN_METHODS = ["splitmask", "beit", "dino"] as const;
/** A pre-training method. */
export type PretrainMethodName = typeof PRETRAIN_METHODS[number];

/**
 * The method-dependent defaults (peak lr, weight decay start/end, masked fraction).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { methodDefaults } from "./pretrain_methods.ts";
 * assert.deepEqual([methodDefaults("beit").maskRatio, methodDefaults("dino").lr], [0.4, 5e-4]);
 * ```
 */
export function methodDefaults(
  m: PretrainMethodName,
): { lr: number; weightDecay: number; weightDecayEnd: number; maskRatio: number } {
  return m === "dino"
    ? { lr: 5e-4, weightDecay: 0.04, weightDecayEnd: 0.4, maskRatio: 0 }
    : { lr: 1.5e-3, weightDecay: 0.05, weightDecayEnd: 0.05, maskRatio: m === "beit" ? 0.4 : 0.5 };
}

/**
 * The settings a method reads (the `pretrain` command's flags of the same names; null lr,
 * weight decay and mask ratio mean {@link methodDefaults}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { PretrainMethodOptions } from "./pretrain_methods.ts";
 * const lr = (o: Pick<PretrainMethodOptions, "lr">) => o.lr ?? 1.5e-3;
 * assert.equal(lr({ lr: null }), 1.5e-3);
 * ```
 */
export interface PretrainMethodOptions extends MimInputOptions {
  /** The method. */
  method: PretrainMethodName;
  /** MIM: masked fraction (null: the method's). */
  maskRatio: number | null;
  /** Batch size. */
  batch: number;
  /** Peak lr (null: the method's). */
  lr: number | null;
  /** Final lr. */
  minLr: number;
  /** Weight decay at the start (null: the method's). */
  weightDecay: number | null;
  /** Weight decay at the end, cosine (null: the method's). */
  weightDecayEnd: number | null;
  /** MIM: global-norm clip; DINO: per-tensor clip. */
  clipGrad: number;
  /** MIM: vocabulary of the tokenizer. */
  vocab: number;
  /** SplitMask: which losses. */
  splitmaskMode: "both" | "inpaint" | "match";
  /** MIM: decoder blocks. */
  decoderDepth: number;
  /** SplitMask: InfoNCE temperature. */
  tau: number;
  /** DINO: prototypes. */
  outDim: number;
  /** DINO: head width. */
  hiddenDim: number;
  /** DINO: head bottleneck. */
  bottleneckDim: number;
  /** DINO: local crops. */
  localCrops: number;
  /** DINO: their side. */
  localSize: number;
  /** DINO: teacher temperature. */
  teacherTemp: number;
  /** DINO: teacher temperature at the start. */
  warmupTeacherTemp: number;
  /** DINO: epochs of teacher-temperature warm-up. */
  teacherTempEpochs: number;
  /** DINO: teacher EMA momentum (start). */
  momentumTeacher: number;
  /** DINO: epochs the last layer stays frozen. */
  freezeLastLayer: number;
  /** Run the step eagerly instead of compiled by `jit` (trainer/jit_step.ts). */
  noJit: boolean;
  /** Micro-batches per step (gradient accumulation, trainer/accum.ts). */
  accum: number;
}

/**
 * A pre-training method: the {@link Task} parts that differ between methods (what is trained
 * and checkpointed, one step on a batch of augmented images, the lr schedule) plus the
 * loader's per-sample augmentation and the analytical FLOPs per step (models/flops.ts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { MethodRunner } from "./pretrain_methods.ts";
 * const f = (m: MethodRunner) => m.flopsPerStep;
 * assert.deepEqual(typeof f, "function");
 * ```
 */
export interface MethodRunner extends Pick<Task, "template" | "init" | "lr"> {
  /** Per-sample augmentation of the loader. */
  transform: Transform<Image, Image | FloatImage>;
  /** One step on a batch of (augmented) images; `key` is this step's key. */
  step(state: TrainState, images: Tensor, step: number, key: Tensor): Promise<{
    state: TrainState;
    loss: Tensor;
    logs: Record<string, Tensor>;
  }>;
  /** Analytical training FLOPs of one step (multiply-adds × 2; backward = 2 × forward). */
  flopsPerStep: number;
  /** One line for the progress header. */
  describe: string;
  /** Frees the compiled step. */
  dispose(): void;
}

/** Everything a runner needs to know about the run. */
export interface MethodContext {
  /** Settings. */
  o: PretrainMethodOptions;
  /** The encoder. */
  encoder: VitConfig;
  /** Steps in the run. */
  total: number;
  /** Steps per epoch. */
  stepsPerEpoch: number;
  /** Warmup steps. */
  warmup: number;
  /** The tokenizer (MIM methods; fitted once the run directory exists, so read lazily). */
  tokenizer?: () => PatchTokenizer;
  /**
   * The input normalisation (one channel): Fashion-MNIST's statistics when absent; a dense
   * folder's images take the detect/segment table (data/dense_stats.ts).
   */
  norm?: PixelStats;
}

/** A one-channel normalisation: `(x − mean) / std` on pixels in [0, 1]. */
export interface PixelStats {
  /** Per-channel mean. */
  mean: readonly number[];
  /** Per-channel standard deviation. */
  std: readonly number[];
}

/** Fashion-MNIST's statistics: the default of {@link MethodContext.norm}. */
const FMNIST_STATS: PixelStats = { mean: FASHION_MNIST_MEAN, std: FASHION_MNIST_STD };

function schedules(ctx: MethodContext) {
  const d = methodDefaults(ctx.o.method);
  const lr = cosineSchedule({
    base: ctx.o.lr ?? d.lr,
    final: ctx.o.minLr,
    totalSteps: ctx.total,
    warmupSteps: ctx.warmup,
  });
  const wd0 = ctx.o.weightDecay ?? d.weightDecay, wd1 = ctx.o.weightDecayEnd ?? d.weightDecayEnd;
  const wd = wd0 === wd1 ? wd0 : cosineSchedule({ base: wd0, final: wd1, totalSteps: ctx.total });
  return { lr, wd };
}

/** SplitMask or BEiT. */
function mimRunner(ctx: MethodContext): MethodRunner {
  const { o, encoder } = ctx;
  const tok = ctx.tokenizer!;
  const norm = ctx.norm ?? FMNIST_STATS;
  const size = encoder.imgSize as number;
  const g = size / encoder.patchSize;
  const masking = mimMasking(o, g, methodDefaults(o.method).maskRatio);
  const numMasked = masking.counts[0];
  const { lr, wd } = schedules(ctx);
  const optimizer = adamw({ lr, weightDecay: wd, weightDecayMask: weightDecayMask() });
  const enc = { ...encoder, init: "beit-pretrain" as const };
  const v = o.vocab, b = o.batch;
  let spec: unknown, init: (k: Tensor) => unknown, flops: number, describe: string;
  let lossFn: (p: unknown, images: Tensor, mask: Tensor, targets: Tensor, key: Tensor) => [
    Tensor,
    Record<string, Tensor>,
  ];
  if (o.method === "beit") {
    const cfg: BeitConfig = { encoder: enc, vocabSize: v };
    spec = beitSpec(cfg), init = (k) => initBeit(k, cfg);
    lossFn = (p, images, mask, targets, key) => {
      const r = beitForward(p as never, { images, mask, targets }, key, {
        config: cfg,
        train: true,
        numMasked,
      });
      return [r.loss, { mlm_acc: r.accuracy }];
    };
    flops = beitStepFlops(cfg, numMasked);
    describe = `BEiT: ${masking.describe}, vocabulary ${v}`;
  } else {
    const cfg: SplitMaskConfig = {
      encoder: enc,
      vocabSize: v,
      decoderDepth: o.decoderDepth,
      mode: o.splitmaskMode,
      infoNCE: { temperature: o.tau },
    };
    spec = splitMaskSpec(cfg), init = (k) => initSplitMask(k, cfg);
    const counts = masking.counts;
    lossFn = (p, images, masks, targets, key) => {
      const neg = dist.gatherRows();
      const negatives = neg && { gather: neg.gather, offset: neg.offset(images.shape[0]!) };
      // masks: bool [2, B, N], subsets A and B.
      const [mask, maskB] = [0, 1].map((i) => squeeze(slice(masks, [[i, i + 1]]), 0));
      const r = splitMaskForward(p as never, { images, mask: mask!, maskB, targets }, key, {
        config: cfg,
        train: true,
        counts,
        ...(negatives ? { negatives } : {}),
      });
      return [r.loss, { mim: r.mim, nce: r.nce }];
    };
    flops = splitMaskStepFlops({ ...cfg, decoderDepth: o.decoderDepth }, counts);
    describe = `SplitMask (${o.splitmaskMode}): ${masking.describe}, ` +
      `${o.decoderDepth}-block decoder, vocabulary ${v}, τ ${o.tau}`;
  }
  const grad = valueAndGrad(
    (p: unknown, images: Tensor, mask: Tensor, targets: Tensor, key: Tensor) =>
      lossFn(p, images, mask, targets, key),
    { hasAux: true },
  );
  // The loss, logs and gradients are averaged over the ranks between the halves
  // (trainer/dist.ts); SplitMask's gathered InfoNCE is a host collective inside the gradient
  // half, which therefore stays eager on several ranks.
  const gathers = o.method === "splitmask" && o.splitmaskMode !== "inpaint";
  const trainStep = jitTrainStep({
    grad: (params, images: Tensor, mask: Tensor, dropKey: Tensor) => {
      // The tokenizer sees the unmasked augmented image in [0, 1].
      const raw = add(mul(images, norm.std[0]!), norm.mean[0]!);
      const targets = tokenize(tok(), raw);
      const [[loss, logs], grads] = grad(params, images, mask, targets, dropKey) as unknown as [
        [Tensor, Record<string, Tensor>],
        unknown,
      ];
      return { out: { loss, logs }, grads };
    },
    apply: (params, opt, grads) => {
      const g = o.clipGrad > 0 ? clipByGlobalNorm(grads, o.clipGrad).grads : grads;
      const up = optimizer.update(g, opt, params);
      return { params: up.params, opt: up.state };
    },
  }, { eager: o.noJit, eagerGrad: gathers && dist.collectives().size > 1, accum: o.accum });
  return {
    dispose: () => trainStep.dispose(),
    template: { params: spec, opt: { count: 0, m: spec, v: spec } },
    init(key) {
      const params = scope(() => init(key));
      return { params, opt: optimizer.init(params) };
    },
    transform: mimTransform(o, size, norm),
    async step({ params, opt }, images, _step, key) {
      // This step's mask key and dropout key, both from the step key; example i's mask and
      // drop-path draws come from its index in the global batch (trainer/dist.ts).
      const [mk, dk] = random.splitKeys(key, 2) as [Tensor, Tensor];
      const b = images.shape[0]!, first = dist.firstRow(b);
      let mask: Tensor, dropKey: Tensor;
      try {
        mask = await masking.draw(mk, b, images.backend.name, first);
        dropKey = dist.exampleKeys(dk, b);
      } finally {
        dispose([mk, dk]);
      }
      try {
        const r = await trainStep(params, opt as AdamWState, [images, mask, dropKey], []);
        return { state: r.state, ...r.out };
      } finally {
        mask.dispose();
        dropKey.dispose();
      }
    },
    lr,
    flopsPerStep: flops * b,
    describe,
  };
}

/** DINO. */
function dinoRunner(ctx: MethodContext): MethodRunner {
  const { o, encoder, total, stepsPerEpoch } = ctx;
  const cfg: DinoConfig = {
    backbone: encoder,
    outDim: o.outDim,
    hiddenDim: o.hiddenDim,
    bottleneckDim: o.bottleneckDim,
  };
  const size = encoder.imgSize as number;
  const layout = cropLayout(
    { globalSize: size, localSize: o.localSize, localCrops: o.localCrops },
    encoder.inChans,
  );
  const { lr, wd } = schedules(ctx);
  const optimizer = adamw({ lr, weightDecay: wd, weightDecayMask: weightDecayMask() });
  const epochs = Math.ceil(total / stepsPerEpoch);
  const temps = teacherTempSchedule({
    warmupTemp: o.warmupTeacherTemp,
    temp: o.teacherTemp,
    warmupEpochs: o.teacherTempEpochs,
    epochs,
  });
  const momentum = teacherMomentumSchedule(o.momentumTeacher, epochs, stepsPerEpoch);
  const spec = dinoSpec(cfg);
  const k = o.outDim;
  const flops = dinoStepFlops(
    { ...cfg, hiddenDim: o.hiddenDim, bottleneckDim: o.bottleneckDim },
    o,
  );
  type DinoTree = { student: DinoParams; teacher: DinoParams; center: Tensor };
  // Eager: the epoch (a number) says whether the last layer is frozen; jitted: a bool flag
  // (one program for the whole run).
  const stepOpts = (teacherTemp: number | Tensor, momentum: number | Tensor, frozen: unknown) => ({
    config: cfg,
    optimizer,
    epoch: typeof frozen === "number" ? frozen : 0,
    ...(frozen instanceof Tensor ? { lastLayerFrozen: frozen } : {}),
    teacherTemp,
    momentum,
    clipGrad: o.clipGrad,
    freezeLastLayer: o.freezeLastLayer,
  });
  // One fused mean over the ranks between the halves: gradients ‖ centre statistic ‖ loss.
  const trainStep = jitTrainStep({
    grad: (params, images: Tensor, key: Tensor, teacherTemp: number | Tensor) => {
      const state = { ...(params as DinoTree), opt: null };
      const opts = { ...stepOpts(teacherTemp, 0, 0), key };
      const { terms: _, loss, ...stats } = dinoStepGradients(
        state,
        unpackCrops(images, layout),
        opts,
      );
      return { out: loss, grads: stats };
    },
    apply: (
      params,
      opt,
      stats: DinoStepStats,
      momentum: number | Tensor,
      frozen: number | Tensor,
    ) => {
      const state = { ...(params as DinoTree), opt };
      const { opt: nextOpt, ...next } = dinoStepApply(state, stats, stepOpts(0, momentum, frozen));
      return { params: next, opt: nextOpt };
    },
  }, { eager: o.noJit, accum: o.accum });
  return {
    template: {
      params: {
        student: spec,
        teacher: spec,
        center: new ParamSpec([1, k], zerosInit, encoder.dtype),
      },
      opt: { count: 0, m: spec, v: spec },
    },
    init(key) {
      const { student, teacher } = scope(() => initDino(key, cfg));
      return {
        params: { student, teacher, center: initCenter(cfg) },
        opt: optimizer.init(student),
      };
    },
    transform: multiCrop({
      globalSize: size,
      localSize: o.localSize,
      localCrops: o.localCrops,
      // DINO's σ ∈ [0.1, 2] is for 224² crops; 28² images take [0.1, 1].
      blurSigma: [0.1, Math.max(0.1, (2 * size) / 56)],
      mean: ctx.norm?.mean ?? FASHION_MNIST_MEAN,
      std: ctx.norm?.std ?? FASHION_MNIST_STD,
    }),
    async step({ params, opt }, images, step, key) {
      const epoch = Math.floor(step / stepsPerEpoch);
      const temp = temps[Math.min(epoch, temps.length - 1)]!;
      const m = momentum[Math.min(step, momentum.length - 1)]!;
      // One key per example, from its index in the global batch (trainer/dist.ts).
      const keys = dist.exampleKeys(key, images.shape[0]!);
      if (o.noJit) {
        try {
          const r = await trainStep(params, opt as AdamWState, [images, keys, temp], [m, epoch]);
          return { state: r.state, loss: r.out, logs: {} };
        } finally {
          keys.dispose();
        }
      }
      // Compiled: the per-step values are traced scalars (the momentum in float64 where the
      // backend has it, as the JS number is), the epoch only says whether the last layer is frozen.
      const backend = images.backend;
      const wide = backend.supportsDtype("float64") ? "float64" : "float32";
      const t = tensor(temp, { backend: backend.name });
      const mt = tensor(m, { dtype: wide, backend: backend.name });
      const frozen = tensor(epoch < o.freezeLastLayer, { backend: backend.name });
      try {
        const r = await trainStep(params, opt as AdamWState, [images, keys, t], [mt, frozen]);
        return { state: r.state, loss: r.out, logs: {} };
      } finally {
        dispose([t, mt, frozen, keys]);
      }
    },
    dispose: () => trainStep.dispose(),
    lr,
    flopsPerStep: flops * o.batch,
    describe: `DINO: 2 global ${size}² + ${o.localCrops} local ${o.localSize}² crops, K ${k}, ` +
      `teacher τ ${o.warmupTeacherTemp}→${o.teacherTemp}, momentum ${o.momentumTeacher}`,
  };
}

/**
 * The runner of `ctx.o.method`.
 *
 * @example
 * ```ts ignore
 * import { methodRunner } from "./pretrain_methods.ts";
 * const runner = methodRunner({ o, encoder, total: 100, stepsPerEpoch: 10, warmup: 10, tokenizer });
 * ```
 */
export function methodRunner(ctx: MethodContext): MethodRunner {
  return ctx.o.method === "dino" ? dinoRunner(ctx) : mimRunner(ctx);
}
