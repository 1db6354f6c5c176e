/**
 * One UperNet training step (ViT → 4-scale adapter → UperHead with PPM 1, 2, 3, 6 + auxiliary
 * FCNHead on stride 16; train-mode BatchNorm, Dropout2d 0.1; per-pixel CE with ignore 255,
 * mean over valid pixels, aux weight 0.4; backward; AdamW) in tessera's CPU backend — eager and
 * with the whole step under `jit` as `train.ts segment` runs it — and in PyTorch on the CPU
 * (bench/upernet_torch.py: the mmseg head reimplementation of tools/make_upernet_fixtures.py on
 * bench/mask_rcnn_torch.py's ViT + adapter), side by side in one run, same configuration.
 *
 *   deno run -A bench/upernet_bench.ts [--threads 1] [--python /usr/bin/python3] [--skip-torch]
 *     [--backend cpu|webgpu]
 *
 * Default configuration: 4 images 3×128², ViT d64 × 4 blocks (4 heads, patch 16), UperHead
 * width 64, FCNHead width 32, 11 classes, ~10 % ignore pixels. Prints markdown rows for
 * bench/RESULTS.md (ms per step, best of 3 rounds of 3 steps after 2 warm-up steps; ratio > 1:
 * tessera is slower). With `--backend webgpu` tessera runs on the GPU (torch stays on the CPU:
 * Debian's torch has no CUDA).
 */
import * as T from "../mod.ts";
import { adamw, type AdamWState } from "../nn/mod.ts";
import {
  initUperNet,
  initUperNetState,
  uperNet,
  type UperNetConfig,
  uperNetLoss,
  type UperNetParams,
  type UperNetState,
} from "../models/segmentation/mod.ts";
import { jitStep } from "../trainer/jit_step.ts";
import { arg, backboneOf, bestStepMs, logTesseraBlas, torchMs } from "./_vs_torch.ts";

const BENCH = {
  embedDim: 64,
  patchSize: 16,
  inChans: 3,
  numHeads: 4,
  depth: 4,
  outIndices: [0, 1, 2, 3],
  channels: 64,
  auxChannels: 32,
  numClasses: 11,
  batch: 4,
  size: 128,
  lr: 1e-4,
  ignoreFraction: 0.1,
};

function labels(): Int32Array {
  const b = BENCH, out = new Int32Array(b.batch * b.size * b.size);
  let s = 12345;
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const u = s / 2 ** 32;
    out[i] = u < b.ignoreFraction
      ? 255
      : Math.floor((u - b.ignoreFraction) / (1 - b.ignoreFraction) * b.numClasses);
  }
  return out;
}

async function tesseraMs(jitted: boolean): Promise<number> {
  const b = BENCH;
  const cfg: UperNetConfig = {
    ...backboneOf(b),
    channels: b.channels,
    auxChannels: b.auxChannels,
  };
  const opt = adamw({ lr: b.lr, weightDecay: 0.05 });
  let params: unknown = initUperNet(T.random.key(0), cfg);
  let state: AdamWState & { bn: UperNetState } = {
    ...opt.init(params),
    bn: initUperNetState(cfg),
  };
  const images = T.random.normal(T.random.key(1), [b.batch, b.inChans, b.size, b.size]);
  const y = T.tensor(labels(), { shape: [b.batch, b.size, b.size], dtype: "int32" });
  const gradFn = T.valueAndGrad(
    (p: UperNetParams, bn: UperNetState, x: T.Tensor, lab: T.Tensor, k: T.Tensor) => {
      const out = uperNet(p, bn, x, cfg, { train: true, key: k });
      return [uperNetLoss(out.logits, out.auxLogits, lab), out.state];
    },
    { hasAux: true },
  ) as unknown as (
    p: UperNetParams,
    bn: UperNetState,
    x: T.Tensor,
    lab: T.Tensor,
    k: T.Tensor,
  ) => [[T.Tensor, UperNetState], UperNetParams];
  const step = jitStep(
    !jitted,
    (p: unknown, s: AdamWState, x: T.Tensor, lab: T.Tensor, k: T.Tensor) =>
      T.scope(() => {
        const { bn, ...adam } = s as AdamWState & { bn: UperNetState };
        const [[loss, bnNext], grads] = gradFn(p as UperNetParams, bn, x, lab, k);
        const next = opt.update(grads, adam as AdamWState, p as UperNetParams);
        return { loss, state: { params: next.params, opt: { ...next.state, bn: bnNext } } };
      }),
  );
  let n = 0;
  const once = async () => {
    const key = T.random.key(100 + n++);
    const r = step(params, state, images, y, key);
    const l = await r.loss.item();
    if (!Number.isFinite(l)) throw new Error(`loss ${l}`);
    T.dispose([params, state, r.loss, key]);
    params = r.state.params;
    state = r.state.opt as typeof state;
  };
  const best = await bestStepMs(once);
  T.dispose([params, state, images, y]);
  step.dispose();
  return best;
}

const threads = Number(arg("--threads", "1"));
const backend = arg("--backend", "cpu");
// torch first: tessera's CPU worker threads are not started yet, so the two never overlap
const torch = Deno.args.includes("--skip-torch")
  ? NaN
  : await torchMs("upernet_torch.py", BENCH, threads);
T.setCpuThreads(threads);
if (backend !== "cpu") {
  const { initWebGPU } = await import("../tensor/webgpu/mod.ts");
  const info = await initWebGPU();
  console.error(`webgpu adapter: ${JSON.stringify(info)}`);
  T.setBackend(backend as "webgpu");
}
const eager = await tesseraMs(false);
const jitted = await tesseraMs(true);
logTesseraBlas();
const what =
  `UperNet step, ${BENCH.batch}×${BENCH.inChans}×${BENCH.size}², ViT d${BENCH.embedDim}×` +
  `${BENCH.depth}, head ${BENCH.channels}/${BENCH.auxChannels}`;
for (const [mode, ms] of [["eager", eager], ["jit", jitted]] as const) {
  console.log(
    `| ${threads} | ${what} | ${backend} ${mode} | ${ms.toFixed(1)} | ${torch.toFixed(1)} | ${
      (ms / torch).toFixed(2)
    } |`,
  );
}
T.shutdownCpuThreads();
