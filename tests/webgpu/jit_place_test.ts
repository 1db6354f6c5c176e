/**
 * Grouped kernels with many segments and many produced inputs on WebGPU: a horizontal group of
 * 100 programs computes every segment right (a linear chain of ~80 or more segment arms came out
 * wrong on llvmpipe), and the gradients a grouped update reads are written by their producers
 * into views of one buffer (autodiff/jit_place.ts), so a replay copies nothing and records one
 * compute pass.
 */
import assert from "node:assert/strict";
import {
  dispose,
  jit,
  jitStats,
  mul,
  sub,
  sum,
  type Tensor,
  tensor,
  toBackend,
} from "../../mod.ts";
import { webgpuStats } from "../../tensor/webgpu/mod.ts";
import { gpu, gpuTest } from "./_setup.ts";

const onGpu = (t: Tensor) => toBackend(t, "webgpu");

async function same(want: Tensor[], got: Tensor[], what: string): Promise<void> {
  for (let i = 0; i < want.length; i++) {
    assert.deepEqual([...await got[i]!.data()], [...await want[i]!.data()], `${what} ${i}`);
  }
}

gpuTest("a horizontal group of 100 programs computes every segment", async () => {
  // Sizes 1..100: one fused program per size, all independent → one grouped dispatch.
  const ws = await Promise.all(
    Array.from(
      { length: 100 },
      (_, i) => onGpu(tensor(Array.from({ length: i + 1 }, (_, k) => k - i))),
    ),
  );
  const h = await onGpu(tensor(0.5));
  const f = (ws: Tensor[], h: Tensor) => ws.map((w) => sub(mul(w, h), 1));
  const step = jit(f);
  const got = step(ws, h), want = f(ws, h);
  assert.deepEqual(jitStats(step).dispatchesByKind, { fusedGroup: 1 });
  await same(want, got, "segment");
  step.dispose();
  dispose([ws, h, got, want]);
});

gpuTest(
  "the gradients a grouped update reads are produced into one buffer: no copies, one pass",
  async () => {
    // More parameters than the device binds, each with a gradient that is a reduction's result
    // (a column sum) and an update of its own size: without placement every gradient beyond the
    // binding limit is copied into the group's packed input, and each copy ends the compute pass.
    const n = gpu!.limits.maxStorageBuffersPerShaderStage + 4;
    let ws = await Promise.all(
      Array.from(
        { length: n },
        (_, i) => onGpu(tensor(Array.from({ length: i + 1 }, (_, k) => k))),
      ),
    );
    const xs = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        onGpu(tensor(
          Array.from({ length: 2 * (i + 1) }, (_, k) => k % 5),
          { shape: [2, i + 1] },
        ))),
    );
    const f = (ws: Tensor[], xs: Tensor[]) => ws.map((w, i) => sub(mul(w, 0.9), sum(xs[i]!, 0)));
    const step = jit(f);
    const counts: { copies: number; passes: number }[] = [];
    for (let k = 0; k < 3; k++) {
      const s0 = { ...webgpuStats() };
      const r = step(ws, xs);
      const s1 = webgpuStats();
      counts.push({ copies: s1.copies - s0.copies, passes: s1.passes - s0.passes });
      const want = f(ws, xs);
      await same(want, r, `step ${k}`);
      dispose([want, ws]);
      ws = r;
    }
    assert.ok(
      (jitStats(step).dispatchesByKind.fusedGroup ?? 0) >= 1,
      JSON.stringify(jitStats(step)),
    );
    assert.deepEqual(counts.slice(1), [{ copies: 0, passes: 1 }, { copies: 0, passes: 1 }]);
    step.dispose();
    dispose([ws, xs]);
  },
);
