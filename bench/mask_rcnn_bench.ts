/**
 * One Mask R-CNN training step (plan, forward, the five losses, backward, SGD update) in
 * tessera's CPU backend and in torchvision on the CPU, side by side in one run, with the same
 * configuration (bench/mask_rcnn_torch.py builds the matching torch model).
 *
 *   deno run -A bench/mask_rcnn_bench.ts [--threads 2] [--python /usr/bin/python3] [--skip-torch]
 *     [--preset default|detect]
 *
 * `--preset detect` is the model `train.ts detect --dim 64 --depth 4 --heads 4 --patch 16
 * --batch 4` builds on a 128² RGB canvas (trainer/detect_task.ts detectModelConfig: FPN/mask 64,
 * box head 256, anchors ×0.5, 200 pre-NMS / 100 post-NMS proposals, 64 RPN and RoI samples),
 * with SGD instead of AdamW on both sides.
 * Prints a markdown row for bench/RESULTS.md (ms per step, best of 3 rounds of 3 steps after 2
 * warm-up steps; the ratio > 1 means tessera is slower).
 */
import * as T from "../mod.ts";
import { sgd } from "../nn/mod.ts";
import {
  initMaskRcnn,
  type MaskRcnnConfig,
  maskRcnnLoss,
  maskRcnnPlan,
} from "../models/detection/mod.ts";
import { arg, backboneOf, bestStepMs, logTesseraBlas, torchMs } from "./_vs_torch.ts";

const DEFAULT = {
  embedDim: 64,
  patchSize: 16,
  inChans: 1,
  numHeads: 4,
  depth: 4,
  outIndices: [0, 1, 2, 3],
  fpnChannels: 32,
  numClasses: 11,
  canvasScale: 0.25,
  boxRepresentation: 128,
  maskDim: 32,
  preNmsTrain: 1000,
  postNms: 500,
  rpnBatch: 256,
  roiBatch: 128,
  batch: 2,
  size: 128,
  boxes: [[10, 12, 60, 50], [70, 64, 120, 120], [20, 80, 52, 112]],
  labels: [1, 2, 3],
};

const PRESETS: Record<string, typeof DEFAULT> = {
  default: DEFAULT,
  detect: {
    ...DEFAULT,
    inChans: 3,
    fpnChannels: 64,
    canvasScale: 0.5,
    boxRepresentation: 256,
    maskDim: 64,
    preNmsTrain: 200,
    postNms: 100,
    rpnBatch: 64,
    roiBatch: 64,
    batch: 4,
  },
};
const preset = arg("--preset", "default");
if (!PRESETS[preset]) throw new Error(`--preset must be one of ${Object.keys(PRESETS)}`);
const BENCH = PRESETS[preset]!;

async function tesseraMs(): Promise<number> {
  const b = BENCH;
  const cfg: MaskRcnnConfig = {
    ...backboneOf(b),
    fpnChannels: b.fpnChannels,
    boxRepresentation: b.boxRepresentation,
    maskDim: b.maskDim,
    canvasScale: b.canvasScale,
    rpnPreNmsTopN: { train: b.preNmsTrain, test: b.preNmsTrain },
    rpnPostNmsTopN: b.postNms,
    rpnBatchSize: b.rpnBatch,
    roiBatchSize: b.roiBatch,
  };
  let params = initMaskRcnn(T.random.key(0), cfg);
  const opt = sgd({ lr: 1e-3 });
  let state = opt.init(params);
  const images = T.random.normal(T.random.key(1), [b.batch, b.inChans, b.size, b.size]);
  const masks = new Float32Array(b.boxes.length * b.size * b.size);
  b.boxes.forEach(([x1, y1, x2, y2], g) => {
    for (let y = y1!; y < y2!; y++) {
      for (let x = x1!; x < x2!; x++) masks[(g * b.size + y) * b.size + x] = 1;
    }
  });
  const target = {
    boxes: T.tensor(b.boxes),
    labels: T.tensor(b.labels, { dtype: "int32" }),
    masks: T.tensor(masks, { shape: [b.boxes.length, b.size, b.size] }),
  };
  const sizes = Array.from({ length: b.batch }, () => [b.size, b.size] as [number, number]);
  let s = 0;
  const step = async () => {
    const plan = await maskRcnnPlan(params, images, sizes, sizes.map(() => target), cfg, {
      key: T.random.key(s++),
    });
    const [l, g] = T.valueAndGrad((p: typeof params) => maskRcnnLoss(p, images, plan, cfg).total)(
      params,
    ) as [T.Tensor, typeof params];
    const r = opt.update(g, state, params);
    await l.item();
    T.dispose([l, g, plan, params]);
    params = r.params, state = r.state;
  };
  return await bestStepMs(step);
}

const threads = Number(arg("--threads", "2"));
// torch first: tessera's CPU worker threads are not started yet, so the two never overlap
const torch = Deno.args.includes("--skip-torch")
  ? NaN
  : await torchMs("mask_rcnn_torch.py", BENCH, threads);
T.setCpuThreads(threads);
const tess = await tesseraMs();
logTesseraBlas();
console.log(
  `| ${threads} | Mask R-CNN step (${preset}), ${BENCH.batch}×${BENCH.inChans}×${BENCH.size}², ViT d${BENCH.embedDim}×${BENCH.depth}, ` +
    `FPN ${BENCH.fpnChannels} | ${tess.toFixed(1)} | ${torch.toFixed(1)} | ${
      (tess / torch).toFixed(2)
    } |`,
);
T.shutdownCpuThreads();
