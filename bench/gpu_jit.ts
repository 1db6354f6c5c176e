/**
 * A prepared one-command check of what jit buys on a real GPU (well under 5 minutes):
 *
 *   deno run -A bench/gpu_jit.ts            # full size: ViT-Tiny step of bench/vit_step.ts
 *   deno run -A bench/gpu_jit.ts --tiny     # depth 1, batch 2 (llvmpipe, CI smoke)
 *   deno run -A bench/gpu_jit.ts --batch 8  # full depth at another batch
 *
 * Measures the cost of one dispatch (a chain of tiny elementwise ops, one wait), of one submit
 * and wait (one op, then `syncWebGPU`), the latency of mapping a 4-byte result (`data()`), and
 * the ViT-Tiny training step (forward, backward, AdamW; batch 64) eager and jitted: ms per step,
 * dispatches and submits per step, no readback inside the timed steps. Prints plain lines and a
 * JSON summary as the last line.
 * @module
 */
import * as T from "../mod.ts";
import type { Tensor } from "../mod.ts";
import { initWebGPU, syncWebGPU, webgpuStats } from "../tensor/webgpu/mod.ts";
import {
  adamw,
  CFG,
  crossEntropy,
  forward,
  initParams,
  makeBatch,
  type Params,
} from "./vit_step.ts";

const tiny = Deno.args.includes("--tiny");
const info = await initWebGPU();
if (!info) {
  console.error("gpu_jit: no WebGPU adapter");
  Deno.exit(1);
}
T.setBackend("webgpu");
const summary: Record<string, unknown> = { adapter: info.description, tiny };
console.log(`adapter: ${info.description}${info.isFallbackAdapter ? " (fallback)" : ""}`);

/** Mean ms of `f` over `n` runs after one warm-up. */
async function perRun(n: number, f: () => Promise<void> | void): Promise<number> {
  await f();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await f();
  return (performance.now() - t0) / n;
}

// 1. Dispatch cost: a chain of tiny ops recorded back to back, one wait at the end.
{
  const x = T.ones([256]);
  const chain = tiny ? 200 : 2000;
  const d0 = webgpuStats().dispatches;
  const ms = await perRun(3, async () => {
    T.scope(() => {
      let y = x;
      for (let i = 0; i < chain; i++) y = T.add(y, 1);
      return y;
    }).dispose();
    await syncWebGPU();
  });
  const dispatches = (webgpuStats().dispatches - d0) / 4;
  summary.dispatchUs = (1000 * ms) / dispatches;
  console.log(
    `dispatch: ${(summary.dispatchUs as number).toFixed(1)} µs each (${dispatches} per chain)`,
  );
  x.dispose();
}

// 2. Submit + wait: one op, then wait for the queue.
{
  const x = T.ones([256]);
  summary.submitWaitMs = await perRun(tiny ? 10 : 50, async () => {
    T.add(x, 1).dispose();
    await syncWebGPU();
  });
  console.log(`submit + wait: ${(summary.submitWaitMs as number).toFixed(2)} ms`);
  // 3. Map latency: a 4-byte read of a fresh result.
  summary.mapMs = await perRun(tiny ? 10 : 50, async () => {
    const y = T.add(x, 1);
    await T.slice(y, [[0, 1]]).data();
    y.dispose();
  });
  console.log(`map a 4-byte result: ${(summary.mapMs as number).toFixed(2)} ms`);
  x.dispose();
}

// 4. The ViT-Tiny training step, eager and jitted.
if (tiny) CFG.depth = 1;
const batchAt = Deno.args.indexOf("--batch");
const batch = batchAt >= 0 ? Number(Deno.args[batchAt + 1]) : tiny ? 2 : 64;
const steps = tiny ? 2 : 10;
const { x, y } = makeBatch(batch);
const vg = T.valueAndGrad((p: Params) => crossEntropy(forward(p, x), y));
const compiled = T.jit((p: Params, m: Params, v: Params, sm: Tensor, sv: Tensor) => {
  const [loss, g] = vg(p);
  const u = adamw(p, g, { m, v, t: 0, scales: { m: sm, v: sv } });
  return { loss, p: u.p, m: u.s.m, v: u.s.v };
});

async function timeSteps(jitted: boolean) {
  let p = initParams();
  let m = T.treeMap((t: Tensor) => T.mul(t, 0), p), v = T.treeMap((t: Tensor) => T.mul(t, 0), p);
  let loss: Tensor | null = null;
  const one = (t: number) => {
    const r = T.scope(() => {
      const sm = T.tensor(1e-3 / (1 - 0.9 ** t)), sv = T.tensor(1 / (1 - 0.999 ** t));
      if (jitted) return compiled(p, m, v, sm, sv);
      const [l, g] = vg(p);
      const u = adamw(p, g, { m, v, t: t - 1 });
      return { loss: l, p: u.p, m: u.s.m, v: u.s.v };
    });
    T.dispose([p, m, v, loss]);
    ({ p, m, v, loss } = r);
  };
  // Warm-up: compile, fill the pool, settle the replay's buffers (tensor/webgpu/pool.ts tape).
  for (let i = 0; i < 3; i++) one(1);
  await syncWebGPU();
  const s0 = webgpuStats();
  const t0 = performance.now();
  for (let i = 2; i < 2 + steps; i++) one(i);
  await syncWebGPU();
  const ms = (performance.now() - t0) / steps;
  const s1 = webgpuStats();
  const last = await loss!.item();
  T.dispose([p, m, v, loss]);
  return {
    ms,
    dispatches: (s1.dispatches - s0.dispatches) / steps,
    submits: (s1.submits - s0.submits) / steps,
    readBatches: (s1.readBatches - s0.readBatches) / steps,
    passes: (s1.passes - s0.passes) / steps,
    copies: (s1.copies - s0.copies) / steps,
    bindGroups: (s1.bindGroups - s0.bindGroups) / steps,
    loss: last,
  };
}

for (const mode of ["eager", "jit"] as const) {
  const r = await timeSteps(mode === "jit");
  summary[`vit_${mode}`] = r;
  console.log(
    `ViT-Tiny step (depth ${CFG.depth}, batch ${batch}), ${mode}: ${r.ms.toFixed(1)} ms, ` +
      `${r.dispatches} dispatches, ${r.submits} submits, ${r.passes} compute passes, ` +
      `${r.copies} buffer copies, ` +
      `${r.bindGroups} new bind groups, ${r.readBatches} reads per step, ` +
      `loss ${r.loss.toFixed(5)}`,
  );
}
compiled.dispose();
T.dispose([x, y]);
console.log(JSON.stringify(summary));
