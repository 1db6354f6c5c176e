/**
 * jit equivalence on the training steps of the models: 50 steps of ViT fine-tuning, BEiT,
 * SplitMask and DINO (tests/autodiff/_jit_models.ts), jitted vs eager — every byte of every loss
 * and of the final state equal on the CPU, one compile per static mode, nothing left behind.
 */
import assert from "node:assert/strict";
import { dispose, jit, jitStats, memoryStats } from "../../mod.ts";
import { bytes } from "./_bytes.ts";
import { modelCases, runCase } from "./_jit_models.ts";

const STEPS = 50;
const raw = (a: Float32Array) => [...new Uint8Array(a.buffer, a.byteOffset, a.byteLength)];
const live = () => memoryStats().cpu?.tensors ?? 0;

for (const c of modelCases(STEPS)) {
  Deno.test(`jit models: ${c.name}, ${STEPS} steps bit-identical to eager`, async () => {
    const before = live();
    const eager = await runCase(c, c.step, STEPS);
    const jitted = jit(c.step);
    const compiled = await runCase(c, jitted, STEPS);
    assert.deepEqual(compiled.losses.map(raw), eager.losses.map(raw));
    assert.deepEqual(await bytes(compiled.final), await bytes(eager.final));
    // the run trains: the loss moves (a test that cannot fail would not)
    assert.notDeepEqual(eager.losses[0], eager.losses[STEPS - 1]);
    assert.equal(jitStats(jitted).compiles, c.compiles);
    jitted.dispose();
    dispose([eager.final, compiled.final]);
    assert.equal(live(), before, "no tensor left behind");
  });
}
