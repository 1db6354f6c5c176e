/**
 * The "new backend" row of docs/ARCHITECTURE.md, tried: a third backend written against the
 * `Backend` interface alone. It has its own kernel table (`{ [P in Prim]: Kernel<P> }`, here the
 * CPU kernels wrapped with a dispatch counter, the shape a new backend's table takes), no
 * `readSync` (so every read takes the async path a device backend uses) and no fused kernels
 * (so composites fall back to their primitives). The whole shared op suite runs on it, which
 * proves nothing outside tensor/cpu/ and tensor/webgpu/ assumes one of those two backends.
 */
import assert from "node:assert/strict";
import * as T from "../../mod.ts";
import type { Kernel } from "../../tensor/backend.ts";
import { cpuBackend } from "../../tensor/cpu/mod.ts";
import { cpuKernels } from "../../tensor/cpu/kernels.ts";
import { type Prim, PRIMS } from "../../tensor/primitives.ts";
import { opSuite } from "./_op_suite.ts";

/** Dispatches per public op (a family primitive's `op`) since the last reset. */
const counts = new Map<string, number>();

function counted<P extends Prim>(prim: P): Kernel<P> {
  const k = cpuKernels[prim] as Kernel<P>;
  return (inputs, params, out) => {
    const op = T.opName(prim, params);
    counts.set(op, (counts.get(op) ?? 0) + 1);
    return k(inputs, params, out);
  };
}

const kernels = Object.fromEntries(PRIMS.map((p) => [p, counted(p)])) as {
  [P in Prim]: Kernel<P>;
};

T.registerBackend({
  name: "recording",
  supportsDtype: (dtype) => cpuBackend.supportsDtype(dtype),
  upload: (data, dtype) => cpuBackend.upload(data, dtype),
  read: (storage, dtype, size) => cpuBackend.read(storage, dtype, size),
  free: (storage) => cpuBackend.free(storage),
  execute: (prim, inputs, params, out) => kernels[prim](inputs, params, out),
});

opSuite("recording");

Deno.test("a third backend: tensors live on it, composites fall back, memory is accounted per backend", async () => {
  const prev = T.getBackend().name;
  T.setBackend("recording");
  try {
    counts.clear();
    const x = T.tensor([-1, 0, 1, 2]);
    assert.equal(x.backend.name, "recording");
    const y = T.gelu(x); // no fused table: the composite's primitives run here
    assert.ok((counts.get("erf") ?? 0) >= 1, "gelu ran its composite (erf) on the backend");
    assert.equal(T.memoryStats()["recording"]?.tensors, 2);
    const cpu = await T.gelu(T.tensor([-1, 0, 1, 2], { backend: "cpu" })).toArray();
    assert.deepEqual(await y.toArray(), cpu);
    T.dispose([x, y]);
    assert.equal(T.memoryStats()["recording"]?.tensors, 0);
  } finally {
    T.setBackend(prev);
  }
});
