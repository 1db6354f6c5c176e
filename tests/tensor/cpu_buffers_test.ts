/**
 * The CPU backend's recycled-buffer free lists must not grow across training steps: a fresh
 * host batch uploaded each step reuses a recycled buffer instead of adding a new one.
 */
import assert from "node:assert/strict";
import { matmul, memoryStats, scope, sum, tensor, zeros } from "../../mod.ts";
import { bufferPoolBytes } from "../../tensor/cpu/buffers.ts";

Deno.test("cpu buffers: uploads reuse recycled buffers, so the pool does not grow per step", () => {
  const w = zeros([784, 10]);
  const step = (s: number) =>
    scope(() => {
      const x = tensor(new Float32Array(64 * 784).fill(s), { shape: [64, 784] });
      return sum(matmul(x, w));
    }).dispose();
  step(0);
  step(1);
  const pool = bufferPoolBytes(), live = memoryStats().cpu;
  for (let s = 2; s < 30; s++) step(s);
  assert.equal(bufferPoolBytes(), pool);
  assert.deepEqual(memoryStats().cpu, live);
  w.dispose();
});
