/**
 * DINO (methods.md §9): hand-computed loss, term count 2·(crops − 1), perturbing one global
 * student view changes exactly one term, the centre uses teacher global outputs only, the last
 * layer is frozen in epoch 0, weight norm, schedules, checkGrad, loss falls.
 */
import assert from "node:assert/strict";
import {
  abs,
  add,
  checkGrad,
  dispose,
  max,
  memoryStats,
  mul,
  random,
  tensor,
  zeros,
} from "../../mod.ts";
import { adamw } from "../../nn/mod.ts";
import {
  type DinoConfig,
  dinoForward,
  dinoHead,
  dinoLoss,
  dinoTrainStep,
  initCenter,
  initDino,
  teacherMomentumSchedule,
  teacherTempSchedule,
} from "../../models/mod.ts";
import { TINY_ENCODER } from "./_tiny.ts";

const CFG: DinoConfig = {
  backbone: TINY_ENCODER,
  outDim: 32,
  hiddenDim: 32,
  bottleneckDim: 8,
};

function crops(seed: number, b = 4, nLocal = 2) {
  const keys = random.splitKeys(random.key(seed), 2 + nLocal);
  return {
    globals: [0, 1].map((i) => random.normal(keys[i]!, [b, 1, 16, 16])),
    locals: Array.from({ length: nLocal }, (_, i) => random.normal(keys[2 + i]!, [b, 1, 8, 8])),
  };
}

const softmax = (v: number[], t: number) => {
  const e = v.map((x) => Math.exp(x / t)), s = e.reduce((a, b) => a + b);
  return e.map((x) => x / s);
};

Deno.test("dino: hand-computed toy loss (K=4, B=2, 2 globals + 1 local), terms and pairs", async () => {
  const s = [[[1, 0, 0, 2], [0, 1, 3, 0]], [[0, 0, 1, 1], [2, 0, 0, 0]], [[1, 1, 0, 0], [
    0,
    0,
    0,
    3,
  ]]];
  const t = [[[0.1, 0.2, 0, 0], [0, 0, 0.3, 0]], [[0, 0.5, 0, 0.1], [0.2, 0, 0, 0]]];
  const c = [0.05, 0, -0.05, 0.1];
  const tt = 0.04, st = 0.1;
  let want = 0, n = 0;
  for (let i = 0; i < 2; i++) {
    for (let v = 0; v < 3; v++) {
      if (v === i) continue;
      let term = 0;
      for (let b = 0; b < 2; b++) {
        const q = softmax(t[i]![b]!.map((x, k) => x - c[k]!), tt);
        const p = softmax(s[v]![b]!, st);
        term += -q.reduce((a, qk, k) => a + qk * Math.log(p[k]!), 0) / 2;
      }
      want += term, n++;
    }
  }
  const r = dinoLoss(s.map((x) => tensor(x)), t.map((x) => tensor(x)), tensor([c]), {
    teacherTemp: tt,
    studentTemp: st,
  });
  assert.equal(r.terms, 2 * (3 - 1));
  assert.ok(Math.abs((await r.loss.item()) - want / n) < 1e-5);
  // 2 globals + 8 locals → 18 terms.
  const ten = Array.from({ length: 10 }, () => zeros([2, 4]));
  assert.equal(dinoLoss(ten, ten.slice(0, 2), zeros([1, 4]), { teacherTemp: 0.04 }).terms, 18);
  // Perturbing the student output of global view 0 changes exactly one term (teacher view 1):
  // the summed loss moves by exactly that term's change.
  const s2 = [...s];
  s2[0] = [[3, 0, 0, 0], [0, 0, 0, 3]];
  const r2 = dinoLoss(s2.map((x) => tensor(x)), t.map((x) => tensor(x)), tensor([c]), {
    teacherTemp: tt,
  });
  let delta = 0;
  for (let b = 0; b < 2; b++) {
    const q = softmax(t[1]![b]!.map((x, k) => x - c[k]!), tt);
    const lp = (row: number[]) => softmax(row, st).map(Math.log);
    const [o, nw] = [lp(s[0]![b]!), lp(s2[0]![b]!)];
    delta += -q.reduce((a, qk, k) => a + qk * (nw[k]! - o[k]!), 0) / 2;
  }
  assert.ok(Math.abs((await r2.loss.item()) - (await r.loss.item()) - delta / 4) < 1e-5);
});

Deno.test("dino: the centre is updated from teacher global outputs only", async () => {
  const { student, teacher } = initDino(random.key(0), CFG);
  const optimizer = adamw({ lr: 1e-3 });
  const state = { student, teacher, center: initCenter(CFG), opt: optimizer.init(student) };
  const opts = { config: CFG, optimizer, epoch: 0, teacherTemp: 0.04, momentum: 0.996 };
  const cr = crops(1);
  const a = dinoTrainStep(state, cr, opts);
  const b = dinoTrainStep(state, { ...cr, locals: crops(2).locals }, opts);
  assert.deepEqual(await a.state.center.toArray(), await b.state.center.toArray());
  assert.equal(a.terms, 2 * (2 + 2 - 1));
  const tOut = dinoForward(teacher, cr.globals, CFG);
  const { concat, mean, mul } = await import("../../mod.ts");
  const want = mul(mean(concat(tOut, 0), 0, true), 0.1);
  const got = await a.state.center.data(), exp = await want.data();
  got.forEach((v, i) => assert.ok(Math.abs(v - exp[i]!) < 1e-6));
});

Deno.test("dino: last layer bit-identical in epoch 0, trained from epoch 1", async () => {
  const { student, teacher } = initDino(random.key(0), CFG);
  const optimizer = adamw({ lr: 1e-2, weightDecay: 0.04 });
  const state = { student, teacher, center: initCenter(CFG), opt: optimizer.init(student) };
  const base = { config: CFG, optimizer, teacherTemp: 0.04, momentum: 0.996 };
  const cr = crops(3);
  const before = await student.dino_head.last_layer.weight_v.toArray();
  const e0 = dinoTrainStep(state, cr, { ...base, epoch: 0 });
  assert.deepEqual(await e0.state.student.dino_head.last_layer.weight_v.toArray(), before);
  assert.notDeepEqual(
    await e0.state.student.dino_head.mlp[0]!.weight.toArray(),
    await student.dino_head.mlp[0]!.weight.toArray(),
  );
  const e1 = dinoTrainStep(e0.state, cr, { ...base, epoch: 1 });
  assert.notDeepEqual(await e1.state.student.dino_head.last_layer.weight_v.toArray(), before);
});

Deno.test("dino: weight-normalised last layer (rows of norm g = 1), trainable g", async () => {
  const { student } = initDino(random.key(0), { ...CFG, normLastLayer: false });
  assert.deepEqual(student.dino_head.last_layer.weight_g?.shape, [32, 1]);
  const { student: frozen } = initDino(random.key(0), CFG);
  assert.equal(frozen.dino_head.last_layer.weight_g, undefined);
  // Unit bottleneck · unit rows: every output is a cosine, and scaling v changes nothing.
  const x = random.normal(random.key(1), [5, 16]);
  const y = dinoHead(frozen.dino_head, x);
  assert.ok((await max(abs(y)).item()) <= 1 + 1e-6);
  const ll = frozen.dino_head.last_layer;
  const scaled = { ...frozen.dino_head, last_layer: { weight_v: add(ll.weight_v, ll.weight_v) } };
  const y2 = await dinoHead(scaled, x).data(), y1 = await y.data();
  y1.forEach((v, i) => assert.ok(Math.abs(v - y2[i]!) < 1e-6));
});

Deno.test("dino: schedules follow the spec's formulas", () => {
  const tt = teacherTempSchedule({ warmupTemp: 0.04, temp: 0.07, warmupEpochs: 30, epochs: 100 });
  assert.equal(tt.length, 100);
  tt.forEach((v, e) => {
    const want = e < 30 ? 0.04 + (0.07 - 0.04) * e / 29 : 0.07;
    assert.ok(Math.abs(v - want) < 1e-12);
  });
  const m = teacherMomentumSchedule(0.996, 10, 7);
  assert.equal(m.length, 70);
  assert.equal(m[0], 0.996);
  m.forEach((v, i) => {
    assert.ok(i === 0 || v >= m[i - 1]!);
    assert.ok(Math.abs(v - (1 - 0.002 * (1 + Math.cos(Math.PI * i / 70)))) < 1e-12);
  });
  assert.ok(1 - m.at(-1)! < 0.004 * Math.PI ** 2 / (4 * 70 ** 2) + 1e-12);
});

Deno.test("dino: checkGrad of the multi-crop loss on a tiny float64 model", async () => {
  const config: DinoConfig = {
    backbone: { ...CFG.backbone, imgSize: 8, embedDim: 8, dtype: "float64" },
    outDim: 8,
    hiddenDim: 8,
    bottleneckDim: 4,
    normLastLayer: false,
  };
  const init = initDino(random.key(0), config), teacher = init.teacher;
  // Head weights at std 0.4 instead of 0.02: at init the bottleneck output is so small that
  // L2-normalising it is sharply curved and finite differences need a tiny ε.
  const student = {
    ...init.student,
    dino_head: {
      ...init.student.dino_head,
      mlp: init.student.dino_head.mlp.map((l) => ({ ...l, weight: mul(l.weight, 20) })),
    },
  };
  const ks = random.splitKeys(random.key(1), 3);
  const g = [0, 1].map((i) => random.normal(ks[i]!, [2, 1, 8, 8], { dtype: "float64" }));
  const l = [random.normal(ks[2]!, [2, 1, 4, 4], { dtype: "float64" })];
  const tOut = dinoForward(teacher, g, config);
  const center = random.normal(random.key(2), [1, 8], { dtype: "float64" });
  await checkGrad(
    (p: typeof student) =>
      dinoLoss(dinoForward(p, [...g, ...l], config), tOut, center, { teacherTemp: 0.04 }).loss,
    [student],
    { eps: 1e-6 }, // unit-scale directions on 0.02-scale weights: keep the O(ε²) error small
  );
});

Deno.test("dino: a few steps on the CPU make the loss fall", async () => {
  const { student, teacher } = initDino(random.key(0), CFG);
  const optimizer = adamw({ lr: 3e-3, weightDecay: 0 });
  let state = { student, teacher, center: initCenter(CFG), opt: optimizer.init(student) };
  const cr = crops(4, 8);
  const losses: number[] = [], live: number[] = [];
  for (let s = 0; s < 8; s++) {
    const r = dinoTrainStep(state, cr, {
      config: CFG,
      optimizer,
      epoch: 1,
      teacherTemp: 0.04,
      momentum: 0.996,
    });
    losses.push(await r.loss.item());
    if (s > 0) dispose(state);
    r.loss.dispose();
    state = r.state;
    if (s === 1 || s === 7) live.push(memoryStats().cpu?.tensors ?? 0);
  }
  assert.ok(losses.at(-1)! < losses[0]! - 0.05, `losses ${losses}`);
  assert.equal(live[1], live[0], "live tensors grew from step to step");
});
