/**
 * Optimizers against PyTorch trajectories (AdamW, AdamW with param groups, SGD with Nesterov
 * and with dampened momentum), clip_grad_norm_, BEiT's cosine_scheduler, methods.md §6/§10's
 * schedule, weight-decay and layer-decay numbers, EMA, and no tensor growth over 50 steps.
 */
import assert from "node:assert/strict";
import {
  add,
  dispose,
  matmul,
  mean,
  memoryStats,
  mul,
  random,
  scope,
  sub,
  type Tensor,
  tensor,
  valueAndGrad,
} from "../../mod.ts";
import {
  adamw,
  clipByGlobalNorm,
  clipByNorm,
  clipByValue,
  cosineSchedule,
  cosineScheduler,
  crossEntropy,
  emaUpdate,
  globalNorm,
  initEma,
  layerDecayScale,
  type Optimizer,
  sgd,
  specEntries,
  stepSchedule,
  vitLayerId,
  weightDecayMask,
} from "../../nn/mod.ts";
import { initVit, type VitConfig, vitForward, vitSpec } from "../../models/mod.ts";
import { VIT_PRESETS } from "../../models/vit_presets.ts";
import { assertClose, fx, liveTensors, noLeak } from "./_fixture.ts";
import { TINY_VIT } from "../models/_tiny.ts";

type P = { w: Tensor; b: Tensor };

async function trajectory<S>(name: string, opt: Optimizer<S>): Promise<void> {
  const x = await fx("optim/x"), y = await fx("optim/y");
  const loss = (p: P) => {
    const d = sub(add(matmul(x, p.w, { transB: true }), p.b), y);
    return mean(mul(d, d));
  };
  let params: P = { w: mul(await fx("optim/w0"), 1), b: mul(await fx("optim/b0"), 1) };
  let state = opt.init(params);
  for (let i = 0; i < 5; i++) {
    const [l, g] = valueAndGrad(loss)(params);
    const next = opt.update(g, state, params);
    dispose([l, g, params, state]);
    ({ params, state } = next);
    await assertClose(params.w, await fx(`optim/${name}/${i}/w`), {
      what: `${name} step ${i} w`,
      atol: 2e-6,
    });
    await assertClose(params.b, await fx(`optim/${name}/${i}/b`), {
      what: `${name} step ${i} b`,
      atol: 2e-6,
    });
  }
  dispose([params, state]);
}

Deno.test("optim: AdamW and SGD trajectories match torch.optim", async () => {
  await noLeak(async () => {
    await trajectory(
      "adamw",
      adamw({ lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.05 }),
    );
    await trajectory(
      "adamw_groups",
      adamw({
        lr: 0.1,
        betas: [0.9, 0.95],
        eps: 1e-6,
        weightDecay: 0.05,
        weightDecayMask: (path) => path === "w",
        lrScale: (path) => (path === "b" ? 0.5 : 1),
      }),
    );
    await trajectory(
      "sgd_nesterov",
      sgd({ lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }),
    );
    await trajectory("sgd_momentum", sgd({ lr: 0.05, momentum: 0.8, dampening: 0.1 }));
  });
});

Deno.test("optim: clipping matches clip_grad_norm_", async () => {
  const g = { a: await fx("optim/clip/ga"), b: await fx("optim/clip/gb") };
  await noLeak(async () => {
    const { grads, norm } = clipByGlobalNorm(g, 1.5);
    await assertClose(norm, await fx("optim/clip/norm"));
    await assertClose(grads.a, await fx("optim/clip/ga_clipped"));
    await assertClose(grads.b, await fx("optim/clip/gb_clipped"));
    await assertClose(globalNorm(grads), [1.5], { rtol: 1e-5 });
    const big = clipByGlobalNorm(g, 1e6).grads; // no clipping: unchanged
    await assertClose(big.a, g.a);
    const per = clipByNorm(g, 1);
    await assertClose(globalNorm({ a: per.a }), [1], { rtol: 1e-5 });
    await assertClose(clipByValue({ v: tensor([-3, 2, 0.5]) }, 1).v, [-1, 1, 0.5]);
  });
});

Deno.test("optim: cosine_scheduler equals BEiT/DINO's numpy values", async () => {
  const beit = cosineScheduler(1.5e-3, 1e-5, 10, 7, { warmupEpochs: 2 });
  await assertClose(tensor(beit, { dtype: "float64" }), await fx("sched/beit"), {
    atol: 0,
    rtol: 1e-15,
  });
  const dino = cosineScheduler(0.04, 0.4, 5, 3);
  await assertClose(tensor(dino, { dtype: "float64" }), await fx("sched/dino_wd"), {
    atol: 0,
    rtol: 1e-15,
  });
  // methods.md §6 tests: length, first = start, value at W = base, last → final
  const [base, final, epochs, ipe, wep] = [1.5e-3, 1e-5, 300, 50, 10];
  const s = cosineScheduler(base, final, epochs, ipe, {
    warmupEpochs: wep,
    startWarmupValue: 1e-6,
  });
  const T = epochs * ipe, W = wep * ipe;
  assert.equal(s.length, T);
  assert.equal(s[0], 1e-6);
  assert.equal(s[W - 1], base);
  assert.equal(s[W], base);
  assert.ok(Math.abs(s[T - 1]! - final) <= ((base - final) * Math.PI ** 2) / (4 * (T - W) ** 2));
  assert.ok(s.slice(W).every((v, i, a) => i === 0 || v <= a[i - 1]!), "monotone after warmup");
  // function form: same values, clamped past the end
  const f = cosineSchedule({ base, final, totalSteps: T, warmupSteps: W, warmupStart: 1e-6 });
  assert.deepEqual([0, W, T - 1, T + 5].map(f), [s[0], s[W], s[T - 1], s[T - 1]]);
  const st = stepSchedule({
    base: 0.02,
    milestones: [10, 20],
    gamma: 0.1,
    warmupSteps: 4,
    warmupFactor: 0.001,
  });
  assert.deepEqual([0, 2, 4, 9, 10, 25].map((i) => +st(i).toPrecision(12)), [
    2e-5,
    0.010010,
    0.02,
    0.02,
    0.002,
    0.0002,
  ]);
});

Deno.test("optim: weight-decay mask and layer-decay scales (methods.md §6, §10)", () => {
  const spec = vitSpec({
    ...VIT_PRESETS.vit_base_patch16_224,
    globalPool: "avg",
    qkvBias: "qv",
    layerScaleInit: 0.1,
    maskToken: true,
  });
  const decay = weightDecayMask();
  const noDecay = specEntries(spec).filter(([p, s]) => !decay(p, s)).map(([p]) => p);
  for (const [p, s] of specEntries(spec)) {
    if (s.shape.length === 1 || p.endsWith(".bias")) {
      assert.ok(noDecay.includes(p), `${p} must not decay`);
    }
  }
  for (
    const p of [
      "pos_embed",
      "cls_token",
      "mask_token",
      "blocks.0.attn.q_bias",
      "blocks.3.ls1.gamma",
      "fc_norm.weight",
    ]
  ) {
    assert.ok(noDecay.includes(p), p);
  }
  for (
    const p of [
      "patch_embed.proj.weight",
      "blocks.0.attn.qkv.weight",
      "blocks.11.mlp.fc2.weight",
      "head.weight",
    ]
  ) {
    assert.ok(!noDecay.includes(p), p);
  }
  // ViT-B, L = 12, decay 0.65: embeddings 0.65^13 ≈ 3.7e-3, block 11 → 0.65, head → 1
  const scale = layerDecayScale(12, 0.65);
  assert.ok(Math.abs(scale("pos_embed") - 3.7e-3) < 1e-4);
  assert.equal(scale("patch_embed.proj.weight"), 0.65 ** 13);
  assert.equal(scale("cls_token"), 0.65 ** 13);
  assert.equal(scale("blocks.0.norm1.weight"), 0.65 ** 12);
  assert.equal(scale("blocks.11.mlp.fc2.bias"), 0.65);
  assert.equal(scale("head.weight"), 1);
  assert.equal(scale("fc_norm.bias"), 1);
  assert.equal(vitLayerId("rel_pos_bias.relative_position_bias_table", 12), 13);
  assert.equal(vitLayerId("blocks.10.attn.qkv.weight", 12), 11);
});

Deno.test("optim: EMA", async () => {
  await noLeak(async () => {
    const p = { w: tensor([1, 2]) };
    const e0 = initEma(p);
    assert.notEqual(e0.w, p.w);
    const e1 = emaUpdate(e0, { w: tensor([3, 4]) }, 0.9);
    await assertClose(e1.w, [1.2, 2.2]);
  });
});

Deno.test("optim: 50 training steps of a tiny ViT do not grow memory, and the loss falls", async () => {
  await noLeak(async () => {
    const cfg: VitConfig = {
      ...TINY_VIT,
      dropPathRate: 0.1,
      globalPool: "avg",
      init: "beit",
      headInitScale: 0.001,
    };
    const x = random.normal(random.key(1), [6, 1, 8, 8]);
    const y = tensor([0, 1, 2, 0, 1, 2], { dtype: "int32" });
    const opt = adamw({
      lr: cosineSchedule({ base: 3e-2, final: 1e-3, totalSteps: 50, warmupSteps: 5 }),
      weightDecay: 0.05,
      weightDecayMask: weightDecayMask(),
      lrScale: layerDecayScale(cfg.depth, 0.75),
    });
    let params = initVit(random.key(0), cfg);
    let state = opt.init(params);
    let ema = initEma(params);
    const lossFn = (p: typeof params, k: Tensor) =>
      crossEntropy(vitForward(p, x, cfg, { train: true, key: k }), y, { labelSmoothing: 0.1 });
    const losses: number[] = [];
    let steady = -1;
    for (let step = 0; step < 50; step++) {
      const out = scope(() => {
        const [loss, g] = valueAndGrad(lossFn)(params, random.foldIn(random.key(2), step));
        const next = opt.update(clipByGlobalNorm(g, 3).grads, state, params);
        return { loss, next, ema: emaUpdate(ema, next.params, 0.9) };
      });
      dispose([params, state, ema]);
      ({ params, state } = out.next);
      ema = out.ema;
      losses.push(await out.loss.item());
      out.loss.dispose();
      if (step === 0) steady = liveTensors();
      else assert.equal(liveTensors(), steady, `live tensors changed at step ${step}`);
    }
    assert.equal(state.count, 50);
    assert.ok(losses[49]! < losses[0]! - 0.3, `loss ${losses[0]} → ${losses[49]}`);
    const bytes = memoryStats().cpu!.bytes;
    dispose([params, state, ema]);
    assert.ok(memoryStats().cpu!.bytes < bytes);
  });
});
