/**
 * trainer/jit_step.ts: a training step `grad → meanOverRanks → apply` compiled as one program on
 * one rank and as two programs around the host-side mean on two ranks (a mirror collective: both
 * ranks hold the same values, so the mean is exact), bit-identical to the eager step and leaving
 * no tensor behind.
 */
import assert from "node:assert/strict";
import {
  dispose,
  memoryStats,
  mul,
  sub,
  sum,
  type Tensor,
  tensor,
  valueAndGrad,
} from "../../mod.ts";
import { adamw, type AdamWState } from "../../nn/mod.ts";
import { type Collectives, local } from "../../distributed/mod.ts";
import { jitTrainStep } from "../../trainer/jit_step.ts";

/** Two ranks that hold the same values: the sum over ranks is twice this rank's. */
function mirror(): Collectives {
  return {
    ...local(),
    size: 2,
    allReduceSum: (data) => {
      for (let i = 0; i < data.length; i++) data[i] = data[i]! * 2;
      return data;
    },
  };
}

type P = { w: Tensor };
const opt = adamw({ lr: 0.1, weightDecay: 0.01 });
const loss = (p: P, x: Tensor) => sum(mul(sub(p.w, x), sub(p.w, x)));

/** Three steps; the params' bits, the losses and how often each half ran (traced or eager). */
async function run(opts: { eager?: boolean; eagerGrad?: boolean; coll: Collectives }) {
  const calls = { grad: 0, apply: 0 };
  const step = jitTrainStep({
    grad: (p, x: Tensor) => {
      calls.grad++;
      const [l, g] = valueAndGrad(loss)(p as P, x);
      return { out: l, grads: g };
    },
    apply: (p, s, g: P, scale: Tensor | number) => {
      calls.apply++;
      const up = opt.update({ w: mul(g.w, scale) }, s, p as P);
      return { params: up.params, opt: up.state };
    },
  }, opts);
  let p: unknown = { w: tensor([0.5, -1, 2]) }, s: AdamWState = opt.init(p);
  const x = tensor([1, 2, 3]), scale = tensor(0.75);
  const losses: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await step(p, s, [x], [opts.eager ? 0.75 : scale]);
    losses.push(await r.out.item());
    dispose([p, s, r.out]);
    ({ params: p, opt: s } = r.state);
  }
  const w = [...(await (p as P).w.data())];
  assert.equal(s.count, 3);
  dispose([p, s, x, scale]);
  step.dispose();
  return { w, losses, calls };
}

Deno.test("jitTrainStep: one program on 1 rank, two around the mean on 2, eager bits", async () => {
  const before = memoryStats().cpu?.tensors ?? 0;
  const eager = await run({ eager: true, coll: local() });
  assert.deepEqual(eager.calls, { grad: 3, apply: 3 });
  const cases = [
    { name: "1 rank", opts: { coll: local() }, calls: { grad: 1, apply: 1 } },
    { name: "2 ranks", opts: { coll: mirror() }, calls: { grad: 1, apply: 1 } },
    {
      name: "2 ranks, eager grad",
      opts: { coll: mirror(), eagerGrad: true },
      calls: { grad: 3, apply: 1 },
    },
    {
      name: "2 ranks, --no-jit",
      opts: { coll: mirror(), eager: true },
      calls: { grad: 3, apply: 3 },
    },
  ];
  for (const c of cases) {
    const r = await run(c.opts);
    assert.deepEqual(r.calls, c.calls, c.name);
    assert.deepEqual(r.w, eager.w, c.name);
    assert.deepEqual(r.losses, eager.losses, c.name);
  }
  assert.notDeepEqual(eager.w, [0.5, -1, 2]);
  assert.equal(memoryStats().cpu?.tensors ?? 0, before, "jitTrainStep leaked tensors");
});
