/**
 * 200 steps of a small MLP trained with SGD on webgpu, each step inside `scope`: live tensors,
 * live bytes (memoryStats) and the pool's live buffers must be identical after step 2 and
 * after step 200, the pool must stop creating buffers once warm, and the loss must fall and
 * track the same training run on the CPU backend.
 */
import assert from "node:assert/strict";
import * as T from "../../mod.ts";
import type { Tensor } from "../../mod.ts";
import { webgpuStats } from "../../tensor/webgpu/mod.ts";
import { Gen } from "./_parity.ts";
import { gpuTest } from "./_setup.ts";

type Params = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor };

function loss(p: Params, x: Tensor, y: Tensor): Tensor {
  const h = T.relu(T.add(T.matmul(x, p.w1), p.b1));
  const logits = T.add(T.matmul(h, p.w2), p.b2);
  return T.mean(T.neg(T.sum(T.mul(y, T.logSoftmax(logits, -1)), -1)));
}

async function train(
  backend: string,
  steps: number,
  probe?: (step: number) => void,
): Promise<number[]> {
  const g = new Gen(42);
  const to = (t: Tensor) => T.toBackend(t, backend);
  const x = await to(g.f([64, 10], -1, 1));
  const target = await to(g.f([10, 4], -1, 1));
  const y = T.scope(() => T.oneHot(T.argmax(T.matmul(x, target), 1), 4)); // learnable labels
  target.dispose();
  let p: Params = {
    w1: await to(g.f([10, 32], -0.3, 0.3)),
    b1: T.zeros([32], { backend }),
    w2: await to(g.f([32, 4], -0.3, 0.3)),
    b2: T.zeros([4], { backend }),
  };
  const losses: number[] = [];
  for (let step = 1; step <= steps; step++) {
    const next = T.scope(() => {
      const [l, gr] = T.valueAndGrad((q: Params) => loss(q, x, y))(p);
      const upd = T.treeMap((w: Tensor, d: Tensor) => T.sub(w, T.mul(d, 0.5)), p, gr) as Params;
      return { p: upd, l };
    });
    T.dispose(p);
    p = next.p;
    if (step === 1 || step % 50 === 0) losses.push(await next.l.item());
    next.l.dispose();
    probe?.(step);
  }
  T.dispose([p, x, y]);
  return losses;
}

gpuTest("200 MLP training steps in scopes: no growth in tensors, bytes or buffers", async () => {
  const before = T.memoryStats().webgpu ?? { tensors: 0, bytes: 0 };
  const snaps = new Map<
    number,
    { tensors: number; bytes: number; buffers: number; gpuBytes: number; misses: number }
  >();
  const losses = await train("webgpu", 200, (step) => {
    if (step === 2 || step === 100 || step === 200) {
      const m = T.memoryStats().webgpu!;
      const s = webgpuStats();
      snaps.set(step, { ...m, buffers: s.liveBuffers, gpuBytes: s.liveBytes, misses: s.misses });
    }
  });
  const [s2, s100, s200] = [snaps.get(2)!, snaps.get(100)!, snaps.get(200)!];
  assert.equal(s200.tensors, s2.tensors, "live tensors grew");
  assert.equal(s200.bytes, s2.bytes, "live bytes grew");
  assert.equal(s200.buffers, s2.buffers, "live GPU buffers grew");
  assert.equal(s200.gpuBytes, s2.gpuBytes, "live GPU buffer bytes grew");
  assert.equal(s200.misses, s100.misses, "the warm pool still created buffers");
  const after = T.memoryStats().webgpu!;
  assert.equal(after.tensors, before.tensors);
  assert.equal(after.bytes, before.bytes);
  assert.ok(losses.at(-1)! < losses[0]! * 0.5, `loss did not fall: ${losses}`);
  const cpu = await train("cpu", 200);
  losses.forEach((l, i) =>
    assert.ok(
      Math.abs(l - cpu[i]!) <= 1e-3 * Math.max(1, cpu[i]!),
      `step ${i}: ${l} vs cpu ${cpu[i]}`,
    )
  );
});
