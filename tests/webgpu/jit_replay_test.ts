/**
 * jit replays on WebGPU: after the program is compiled, 1,000 replays of a training step (tiny
 * ViT, AdamW with a traced count) create no new GPU buffers (every request is served by the
 * pool) and no bind groups (the queue's cache serves the same buffers' groups), keep live bytes
 * and live tensors flat, issue the same dispatches every replay, and read nothing back.
 */
import assert from "node:assert/strict";
import {
  dispose,
  jit,
  memoryStats,
  random,
  scope,
  type Tensor,
  tensor,
  valueAndGrad,
} from "../../mod.ts";
import { adamw, type AdamWState, crossEntropy } from "../../nn/mod.ts";
import { initVit, vitForward } from "../../models/mod.ts";
import { webgpuStats } from "../../tensor/webgpu/mod.ts";
import { ENC, place } from "../autodiff/_jit_models.ts";
import { gpuTest } from "./_setup.ts";

const cfg = { ...ENC, numClasses: 3 };
const REPLAYS = 1000;
type V = ReturnType<typeof initVit>;

gpuTest(
  "jit: 1,000 replays of a ViT step create no buffers or bind groups; bytes, tensors, dispatches flat",
  async () => {
    const opt = adamw({ lr: 1e-3 });
    const vg = valueAndGrad((p: V, x: Tensor, y: Tensor) => crossEntropy(vitForward(p, x, cfg), y));
    const step = jit((p: V, s: AdamWState, x: Tensor, y: Tensor) =>
      scope(() => {
        const [loss, g] = vg(p, x, y);
        const up = opt.update(g, s, p);
        return { p: up.params, s: up.state, loss };
      })
    );
    let { p, s } = await place(
      scope(() => {
        const p = initVit(random.key(0), cfg);
        const s: AdamWState = { ...opt.init(p), count: tensor(0, { dtype: "int32" }) };
        return { p, s };
      }),
      "webgpu",
    );
    const { x, y } = await place(
      scope(() => ({
        x: random.normal(random.key(1), [2, 1, 8, 8]),
        y: tensor([0, 2], { dtype: "int32" }),
      })),
      "webgpu",
    );
    const tick = () => {
      const r = step(p, s, x, y);
      dispose([p, s, r.loss]);
      ({ p, s } = r);
    };
    // Compile, one replay to fill the pool, one that takes the buffers the first took (the
    // pool's tape: tensor/webgpu/pool.ts) — from then on every replay binds the same groups.
    tick(), tick(), tick();
    await p.head!.weight.data(); // settle
    const live = () => memoryStats().webgpu!;
    const before = { ...webgpuStats() }, tensors = live().tensors, bytes = live().bytes;
    const perReplay: number[] = [];
    for (let i = 0; i < REPLAYS; i++) {
      const d0 = webgpuStats().dispatches;
      tick();
      perReplay.push(webgpuStats().dispatches - d0);
    }
    const after = webgpuStats();
    assert.equal(after.misses, before.misses, "a replay created a GPU buffer");
    assert.equal(after.bindGroups, before.bindGroups, "a replay created a bind group");
    assert.ok(perReplay.length === REPLAYS && after.submits - before.submits >= REPLAYS);
    assert.equal(after.liveBytes, before.liveBytes);
    assert.equal(live().tensors, tensors);
    assert.equal(live().bytes, bytes);
    assert.equal(after.readBatches, before.readBatches, "a replay read back");
    assert.ok(perReplay.every((n) => n === perReplay[0] && n > 0), `dispatches ${perReplay}`);
    assert.ok((await p.head!.weight.data()).every(Number.isFinite));
    dispose([p, s, x, y]);
    step.dispose();
  },
);
