/**
 * Fused kernels on WebGPU: the backend has no fused gelu yet, so `gelu` runs its composite
 * there (`fusedOr` falls back) and matches the CPU's fused kernel within float32 tolerance.
 */
import assert from "node:assert/strict";
import * as T from "../../mod.ts";
import { expectClose, Gen } from "./_parity.ts";
import { gpuTest } from "./_setup.ts";

gpuTest("fused: no gelu kernel on webgpu, so gelu falls back to the composite", async () => {
  assert.equal(T.getBackend("webgpu").fused?.gelu, undefined);
  assert.equal(typeof T.getBackend("cpu").fused?.gelu, "function");
  await T.scope(async () => {
    const x = new Gen(11).f([3, 50], -6, 6);
    const want = T.gelu(x); // CPU: the fused kernel
    const got = T.gelu(await T.toBackend(x, "webgpu"));
    assert.equal(got.backend.name, "webgpu");
    await expectClose(got, want, { rtol: 2e-6, atol: 1e-7 }, "gelu");
  });
});
