/**
 * WebGPU backend behaviour: dtype errors, use after dispose, the buffer pool's invariants,
 * batched reads, dispatch splitting beyond 65535 workgroups, the binding-size error,
 * deterministic scatterAdd, device-side index errors, op-named shader errors, moving tensors
 * between backends and selecting the backend from the environment.
 */
import assert from "node:assert/strict";
import * as T from "../../mod.ts";
import { initBackendFromEnv } from "../../tensor/webgpu/env.ts";
import { syncWebGPU, webgpuStats } from "../../tensor/webgpu/mod.ts";
import type { GpuStorage } from "../../tensor/webgpu/pool.ts";
import { currentRuntime } from "../../tensor/webgpu/state.ts";
import { declare, linearMain, Params } from "../../tensor/webgpu/wgsl.ts";
import { bitsOf, expectClose, Gen } from "./_parity.ts";
import { gpu, gpuTest } from "./_setup.ts";

const W = { backend: "webgpu" };
const bufferOf = (t: T.Tensor) => (t.storage as GpuStorage).buffer;

gpuTest("float64 is a clear TesseraError", async () => {
  await T.scope(async () => {
    assert.throws(() => T.tensor([1], { dtype: "float64", ...W }), /float64/);
    const x = T.tensor([1, 2], W);
    assert.throws(
      () => T.cast(x, "float64"),
      (e: Error) => e instanceof T.TesseraError && /float64/.test(e.message),
    );
    const c = T.tensor(new Float64Array([1.5]));
    await assert.rejects(T.toBackend(c, "webgpu"), /float64/);
    assert.equal(T.getBackend("webgpu").supportsDtype("float64"), false);
  });
});

gpuTest("using a disposed tensor throws", async () => {
  const t = T.tensor([1, 2, 3], W);
  t.dispose();
  assert.throws(() => T.add(t, 1), T.TesseraError);
  await assert.rejects(t.data(), /used after dispose/);
  t.dispose(); // idempotent
});

gpuTest("a pending read keeps its buffer out of the pool", async () => {
  const x = T.tensor([1, 2, 3, 4], W);
  const pending = x.data(); // copy is recorded in a microtask, after the writes below
  const buf = bufferOf(x);
  x.dispose();
  const ys = Array.from({ length: 4 }, (_, k) => T.full([4], 100 + k, W));
  assert.ok(ys.every((y) => bufferOf(y) !== buf), "pinned buffer handed out");
  assert.deepEqual(Array.from(await pending), [1, 2, 3, 4]);
  for (const [k, y] of ys.entries()) {
    assert.deepEqual(Array.from(await y.data()), [100 + k, 100 + k, 100 + k, 100 + k]);
  }
  T.dispose(ys);
});

gpuTest("pooled buffers are reused but never handed out while referenced", async () => {
  const g = new Gen(7);
  const live: { t: T.Tensor; v: number[] }[] = [];
  const before = webgpuStats();
  for (let round = 0; round < 30; round++) {
    const n = 1 + (round % 5) * 3;
    const t = T.mul(g.f([n], -1, 1, "webgpu"), 2);
    live.push({ t, v: [] });
    if (round % 3 === 2) {
      const [gone] = live.splice((round * 7) % live.length, 1);
      gone!.t.dispose();
    }
    const bufs = live.map((e) => bufferOf(e.t));
    assert.equal(new Set(bufs).size, bufs.length, "two live tensors share a pooled buffer");
  }
  const all = await Promise.all(live.map((e) => e.t.data()));
  all.forEach((d) => assert.ok(d.every((v) => Math.abs(v) <= 2)));
  const after = webgpuStats();
  assert.ok(after.hits > before.hits, "the pool was never reused");
  T.dispose(live.map((e) => e.t));
});

gpuTest("reads issued in the same tick share one submission and one map", async () => {
  await T.scope(async () => {
    const xs = [1, 2, 3, 4].map((k) => T.add(T.arange(8, undefined, undefined, W), k));
    await syncWebGPU();
    const s0 = webgpuStats();
    const vals = await Promise.all(xs.map((x) => x.data()));
    const s1 = webgpuStats();
    assert.equal(s1.readBatches - s0.readBatches, 1);
    assert.equal(s1.submits - s0.submits, 1);
    vals.forEach((v, k) => assert.equal(v[7], 8 + k));
  });
});

gpuTest("dispatches beyond 65535 workgroups are split into a 2-D grid", async () => {
  await T.scope(async () => {
    const n = 65535 * 256 + 300; // one-thread-per-element kernels: 65537 workgroups
    const I = { dtype: "int32" as const, ...W };
    const x = T.broadcastTo(T.tensor(3, I), [n]);
    const y = T.add(x, T.arange(n, undefined, undefined, I));
    const tail = await T.slice(y, [[n - 3, n]]).data();
    assert.deepEqual(Array.from(tail), [n, n + 1, n + 2]);
    // workgroup-per-row reduction with 70000 rows
    const rows = T.broadcastTo(T.reshape(T.arange(64, undefined, undefined, W), [1, 64]), [
      70000,
      64,
    ]);
    const s = await T.slice(T.sum(rows, 1), [[69997, 70000]]).data();
    assert.deepEqual(Array.from(s), [2016, 2016, 2016]);
  });
});

gpuTest("a tensor beyond the binding size limit is a clear error", () => {
  const limit = gpu!.limits.maxStorageBufferBindingSize;
  T.scope(() => {
    assert.throws(
      () => T.broadcastTo(T.tensor(0, W), [Math.floor(limit / 4) + 1]),
      (e: Error) =>
        e instanceof T.TesseraError && /maxStorageBufferBindingSize/.test(e.message) &&
        e.message.startsWith("broadcastTo:"),
    );
  });
});

gpuTest("scatterAdd is deterministic (no float atomics) on both paths", async () => {
  await T.scope(async () => {
    const g = new Gen(3);
    for (const [rows, nIdx, inner] of [[7, 40, 3], [300, 600, 40]] as const) {
      const x = g.f([rows, inner], -1, 1);
      const idx = g.i([nIdx], 0, Math.min(rows - 1, 4)); // many duplicates
      const upd = g.f([nIdx, inner], -1e3, 1e3);
      const want = T.scatterAdd(x, idx, upd);
      const [gx, gi, gu] = await Promise.all([x, idx, upd].map((t) => T.toBackend(t, "webgpu")));
      const runs = await Promise.all([0, 1, 2].map(() => bitsOf(T.scatterAdd(gx!, gi!, gu!))));
      assert.deepEqual(runs[1], runs[0]);
      assert.deepEqual(runs[2], runs[0]);
      await expectClose(T.scatterAdd(gx!, gi!, gu!), want, { rtol: 1e-5, atol: 1e-3 });
    }
  });
});

gpuTest(
  "an out-of-range gather index rejects the next read, then the device recovers",
  async () => {
    await T.scope(async () => {
      const x = T.tensor([1, 2, 3], W);
      const bad = T.gather(x, T.tensor([0, 5], { dtype: "int32", ...W }));
      await assert.rejects(
        bad.data(),
        (e: Error) =>
          e instanceof T.TesseraError && e.message.startsWith("gather: index out of range"),
      );
      const ok = T.gather(x, T.tensor([2, 0], { dtype: "int32", ...W }));
      assert.deepEqual(Array.from(await ok.data()), [3, 1]);
      const sc = T.scatterAdd(x, T.tensor([-1], { dtype: "int32", ...W }), T.tensor([1], W));
      await assert.rejects(
        sc.data(),
        (e: Error) => e.message.startsWith("scatterAdd: index out of range"),
      );
    });
  },
);

gpuTest("an invalid shader becomes a TesseraError naming the op", async () => {
  const rt = currentRuntime()!;
  const out = rt.alloc(16, "myKernel");
  rt.run("myKernel", {
    wgsl: declare(4, [{ name: "o", ty: "u32", rw: true }]) +
      linearMain("  o[i] = undefined_thing;"),
    bindings: [{ name: "o", ty: "u32", rw: true }],
    buffers: [out],
    params: new Params().u(4).words(),
    groups: 1,
  });
  await assert.rejects(
    syncWebGPU(),
    (e: Error) => e instanceof T.TesseraError && e.message.startsWith("myKernel: "),
  );
  rt.free(out);
  await T.scope(async () => {
    assert.deepEqual(Array.from(await T.add(T.tensor([1], W), 1).data()), [2]); // recovered
  });
});

gpuTest("toBackend round-trips every dtype", async () => {
  await T.scope(async () => {
    for (
      const t of [
        T.tensor([1.5, NaN, -0]),
        T.tensor([true, false, true]),
        T.tensor([-7, 2 ** 31 - 1], { dtype: "int32" }),
        T.tensor([2 ** 32 - 1], { dtype: "uint32" }),
      ]
    ) {
      const g = await T.toBackend(t, "webgpu");
      assert.equal(g.backend.name, "webgpu");
      const back = await T.toBackend(g, "cpu");
      if (t.dtype === "bool") assert.deepEqual(await back.toArray(), await t.toArray());
      else assert.deepEqual(await bitsOf(back), await bitsOf(t));
      assert.equal(back.dtype, t.dtype);
    }
  });
});

gpuTest("TESSERA_BACKEND=webgpu selects the backend", async () => {
  const prevEnv = Deno.env.get("TESSERA_BACKEND");
  const prev = T.getBackend().name;
  try {
    Deno.env.set("TESSERA_BACKEND", "webgpu");
    assert.equal(await initBackendFromEnv(), "webgpu");
    assert.equal(T.getBackend().name, "webgpu");
    Deno.env.set("TESSERA_BACKEND", "tpu");
    await assert.rejects(initBackendFromEnv(), /unknown backend "tpu"/);
  } finally {
    if (prevEnv === undefined) Deno.env.delete("TESSERA_BACKEND");
    else Deno.env.set("TESSERA_BACKEND", prevEnv);
    T.setBackend(prev);
  }
});

gpuTest(
  "argsort of a long line runs one dispatch per bitonic stage (no float-halving loop)",
  async () => {
    // 4096 keys: above the workgroup-memory limit, so the global network runs:
    // init + log2(P)·(log2(P)+1)/2 stages + gather = 1 + 78 + 1 dispatches.
    const k = T.random.key(4, W);
    const x = T.random.uniform(k, [4096]);
    k.dispose();
    await syncWebGPU();
    const before = webgpuStats().dispatches;
    const idx = T.argsort(x);
    const after = webgpuStats().dispatches;
    const [v, i] = [await x.data(), await idx.data()];
    for (let k = 1; k < 4096; k++) assert.ok(v[i[k - 1]!]! <= v[i[k]!]!, "not sorted");
    assert.equal(after - before, 80);
    T.dispose([x, idx]);
  },
);

gpuTest(
  "a contiguous aligned slice is a view: no copy, its buffer lives while any view does",
  async () => {
    // Rows of a multiple of the offset alignment, 256 bytes at least (the smallest pooled buffer).
    const align = Math.max(64, gpu!.limits.minStorageBufferOffsetAlignment / 4); // elements
    const rows = 4, host = Array.from({ length: rows * align }, (_, i) => i * 0.5);
    const x = T.tensor(host, { ...W, shape: [rows, align] });
    const live = webgpuStats().liveBuffers, c0 = webgpuStats().copies;
    const parts = [T.slice(x, [[1, 3]]), T.slice(x, [[2, 3]])]; // rows 1–2 and row 2
    assert.equal(webgpuStats().copies - c0, 0, "a view records no copy");
    assert.equal(webgpuStats().liveBuffers, live, "a view acquires no buffer");
    const [a, b] = parts.map((t) => t.storage as GpuStorage);
    assert.ok(a!.buffer === bufferOf(x) && b!.buffer === bufferOf(x));
    assert.deepEqual([a!.offset, b!.offset], [align * 4, 2 * align * 4]);
    x.dispose();
    // Kernels bind the view's range; reads copy from its offset.
    const doubled = T.mul(parts[1]!, 2);
    assert.deepEqual(await doubled.toArray(), [host.slice(2 * align, 3 * align).map((v) => v * 2)]);
    doubled.dispose();
    const rowsOf = (k: number) => host.slice(k * align, (k + 1) * align);
    assert.deepEqual(await parts[0]!.toArray(), [rowsOf(1), rowsOf(2)]);
    parts[0]!.dispose();
    assert.equal(webgpuStats().liveBuffers, live, "the buffer lives while a view does");
    parts[1]!.dispose();
    assert.equal(webgpuStats().liveBuffers, live - 1, "the last view returns the buffer");
  },
);
