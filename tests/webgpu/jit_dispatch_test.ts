/**
 * Dispatch ratchet on the device, tinygrad-style: the jitted ViT-Tiny training step of
 * bench/vit_step.ts (depth 12, width 192, 65 tokens, AdamW) replayed on WebGPU records at most
 * its budget of dispatches, in exactly one submission, and reads nothing back. Issue 16's target
 * is ≤ 600 dispatches and 1 submit at batch 64; the graph (and so every count) does not depend on
 * the batch, so the test runs batch 2. Measured 2026-12-07 on llvmpipe: 3,835 unfused; 721 with
 * fused kernels of two passes; 584 with row kernels (the same at batch 64); 570 once 14 matmuls
 * run their consumer in their stores; 563 once the AdamW programs of every parameter size run as
 * horizontal groups (autodiff/jit_group.ts: one dispatch per dependency level); 550 once the
 * whole AdamW update is one grouped dispatch (an update reading a reduction's result joins the
 * main loop of its size instead of the reduction's epilogue) — with its gradients produced into
 * one buffer (autodiff/jit_place.ts) and contiguous layout copies as kernels, a replay is one
 * compute pass with no buffer copies; 514 once the q/k/v split's backward (three zero pads summed)
 * is one concat (autodiff/jit_tiles.ts); 478 once attention's head split and merge (and the merge's
 * gradient) are read or written in place by the matmuls (autodiff/jit_views.ts). Lower the budget as fusion grows; never raise it without a
 * reason in the commit message.
 */
import assert from "node:assert/strict";
import { dispose, jit, mul, type Tensor, toBackend, treeMap } from "../../mod.ts";
import { initParams, makeBatch, type Params, trainStep } from "../../bench/vit_step.ts";
import { webgpuStats } from "../../tensor/webgpu/mod.ts";
import { gpuTest } from "./_setup.ts";

const BUDGET = 478;

gpuTest(
  `jit: the ViT-Tiny step is ≤ ${BUDGET} dispatches in one submit and one pass, no copies or readback`,
  async () => {
    const host = initParams(), batch = makeBatch(2);
    const p: Params = {};
    for (const [k, t] of Object.entries(host)) p[k] = await toBackend(t, "webgpu");
    const [x, y] = [await toBackend(batch.x, "webgpu"), await toBackend(batch.y, "webgpu")];
    dispose([host, batch.x, batch.y]);
    const zeros = (q: Params) => treeMap((t: Tensor) => mul(t, 0), q);
    let m = zeros(p), v = zeros(p), params = p;
    const step = jit(trainStep());
    const losses: Tensor[] = [];
    const counts: {
      dispatches: number;
      submits: number;
      reads: number;
      copies: number;
      passes: number;
    }[] = [];
    for (let i = 0; i < 3; i++) {
      const s0 = webgpuStats();
      const r = step(params, m, v, x, y);
      const s1 = webgpuStats();
      counts.push({
        dispatches: s1.dispatches - s0.dispatches,
        submits: s1.submits - s0.submits,
        reads: s1.readBatches - s0.readBatches,
        copies: s1.copies - s0.copies,
        passes: s1.passes - s0.passes,
      });
      dispose([params, m, v]);
      ({ p: params, m, v } = r);
      losses.push(r.loss);
    }
    // The first call compiles (and runs) the program; the later ones are replays.
    console.log(`ViT-Tiny step on WebGPU, per replay: ${JSON.stringify(counts.slice(1))}`);
    for (const c of counts.slice(1)) {
      assert.ok(c.dispatches <= BUDGET, `dispatches ${c.dispatches} > budget ${BUDGET}`);
      assert.ok(c.dispatches > BUDGET / 2, `dispatches ${c.dispatches}: the step did not run`);
      assert.equal(c.submits, 1, "one submission per replay");
      assert.equal(c.reads, 0, "no readback");
      // The update's gradients are produced into one buffer it binds (no copies in), and
      // contiguous layout copies run as kernels inside the pass: one compute pass per step.
      assert.equal(c.copies, 0, "no buffer copies");
      assert.equal(c.passes, 1, "one compute pass");
    }
    const l = await Promise.all(losses.map(async (t) => (await t.data())[0]!));
    assert.ok(l.every(Number.isFinite) && l[2]! < l[0]!, `losses ${l}`);
    step.dispose();
    dispose([params, m, v, x, y, losses]);
  },
);
