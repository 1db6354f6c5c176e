/**
 * `train.ts finetune`: trains a ViT classifier on Fashion-MNIST with the BEiT fine-tuning
 * recipe (methods.md §10) scaled to 28×28 images: AdamW, cosine lr with linear warmup,
 * optional layer-wise lr decay, weight-decay mask, stochastic depth, label smoothing,
 * Mixup/CutMix, RandomResizedCrop/flip/RandAugment. Its flag table is {@link FINETUNE}; the run
 * (run directory, `--resume`, log, progress, Ctrl-C, checkpoints, evaluation) is the shared
 * {@link train} loop over the {@link Task} this file builds.
 * @module
 */
import { argmax, cast, dispose, equal, scope, sum, type Tensor, valueAndGrad } from "../mod.ts";
import { crossEntropy } from "../nn/losses.ts";
import { adamw, type AdamWState } from "../nn/optim/adamw.ts";
import { layerDecayScale, weightDecayMask } from "../nn/optim/param_groups.ts";
import { cosineSchedule } from "../nn/optim/schedules.ts";
import { countParams } from "../nn/init.ts";
import { initVit, vitForward, type VitParams, vitSpec } from "../models/vit.ts";
import { fashionMnistDataset } from "../data/fashion_mnist_dataset.ts";
import { DataLoader } from "../data/loader.ts";
import { randomHorizontalFlip, randomResizedCrop, resize } from "../data/transforms/geometry.ts";
import { randAugment } from "../data/transforms/rand_augment.ts";
import { mixup } from "../data/transforms/mixup.ts";
import {
  type FloatImage,
  type Image,
  normalize,
  toFloat,
  type Transform,
} from "../data/transforms/image.ts";
import { FASHION_MNIST_MEAN, FASHION_MNIST_STD } from "../data/fashion_mnist_stats.ts";
import {
  type CommandFlags,
  group,
  int,
  num,
  type OptionsOf,
  path,
  preset,
  row,
  span,
  UsageError,
} from "../trainer/flags.ts";
import { ACCUM, BACKEND, DATA, JIT, LOG, MODEL, OPTIM, RUN, TEST, VAL } from "./flag_groups.ts";
import { loadSplits } from "./fmnist.ts";
import { initEncoderOf, initRecord, takeInitEncoder, vitOf } from "../trainer/models.ts";
import { trainCommand } from "./train_command.ts";
import { runLengthFields, stepsLine, stepsPerEpoch } from "../trainer/run_lengths.ts";
import type { Task } from "../trainer/train_loop.ts";
import { summaryHead } from "../trainer/metrics.ts";
import { exampleKeys } from "../trainer/dist.ts";
import { jitTrainStep } from "../trainer/jit_step.ts";
import { writePredictions } from "../trainer/predictions.ts";

const FLAGS = [
  ...DATA,
  ...TEST,
  ...VAL,
  ...group("Data", [
    row(
      "init",
      "PATH",
      path("a checkpoint file or run directory"),
      null,
      "encoder of a pretrain/finetune checkpoint (its shape, new head)",
    ),
    row(
      "img-size",
      "N",
      int({ min: 1, max: 1024 }),
      null,
      "resize the 28² images to N² (bilinear) for the model",
      {
        none: "28, as stored",
      },
    ),
  ]),
  ...RUN,
  ...BACKEND,
  ...ACCUM,
  ...JIT,
  ...group("Run", [
    row("eval-every", "N|Xep", span(), "1ep", "evaluation period"),
    preset("smoke", "quick check", {
      trainLimit: 256,
      testLimit: 100,
      steps: 4,
      batch: 32,
      dim: 16,
      depth: 1,
      heads: 2,
      warmup: "1",
    }),
  ]),
  ...LOG,
  ...MODEL,
  ...OPTIM,
  ...group("Optimisation (AdamW, cosine lr, linear warmup)", [
    row(
      "layer-decay",
      "X",
      num({ min: 0, max: 1, above: true }),
      1,
      "layer-wise lr decay, 1 = off",
    ),
    row("label-smoothing", "X", num({ min: 0, max: 0.99 }), 0.1, "label smoothing ε"),
  ]),
  ...group("Augmentation", [
    row("mixup", "A", num({ min: 0 }), 0, "Mixup α"),
    row("cutmix", "A", num({ min: 0 }), 0, "CutMix α"),
    row("crop-scale", "X", num({ min: 0, max: 1, above: true }), 0.8, "crop min area, 1 = off"),
    row("flip", "P", num({ min: 0, max: 1 }), 0.5, "flip prob."),
    row("randaug", "M", num({ min: 0, max: 10 }), 0, "RandAugment magnitude, 0 = off"),
  ]),
] as const;

/**
 * The flag table of `finetune` (the main job when train.ts runs with no arguments).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultsOf } from "../trainer/flags.ts";
 * import { FINETUNE } from "./finetune.ts";
 * const d = defaultsOf(FINETUNE.flags);
 * assert.deepEqual([d.model, d.batch, d.epochs, d.warmup], ["vit-tiny-fmnist", 64, 25, "1ep"]);
 * ```
 */
export const FINETUNE: CommandFlags<typeof FLAGS> = {
  name: "finetune",
  title: "train a ViT classifier on Fashion-MNIST (BEiT recipe)",
  intro: "Progress on stderr, one JSON line of final metrics on stdout; the run directory gets\n" +
    "metrics.jsonl, loss.svg, lr.svg, accuracy.svg and ckpt_latest.safetensors.",
  flags: FLAGS,
  exclusive: [["steps", "epochs"]],
  footer: "Mixup/CutMix need an even batch.\nExit codes: 0 done, 1 failed (non-finite), " +
    "2 bad flags or data, 130 interrupted (checkpointed).",
};

/** Every setting of a finetune run (stored in the checkpoint, so `--resume` continues it). */
export type FinetuneOptions = OptionsOf<typeof FLAGS>;

function trainTransform(
  o: FinetuneOptions,
): Transform<Image, FloatImage> {
  const geo: Transform<Image, Image>[] = [];
  if (o.cropScale < 1) {
    geo.push(randomResizedCrop(28, { scale: [o.cropScale, 1], interpolation: "bilinear" }));
  }
  if (o.flip > 0) geo.push(randomHorizontalFlip(o.flip));
  if (o.randaug > 0) geo.push(randAugment({ magnitude: o.randaug, magnitudeStd: 0.5, fill: [0] }));
  const model = modelInput(o);
  return (img, rng) => {
    for (const t of geo) img = t(img, rng);
    return model(img);
  };
}

/**
 * The images as the model sees them: resized to `--img-size` (after the augmentation, which
 * works at 28²: the dense-transfer experiment pre-trains at the scenes' patch grid) and
 * normalised with the Fashion-MNIST statistics.
 */
function modelInput(o: FinetuneOptions): (img: Image) => FloatImage {
  const size = o.imgSize;
  return (img) =>
    normalize(
      toFloat(size === null || size === img.height ? img : resize(img, [size, size])),
      FASHION_MNIST_MEAN,
      FASHION_MNIST_STD,
    );
}

/** The finetune {@link Task} of settings `o` (a fresh run with `--init` takes that encoder). */
async function finetuneTask(
  o: FinetuneOptions,
  resuming: boolean,
  backend: string,
): Promise<Task> {
  const splits = await loadSplits(o);
  // With --val-split the run is scored on the held-out training images and never on test.
  const evalSet = splits.val ?? splits.test, ev_ = splits.val ? "val" : "test";
  const nTrain = splits.train.count, nTest = evalSet.count;
  let runDir: string | null = null; // set by `open`: where predictions_<split>.json goes
  const spe = stepsPerEpoch(nTrain, o.batch);
  const mixOn = o.mixup > 0 || o.cutmix > 0;
  if (mixOn && o.batch % 2 !== 0) {
    throw new UsageError(`--mixup/--cutmix need an even --batch, got ${o.batch}`);
  }
  const { lengths, fields, resolved } = runLengthFields("finetune", o, spe);
  const { total, warmup } = lengths;
  // The encoder to start from (only for a fresh run: a resumed run has its own weights). The
  // model takes its shape, recorded in the options so --resume rebuilds it.
  const pre = await initEncoderOf(o, resuming);
  const vit = vitOf(o, o.imgSize === null ? {} : { imgSize: o.imgSize });
  const spec = vitSpec(vit);
  const nParams = countParams(spec);
  const lr = cosineSchedule({ base: o.lr, final: o.minLr, totalSteps: total, warmupSteps: warmup });
  const opt = adamw({
    lr,
    weightDecay: o.weightDecay,
    weightDecayMask: weightDecayMask(),
    lrScale: o.layerDecay < 1 ? layerDecayScale(vit.depth, o.layerDecay) : undefined,
  });
  const normal = modelInput(o);
  const testLoader = new DataLoader(fashionMnistDataset(evalSet), {
    batchSize: 500,
    seed: 0,
    shuffle: false,
    prefetch: 1,
    transform: normal,
  });
  const gradFn = valueAndGrad((p: VitParams, x: Tensor, target: Tensor, key: Tensor) =>
    crossEntropy(vitForward(p, x, vit, { train: true, key }), target, {
      labelSmoothing: mixOn ? 0 : o.labelSmoothing,
    })
  );
  // The gradients and the loss are averaged over the micro-batches and the ranks between the
  // halves (trainer/accum.ts, trainer/dist.ts); `keys` holds one key per example.
  const trainStep = jitTrainStep({
    grad: (p, images: Tensor, target: Tensor, keys: Tensor) => {
      const [loss, grads] = gradFn(p as VitParams, images, target, keys);
      return { out: loss, grads };
    },
    apply: (p, state, grads) => {
      const next = opt.update(grads, state, p as VitParams);
      return { params: next.params, opt: next.state };
    },
  }, { eager: o.noJit, accum: o.accum });
  return {
    ...fields,
    template: { params: spec, opt: { count: 0, m: spec, v: spec } },
    // The encoder's shape in the checkpoint, so `--init` (finetune, probe, detect, segment) can
    // load it as it loads a pre-trained one.
    config: { encoder: vit },
    resolved: {
      ...resolved,
      vit,
      params: nParams,
      ...initRecord("finetune", pre).resolved,
    },
    data: { source: splits.train.source, train_images: nTrain, [`${ev_}_images`]: nTest },
    describe: (step, dir) =>
      `finetune: ${o.model} (${(nParams / 1e6).toFixed(2)}M params, patch ${vit.patchSize}, ` +
      `dim ${vit.embedDim}, depth ${vit.depth}) on ${backend}; ${nTrain} train / ${nTest} ${ev_} ` +
      `images from ${splits.train.source}\n` +
      stepsLine("finetune", { total, spe, batch: o.batch, dir, step }) +
      initRecord("finetune", pre).line,
    init(key) {
      let params = scope(() => initVit(key, vit));
      if (pre) params = takeInitEncoder(params, pre);
      return { params, opt: opt.init(params) };
    },
    loader: (seed) =>
      new DataLoader(fashionMnistDataset(splits.train), {
        batchSize: o.batch,
        seed,
        shuffle: true,
        dropLast: true,
        prefetch: 4,
        numClasses: 10,
        transform: trainTransform(o),
        batchTransform: mixOn
          ? mixup({
            numClasses: 10,
            mixupAlpha: o.mixup,
            cutmixAlpha: o.cutmix,
            labelSmoothing: o.labelSmoothing,
          })
          : undefined,
      }),
    step(s, batch, _step, key) {
      const target = batch.targets ?? batch.labels;
      // Example i's drop-path draws come from foldIn(key, its index in the global batch).
      const keys = exampleKeys(key, batch.images.shape[0]!);
      return trainStep(s.params, s.opt as AdamWState, [batch.images, target, keys], [])
        .then((r) => ({ loss: r.out, state: r.state }))
        .finally(() => keys.dispose());
    },
    dispose: () => trainStep.dispose(),
    lr,
    open: (dir) => Promise.resolve(void (runDir = dir)),
    async evaluate(s, stopped) {
      let hits = 0, lossSum = 0;
      const predictions: number[] = [];
      for await (const batch of testLoader.epoch(0)) {
        try {
          const [h, l, pred] = scope(() => {
            const logits = vitForward(s.params as VitParams, batch.images, vit);
            const pred = argmax(logits, -1);
            return [
              sum(cast(equal(pred, batch.labels), "float32")),
              crossEntropy(logits, batch.labels, { reduction: "sum" }),
              pred,
            ];
          });
          hits += await h!.item(), lossSum += await l!.item();
          predictions.push(...await pred!.data());
          dispose([h, l, pred]);
        } finally {
          batch.dispose();
        }
        if (stopped()) return null;
      }
      if (runDir !== null) {
        const labels = Array.from(evalSet.labels.subarray(0, nTest));
        await writePredictions(runDir, { split: ev_, labels, predictions });
      }
      return { [`${ev_}_accuracy`]: hits / nTest, [`${ev_}_loss`]: lossSum / nTest };
    },
    evalText: (m) =>
      `${ev_} top-1 ${(m[`${ev_}_accuracy`]! * 100).toFixed(2)}%  ${ev_} loss ${
        m[`${ev_}_loss`]!.toFixed(4)
      }`,
    summary: ({ loss, eval: ev }) => ({
      fields: {
        ...summaryHead(o.model, nParams, { train_images: nTrain, [`${ev_}_images`]: nTest }, loss),
        [`${ev_}_loss`]: ev ? Number(ev[`${ev_}_loss`]!.toFixed(5)) : null,
        [`${ev_}_accuracy`]: ev ? Number(ev[`${ev_}_accuracy`]!.toFixed(4)) : null,
      },
      text: `${ev_} top-1 ${ev ? (ev[`${ev_}_accuracy`]! * 100).toFixed(2) : "?"}% on ${nTest} ` +
        "images",
    }),
  };
}

/** The `finetune` command: parses `argv` and runs the loop. */
export const finetuneCommand = trainCommand(
  FINETUNE,
  (o, saved, backend) => finetuneTask(o, saved !== null, backend),
);
