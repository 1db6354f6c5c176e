/**
 * Without an adapter (or without navigator.gpu at all) `initWebGPU` throws a clear
 * TesseraError and registers nothing. Runs everywhere: the adapter request is stubbed.
 */
import assert from "node:assert/strict";
import { listBackends, TesseraError } from "../../mod.ts";
import { initWebGPU } from "../../tensor/webgpu/mod.ts";

Deno.test("webgpu: initWebGPU without an adapter is a clear TesseraError", async () => {
  const gpu = (navigator as { gpu?: GPU }).gpu;
  if (gpu) {
    const orig = gpu.requestAdapter;
    Object.defineProperty(gpu, "requestAdapter", {
      value: () => Promise.resolve(null),
      configurable: true,
    });
    try {
      await assert.rejects(
        initWebGPU(),
        (e: Error) =>
          e instanceof TesseraError && e.message.startsWith("initWebGPU: no WebGPU adapter"),
      );
    } finally {
      Object.defineProperty(gpu, "requestAdapter", {
        value: orig,
        configurable: true,
        writable: true,
      });
    }
  } else {
    await assert.rejects(initWebGPU(), /initWebGPU: WebGPU is not available/);
  }
  assert.ok(!listBackends().includes("webgpu"));
});
