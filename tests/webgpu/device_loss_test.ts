/**
 * Device loss: after the device is lost (simulated by destroying it behind the backend's
 * back), every op and read throws a TesseraError saying so, disposing old tensors stays
 * harmless, and `initWebGPU()` brings up a fresh device.
 */
import assert from "node:assert/strict";
import * as T from "../../mod.ts";
import { initWebGPU } from "../../tensor/webgpu/mod.ts";
import { currentRuntime } from "../../tensor/webgpu/state.ts";
import { gpuTest } from "./_setup.ts";

gpuTest("a lost device gives TesseraErrors; initWebGPU replaces it", async () => {
  const W = { backend: "webgpu" };
  const x = T.tensor([1, 2, 3], W);
  currentRuntime()!.device.destroy(); // not through destroyWebGPU: looks like a device loss
  await currentRuntime()!.device.lost;
  await new Promise((r) => setTimeout(r, 0)); // let the backend's lost handler run
  assert.throws(
    () => T.add(x, 1),
    (e: Error) => e instanceof T.TesseraError && /device lost/.test(e.message),
  );
  await assert.rejects(x.data(), /device lost/);
  x.dispose(); // harmless
  await initWebGPU();
  await T.scope(async () => {
    assert.deepEqual(Array.from(await T.add(T.tensor([1, 2, 3], W), 1).data()), [2, 3, 4]);
  });
});
