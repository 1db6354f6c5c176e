/**
 * `train.ts segment`: trains UperNet (ViT → 4-scale adapter → UperHead + auxiliary FCNHead,
 * methods.md §13) on a segmentation folder (FMNIST-Scenes or ADE layout, `reduce_zero_label`).
 * Each step takes `valueAndGrad` of {@link uperNetLoss} (per-pixel CE, ignore 255, mean over
 * valid pixels, aux weight 0.4) and an AdamW update with layer decay over the encoder and a
 * poly schedule with linear warmup (mmseg's), the whole step compiled by `jit` unless
 * `--no-jit`. BatchNorm statistics live in the optimizer-state tree as `opt.bn` (checkpointed
 * with it). Inference is whole-image (mmseg `mode='whole'`) after
 * the test resize; for FMNIST-Scenes the crop is the canvas, where it equals a one-window
 * slide. Evaluation is mmseg's IoUMetric on val. `segment --eval CKPT` scores a checkpoint and
 * writes a picture of predictions and labels ({@link segmentEval}).
 * @module
 */
import { argmax, dispose, random, scope, slice, type Tensor, valueAndGrad } from "../mod.ts";
import { adamw, type AdamWState } from "../nn/optim/adamw.ts";
import { layerDecayScale, weightDecayMask } from "../nn/optim/param_groups.ts";
import type { Schedule } from "../nn/optim/types.ts";
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
import { type DenseBatch, DenseLoader } from "../data/dense_loader.ts";
import type { DenseItem } from "../data/dense_folder.ts";
import type { DataLoader, Dataset } from "../data/loader.ts";
import { type SegAreas, segAreas, segMetrics, sumSegAreas } from "../data/eval/seg_metrics.ts";
import {
  adjust,
  choice,
  type CommandFlags,
  group,
  int,
  limit,
  num,
  type OptionsOf,
  path,
  preset,
  row,
  span,
  sw,
  UsageError,
} from "../trainer/flags.ts";
import { BACKEND, JIT, LOG, MODEL, OPTIM, RUN } from "./flag_groups.ts";
import { cliVitConfig, encoderShapeOptions, loadInitEncoder } from "./models.ts";
import { runLengths } from "./train_command.ts";
import type { Task } from "../trainer/train_loop.ts";
import { jitStep } from "../trainer/jit_step.ts";
import { takeEncoder } from "../models/encoder_checkpoint.ts";
import type { VitConfig } from "../models/vit.ts";
import { checkedSplit, segTestTransform, segTrainTransform } from "./segment_data.ts";

const pos = int({ min: 1 });

const FLAGS = [
  ...group("Data", [
    row("data", "DIR", path("a directory"), null, "FMNIST-Scenes or ADE-style folder", {
      none: "required: see train.ts scenes",
    }),
    row("train-limit", "N|all", limit, null, "first N training images", { none: "all" }),
    row("val-limit", "N|all", limit, null, "first N val images", { none: "all" }),
    row("classes", "N", pos, 11, "classes after reduce_zero_label"),
    row(
      "init",
      "PATH",
      path("a checkpoint file or run directory"),
      null,
      "encoder of a pretrain/finetune checkpoint (its shape)",
    ),
    row("eval", "CKPT", path("a checkpoint file or run directory"), null, "score a checkpoint"),
    row("crop", "N", pos, null, "crop side", { none: "the first image's longer side" }),
  ]),
  ...RUN,
  ...BACKEND,
  ...JIT,
  ...group("Run", [
    row("eval-every", "N|Xep", span(), "1ep", "mIoU on val"),
    preset("smoke", "quick check", {
      trainLimit: 8,
      valLimit: 4,
      steps: 3,
      batch: 2,
      dim: 16,
      depth: 4,
      heads: 2,
      channels: 16,
      auxChannels: 8,
      warmup: "1",
    }),
  ]),
  ...LOG,
  ...adjust(MODEL, { patch: { default: 16, help: "patch side" } }),
  ...adjust(OPTIM, {
    epochs: { default: 40 },
    batch: { default: 8 },
    lr: { default: 7e-4 },
    minLr: { default: 0 },
    warmup: { default: "1500" },
    weightDecay: { default: 0.05 },
  }),
  ...group("Segment", [
    row("layer-decay", "X", num({ min: 0, max: 1, above: true }), 0.65, "layer-wise lr decay"),
    row("channels", "N", pos, 768, "UperHead width"),
    row("aux-channels", "N", pos, 256, "FCNHead width"),
    row("aux-weight", "X", num({ min: 0 }), 0.4, "aux loss weight"),
    row("loss-average", "valid|all", choice(["valid", "all"]), "valid", "CE mean over"),
    row("pos-embed", "learned|sincos", choice(["learned", "sincos"]), "sincos", "positions"),
    row("flip", "P", num({ min: 0, max: 1 }), 0.5, "flip prob."),
    row("ratio-min", "X", num({ min: 0, above: true }), 0.5, "resize low"),
    row("ratio-max", "X", num({ min: 0, above: true }), 2, "resize high"),
    row("cat-max-ratio", "X", num({ min: 0, max: 1, above: true }), 0.75, "crop class share"),
    sw("photometric", true, false, "photometric distortion"),
  ]),
] as const;

/**
 * The flag table of `segment`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultsOf } from "../trainer/flags.ts";
 * import { SEGMENT } from "./segment.ts";
 * const d = defaultsOf(SEGMENT.flags);
 * assert.deepEqual([d.lr, d.weightDecay, d.layerDecay, d.auxWeight], [7e-4, 0.05, 0.65, 0.4]);
 * ```
 */
export const SEGMENT: CommandFlags<typeof FLAGS> = {
  name: "segment",
  title: "train UperNet (ViT + 4-scale adapter) for semantic segmentation",
  intro: "Progress on stderr, final metrics (mIoU, aAcc, per-class IoU) as JSON on stdout; run\n" +
    "dir: metrics.jsonl, loss/lr.svg, ckpt_latest.safetensors. Inference: whole image (mmseg).",
  flags: FLAGS,
  exclusive: [["steps", "epochs"]],
  footer: "--data: images/ + semantic/{train,val}/ (FMNIST-Scenes) or\n" +
    "images/ + annotations/{training,validation}/ (ADE); labels read with reduce_zero_label.\n" +
    "--eval CKPT: score on val, write eval.png/eval.json. Exit: 0 done, 1 failed, 2 usage, 130 Ctrl-C.",
};

/** Every setting of a segment run (stored in the checkpoint, so `--resume` continues it). */
export type SegmentOptions = OptionsOf<typeof FLAGS>;

/**
 * mmseg's poly schedule with mmcv's linear warmup: `lr(s) = base·(1 − s/T)^power` (to 0 when
 * `final` is 0), times `1 − (1 − s/W)(1 − ratio)` while `s < W`. Its `table` (the values of
 * steps 0…max(T, W), constant after) lets a jitted step index it with a traced step count.
 *
 * @param o base lr, final lr, total and warmup steps, power (default 1), warmup ratio
 *   (default 1e-6)
 * @returns the schedule
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { polySchedule } from "./segment.ts";
 * const lr = polySchedule({ base: 1, final: 0, totalSteps: 10, warmupSteps: 0 });
 * assert.deepEqual([lr(0), lr(5)], [1, 0.5]);
 * assert.deepEqual([lr.table!.length, lr.table![5]], [11, 0.5]);
 * ```
 */
export function polySchedule(o: {
  base: number;
  final: number;
  totalSteps: number;
  warmupSteps: number;
  power?: number;
  warmupRatio?: number;
}): Schedule {
  const p = o.power ?? 1, ratio = o.warmupRatio ?? 1e-6;
  const at = (s: number) => {
    const t = Math.min(s, o.totalSteps);
    const lr = (o.base - o.final) * (1 - t / o.totalSteps) ** p + o.final;
    return s < o.warmupSteps ? lr * (1 - (1 - s / o.warmupSteps) * (1 - ratio)) : lr;
  };
  const n = Math.max(o.totalSteps, o.warmupSteps) + 1;
  return Object.assign(at, { table: Array.from({ length: n }, (_, s) => at(s)) });
}

/**
 * The model configuration of settings `o` for crops of side `crop`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultsOf } from "../trainer/flags.ts";
 * import { SEGMENT, segmentConfig } from "./segment.ts";
 * const o = { ...defaultsOf(SEGMENT.flags), dim: 16, depth: 4, heads: 2 };
 * assert.deepEqual(segmentConfig(o, 64, 3).outIndices, [0, 1, 2, 3]);
 * ```
 */
export function segmentConfig(o: SegmentOptions, crop: number, inChans: number): UperNetConfig {
  const vit: VitConfig = {
    ...cliVitConfig(o.model, o, { dropPath: o.dropPath, imgSize: crop, inChans, numClasses: 0 }),
    classToken: o.clsToken,
  };
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
 * import { segmentTemplate } from "./segment.ts";
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
 * import { scoreSplit } from "./segment.ts";
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
  const loader = new DenseLoader(set, {
    batchSize: 4,
    seed: 0,
    shuffle: false,
    prefetch: 1,
    transform: segTestTransform(crop),
    sizeDivisor: cfg.vit.patchSize,
  });
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
 * import { segMetricFields } from "./segment.ts";
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

/** The segment {@link Task} of settings `o`. */
export async function segmentTask(
  o: SegmentOptions,
  resuming: boolean,
  backend: string,
): Promise<Task> {
  if (o.data === null) {
    throw new UsageError("--data DIR is required (FMNIST-Scenes: make one with train.ts scenes)");
  }
  const trainAll = await checkedSplit(o.data, "train", o.classes);
  const valAll = await checkedSplit(o.data, "val", o.classes);
  const firstN = (ds: Dataset<DenseItem>, n: number | null): Dataset<DenseItem> => ({
    length: n === null ? ds.length : Math.min(n, ds.length),
    get: (i: number) => ds.get(i),
  });
  const trainSet = firstN(trainAll, o.trainLimit), valSet = firstN(valAll, o.valLimit);
  const nTrain = trainSet.length, nVal = valSet.length;
  const first = (await trainSet.get(0)).sample.image;
  const crop = o.crop ?? Math.max(first.height, first.width);
  o.crop = crop;
  const spe = Math.floor(nTrain / o.batch);
  if (spe < 1) {
    throw new UsageError(`--batch ${o.batch} is larger than the ${nTrain} training images`);
  }
  if (o.batch < 2) throw new UsageError("--batch must be at least 2 (BatchNorm on the 1×1 PPM)");
  const { total, warmup, evalEvery, ckptEvery } = runLengths(o, spe);
  const pre = o.init !== null && !resuming ? await loadInitEncoder(o.init) : null;
  if (pre) Object.assign(o, encoderShapeOptions(pre.config));
  if (crop % o.patch !== 0 || (crop / o.patch) % 4 !== 0) {
    throw new UsageError(
      `--crop ${crop} must be a multiple of 4·patch (${4 * o.patch}) for the 4-scale adapter`,
    );
  }
  const inChans = first.channels;
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
    runName: "segment",
    label: "segment",
    total,
    stepsPerEpoch: spe,
    warmup,
    evalEvery,
    ckptEvery,
    template: template as Task["template"],
    resolved: {
      warmup_steps: warmup,
      eval_every: evalEvery,
      ckpt_every: ckptEvery,
      model: cfg,
      params: nParams,
      inference: "whole",
      ...(pre ? { init: { path: pre.path, method: pre.method, step: pre.step } } : {}),
    },
    data: { source: o.data, train_images: nTrain, val_images: nVal, crop },
    describe: (step, dir) =>
      `segment: UperNet on ${o.model} (${(nParams / 1e6).toFixed(2)}M params, patch ` +
      `${o.patch}, dim ${d}, depth ${cfg.vit.depth}, ${o.classes} classes, crop ${crop}) on ` +
      `${backend}; ${nTrain} train / ${nVal} val images from ${o.data}\n` +
      `segment: ${total} steps (${(total / spe).toFixed(2)} epochs of ${spe}), batch ` +
      `${o.batch}, whole-image inference, run directory ${dir}` +
      `${step > 0 ? `; resuming at step ${step}` : ""}\n` +
      (pre ? `segment: encoder from ${pre.path} (${pre.method}, step ${pre.step})\n` : ""),
    init(key) {
      let params = scope(() => initUperNet(key, cfg));
      if (pre) {
        try {
          params = { ...params, backbone: takeEncoder(params.backbone, pre) };
        } catch (e) {
          dispose(params);
          throw new UsageError(`--init ${(e as Error).message.replace(/^\w+: /, "")}`);
        }
      }
      return { params, opt: { ...opt.init(params), bn: initUperNetState(cfg) } };
    },
    loader: (seed) =>
      new DenseLoader(trainSet, {
        batchSize: o.batch,
        seed,
        shuffle: true,
        dropLast: true,
        prefetch: 2,
        sizeDivisor: crop,
        transform: aug,
      }) as unknown as DataLoader,
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
        model: o.model,
        params: nParams,
        train_images: nTrain,
        val_images: nVal,
        train_loss: loss,
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
