/**
 * Per-step optimizer values as tensors: a tensor `count` (and a tensor EMA decay) give the same
 * bits as JS numbers on the CPU, and a jitted AdamW step with a cosine schedule compiles once.
 */
import assert from "node:assert/strict";
import {
  dispose,
  jit,
  jitStats,
  mul,
  random,
  scope,
  sum,
  type Tensor,
  tensor,
  TesseraError,
  valueAndGrad,
} from "../../mod.ts";
import {
  adamw,
  cosineSchedule,
  emaUpdate,
  type Optimizer,
  sgd,
  stepSchedule,
} from "../../nn/mod.ts";
import { bytes } from "../autodiff/_bytes.ts";

type P = { w: Tensor; b: Tensor };

const init = (): P =>
  scope(() => ({ w: random.normal(random.key(1), [3, 4]), b: random.normal(random.key(2), [4]) }));

/** `steps` updates; `tensorCount` starts the count as an int32 tensor; `wrap` may jit the step. */
async function train<S extends { count: number | Tensor }>(
  opt: Optimizer<S>,
  steps: number,
  tensorCount: boolean,
  useJit = false,
) {
  const lossFn = (p: P) => sum(mul(sum(mul(p.w, p.w), 0), p.b));
  const raw = (p: P, s: S) => {
    const [l, g] = valueAndGrad(lossFn)(p);
    return { ...opt.update(g, s, p), loss: l };
  };
  const jitted = useJit ? jit(raw) : null;
  const step = jitted ?? raw;
  let params = init();
  let state = opt.init(params);
  if (tensorCount) state = { ...state, count: tensor(0, { dtype: "int32" }) };
  for (let i = 0; i < steps; i++) {
    const r = step(params, state);
    dispose([params, state, r.loss]);
    ({ params, state } = r);
  }
  const count = typeof state.count === "number" ? state.count : await state.count.item();
  const out = { count, bits: await bytes({ params, state }) };
  dispose([params, state]);
  return { ...out, stats: jitted ? jitStats(jitted) : null, dispose: () => jitted?.dispose() };
}

const schedule = cosineSchedule({ base: 0.05, final: 1e-4, totalSteps: 12, warmupSteps: 3 });

Deno.test("adamw: an int32 tensor count gives the bits of the number count (cosine lr, decay)", async () => {
  const opt = adamw({ lr: schedule, weightDecay: 0.05, lrScale: (p) => (p === "b" ? 0.5 : 1) });
  const a = await train(opt, 15, false), b = await train(opt, 15, true);
  assert.equal(b.count, a.count);
  const { "state.count": _drop, ...rest } = b.bits;
  assert.deepEqual(rest, a.bits);
});

Deno.test("sgd: a tensor count gives the same bits (schedule lr and weight decay)", async () => {
  const opt = sgd({ lr: schedule, momentum: 0.9, weightDecay: 1e-2 });
  const a = await train(opt, 10, false), b = await train(opt, 10, true);
  const { "state.count": _drop, ...rest } = b.bits;
  assert.deepEqual(rest, a.bits);
  assert.equal(b.count, 10);
});

Deno.test("jit: an AdamW step with a cosine schedule and a tensor count compiles once, bit-identical", async () => {
  const opt = adamw({ lr: schedule, weightDecay: 0.05 });
  const eager = await train(opt, 12, false);
  const traced = await train(opt, 12, true, true);
  const { "state.count": _drop, ...rest } = traced.bits;
  assert.deepEqual(rest, eager.bits);
  assert.equal(traced.count, 12);
  assert.equal(traced.stats!.compiles, 1);
  traced.dispose();
});

Deno.test("emaUpdate: a float64 decay tensor gives the bits of the number decay", async () => {
  const ema = init(),
    p = scope(() => ({ w: random.normal(random.key(9), [3, 4]), b: tensor([1, 2, 3, 4]) }));
  const d = tensor(0.996, { dtype: "float64" });
  const a = emaUpdate(ema, p, 0.996), b = emaUpdate(ema, p, d);
  assert.deepEqual(await bytes(b), await bytes(a));
  dispose([ema, p, d, a, b]);
});

Deno.test("a schedule without a tensor form refuses a tensor count", () => {
  const opt = sgd({ lr: stepSchedule({ base: 0.1, milestones: [5] }) });
  const p = { w: tensor([1]) }, c = tensor(0, { dtype: "int32" });
  assert.throws(
    () => opt.update({ w: tensor([1]) }, { count: c, momentum: null }, p),
    (e: unknown) =>
      e instanceof TesseraError && /sgd/.test(e.message) && /tensor form/.test(e.message),
  );
  dispose([p, c]);
});
