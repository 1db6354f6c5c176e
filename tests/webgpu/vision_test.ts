/**
 * Vision ops on webgpu: the PyTorch/torchvision fixtures (float32 cases), NMS without reading
 * the boxes back (one scalar readback), deterministic RoIAlign gradients, and invalid boxes
 * reported by the next read. Primitive-level parity is in parity_test.ts, gradients in
 * grad_table_test.ts.
 */
import assert from "node:assert/strict";
import * as T from "../../mod.ts";
import { webgpuStats } from "../../tensor/webgpu/mod.ts";
import { CASES, float32Only, runCase } from "../tensor/_vision_fixtures.ts";
import { bitsOf, Gen } from "./_parity.ts";
import { gpuTest } from "./_setup.ts";

for (const [name, c] of CASES.filter(([n, c]) => float32Only(n, c))) {
  gpuTest(`vision fixtures: ${name} (${c.op})`, () => runCase(name, c, "webgpu"));
}

function randomBoxes(g: Gen, k: number, backend: string): T.Tensor {
  const xy = g.f([k, 2], 0, 60).dataSync(), wh = g.f([k, 2], 3, 25).dataSync();
  const out = new Float32Array(4 * k);
  for (let i = 0; i < k; i++) {
    out.set(
      [xy[2 * i]!, xy[2 * i + 1]!, xy[2 * i]! + wh[2 * i]!, xy[2 * i + 1]! + wh[2 * i + 1]!],
      4 * i,
    );
  }
  return T.tensor(out, { shape: [k, 4], backend });
}

gpuTest(
  "nms: same kept indices as the cpu, one scalar readback, boxes stay on the device",
  async () => {
    await T.scope(async () => {
      for (const [k, thr] of [[300, 0.5], [1000, 0.3], [33, 0.7]] as const) {
        const g = new Gen(k);
        const bc = randomBoxes(g, k, "cpu");
        const sc = g.f([k], 0, 1);
        const [bg, sg] = await Promise.all([T.toBackend(bc, "webgpu"), T.toBackend(sc, "webgpu")]);
        const want = await (await T.nms(bc, sc, thr)).toArray();
        const before = webgpuStats().readBatches;
        const got = await T.nms(bg, sg, thr);
        assert.equal(webgpuStats().readBatches - before, 1, "one readback (the kept count)");
        assert.equal(got.backend.name, "webgpu");
        assert.deepEqual(await got.toArray(), want, `K=${k} thr=${thr}`);
        const idx = T.tensor(new Int32Array(k).map((_, i) => i % 5), { backend: "webgpu" });
        const wantB = await (await T.batchedNms(bc, sc, await T.toBackend(idx, "cpu"), thr))
          .toArray();
        assert.deepEqual(await (await T.batchedNms(bg, sg, idx, thr)).toArray(), wantB);
      }
    });
  },
);

gpuTest("roiAlign gradient is deterministic (no atomics) and matches the cpu", async () => {
  await T.scope(async () => {
    const g = new Gen(7);
    const x = g.f([2, 4, 20, 18], -1, 1, "webgpu");
    const rows: number[] = [];
    for (let i = 0; i < 40; i++) {
      const [a, b, w, h] = g.f([4], 0, 1).dataSync();
      const x1 = a! * 22 - 3, y1 = b! * 24 - 3;
      rows.push(i % 2, x1, y1, x1 + 1 + w! * 12, y1 + 1 + h! * 12);
    }
    const boxes = T.tensor(rows, { shape: [40, 5], backend: "webgpu" });
    const f = (v: T.Tensor) =>
      T.sum(T.mul(T.roiAlign(v, boxes, { outputSize: 7, samplingRatio: 0, aligned: true }), 1.5));
    const g1 = T.grad(f)(x), g2 = T.grad(f)(x);
    assert.deepEqual(await bitsOf(g1), await bitsOf(g2));
    const xc = await T.toBackend(x, "cpu"), bc = await T.toBackend(boxes, "cpu");
    const gc = T.grad((v: T.Tensor) =>
      T.sum(T.mul(T.roiAlign(v, bc, { outputSize: 7, samplingRatio: 0, aligned: true }), 1.5))
    )(xc);
    const [a, b] = [await g1.data(), await gc.data()];
    for (let i = 0; i < a.length; i++) {
      assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-5 + 1e-5 * Math.abs(b[i]!));
    }
  });
});

gpuTest("roiAlign: an invalid box is reported by the next read", async () => {
  const x = T.zeros([1, 2, 5, 5], { backend: "webgpu" });
  for (const box of [[0, 4, 1, 2, 3], [2, 0, 0, 1, 1], [0.5, 0, 0, 1, 1]]) {
    const y = T.roiAlign(x, T.tensor([box], { backend: "webgpu" }), { outputSize: 2 });
    await assert.rejects(
      y.data(),
      (e: Error) => e instanceof T.TesseraError && /^roiAlign: invalid box/.test(e.message),
    );
  }
  // The device recovers: a valid box reads fine afterwards.
  const ok = T.roiAlign(x, T.tensor([[0, 0, 0, 2, 2]], { backend: "webgpu" }), { outputSize: 2 });
  assert.deepEqual([...(await ok.data())], new Array(8).fill(0));
});

gpuTest("conv2d on a larger map and its gradients match the cpu", async () => {
  await T.scope(async () => {
    const g = new Gen(3);
    const x = g.f([2, 16, 23, 19], -1, 1), w = g.f([24, 8, 3, 3], -0.3, 0.3);
    const b = g.f([24], -1, 1);
    const f = (xv: T.Tensor, wv: T.Tensor, bv: T.Tensor) => {
      const y = T.conv2d(xv, wv, bv, { stride: 2, padding: 1, groups: 2 });
      return T.sum(T.mul(y, T.tanh(y)));
    };
    const G = T.grad<[T.Tensor, T.Tensor, T.Tensor], T.Tensor[]>(f, { argnums: [0, 1, 2] });
    const gc = G(x, w, b);
    const [xg, wg, bg] = await Promise.all([x, w, b].map((t) => T.toBackend(t, "webgpu")));
    const gg = G(xg!, wg!, bg!);
    for (let i = 0; i < 3; i++) {
      const [a, c] = [await gg[i]!.data(), await gc[i]!.data()];
      let worst = 0;
      for (let j = 0; j < a.length; j++) {
        worst = Math.max(worst, Math.abs(a[j]! - c[j]!) / (1 + Math.abs(c[j]!)));
      }
      assert.ok(worst < 1e-4, `grad ${i}: ${worst}`);
    }
  });
});
