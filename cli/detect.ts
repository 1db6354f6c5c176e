/**
 * `train.ts detect`: trains Mask R-CNN + FPN on a ViT backbone (methods.md §11–12) on a COCO
 * detection folder such as FMNIST-Scenes (`train.ts scenes`). Each step plans on the host
 * ({@link maskRcnnPlan}, async, no gradient), then takes `valueAndGrad` of
 * {@link maskRcnnLoss} (sync) and an AdamW update (cosine lr, linear warmup, optional global
 * gradient-norm clipping), the update compiled by `jit` unless `--no-jit`. Evaluation runs {@link maskRcnnPredict} on the val split, thresholds
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
} from "../models/detection/mask_rcnn.ts";
import {
  initMaskRcnn,
  type MaskRcnnParams,
  maskRcnnSpec,
} from "../models/detection/mask_rcnn_model.ts";
import { type DenseBatch, DenseLoader } from "../data/dense_loader.ts";
import { largeScaleJitter, randomFlipDense } from "../data/dense_transforms/random.ts";
import type { DataLoader } from "../data/loader.ts";
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
import { BACKEND, JIT, LOG, MODEL, OPTIM, RUN } from "./flag_groups.ts";
import { encoderShapeOptions, loadInitEncoder } from "./models.ts";
import { runLengths, trainCommand } from "./train_command.ts";
import type { Task, TrainHooks } from "../trainer/train_loop.ts";
import { jitStep } from "../trainer/jit_step.ts";
import type { CliIO } from "../trainer/io.ts";
import { takeEncoder } from "../models/encoder_checkpoint.ts";
import {
  cocoStats,
  DETECT_STATS,
  detectEvalCommand,
  detectModelConfig,
  detectPrep,
  firstImages,
  openDetectSplit,
  predictCoco,
} from "./detect_eval.ts";

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
  ...JIT,
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
    "train.ts detect --eval CKPT --data DIR scores a checkpoint (--eval --help).\n" +
    "Exit codes: 0 done, 1 failed (non-finite), 2 bad flags or data, 130 interrupted.",
};

/** Every setting of a detect run (stored in the checkpoint, so `--resume` continues it). */
export type DetectOptions = OptionsOf<typeof FLAGS>;

/** The message of a library error without its op prefix. */
function detail(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/^\w+: /, "");
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
  const trainFolder = await openDetectSplit(o.data, "train");
  const valFolder = await openDetectSplit(o.data, "val");
  const trainSet = firstImages(trainFolder, o.trainLimit).set;
  const { set: valSet, gt } = firstImages(valFolder, o.valLimit);
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
        model: o.model,
        params: nParams,
        train_images: nTrain,
        val_images: nVal,
        train_loss: loss,
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

const trainDetect = trainCommand(
  DETECT,
  (o, saved, backend) => detectTask(o, saved !== null, backend),
);

/**
 * The `detect` command: parses `argv` and runs the loop; with `--eval CKPT` it scores a
 * checkpoint instead ({@link detectEvalCommand}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { captureIO } from "../trainer/io.ts";
 * import { detectCommand } from "./detect.ts";
 * const io = captureIO();
 * assert.equal(await detectCommand(["--eval", "x", "--help"], io), 0);
 * assert.match(io.stdout.join("\n"), /--min-score X/);
 * ```
 */
export function detectCommand(argv: string[], io: CliIO, hooks?: TrainHooks): Promise<number> {
  return argv.includes("--eval") ? detectEvalCommand(argv, io) : trainDetect(argv, io, hooks);
}
