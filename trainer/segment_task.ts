/**
 * `train.ts segment` as a {@link Task}: UperNet (ViT → 4-scale adapter → UperHead + auxiliary
 * FCNHead, methods.md §13) on a segmentation folder (FMNIST-Scenes or ADE layout,
 * `reduce_zero_label`). Each step takes `valueAndGrad` of {@link uperNetLoss} (per-pixel CE,
 * ignore 255, mean over valid pixels, aux weight 0.4) and an AdamW update with layer decay over
 * the encoder and a poly schedule with linear warmup (mmseg's, {@link polySchedule}).
 * BatchNorm statistics live in the optimizer-state tree as `opt.bn` (checkpointed with it).
 * Inference is whole-image (mmseg `mode='whole'`) after the test resize; for FMNIST-Scenes the
 * crop is the canvas, where it equals a one-window slide. Evaluation is mmseg's IoUMetric on
 * val ({@link scoreSplit}, {@link segMetricFields}), shared with `segment --eval`.
 * @module
 */
import { argmax, dispose, random, scope, slice, type Tensor } from "../tensor/mod.ts";
import { valueAndGrad } from "../autodiff/mod.ts";
import { adamw, type AdamWState } from "../nn/optim/adamw.ts";
import { layerDecayScale, weightDecayMask } from "../nn/optim/param_groups.ts";
import { polySchedule } from "../nn/optim/schedules.ts";
import { countParams, ParamSpec, zerosInit } from "../nn/init.ts";
import {
  initUperNet,
  initUperNetState,
  uperNet,
  type UperNetConfig,
  type UperNetParams,
  type UperNetState,
} from "../models/segmentation/uper_net.ts";
import { uperNetLoss } from "../models/segmentation/losses.ts";
import { resizeBilinear } from "../models/segmentation/conv_module.ts";
import type { DenseBatch } from "../data/dense_loader.ts";
import type { DenseItem } from "../data/dense_folder.ts";
import type { Dataset } from "../data/loader.ts";
import { type SegAreas, segAreas, segMetrics, sumSegAreas } from "../data/eval/seg_metrics.ts";
import { UsageError } from "./flags.ts";
import {
  denseVitOf,
  type DenseVitOptions,
  initEncoderOf,
  initRecord,
  takeInitBackbone,
} from "./models.ts";
import { runLengthFields, type RunLengthOptions, stepsLine, stepsPerEpoch } from "./run_lengths.ts";
import { denseEvalLoader, denseTrainLoader, firstItems } from "./dense_loaders.ts";
import type { Task } from "./train_loop.ts";
import { jitStep } from "./jit_step.ts";
import { oneRankOnly } from "./dist.ts";
import { summaryHead } from "./metrics.ts";
import { checkedSplit, segTestTransform, segTrainTransform } from "./segment_data.ts";

/** The settings of a segment run that fix the model (a subset of {@link SegmentSettings}). */
export interface SegmentModelOptions extends DenseVitOptions {
  /** Classes after `reduce_zero_label`. */
  classes: number;
  /** UperHead width. */
  channels: number;
  /** FCNHead width. */
  auxChannels: number;
  /** Position embeddings. */
  posEmbed: "learned" | "sincos";
  /** The encoder's image size (`--init`: its position table), else null or absent (the crop). */
  imgSize?: number | null;
  /** The encoder's channels (`--init`), else null or absent (the images'). */
  inChans?: number | null;
}

/** The settings of a segment run (`train.ts segment`'s options, stored in its checkpoints). */
export interface SegmentSettings extends SegmentModelOptions, RunLengthOptions {
  /** The data folder (FMNIST-Scenes or ADE layout); null is a usage error. */
  data: string | null;
  /** First N training images (null: all). */
  trainLimit: number | null;
  /** First N val images (null: all). */
  valLimit: number | null;
  /** A pretrain/finetune checkpoint whose encoder (and shape) the backbone takes. */
  init: string | null;
  /** Crop side (null: the first image's longer side; set by {@link segmentTask}). */
  crop: number | null;
  /** Patch side. */
  patch: number;
  /** Batch size (at least 2: BatchNorm on the 1×1 PPM). */
  batch: number;
  /** Peak lr. */
  lr: number;
  /** Final lr. */
  minLr: number;
  /** AdamW decay (not on norms, biases). */
  weightDecay: number;
  /** Layer-wise lr decay over the encoder (1 = off). */
  layerDecay: number;
  /** Aux loss weight. */
  auxWeight: number;
  /** CE mean over valid pixels or all. */
  lossAverage: "valid" | "all";
  /** Flip probability. */
  flip: number;
  /** Random resize ratio, low end. */
  ratioMin: number;
  /** Random resize ratio, high end. */
  ratioMax: number;
  /** `cat_max_ratio` of the crop. */
  catMaxRatio: number;
  /** Photometric distortion. */
  photometric: boolean;
  /** Keep the step eager (no `jit`), for debugging. */
  noJit: boolean;
}

/**
 * The model configuration of settings `o` for crops of side `crop`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { segmentConfig } from "./segment_task.ts";
 * const o = {
 *   model: "vit-tiny-fmnist", dim: 16, depth: 4, heads: 2, patch: 16, dropPath: 0, clsToken: false,
 *   classes: 11, channels: 16, auxChannels: 8, posEmbed: "sincos" as const,
 * };
 * assert.deepEqual(segmentConfig(o, 64, 3).outIndices, [0, 1, 2, 3]);
 * ```
 */
export function segmentConfig(
  o: SegmentModelOptions,
  crop: number,
  inChans: number,
): UperNetConfig {
  const { vit, pyramid } = denseVitOf(o, { imgSize: o.imgSize ?? crop, inChans, numClasses: 0 });
  const depth = vit.depth;
  const outIndices = depth >= 4
    ? [0.25, 0.5, 0.75, 1].map((f) => Math.round(depth * f) - 1)
    : [0, 0, 0, 0].map((_, i) => Math.min(i, depth - 1));
  return {
    vit,
    numClasses: o.classes,
    channels: o.channels,
    auxChannels: o.auxChannels,
    outIndices,
    posEmbed: o.posEmbed,
    pyramid,
  };
}

/** A spec tree with the shapes and dtypes of a tensor tree (for checkpoint templates). */
function specOf(tree: unknown): unknown {
  if (tree && typeof tree === "object" && "shape" in tree && "dtype" in tree) {
    const t = tree as Tensor;
    return new ParamSpec(t.shape, zerosInit, t.dtype);
  }
  if (Array.isArray(tree)) return tree.map(specOf);
  if (tree && typeof tree === "object") {
    return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, specOf(v)]));
  }
  return tree;
}

/**
 * The checkpoint templates of a UperNet run: the parameter spec and the optimizer state
 * (AdamW moments and, as `bn`, the BatchNorm statistics).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { segmentTemplate } from "./segment_task.ts";
 * const vit = { imgSize: 32, patchSize: 8, inChans: 1, numClasses: 0, embedDim: 8, depth: 2, numHeads: 2 };
 * const t = segmentTemplate({ vit, numClasses: 3, channels: 4, auxChannels: 4 });
 * assert.deepEqual(Object.keys(t.opt as object), ["count", "m", "v", "bn"]);
 * ```
 */
export function segmentTemplate(cfg: UperNetConfig): { params: unknown; opt: unknown } {
  const p = scope(() => initUperNet(random.key(0), cfg));
  const spec = specOf(p);
  dispose(p);
  const s = initUperNetState(cfg);
  const bn = specOf(s);
  dispose(s);
  return { params: spec, opt: { count: 0, m: spec, v: spec, bn } };
}

/**
 * Whole-image inference and mmseg IoUMetric counts of `params` on `set` (labels at their
 * original size). `onImage` sees every prediction.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * import { initUperNet, initUperNetState } from "../models/segmentation/uper_net.ts";
 * import { scoreSplit } from "./segment_task.ts";
 * const vit = { imgSize: 32, patchSize: 8, inChans: 3, numClasses: 0, embedDim: 8, depth: 2, numHeads: 2 };
 * const cfg = { vit, numClasses: 2, channels: 4, auxChannels: 4 };
 * const image = { data: new Uint8Array(32 * 32 * 3), height: 32, width: 32, channels: 3 };
 * const set = { length: 1, get: () => ({ sample: { image, semantic: new Uint8Array(32 * 32) } }) };
 * const areas = await scoreSplit(initUperNet(random.key(0), cfg), initUperNetState(cfg), set, cfg, 32);
 * assert.equal(areas![0]!.label[0], 32 * 32);
 * ```
 */
export async function scoreSplit(
  params: UperNetParams,
  bn: UperNetState,
  set: Dataset<DenseItem>,
  cfg: UperNetConfig,
  crop: number,
  stopped: () => boolean = () => false,
  onImage?: (i: number, pred: Uint8Array, item: DenseItem) => void,
): Promise<SegAreas[] | null> {
  const loader = denseEvalLoader(set, segTestTransform(crop, cfg.vit.inChans), cfg.vit.patchSize);
  const areas: SegAreas[] = [];
  for await (const batch of loader.epoch(0)) {
    try {
      for (const [i, idx] of batch.indices.entries()) {
        const item = await set.get(idx);
        const label = item.sample.semantic!;
        const { height: h, width: w } = item.sample.image;
        const [rh, rw] = batch.imageSizes[i]!;
        const pred = await scope(async () => {
          const x = slice(batch.images, [[i, i + 1]]);
          const { logits } = uperNet(params, bn, x, cfg);
          const crop1 = slice(logits, [null, null, [0, rh], [0, rw]]);
          const full = rh === h && rw === w ? crop1 : resizeBilinear(crop1, [h, w]);
          return Uint8Array.from(await argmax(full, 1).data() as Int32Array);
        });
        areas.push(segAreas(pred, label, cfg.numClasses));
        onImage?.(areas.length - 1, pred, item);
      }
    } finally {
      batch.dispose();
    }
    if (stopped()) return null;
  }
  return areas;
}

/**
 * mIoU, mAcc, aAcc and the per-class IoU (−1 where absent) as flat metrics.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { segAreas } from "../data/eval/seg_metrics.ts";
 * import { segMetricFields } from "./segment_task.ts";
 * const m = segMetricFields([segAreas(Uint8Array.of(0, 1), Uint8Array.of(0, 1), 2)]);
 * assert.deepEqual([m.mIoU, m.IoU_1], [1, 1]);
 * ```
 */
export function segMetricFields(areas: SegAreas[]): Record<string, number> {
  const m = segMetrics(sumSegAreas(areas));
  const out: Record<string, number> = { mIoU: m.mIoU, mAcc: m.mAcc, aAcc: m.aAcc };
  m.iou.forEach((v, k) => out[`IoU_${k}`] = Number.isNaN(v) ? -1 : v);
  return out;
}

/**
 * The segment {@link Task} of settings `o` on `backend` (a fresh run with `--init` takes that
 * encoder; `resuming`: the run continues a checkpoint, whose weights it keeps). Problems with
 * the settings or the data are {@link UsageError}s naming the flag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { segmentTask } from "./segment_task.ts";
 * const o = { data: null } as Parameters<typeof segmentTask>[0];
 * await assert.rejects(segmentTask(o, false, "cpu"), /--data DIR is required/);
 * ```
 */
export async function segmentTask(
  o: SegmentSettings,
  resuming: boolean,
  backend: string,
): Promise<Task> {
  if (o.data === null) {
    throw new UsageError("--data DIR is required (FMNIST-Scenes: make one with train.ts scenes)");
  }
  oneRankOnly("segment", "its BatchNorm statistics would need SyncBN across ranks, not built yet");
  const trainAll = await checkedSplit(o.data, "train", o.classes);
  const valAll = await checkedSplit(o.data, "val", o.classes);
  const trainSet = firstItems(trainAll, o.trainLimit), valSet = firstItems(valAll, o.valLimit);
  const nTrain = trainSet.length, nVal = valSet.length;
  const first = (await trainSet.get(0)).sample.image;
  const crop = o.crop ?? Math.max(first.height, first.width);
  o.crop = crop;
  const spe = stepsPerEpoch(nTrain, o.batch);
  if (o.batch < 2) throw new UsageError("--batch must be at least 2 (BatchNorm on the 1×1 PPM)");
  const { lengths, fields, resolved } = runLengthFields("segment", o, spe);
  const { total, warmup } = lengths;
  const pre = await initEncoderOf(o, resuming);
  if (pre) Object.assign(o, { imgSize: pre.config.imgSize, inChans: pre.config.inChans });
  if (crop % o.patch !== 0 || (crop / o.patch) % 4 !== 0) {
    throw new UsageError(
      `--crop ${crop} must be a multiple of 4·patch (${4 * o.patch}) for the 4-scale adapter`,
    );
  }
  const inChans = o.inChans ?? first.channels;
  const cfg = segmentConfig(o, crop, inChans);
  const template = segmentTemplate(cfg);
  const nParams = countParams(template.params);
  const lr = polySchedule({ base: o.lr, final: o.minLr, totalSteps: total, warmupSteps: warmup });
  const scale = layerDecayScale(cfg.vit.depth, o.layerDecay);
  const opt = adamw({
    lr,
    weightDecay: o.weightDecay,
    weightDecayMask: weightDecayMask(),
    lrScale: o.layerDecay < 1
      ? (p: string) => p.startsWith("backbone.") ? scale(p.slice(9)) : 1
      : undefined,
  });
  const aug = segTrainTransform({
    crop,
    ratio: [o.ratioMin, o.ratioMax],
    catMaxRatio: o.catMaxRatio,
    flip: o.flip,
    photometric: o.photometric,
    inChans,
  });
  const gradFn = valueAndGrad(
    (p: UperNetParams, bn: UperNetState, x: Tensor, y: Tensor, k: Tensor) => {
      const out = uperNet(p, bn, x, cfg, { train: true, key: k });
      const loss = uperNetLoss(out.logits, out.auxLogits, y, {
        auxWeight: o.auxWeight,
        average: o.lossAverage,
      });
      return [loss, out.state];
    },
    { hasAux: true },
  ) as unknown as (
    p: UperNetParams,
    bn: UperNetState,
    x: Tensor,
    y: Tensor,
    k: Tensor,
  ) => [[Tensor, UperNetState], UperNetParams];
  // The whole step (forward, backward, AdamW, BatchNorm statistics) as one program.
  const trainStep = jitStep(
    o.noJit,
    (p: unknown, state: AdamWState, x: Tensor, y: Tensor, k: Tensor) =>
      scope(() => {
        const { bn, ...adam } = state as AdamWState & { bn: UperNetState };
        const [[loss, bnNext], grads] = gradFn(p as UperNetParams, bn, x, y, k);
        const next = opt.update(grads, adam as AdamWState, p as UperNetParams);
        return { loss, state: { params: next.params, opt: { ...next.state, bn: bnNext } } };
      }),
  );
  const d = cfg.vit.embedDim;
  return {
    ...fields,
    template: template as Task["template"],
    resolved: {
      ...resolved,
      model: cfg,
      params: nParams,
      inference: "whole",
      ...initRecord("segment", pre).resolved,
    },
    data: { source: o.data, train_images: nTrain, val_images: nVal, crop },
    describe: (step, dir) =>
      `segment: UperNet on ${o.model} (${(nParams / 1e6).toFixed(2)}M params, patch ` +
      `${o.patch}, dim ${d}, depth ${cfg.vit.depth}, ${o.classes} classes, crop ${crop}) on ` +
      `${backend}; ${nTrain} train / ${nVal} val images from ${o.data}\n` +
      stepsLine("segment", {
        total,
        spe,
        batch: o.batch,
        dir,
        step,
        extra: ", whole-image inference",
      }) +
      initRecord("segment", pre).line,
    init(key) {
      let params = scope(() => initUperNet(key, cfg));
      if (pre) params = takeInitBackbone(params, pre);
      return { params, opt: { ...opt.init(params), bn: initUperNetState(cfg) } };
    },
    loader: (seed) => denseTrainLoader(trainSet, o.batch, seed, aug, crop),
    step(st, b, _step, key) {
      const batch = b as unknown as DenseBatch;
      const state = st.opt as AdamWState;
      return Promise.resolve(trainStep(st.params, state, batch.images, batch.semantic!, key));
    },
    dispose: () => trainStep.dispose(),
    lr,
    async evaluate(st, stopped) {
      const { bn } = st.opt as { bn: UperNetState };
      const areas = await scoreSplit(st.params as UperNetParams, bn, valSet, cfg, crop, stopped);
      return areas ? segMetricFields(areas) : null;
    },
    evalText: (m) =>
      `mIoU ${(m.mIoU! * 100).toFixed(2)}  aAcc ${(m.aAcc! * 100).toFixed(2)}  ` +
      `background IoU ${(m.IoU_0! * 100).toFixed(2)}`,
    summary: ({ loss, eval: ev }) => ({
      fields: {
        ...summaryHead(o.model, nParams, { train_images: nTrain, val_images: nVal }, loss),
        mIoU: ev?.mIoU ?? null,
        aAcc: ev?.aAcc ?? null,
        IoU: ev ? Array.from({ length: o.classes }, (_, k) => ev[`IoU_${k}`]!) : null,
      },
      text: ev
        ? `mIoU ${(ev.mIoU! * 100).toFixed(2)}, aAcc ${(ev.aAcc! * 100).toFixed(2)} on ${nVal} ` +
          "val images"
        : "no evaluation",
    }),
  };
}
