/**
 * jit on WebGPU: 50 steps of ViT fine-tuning, BEiT, SplitMask and DINO (the tiny cases of
 * tests/autodiff/_jit_models.ts), jitted vs eager on the device — every loss and every leaf of
 * the final state within float32 tolerance, one compile per static mode, no GPU tensor left.
 */
import assert from "node:assert/strict";
import { dispose, jit, jitStats, memoryStats, treeFlatten } from "../../mod.ts";
import { modelCases, runCase } from "../autodiff/_jit_models.ts";
import { expectClose } from "./_parity.ts";
import { gpuTest } from "./_setup.ts";

const STEPS = 50;
const live = () => memoryStats().webgpu?.tensors ?? 0;

for (const c of modelCases(STEPS)) {
  gpuTest(`jit models: ${c.name}, ${STEPS} steps jitted ≈ eager`, async () => {
    const before = live();
    const eager = await runCase(c, c.step, STEPS, "webgpu");
    const jitted = jit(c.step);
    const compiled = await runCase(c, jitted, STEPS, "webgpu");
    assert.equal(compiled.losses.length, STEPS);
    compiled.losses.forEach((l, i) => {
      const want = eager.losses[i]![0]!, got = l[0]!;
      assert.ok(Number.isFinite(got), `step ${i}: loss ${got}`);
      assert.ok(
        Math.abs(got - want) <= 1e-4 * Math.abs(want) + 1e-6,
        `step ${i}: ${got} vs ${want}`,
      );
    });
    assert.notEqual(eager.losses[0]![0], eager.losses[STEPS - 1]![0]);
    const want = treeFlatten(eager.final), got = treeFlatten(compiled.final);
    assert.deepEqual(Object.keys(got), Object.keys(want));
    for (const k of Object.keys(want)) {
      await expectClose(got[k]!, want[k]!, { rtol: 1e-4, atol: 1e-6 }, k);
    }
    assert.equal(jitStats(jitted).compiles, c.compiles);
    jitted.dispose();
    dispose([eager.final, compiled.final]);
    assert.equal(live(), before, "no GPU tensor left behind");
  });
}
