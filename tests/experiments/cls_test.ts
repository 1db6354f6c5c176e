/**
 * `train.ts experiment-cls --quick`: the whole comparison pipeline (pixel floor, three
 * pre-training methods, equal-compute BEiT, fine-tuning per seed, plateau check, probes) runs
 * end to end on sample images and writes a complete report.
 */
import assert from "node:assert/strict";
import { renderReport } from "../../experiments/cls_report.ts";
import { runTrain, SAMPLE } from "../cli/_util.ts";

Deno.test("experiment-cls --quick runs every job and reports every arm", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await runTrain(["experiment-cls", "--quick", "--out", dir, "--data", SAMPLE]);
    assert.equal(r.code, 0, r.stderr);
    const { meta, results } = JSON.parse(await Deno.readTextFile(`${dir}/results.json`));
    assert.equal(meta.preset, "quick");
    const names = Object.keys(results).sort();
    const arms = ["random", "splitmask", "beit", "dino", "beit-eq"];
    const want = [
      "floor",
      "plateau-random",
      ...["splitmask", "beit", "dino", "beit-eq"].flatMap((m) => [`pre-${m}`, `long-${m}`]),
      ...arms.flatMap((a) => [`ft-${a}-s0`, `ft-${a}-s1`, `probe-${a}`]),
    ].sort();
    assert.deepEqual(names, want);
    // Equal compute: the BEiT arm gets SplitMask's FLOPs (to within one BEiT step).
    const sm = results["pre-splitmask"], be = results["pre-beit-eq"];
    const diff = Math.abs(sm.flops_per_step * sm.steps - be.flops_per_step * be.steps);
    assert.ok(diff <= be.flops_per_step / 2, `equal-compute arm is off by ${diff} FLOPs`);
    assert.ok(be.steps > results["pre-beit"].steps);
    for (const a of arms) {
      for (const s of [0, 1]) assert.ok(results[`ft-${a}-s${s}`].test_accuracy > 0);
    }
    const md = await Deno.readTextFile(`${dir}/results.md`);
    for (const label of ["Random init", "SplitMask", "BEiT", "BEiT, equal compute", "DINO"]) {
      assert.match(md, new RegExp(`\\| ${label} \\|`));
    }
    assert.match(md, /Floor: logistic regression on the raw pixels/);
    assert.match(md, /Plateau check/);
    assert.match(md, /splitmask >= beit: \*\*(yes|no)\*\*/);
    assert.match(
      md,
      /With twice the fine-tuning budget \(seed 0 only\):\n\n- splitmask >= beit: \*\*/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("experiment report: verdicts follow the means; missing arms say so", () => {
  const ft = (acc: number) => ({ test_accuracy: acc });
  const done = new Map<string, Record<string, unknown>>([
    ["ft-random-s0", ft(0.80)],
    ["ft-random-s1", ft(0.82)],
    ["ft-splitmask-s0", ft(0.86)],
    ["ft-splitmask-s1", ft(0.86)],
    ["ft-beit-s0", ft(0.84)],
    ["ft-beit-s1", ft(0.84)],
    ["ft-dino-s0", ft(0.83)],
    ["ft-dino-s1", ft(0.83)],
    ["floor", { test_accuracy: 0.815 }],
  ]);
  const md = renderReport({ preset: "full", config: { subset: 4000, testLimit: null } }, done);
  assert.match(md, /\| Random init \| – \| – \| – \| 80\.00, 82\.00 \| 81\.00 ± 1\.00 \| – \|/);
  assert.match(md, /splitmask >= beit: \*\*yes\*\* \(86\.00 vs 84\.00, Δ 2\.00 points\)/);
  assert.match(md, /beit > random: \*\*yes\*\*/);
  assert.match(md, /splitmask >= beit-eq: not measured/);
  assert.match(md, /DINO weaker than SplitMask and BEiT on small data: \*\*yes\*\*/);
  assert.match(md, /Every arm beats the pixel floor \(81\.50%\): \*\*no\*\* \(random\)/);
  assert.match(md, /the full 10,000-image test set/);
});
