/**
 * trainStep / TrainState and the optax-style chain: flat memory over 100 steps, the same bits
 * as the hand-written loop (valueAndGrad → update → dispose), clipping and masks equal to doing
 * them by hand, and a consumed state refused.
 */
import assert from "node:assert/strict";
import {
  dispose,
  gelu,
  memoryStats,
  mul,
  random,
  scope,
  type Tensor,
  tensor,
  TesseraError,
  valueAndGrad,
} from "../../mod.ts";
import {
  adamw,
  chain,
  clipByGlobalNorm,
  clipGlobalNorm,
  clipValue,
  cosineSchedule,
  createTrainState,
  crossEntropy,
  dropout,
  linear,
  masked,
  type Optimizer,
  sgd,
  trainStep,
  trainStepWithAux,
  weightDecayMask,
} from "../../nn/mod.ts";
import { treeFlatten } from "../../autodiff/mod.ts";
import { initMlp, type MlpParams } from "./_mlp.ts";

type P = MlpParams;

const live = () => memoryStats().cpu?.tensors ?? 0;

/** A two-layer MLP with dropout: the PRNG key is an explicit argument. */
function loss(p: P, x: Tensor, y: Tensor, key: Tensor): Tensor {
  const h = dropout(gelu(linear(p.fc1, x)), { rate: 0.25, train: true, key });
  return crossEntropy(linear(p.fc2, h), y);
}

function data(): { x: Tensor; y: Tensor; key: Tensor } {
  return scope(() => ({
    x: random.normal(random.key(1), [5, 6]),
    y: tensor([0, 1, 2, 1, 0], { dtype: "int32" }),
    key: random.key(7),
  }));
}

async function bits(tree: unknown): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [path, t] of Object.entries(treeFlatten(tree))) out[path] = [...await t.data()];
  return out;
}

/** Runs `steps` of trainStep and returns the losses and final parameters, freeing everything. */
async function runTrainStep<S>(opt: Optimizer<S>, steps: number) {
  const { x, y, key } = data();
  const step = trainStep(loss, opt);
  let state = createTrainState(initMlp(), opt);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const k = random.foldIn(key, state.step);
    const out = step(state, x, y, k);
    state = out.state;
    losses.push(await out.loss.item());
    dispose([k, out.loss]);
  }
  const params = await bits(state.params);
  dispose([state.params, state.optState, x, y, key]);
  return { losses, params };
}

/** The same loop written by hand, as types.ts documents it. */
async function runByHand<S>(opt: Optimizer<S>, steps: number) {
  const { x, y, key } = data();
  let params = initMlp();
  let state = opt.init(params);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const k = random.foldIn(key, i);
    const [l, g] = valueAndGrad(loss)(params, x, y, k);
    const next = opt.update(g, state, params);
    losses.push(await l.item());
    dispose([l, g, k, params, state]);
    ({ params, state } = next);
  }
  const out = await bits(params);
  dispose([params, state, x, y, key]);
  return { losses, params: out };
}

Deno.test("trainStep: memory stays flat over 100 steps (AdamW, schedule, clipping, masks)", async () => {
  const opt = chain(
    clipGlobalNorm(1),
    masked(
      adamw({
        lr: cosineSchedule({ base: 1e-2, final: 1e-4, totalSteps: 100, warmupSteps: 10 }),
        weightDecay: 0.05,
        weightDecayMask: weightDecayMask(),
      }),
      (path) => path !== "fc1.bias", // frozen
    ),
  );
  const { x, y, key } = data();
  const step = trainStep(loss, opt);
  let state = createTrainState(initMlp(), opt);
  let first = 0;
  for (let i = 0; i < 100; i++) {
    const k = random.foldIn(key, state.step);
    const out = step(state, x, y, k);
    assert.ok(Number.isFinite(await out.loss.item()));
    dispose([k, out.loss]);
    state = out.state;
    if (i === 0) first = live();
    assert.equal(live(), first, `step ${i}: ${live()} live tensors, ${first} after step 0`);
  }
  assert.equal(state.step, 100);
  assert.equal(state.optState.optimizer.count, 100);
  dispose([state.params, state.optState, x, y, key]);
});

Deno.test("trainStep: losses and parameters equal the hand-written loop bit for bit", async () => {
  for (
    const opt of [
      adamw({ lr: 1e-2, weightDecay: 0.05 }),
      sgd({ lr: 0.1, momentum: 0.9, nesterov: true }),
    ] as Optimizer<unknown>[]
  ) {
    const before = live();
    const a = await runTrainStep(opt, 12), b = await runByHand(opt, 12);
    assert.deepEqual(a.losses, b.losses);
    assert.deepEqual(a.params, b.params);
    assert.ok(a.losses[11]! < a.losses[0]!, `the loss should fall: ${a.losses}`);
    assert.equal(live(), before, "tensors leaked");
  }
});

Deno.test("trainStep: a consumed state is refused with a TesseraError", () => {
  const opt = sgd({ lr: 0.1 });
  const { x, y, key } = data();
  const step = trainStep(loss, opt);
  const s0 = createTrainState(initMlp(), opt);
  const { state: s1, loss: l } = step(s0, x, y, key);
  assert.throws(() => step(s0, x, y, key), (e: unknown) => {
    assert.ok(e instanceof TesseraError);
    assert.match(e.message, /trainStep.*step 0 was already consumed/);
    return true;
  });
  assert.equal(s1.step, 1);
  dispose([s1.params, l, x, y, key]);
});

Deno.test("trainStepWithAux: aux at the old parameters, same bits as trainStep, no leak", async () => {
  const before = live();
  const opt = adamw({ lr: 1e-2 });
  const { x, y, key } = data();
  const plain = trainStep(loss, opt);
  const withAux = trainStepWithAux((p: P, x: Tensor, y: Tensor, k: Tensor) => {
    const l = loss(p, x, y, k);
    return [l, { double: mul(l, 2) }];
  }, opt);
  let a = createTrainState(initMlp(), opt), b = createTrainState(initMlp(), opt);
  const b0 = b;
  for (let i = 0; i < 3; i++) {
    const ra = plain(a, x, y, key), rb = withAux(b, x, y, key);
    const [la, lb, d] = await Promise.all([ra.loss.item(), rb.loss.item(), rb.aux.double.item()]);
    assert.equal(la, lb);
    assert.equal(d, Math.fround(2 * lb));
    dispose([ra.loss, rb.loss, rb.aux]);
    ({ state: a } = ra), ({ state: b } = rb);
  }
  assert.deepEqual(await bits(a.params), await bits(b.params));
  assert.throws(() => withAux(b0, x, y, key), /trainStepWithAux.*step 0 was already consumed/);
  dispose([a.params, a.optState, b.params, b.optState, x, y, key]);
  assert.equal(live(), before, "tensors leaked");
});

Deno.test("chain: clipping then AdamW equals clipByGlobalNorm then AdamW bit for bit", async () => {
  const before = live();
  const inner = adamw({ lr: 0.1, weightDecay: 0.01 });
  const opt = chain(clipGlobalNorm(0.5), clipValue(0.2), inner);
  await scope(async () => {
    const p = { a: tensor([1, -2, 3]), b: tensor([[0.5, 0.25]]) };
    const g = { a: tensor([4, -1, 0.5]), b: tensor([[-3, 2]]) };
    const { params, state } = opt.update(g, opt.init(p), p);
    const clipped = clipByGlobalNorm(g, 0.5).grads;
    const byHand = inner.update(
      { a: clipValueBy(clipped.a, 0.2), b: clipValueBy(clipped.b, 0.2) },
      inner.init(p),
      p,
    );
    assert.deepEqual(await bits(params), await bits(byHand.params));
    assert.deepEqual(await bits(state.optimizer), await bits(byHand.state));
    assert.deepEqual(state.transforms, [null, null]);
    assert.ok(params.a !== p.a && params.b !== p.b);
  });
  assert.equal(live(), before, "tensors leaked");
});

function clipValueBy(t: Tensor, v: number): Tensor {
  return clipValue(v).update({ t }, null, { t }).grads.t;
}

Deno.test("masked: the unselected parameters keep their bits, as fresh tensors", async () => {
  const before = live();
  await scope(async () => {
    const inner = adamw({ lr: 0.1 });
    const opt = masked(inner, (path) => path !== "head.weight");
    const p = { body: [tensor([1, -0])], head: { weight: tensor([-0, 2.5]) } };
    const g = { body: [tensor([1, 1])], head: { weight: tensor([1, 1]) } };
    const state = opt.init(p);
    assert.deepEqual(Object.keys(state.m as object), ["body.0"]);
    const next = opt.update(g, state, p);
    const head = await next.params.head.weight.data();
    assert.ok(Object.is(head[0], -0) && head[1] === 2.5, `frozen: ${[...head]}`);
    assert.notEqual(next.params.head.weight, p.head.weight); // no alias: the caller frees p
    const byHand = inner.update({ "body.0": g.body[0]! }, inner.init({ "body.0": p.body[0]! }), {
      "body.0": p.body[0]!,
    });
    assert.deepEqual([...await next.params.body[0]!.data()], [
      ...await byHand.params["body.0"]!.data(),
    ]);
  });
  assert.equal(live(), before, "tensors leaked");
});
