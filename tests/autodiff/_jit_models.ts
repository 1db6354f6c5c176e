/**
 * Test helper: the training steps of ViT fine-tuning, BEiT, SplitMask and DINO on tiny models,
 * written so `jit` traces every per-step value: the AdamW count is a scalar tensor (the cosine
 * lr/wd tables are indexed in the graph), masks are host-made and uploaded with a fixed shape,
 * dropout keys, DINO's teacher temperature and EMA momentum are inputs. `runCase` runs one of
 * them for `steps` steps (eager or jitted) on a backend and returns every loss and the final state.
 */
import {
  dispose,
  random,
  scope,
  type Tensor,
  tensor,
  toBackend,
  treeLeaves,
  treeMap,
  valueAndGrad,
} from "../../mod.ts";
import {
  adamw,
  type AdamWState,
  clipByGlobalNorm,
  cosineSchedule,
  crossEntropy,
} from "../../nn/mod.ts";
import {
  beitForward,
  dinoTrainStep,
  initBeit,
  initCenter,
  initDino,
  initSplitMask,
  initVit,
  splitMaskForward,
  vitForward,
} from "../../models/mod.ts";

/** The tiny encoder of every case: 8×8 one-channel images, 4 patches, width 8, 1 block. */
export const ENC = {
  imgSize: 8,
  patchSize: 4,
  inChans: 1,
  numClasses: 0,
  embedDim: 8,
  depth: 1,
  numHeads: 2,
};
const B = 2, N = 4;

/** Inputs of one step (tensors, made on the CPU). */
export type Inputs = Record<string, Tensor>;

/** One step: state and inputs in, next state and loss out; `mode` is a static JS number. */
export type Step<S> = (state: S, inputs: Inputs, mode: number) => { state: S; loss: Tensor };

/** A model's training step with its initial state and per-step inputs. */
export interface ModelCase<S = unknown> {
  readonly name: string;
  readonly step: Step<S>;
  /** The initial state (on the CPU). */
  readonly init: () => S;
  /** Step i's inputs (on the CPU). */
  readonly inputsAt: (i: number) => Inputs;
  /** Step i's static mode (DINO: 0 while the last layer is frozen, 1 after). */
  readonly modeAt: (i: number) => number;
  /** Programs jit compiles over the run (one per static mode). */
  readonly compiles: number;
}

/** AdamW on cosine lr and weight-decay tables. */
function optimizer(steps: number) {
  return adamw({
    lr: cosineSchedule({ base: 1e-2, final: 1e-4, totalSteps: steps, warmupSteps: 5 }),
    weightDecay: cosineSchedule({ base: 0.04, final: 0.4, totalSteps: steps }),
  });
}

/** The optimizer's state with its count as a scalar int32 tensor (a traced per-step value). */
function tensorCount(s: AdamWState): AdamWState {
  return { ...s, count: tensor(0, { dtype: "int32" }) };
}

/** A bool mask [B, N] with `k` masked patches per row, different every step (host-made). */
function hostMask(step: number, k: number): Tensor {
  const rows: boolean[][] = [];
  for (let r = 0; r < B; r++) {
    const start = (step * 3 + r * 5) % N;
    rows.push(Array.from({ length: N }, (_, j) => ((j - start + N) % N) < k));
  }
  return tensor(rows);
}

const images = (i: number, shape = [B, 1, 8, 8]) =>
  scope(() => random.normal(random.key(100 + i), shape));
const targets = (i: number) => scope(() => random.randint(random.key(200 + i), [B, N], 0, 16));

type Trained<P> = { params: P; opt: AdamWState };

/** valueAndGrad + optional global-norm clipping + AdamW. */
function adamwStep<P>(
  loss: (p: P, inputs: Inputs) => Tensor,
  opt: ReturnType<typeof optimizer>,
  clip: number,
): Step<Trained<P>> {
  const vg = valueAndGrad(loss);
  return (s, inputs) =>
    scope(() => {
      const [l, g] = vg(s.params, inputs);
      const up = opt.update(clip > 0 ? clipByGlobalNorm(g, clip).grads : g, s.opt, s.params);
      return { state: { params: up.params, opt: up.state }, loss: l };
    });
}

/** Forgets a case's state type (the cases differ in it). */
const erase = <S>(c: ModelCase<S>): ModelCase => c as unknown as ModelCase;

/** The four cases, for `steps` steps each. */
export function modelCases(steps: number): ModelCase[] {
  const opt = optimizer(steps);
  const trained = <P>(init: () => P) => () =>
    scope(() => {
      const params = init();
      return { params, opt: tensorCount(opt.init(params)) };
    });
  const vit = { ...ENC, numClasses: 3, dropRate: 0.1 };
  const beit = { encoder: ENC, vocabSize: 16 };
  const split = { encoder: ENC, vocabSize: 16, decoderDepth: 1 };
  const dino = { backbone: ENC, outDim: 16, hiddenDim: 8, bottleneckDim: 4 };
  type V = ReturnType<typeof initVit>;
  type Bt = ReturnType<typeof initBeit>;
  type Sm = ReturnType<typeof initSplitMask>;
  type D = Parameters<typeof dinoTrainStep<AdamWState>>[0];
  return [
    erase({
      name: "ViT fine-tuning (dropout, AdamW on cosine tables, clipping)",
      step: adamwStep<V>(
        (p, { x, y, key }) => crossEntropy(vitForward(p, x!, vit, { train: true, key }), y!),
        opt,
        1,
      ),
      init: trained(() => initVit(random.key(0), vit)),
      inputsAt: (i) => ({
        x: images(i),
        y: scope(() => random.randint(random.key(300 + i), [B], 0, 3)),
        key: random.key(400 + i),
      }),
      modeAt: () => 0,
      compiles: 1,
    }),
    erase({
      name: "BEiT (a new host mask every step, uploaded)",
      step: adamwStep<Bt>(
        (p, { x, mask, t, key }) =>
          beitForward(p, { images: x!, mask: mask!, targets: t! }, key, {
            config: beit,
            train: true,
            numMasked: 2,
          }).loss,
        opt,
        0,
      ),
      init: trained(() => initBeit(random.key(1), beit)),
      inputsAt: (i) => ({
        x: images(i),
        mask: hostMask(i, 2),
        t: targets(i),
        key: random.key(500 + i),
      }),
      modeAt: () => 0,
      compiles: 1,
    }),
    erase({
      name: "SplitMask (MIM + InfoNCE, host masks)",
      step: adamwStep<Sm>(
        (p, { x, mask, t, key }) =>
          splitMaskForward(p, { images: x!, mask: mask!, targets: t! }, key, {
            config: split,
            train: true,
            counts: [1, N - 1],
          }).loss,
        opt,
        3,
      ),
      init: trained(() => initSplitMask(random.key(2), split)),
      inputsAt: (i) => ({
        x: images(i),
        mask: hostMask(i, 1),
        t: targets(i),
        key: random.key(600 + i),
      }),
      modeAt: () => 0,
      compiles: 1,
    }),
    erase({
      name: "DINO (traced teacher temperature and EMA momentum, last layer frozen then free)",
      step: ((s: D, inp: Inputs, epoch: number) => {
        const r = dinoTrainStep(s, { globals: [inp.g0!, inp.g1!], locals: [inp.l0!] }, {
          config: dino,
          optimizer: opt,
          epoch,
          teacherTemp: inp.temp!,
          momentum: inp.momentum!,
          clipGrad: 3,
          key: inp.key,
        });
        return { state: r.state, loss: r.loss };
      }) as Step<D>,
      init: () =>
        scope(() => {
          const { student, teacher } = initDino(random.key(3), dino);
          return {
            student,
            teacher,
            center: initCenter(dino),
            opt: tensorCount(opt.init(student)),
          };
        }),
      inputsAt: (k) => ({
        g0: images(k),
        g1: images(1000 + k),
        l0: images(2000 + k, [B, 1, 4, 4]),
        temp: tensor(0.04 + 0.0006 * k), // teacher temperature warm-up
        momentum: tensor(1 - ((1 - 0.996) * (Math.cos((Math.PI * k) / steps) + 1)) / 2),
        key: random.key(700 + k),
      }),
      // the epoch is static (it switches the last-layer freezing): frozen for 10 steps
      modeAt: (i) => (i < 10 ? 0 : 1),
      compiles: 2,
    }),
  ];
}

/** Moves every tensor leaf of `tree` to `backend` (the CPU originals are disposed). */
export async function place<T>(tree: T, backend: string): Promise<T> {
  if (backend === "cpu") return tree;
  const leaves = treeLeaves(tree);
  const moved = await Promise.all(leaves.map((t) => toBackend(t, backend)));
  dispose(leaves);
  let i = 0;
  return treeMap(() => moved[i++]!, tree) as T;
}

/** `steps` steps of `c` with `step` (c.step or jit(c.step)) on `backend`: losses, final state. */
export async function runCase<S>(
  c: ModelCase<S>,
  step: Step<S>,
  steps: number,
  backend = "cpu",
): Promise<{ losses: Float32Array[]; final: S }> {
  let state: S = await place(c.init(), backend);
  const losses: Float32Array[] = [];
  for (let i = 0; i < steps; i++) {
    const inputs = await place(c.inputsAt(i), backend);
    const out = step(state, inputs, c.modeAt(i));
    losses.push((await out.loss.data()) as Float32Array);
    dispose([state, inputs, out.loss]);
    state = out.state;
  }
  return { losses, final: state };
}
