/**
 * `train.ts detect` as a {@link Task}: Mask R-CNN + FPN on a ViT backbone (methods.md §11–12)
 * on a COCO detection folder such as FMNIST-Scenes (`train.ts scenes`). Each step plans on the
 * host ({@link maskRcnnPlan}, async, no gradient), then takes `valueAndGrad` of
 * {@link maskRcnnLoss} (sync) and an AdamW update (cosine lr, linear warmup, optional global
 * gradient-norm clipping). Evaluation predicts on the val split and scores boxes and masks
 * with COCOeval (trainer/detect_coco.ts). Also the parts `detect --eval` shares: the Mask
 * R-CNN config of a run's settings ({@link detectModelConfig}) and the input preparation
 * ({@link detectPrep}).
 * @module
 */
import { random, scope, type Tensor, tensor } from "../tensor/mod.ts";
import { valueAndGrad } from "../autodiff/mod.ts";
import { adamw, type AdamWState } from "../nn/optim/adamw.ts";
import { weightDecayMask } from "../nn/optim/param_groups.ts";
import { cosineSchedule } from "../nn/optim/schedules.ts";
import { clipByGlobalNorm } from "../nn/optim/clip.ts";
import { countParams } from "../nn/init.ts";
import {
  type DetectionTarget,
  maskRcnnLoss,
  type MaskRcnnPlan,
  maskRcnnPlan,
} from "../models/detection/mask_rcnn.ts";
import {
  initMaskRcnn,
  type MaskRcnnConfig,
  type MaskRcnnParams,
  maskRcnnSpec,
} from "../models/detection/mask_rcnn_model.ts";
import type { DenseBatch } from "../data/dense_loader.ts";
import { largeScaleJitter, randomFlipDense } from "../data/dense_transforms/random.ts";
import { type DenseSample, normalizeDense } from "../data/dense_transforms/sample.ts";
import { channelMean } from "../data/transforms/image.ts";
import { UsageError } from "./flags.ts";
import {
  denseVitOf,
  type DenseVitOptions,
  initEncoderOf,
  initRecord,
  takeInitBackbone,
} from "./models.ts";
import { runLengthFields, type RunLengthOptions, stepsLine, stepsPerEpoch } from "./run_lengths.ts";
import { denseEvalLoader, denseTrainLoader } from "./dense_loaders.ts";
import type { Task } from "./train_loop.ts";
import { jitStep } from "./jit_step.ts";
import { oneRankOnly } from "./dist.ts";
import { denseStats } from "../data/dense_stats.ts";
import { summaryHead } from "./metrics.ts";
import {
  cocoStats,
  DETECT_STATS,
  firstImages,
  openDetectSplit,
  predictCoco,
} from "./detect_coco.ts";

/** The settings of a detect run that fix the model (a subset of {@link DetectSettings}). */
export interface DetectShapeOptions extends DenseVitOptions {
  /** The encoder's image size (`--init`), else null (the canvas, rounded up to 32). */
  imgSize: number | null;
  /** The encoder's channels (`--init`), else null (the images'). */
  inChans: number | null;
}

/**
 * The Mask R-CNN of a detect run: the ViT of its settings on a `canvas`² canvas of `inChans`
 * channels, FPN/mask width = ViT width, box head 4× that, anchors and RoI levels scaled by
 * `canvas / 256`, 64 RPN and RoI samples, 200/100 pre-NMS and 100 post-NMS proposals.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectModelConfig } from "./detect_task.ts";
 * const o = { model: "vit-tiny-fmnist", patch: 16, dim: 32, depth: 2, heads: 2, dropPath: 0, imgSize: null, inChans: null, clsToken: false };
 * const cfg = detectModelConfig(o, 11, 128, 3);
 * assert.deepEqual([cfg.vit.imgSize, cfg.fpnChannels, cfg.boxRepresentation, cfg.canvasScale], [128, 32, 128, 0.5]);
 * ```
 */
export function detectModelConfig(
  o: DetectShapeOptions,
  numClasses: number,
  canvas: number,
  inChans: number,
): MaskRcnnConfig {
  const imgSize = o.imgSize ?? Math.ceil(canvas / 32) * 32;
  const { vit, pyramid } = denseVitOf(o, { imgSize, inChans, numClasses: 0 });
  const d = vit.embedDim;
  return {
    vit,
    numClasses,
    fpnChannels: d,
    boxRepresentation: 4 * d,
    maskDim: d,
    canvasScale: canvas / 256,
    posEmbed: "sincos",
    rpnBatchSize: 64,
    roiBatchSize: 64,
    rpnPreNmsTopN: { train: 200, test: 100 },
    rpnPostNmsTopN: 100,
    pyramid,
  };
}

/**
 * RGB → one channel (the channel mean, rounded), for a greyscale encoder (`detect --init` and
 * `segment --init` of an FMNIST pretrain checkpoint); a 1-channel sample is returned as is.
 *
 * @param s the sample
 * @returns the sample with a 1-channel image
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toGrey } from "./detect_task.ts";
 * const image = { data: Uint8Array.of(0, 10, 21, 255, 255, 255), height: 1, width: 2, channels: 3 };
 * assert.deepEqual([...toGrey({ image }).image.data], [10, 255]);
 * ```
 */
export function toGrey(s: DenseSample): DenseSample {
  return s.image.channels === 1 ? s : { ...s, image: channelMean(s.image) };
}

/**
 * The input transform of a detect model of `inChans` channels: greyscale when 1, then mmdet's
 * ImageNet normalisation (data/dense_stats.ts; the channel averages for greyscale), which
 * `segment` and `pretrain --data` share.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectPrep } from "./detect_task.ts";
 * const s = { image: { data: Uint8Array.of(0, 255, 255), height: 1, width: 1, channels: 3 } };
 * const out = detectPrep(1)(s) as unknown as { image: { data: Float32Array; channels: number } };
 * assert.equal(out.image.channels, 1);
 * assert.ok(Math.abs(out.image.data[0]! - (170 / 255 - 0.449) / 0.226) < 1e-6);
 * ```
 */
export function detectPrep(inChans: number): (x: DenseSample) => DenseSample {
  const { mean, std } = denseStats(inChans);
  return (x) => normalizeDense(inChans === 1 ? toGrey(x) : x, mean, std) as unknown as DenseSample;
}

/** Per-image targets of a batch as tensors (labels 1..C; 0 is background). */
function targetsOf(b: DenseBatch): DetectionTarget[] {
  const [, , h, w] = b.images.shape as [number, number, number, number];
  return b.targets!.map((t) => {
    const n = t.labels.length;
    const masks = new Float32Array(n * h * w);
    t.masks?.forEach((m, j) => masks.set(m, j * h * w));
    return {
      boxes: tensor(t.boxes, { shape: [n, 4] }),
      labels: tensor(Int32Array.from(t.labels, (l) => l + 1), { shape: [n], dtype: "int32" }),
      masks: tensor(masks, { shape: [n, h, w] }),
    };
  });
}

/** The settings of a detect run (`train.ts detect`'s options, stored in its checkpoints). */
export interface DetectSettings extends DetectShapeOptions, RunLengthOptions {
  /** The COCO folder (`images/`, `annotations/`); null is a usage error. */
  data: string | null;
  /** First N training images (null: all). */
  trainLimit: number | null;
  /** First N val images (null: all). */
  valLimit: number | null;
  /** A pretrain/finetune checkpoint whose encoder (and shape) the backbone takes. */
  init: string | null;
  /** Patch side (divides 32). */
  patch: number;
  /** Batch size. */
  batch: number;
  /** Peak lr. */
  lr: number;
  /** Final lr. */
  minLr: number;
  /** AdamW decay (not on norms, biases). */
  weightDecay: number;
  /** Global gradient-norm clip, 0 = off. */
  clipGrad: number;
  /** Horizontal flip probability. */
  flip: number;
  /** Large-scale jitter. */
  lsj: boolean;
  /** Keep the update eager (no `jit`), for debugging. */
  noJit: boolean;
}

/**
 * The detect {@link Task} of settings `o` on `backend` (a fresh run with `--init` takes that
 * encoder; `resuming`: the run continues a checkpoint, whose weights it keeps). Problems with
 * the settings or the data are {@link UsageError}s naming the flag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectTask } from "./detect_task.ts";
 * const o = { data: null } as Parameters<typeof detectTask>[0];
 * await assert.rejects(detectTask(o, false, "cpu"), /--data DIR is required/);
 * ```
 */
export async function detectTask(
  o: DetectSettings,
  resuming: boolean,
  backend: string,
): Promise<Task> {
  if (o.data === null) {
    throw new UsageError("--data DIR is required (a COCO folder; make one with train.ts scenes)");
  }
  oneRankOnly("detect", "its batches of boxes and masks are not sharded over ranks yet");
  const trainFolder = await openDetectSplit(o.data, "train");
  const valFolder = await openDetectSplit(o.data, "val");
  const trainSet = firstImages(trainFolder, o.trainLimit).set;
  const { set: valSet, gt } = firstImages(valFolder, o.valLimit);
  const nTrain = trainSet.length, nVal = valSet.length;
  const first = (await trainSet.get(0)).sample.image;
  const canvas = Math.max(first.height, first.width);
  const spe = stepsPerEpoch(nTrain, o.batch);
  const { lengths, fields, resolved } = runLengthFields("detect", o, spe);
  const { total, warmup } = lengths;
  const pre = await initEncoderOf(o, resuming);
  if (pre) Object.assign(o, { imgSize: pre.config.imgSize, inChans: pre.config.inChans });
  const patch = o.patch;
  if (32 % patch !== 0) {
    throw new UsageError(
      `${pre ? `--init ${o.init}: the encoder's patch` : "--patch"} ${patch} does not divide 32 ` +
        "(Mask R-CNN pads images to multiples of 32); use a patch of 4, 8, 16 or 32",
    );
  }
  const inChans = o.inChans ?? first.channels;
  const cfg = detectModelConfig(o, trainFolder.catIds.length + 1, canvas, inChans);
  const { vit } = cfg, d = vit.embedDim;
  const spec = maskRcnnSpec(cfg);
  const nParams = countParams(spec);
  const lr = cosineSchedule({ base: o.lr, final: o.minLr, totalSteps: total, warmupSteps: warmup });
  const opt = adamw({ lr, weightDecay: o.weightDecay, weightDecayMask: weightDecayMask() });
  const prep = detectPrep(inChans);
  const flip = randomFlipDense(o.flip);
  const lsj = o.lsj ? largeScaleJitter([canvas, canvas]) : null;
  const gradFn = valueAndGrad((p: MaskRcnnParams, x: Tensor, plan: MaskRcnnPlan, k: Tensor) =>
    maskRcnnLoss(p, x, plan, cfg, { forwardKey: k }).total
  );
  // Only the update (clipping + AdamW) is compiled: the plan's sampled anchors and RoIs have
  // data-dependent shapes and host arrays (RoI levels), so the loss and gradients stay eager.
  const update = jitStep(
    o.noJit,
    (p: unknown, state: AdamWState, grads: MaskRcnnParams) =>
      scope(() => {
        const c = o.clipGrad > 0 ? clipByGlobalNorm(grads, o.clipGrad) : null;
        const next = opt.update(c ? c.grads : grads, state, p as MaskRcnnParams);
        return {
          state: { params: next.params, opt: next.state },
          ...(c ? { logs: { grad_norm: c.norm } } : {}),
        };
      }),
  );
  const valLoader = denseEvalLoader(valSet, prep);
  return {
    ...fields,
    template: { params: spec, opt: { count: 0, m: spec, v: spec } },
    resolved: {
      ...resolved,
      model: cfg,
      params: nParams,
      ...initRecord("detect", pre).resolved,
    },
    data: { source: o.data, train_images: nTrain, val_images: nVal, canvas },
    describe: (step, dir) =>
      `detect: Mask R-CNN on ${o.model} (${(nParams / 1e6).toFixed(2)}M params, patch ` +
      `${patch}, dim ${d}, depth ${vit.depth}, ${cfg.numClasses - 1} classes) on ${backend}; ` +
      `${nTrain} train / ${nVal} val images from ${o.data}\n` +
      stepsLine("detect", { total, spe, batch: o.batch, dir, step }) +
      initRecord("detect", pre).line,
    init(key) {
      let params = scope(() => initMaskRcnn(key, cfg));
      if (pre) params = takeInitBackbone(params, pre);
      return { params, opt: opt.init(params) };
    },
    loader: (seed) =>
      denseTrainLoader(trainSet, o.batch, seed, (x, rng) => {
        if (lsj) x = lsj(x, rng);
        if (o.flip > 0) x = flip(x, rng);
        return prep(x);
      }),
    step(st, b, _step, key) {
      const batch = b as unknown as DenseBatch;
      const params = st.params as MaskRcnnParams;
      // The model's forward leaves its temporaries to the caller's scope: everything made
      // here but the returned loss and state is freed when the step ends (the loader makes
      // its tensors only when a batch is yielded, so nothing of it is caught here).
      return scope(async () => {
        const [kPlan, kFwd] = random.splitKeys(key, 2);
        const targets = targetsOf(batch);
        const plan = await maskRcnnPlan(params, batch.images, batch.imageSizes, targets, cfg, {
          key: kPlan!,
          forwardKey: kFwd,
        });
        const [loss, grads] = gradFn(params, batch.images, plan, kFwd!);
        return { loss, ...update(params, st.opt as AdamWState, grads) };
      });
    },
    dispose: () => update.dispose(),
    lr,
    async evaluate(st, stopped) {
      const params = st.params as MaskRcnnParams;
      const results = await predictCoco(params, cfg, valLoader, trainFolder.catIds, stopped);
      return results && cocoStats(gt, results);
    },
    evalText: (m) =>
      `bbox AP ${(m.bbox_AP! * 100).toFixed(2)}  segm AP ${(m.segm_AP! * 100).toFixed(2)}  ` +
      `(${m.detections} detections)`,
    summary: ({ loss, eval: ev }) => ({
      fields: {
        ...summaryHead(o.model, nParams, { train_images: nTrain, val_images: nVal }, loss),
        bbox: ev ? DETECT_STATS.map((n) => ev[`bbox_${n}`]!) : null,
        segm: ev ? DETECT_STATS.map((n) => ev[`segm_${n}`]!) : null,
      },
      text: ev
        ? `bbox AP ${(ev.bbox_AP! * 100).toFixed(2)}, segm AP ${
          (ev.segm_AP! * 100).toFixed(2)
        } on ${nVal} val images`
        : "no evaluation",
    }),
  };
}
