/**
 * The 5-step SGD loop of _sgd_replica.ts (coupled loss through allGather, gradients summed
 * with allReduceSum): 2 ranks × B against 1 rank × 2B. (mpi(2) ≡ sim(2) is in mpi_test.ts.)
 */
import assert from "node:assert/strict";
import { local, simulate } from "../../distributed/mod.ts";
import { memoryStats } from "../../tensor/mod.ts";
import sgd from "./_sgd_replica.ts";
import { SIM_TIMEOUT_MS } from "./_mpirun.ts";

Deno.test("distributed sgd: sim(2) × 4 rows ≡ local 1 × 8 rows within 1e-5 after 5 steps", async () => {
  const input = { batch: 8, steps: 5 };
  const before = memoryStats().cpu?.tensors ?? 0;
  const one = await sgd(local(), input);
  assert.equal(memoryStats().cpu?.tensors ?? 0, before, "the loop leaks tensors");
  const two = await simulate(2, new URL("./_sgd_replica.ts", import.meta.url), {
    input,
    timeoutMs: SIM_TIMEOUT_MS,
  }) as (typeof one)[];
  assert.deepEqual(two[0], two[1], "replicas differ");
  const dw = Math.max(...[...one.w].map((v, i) => Math.abs(v - two[0]!.w[i]!)));
  assert.ok(dw < 1e-5, `max |Δw| = ${dw}`);
  one.losses.forEach((l, s) => assert.ok(Math.abs(l - two[0]!.losses[s]!) < 1e-5, `step ${s}`));
  // the loop trains: the loss goes down every step
  one.losses.slice(1).forEach((l, s) => assert.ok(l < one.losses[s]!, `step ${s + 1}`));
});
