/**
 * Pre-training models on webgpu (smoke): a few AdamW steps of BEiT, SplitMask and DINO on a
 * tiny ViT, the loss finite and falling. Masks are built on the CPU and moved, and counts are
 * passed explicitly (webgpu cannot read a mask synchronously).
 */
import assert from "node:assert/strict";
import * as T from "../../mod.ts";
import type { Tensor } from "../../mod.ts";
import { adamw } from "../../nn/mod.ts";
import {
  beitLoss,
  dinoTrainStep,
  initBeit,
  initCenter,
  initDino,
  initSplitMask,
  splitMaskLoss,
} from "../../models/mod.ts";
import { gpuTest } from "./_setup.ts";
import { TINY_ENCODER } from "../models/_tiny.ts";

const B = "webgpu";
const ENC = TINY_ENCODER;

async function move<P>(tree: P): Promise<P> {
  const leaves = T.treeLeaves(tree);
  const moved = await Promise.all(leaves.map((t) => T.toBackend(t, B)));
  const out = T.treeMap((t: Tensor) => moved[leaves.indexOf(t)]!, tree) as P;
  T.dispose(leaves);
  return out;
}

async function batch() {
  const cpu = T.scope(() => {
    const [k1, k2, k3] = T.random.splitKeys(T.random.key(1), 3);
    const rank = T.argsort(T.argsort(T.random.uniform(k2!, [8, 16]), 1), 1);
    return {
      images: T.random.normal(k1!, [8, 1, 16, 16]),
      mask: T.less(rank, 8),
      targets: T.random.randint(k3!, [8, 16], 0, 32),
    };
  });
  return await move(cpu);
}

async function steps<P>(params: P, loss: (p: P) => Tensor, n: number): Promise<number[]> {
  const opt = adamw({ lr: 3e-3, weightDecay: 0 });
  let p = params, st = opt.init(p);
  const out: number[] = [];
  for (let s = 0; s < n; s++) {
    const r = T.scope(() => {
      const [l, g] = T.valueAndGrad(loss)(p) as [Tensor, P];
      return { l, ...opt.update(g, st, p) };
    });
    out.push(await r.l.item());
    T.dispose([p, st, r.l]);
    p = r.params as P, st = r.state;
  }
  T.dispose([p, st]);
  return out;
}

gpuTest("BEiT: a few AdamW steps, loss falls", async () => {
  const config = { encoder: ENC, vocabSize: 32 };
  const bt = await batch();
  const params = await move(initBeit(T.random.key(0), config));
  const l = await steps(params, (p) => beitLoss(p, bt, undefined, { config, numMasked: 8 }), 4);
  T.dispose(bt);
  assert.ok(l.every(Number.isFinite) && l.at(-1)! < l[0]!, `losses ${l}`);
});

gpuTest("SplitMask: a few AdamW steps, loss falls", async () => {
  const config = { encoder: ENC, vocabSize: 32 };
  const bt = await batch();
  const params = await move(initSplitMask(T.random.key(0), config));
  const l = await steps(
    params,
    (p) => splitMaskLoss(p, bt, undefined, { config, counts: [8, 8] }),
    4,
  );
  T.dispose(bt);
  assert.ok(l.every(Number.isFinite) && l.at(-1)! < l[0]!, `losses ${l}`);
});

gpuTest("DINO: a few train steps, loss falls", async () => {
  const config = { backbone: ENC, outDim: 32, hiddenDim: 32, bottleneckDim: 8 };
  const init = initDino(T.random.key(0), config);
  const [student, teacher] = [await move(init.student), await move(init.teacher)];
  const optimizer = adamw({ lr: 3e-3, weightDecay: 0 });
  const crops = await move({
    globals: [0, 1].map((i) => T.random.normal(T.random.key(10 + i), [8, 1, 16, 16])),
    locals: [T.random.normal(T.random.key(12), [8, 1, 8, 8])],
  });
  let state = {
    student,
    teacher,
    center: initCenter(config, { backend: B }),
    opt: optimizer.init(student),
  };
  const l: number[] = [];
  for (let s = 0; s < 4; s++) {
    const r = dinoTrainStep(state, crops, {
      config,
      optimizer,
      epoch: 1,
      teacherTemp: 0.04,
      momentum: 0.996,
    });
    l.push(await r.loss.item());
    T.dispose([state, r.loss]);
    state = r.state;
  }
  T.dispose([state, crops]);
  assert.ok(l.every(Number.isFinite) && l.at(-1)! < l[0]!, `losses ${l}`);
});
