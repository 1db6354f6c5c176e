/**
 * `train.ts detect`: trains Mask R-CNN + FPN on a ViT backbone (methods.md §11–12) on a COCO
 * detection folder such as FMNIST-Scenes (`train.ts scenes`). Each step plans on the host
 * ({@link maskRcnnPlan}, async, no gradient), then takes `valueAndGrad` of
 * {@link maskRcnnLoss} (sync) and an AdamW update (cosine lr, linear warmup, optional global
 * gradient-norm clipping). Evaluation runs {@link maskRcnnPredict} on the val split, thresholds
 * the masks at 0.5, RLE-encodes them and scores boxes and masks with {@link evaluateCoco}. Its
 * flag table is {@link DETECT}; the run (directory, `--resume`, log, progress, Ctrl-C,
 * checkpoints) is the shared {@link train} loop.
 * @module
 */
import { dispose, random, scope, type Tensor, tensor, valueAndGrad } from "../mod.ts";
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
  maskRcnnPredict,
} from "../models/detection/mask_rcnn.ts";
import {
  initMaskRcnn,
  type MaskRcnnConfig,
  type MaskRcnnParams,
  maskRcnnSpec,
} from "../models/detection/mask_rcnn_model.ts";
import { cocoDetectionFolder, type CocoFolder, type DenseItem } from "../data/dense_folder.ts";
import { type DenseBatch, DenseLoader } from "../data/dense_loader.ts";
import { largeScaleJitter, randomFlipDense } from "../data/dense_transforms/random.ts";
import { type DenseSample, normalizeDense } from "../data/dense_transforms/sample.ts";
import type { Dataset } from "../data/loader.ts";
import type { DataLoader } from "../data/loader.ts";
import { type CocoGt, type CocoResult, parseCocoGt, parseCocoResults } from "../data/coco/json.ts";
import { rleToJson } from "../data/coco/json.ts";
import { rleEncode } from "../data/coco/rle.ts";
import { evaluateCoco } from "../data/eval/coco_eval.ts";
import {
  adjust,
  type CommandFlags,
  group,
  int,
  limit,
  num,
  type OptionsOf,
  path,
  preset,
  resolveSpan,
  row,
  span,
  sw,
  UsageError,
} from "../trainer/flags.ts";
import { BACKEND, LOG, MODEL, OPTIM, RUN } from "./flag_groups.ts";
import { cliVitConfig, encoderShapeOptions, loadInitEncoder } from "./models.ts";
import { runLengths, trainCommand } from "./train_command.ts";
import type { Task } from "../trainer/train_loop.ts";
import { takeEncoder } from "../models/encoder_checkpoint.ts";
import type { VitConfig } from "../models/vit.ts";

const pos = int({ min: 1 });

const FLAGS = [
  ...group("Data", [
    row("data", "DIR", path("a directory"), null, "COCO folder (images/, annotations/)", {
      none: "required: see train.ts scenes",
    }),
    row("train-limit", "N|all", limit, null, "first N training images", { none: "all" }),
    row("val-limit", "N|all", limit, null, "first N val images", { none: "all" }),
    row(
      "init",
      "PATH",
      path("a checkpoint file or run directory"),
      null,
      "encoder of a pretrain/finetune checkpoint (its shape)",
    ),
    row("img-size", "N", pos, null, "", { hidden: true }),
    row("in-chans", "N", int({ min: 1, max: 3 }), null, "", { hidden: true }),
  ]),
  ...RUN,
  ...BACKEND,
  ...group("Run", [
    row("eval-every", "N|Xep", span(), "1ep", "COCO evaluation on val"),
    preset("smoke", "quick check", {
      trainLimit: 8,
      valLimit: 4,
      steps: 3,
      batch: 2,
      dim: 16,
      depth: 2,
      heads: 2,
      warmup: "1",
    }),
  ]),
  ...LOG,
  ...adjust(MODEL, { patch: { default: 16, help: "patch side (divides 32)" } }),
  ...adjust(OPTIM, {
    epochs: { default: 12 },
    batch: { default: 4 },
    lr: { default: 1e-4 },
  }),
  ...group("Detect", [
    row("clip-grad", "X", num({ min: 0 }), 0, "global gradient-norm clip, 0 = off"),
    row("flip", "P", num({ min: 0, max: 1 }), 0.5, "horizontal flip prob."),
    sw("lsj", true, false, "large-scale jitter (scale 0.1–2, crop to the canvas)"),
  ]),
] as const;

/**
 * The flag table of `detect`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultsOf } from "../trainer/flags.ts";
 * import { DETECT } from "./detect.ts";
 * const d = defaultsOf(DETECT.flags);
 * assert.deepEqual([d.data, d.batch, d.lr, d.flip, d.lsj], [null, 4, 1e-4, 0.5, false]);
 * ```
 */
export const DETECT: CommandFlags<typeof FLAGS> = {
  name: "detect",
  title: "train Mask R-CNN (ViT + FPN) on a COCO folder such as FMNIST-Scenes",
  intro: "Progress on stderr, one JSON line of final metrics (COCO bbox and segm stats) on\n" +
    "stdout; the run directory gets metrics.jsonl, loss.svg, lr.svg and ckpt_latest.safetensors.",
  flags: FLAGS,
  exclusive: [["steps", "epochs"]],
  footer: "--data: images/{train,val}/ + annotations/instances_{train,val}.json.\n" +
    "Exit codes: 0 done, 1 failed (non-finite), 2 bad flags or data, 130 interrupted.",
};

/** Every setting of a detect run (stored in the checkpoint, so `--resume` continues it). */
export type DetectOptions = OptionsOf<typeof FLAGS>;

/** The names of COCO's 12 summary numbers, in `stats` order. */
const STATS = [
  "AP",
  "AP50",
  "AP75",
  "APs",
  "APm",
  "APl",
  "AR1",
  "AR10",
  "AR100",
  "ARs",
  "ARm",
  "ARl",
] as const;

/** The message of a library error without its op prefix. */
function detail(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/^\w+: /, "");
}

async function openSplit(dir: string, split: string): Promise<CocoFolder> {
  try {
    const ds = await cocoDetectionFolder(dir, split);
    if (ds.length === 0) throw new Error(`the ${split} split has no images`);
    return ds;
  } catch (e) {
    throw new UsageError(`--data ${dir}: ${detail(e)}`);
  }
}

/** The first `n` items of `ds` (null: all). */
function firstOf(ds: Dataset<DenseItem>, n: number | null): Dataset<DenseItem> {
  const length = n === null ? ds.length : Math.min(n, ds.length);
  return { length, get: (i: number) => ds.get(i) };
}

/** The ground truth of the first `n` images of `ds` (null: all). */
function gtOf(ds: CocoFolder, n: number | null): CocoGt {
  if (n === null || n >= ds.length) return ds.gt;
  const keep = new Set(ds.imgIds.slice(0, n));
  const d = ds.gt.dataset;
  return parseCocoGt({
    ...d,
    images: d.images.filter((im) => keep.has(im.id)),
    annotations: d.annotations.filter((a) => keep.has(a.image_id)),
  });
}

/** RGB → one channel (the channel mean, rounded), for a greyscale encoder. */
function toGrey(s: DenseSample): DenseSample {
  const { data, height, width, channels } = s.image;
  if (channels === 1) return s;
  const out = new Uint8Array(height * width);
  for (let i = 0; i < out.length; i++) {
    let t = 0;
    for (let c = 0; c < channels; c++) t += data[i * channels + c]!;
    out[i] = Math.round(t / channels);
  }
  return { ...s, image: { data: out, height, width, channels: 1 } };
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

/** The detect {@link Task} of settings `o` (a fresh run with `--init` takes that encoder). */
async function detectTask(o: DetectOptions, resuming: boolean, backend: string): Promise<Task> {
  if (o.data === null) {
    throw new UsageError("--data DIR is required (a COCO folder; make one with train.ts scenes)");
  }
  const trainFolder = await openSplit(o.data, "train");
  const valFolder = await openSplit(o.data, "val");
  const trainSet = firstOf(trainFolder, o.trainLimit), valSet = firstOf(valFolder, o.valLimit);
  const gt = gtOf(valFolder, o.valLimit);
  const nTrain = trainSet.length, nVal = valSet.length;
  const first = (await trainSet.get(0)).sample.image;
  const canvas = Math.max(first.height, first.width);
  const spe = Math.floor(nTrain / o.batch);
  if (spe < 1) {
    throw new UsageError(`--batch ${o.batch} is larger than the ${nTrain} training images`);
  }
  const { total, warmup, evalEvery, ckptEvery } = runLengths(o, spe);
  const pre = o.init !== null && !resuming ? await loadInitEncoder(o.init) : null;
  if (pre) {
    const c = pre.config;
    Object.assign(o, encoderShapeOptions(c), { imgSize: c.imgSize, inChans: c.inChans });
  }
  const patch = o.patch;
  if (32 % patch !== 0) {
    throw new UsageError(
      `${pre ? `--init ${o.init}: the encoder's patch` : "--patch"} ${patch} does not divide 32 ` +
        "(Mask R-CNN pads images to multiples of 32); use a patch of 4, 8, 16 or 32",
    );
  }
  const inChans = o.inChans ?? first.channels;
  const vit: VitConfig = {
    ...cliVitConfig(o.model, o, {
      dropPath: o.dropPath,
      imgSize: o.imgSize ?? Math.ceil(canvas / 32) * 32,
      inChans,
      numClasses: 0,
    }),
    classToken: o.clsToken,
  };
  const d = vit.embedDim, s = canvas / 256;
  const cfg: MaskRcnnConfig = {
    vit,
    numClasses: trainFolder.catIds.length + 1,
    fpnChannels: d,
    boxRepresentation: 4 * d,
    maskDim: d,
    canvasScale: s,
    posEmbed: "sincos",
    rpnBatchSize: 64,
    roiBatchSize: 64,
    rpnPreNmsTopN: { train: 200, test: 100 },
    rpnPostNmsTopN: 100,
  };
  const spec = maskRcnnSpec(cfg);
  const nParams = countParams(spec);
  const lr = cosineSchedule({ base: o.lr, final: o.minLr, totalSteps: total, warmupSteps: warmup });
  const opt = adamw({ lr, weightDecay: o.weightDecay, weightDecayMask: weightDecayMask() });
  const mean = Array(inChans).fill(0.5), std = Array(inChans).fill(0.25);
  const prep = (x: DenseSample) =>
    normalizeDense(inChans === 1 ? toGrey(x) : x, mean, std) as unknown as DenseSample;
  const flip = randomFlipDense(o.flip);
  const lsj = o.lsj ? largeScaleJitter([canvas, canvas]) : null;
  const gradFn = valueAndGrad((p: MaskRcnnParams, x: Tensor, plan: MaskRcnnPlan, k: Tensor) =>
    maskRcnnLoss(p, x, plan, cfg, { forwardKey: k }).total
  );
  const valLoader = new DenseLoader(valSet, {
    batchSize: 4,
    seed: 0,
    shuffle: false,
    prefetch: 1,
    transform: prep,
  });
  return {
    runName: "detect",
    label: "detect",
    total,
    stepsPerEpoch: spe,
    warmup: resolveSpan(o.warmup, spe),
    evalEvery,
    ckptEvery,
    template: { params: spec, opt: { count: 0, m: spec, v: spec } },
    resolved: {
      warmup_steps: warmup,
      eval_every: evalEvery,
      ckpt_every: ckptEvery,
      model: cfg,
      params: nParams,
      ...(pre ? { init: { path: pre.path, method: pre.method, step: pre.step } } : {}),
    },
    data: { source: o.data, train_images: nTrain, val_images: nVal, canvas },
    describe: (step, dir) =>
      `detect: Mask R-CNN on ${o.model} (${(nParams / 1e6).toFixed(2)}M params, patch ` +
      `${patch}, dim ${d}, depth ${vit.depth}, ${cfg.numClasses - 1} classes) on ${backend}; ` +
      `${nTrain} train / ${nVal} val images from ${o.data}\n` +
      `detect: ${total} steps (${(total / spe).toFixed(2)} epochs of ${spe}), batch ` +
      `${o.batch}, run directory ${dir}${step > 0 ? `; resuming at step ${step}` : ""}\n` +
      (pre ? `detect: encoder from ${pre.path} (${pre.method}, step ${pre.step})\n` : ""),
    init(key) {
      let params = scope(() => initMaskRcnn(key, cfg));
      if (pre) {
        try {
          params = { ...params, backbone: takeEncoder(params.backbone, pre) };
        } catch (e) {
          dispose(params);
          throw new UsageError(`--init ${detail(e)}`);
        }
      }
      return { params, opt: opt.init(params) };
    },
    loader: (seed) =>
      new DenseLoader(trainSet, {
        batchSize: o.batch,
        seed,
        shuffle: true,
        dropLast: true,
        prefetch: 2,
        transform: (x, rng) => {
          if (lsj) x = lsj(x, rng);
          if (o.flip > 0) x = flip(x, rng);
          return prep(x);
        },
      }) as unknown as DataLoader, // the loop only iterates `epoch(e)` and disposes batches
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
        const c = o.clipGrad > 0 ? clipByGlobalNorm(grads, o.clipGrad) : null;
        const next = opt.update(c ? c.grads : grads, st.opt as AdamWState, params);
        return {
          loss,
          state: { params: next.params, opt: next.state },
          ...(c ? { logs: { grad_norm: c.norm } } : {}),
        };
      });
    },
    lr,
    async evaluate(st, stopped) {
      const results: CocoResult[] = [];
      for await (const batch of valLoader.epoch(0)) {
        try {
          await scope(async () => {
            const dets = await maskRcnnPredict(
              st.params as MaskRcnnParams,
              batch.images,
              batch.imageSizes,
              cfg,
            );
            for (const [i, det] of dets.entries()) {
              const [h, w] = batch.imageSizes[i]!;
              const boxes = await det.boxes.data(), scores = await det.scores.data();
              const labels = await det.labels.data(), masks = await det.masks.data();
              for (let j = 0; j < scores.length; j++) {
                const [x1, y1, x2, y2] = boxes.subarray(4 * j, 4 * j + 4) as Float32Array;
                const m = new Uint8Array(h * w);
                for (let q = 0; q < m.length; q++) m[q] = masks[j * h * w + q]! >= 0.5 ? 1 : 0;
                results.push({
                  image_id: batch.imageIds[i]!,
                  category_id: trainFolder.catIds[labels[j]! - 1]!,
                  score: scores[j]!,
                  bbox: [x1!, y1!, x2! - x1!, y2! - y1!],
                  segmentation: rleToJson(rleEncode(m, h, w)),
                });
              }
            }
          });
        } finally {
          batch.dispose();
        }
        if (stopped()) return null;
      }
      const m: Record<string, number> = { detections: results.length };
      for (const type of ["bbox", "segm"] as const) {
        const dts = parseCocoResults(
          type === "bbox"
            ? results.map(({ segmentation: _s, ...r }) => r)
            : results.map(({ bbox: _b, ...r }) => r),
          gt,
        );
        const { stats } = evaluateCoco(gt, dts, type);
        STATS.forEach((n, k) => m[`${type}_${n}`] = stats[k]!);
      }
      return m;
    },
    evalText: (m) =>
      `bbox AP ${(m.bbox_AP! * 100).toFixed(2)}  segm AP ${(m.segm_AP! * 100).toFixed(2)}  ` +
      `(${m.detections} detections)`,
    summary: ({ loss, eval: ev }) => ({
      fields: {
        model: o.model,
        params: nParams,
        train_images: nTrain,
        val_images: nVal,
        train_loss: loss,
        bbox: ev ? STATS.map((n) => ev[`bbox_${n}`]!) : null,
        segm: ev ? STATS.map((n) => ev[`segm_${n}`]!) : null,
      },
      text: ev
        ? `bbox AP ${(ev.bbox_AP! * 100).toFixed(2)}, segm AP ${
          (ev.segm_AP! * 100).toFixed(2)
        } on ${nVal} val images`
        : "no evaluation",
    }),
  };
}

/** The `detect` command: parses `argv` and runs the loop. */
export const detectCommand = trainCommand(
  DETECT,
  (o, saved, backend) => detectTask(o, saved !== null, backend),
);
