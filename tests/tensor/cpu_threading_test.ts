/** cpuFastPathInfo() says which threads large float32 matmuls use, and why. */
import assert from "node:assert/strict";
import { cpuFastPathInfo, getCpuThreads, setCpuThreads } from "../../mod.ts";
import { threadSupport } from "../../tensor/cpu/wasm/pool.ts";

Deno.test("cpuFastPathInfo: node:worker_threads in Deno, single with one thread", () => {
  const before = getCpuThreads();
  try {
    setCpuThreads(2);
    const info = cpuFastPathInfo();
    assert.equal(info.threading, "node");
    assert.equal(info.threadingReason, "node:worker_threads");
    setCpuThreads(1);
    assert.deepEqual(
      [cpuFastPathInfo().threading, cpuFastPathInfo().threadingReason],
      ["single", "1 thread configured (setCpuThreads)"],
    );
  } finally {
    setCpuThreads(before);
  }
});

Deno.test("threadSupport: Deno's main thread may block, so both kinds work", () => {
  assert.deepEqual(threadSupport("auto"), { kind: "node", reason: "node:worker_threads" });
  assert.deepEqual(threadSupport("web"), { kind: "web", reason: "module Web Workers" });
  assert.equal(threadSupport("node").kind, "node");
});
