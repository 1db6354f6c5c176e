/**
 * `train.ts experiment-cls --quick` (protocol v2): the whole pipeline — pixel floor, every arm
 * pre-trained per seed, the validation grids, the final runs with the settings chosen there,
 * probes, the curve, the paired comparisons — runs end to end on sample images; settings come
 * from validation only; a rerun into the same folder resumes from the kept results.
 */
import assert from "node:assert/strict";
import { renderReport } from "../../experiments/cls_report.ts";
import { armRuns, CLAIMS, type Comparison, verdictOf } from "../../experiments/cls_stats.ts";
import { EXPERIMENT_PRESETS } from "../../experiments/cls_presets.ts";
import { runTrain, SAMPLE } from "../cli/_util.ts";

type R = Record<string, Record<string, unknown> & { args: string[] }>;
const flag = (args: string[], f: string) => args[args.indexOf(f) + 1];

Deno.test("experiment-cls --quick: every job, settings from validation, paired verdicts, resume", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await runTrain(["experiment-cls", "--quick", "--out", dir, "--data", SAMPLE]);
    assert.equal(r.code, 0, r.stderr);
    const saved = JSON.parse(await Deno.readTextFile(`${dir}/results.json`));
    const results: R = saved.results;
    assert.equal(saved.meta.preset, "quick");
    const names = Object.keys(results);
    const q = EXPERIMENT_PRESETS.quick;
    // Main arms: every pre-training seed; ablation arms: the extra seeds.
    for (const a of ["beit", "splitmask", "splitmask-small", "dino", "beit-eq"]) {
      assert.deepEqual(armRuns(names, a), q.pretrainSeeds.map((p) => `ft-${a}-p${p}-s0`), a);
      for (const p of q.pretrainSeeds) assert.ok(names.includes(`pre-${a}-p${p}`));
    }
    for (const a of ["splitmask-inpaint", "splitmask-match", "beit-rp"]) {
      assert.deepEqual(armRuns(names, a), [`ft-${a}-p0-s0`]);
    }
    assert.deepEqual(armRuns(names, "random"), ["ft-random-p0-s0", "ft-random-p1-s0"]);
    // Random init's replicates differ in their initialisation seed.
    assert.notEqual(
      flag(results["ft-random-p0-s0"]!.args, "--seed"),
      flag(results["ft-random-p1-s0"]!.args, "--seed"),
    );
    // Equal compute per seed: BEiT gets SplitMask's FLOPs (to within one BEiT step).
    for (const p of q.pretrainSeeds) {
      const sm = results[`pre-splitmask-p${p}`]!, be = results[`pre-beit-eq-p${p}`]!;
      const f = (x: Record<string, unknown>) => (x.flops_per_step as number) * (x.steps as number);
      assert.ok(Math.abs(f(sm) - f(be)) <= (be.flops_per_step as number) / 2);
      assert.ok((be.steps as number) > (results[`pre-beit-p${p}`]!.steps as number));
    }
    // No pre-training or tuning run reads a test image; no final run reads the validation split.
    for (const [name, res] of Object.entries(results)) {
      if (/^(pre|curve-pre)-/.test(name)) assert.ok(res.args.includes("--val-split"), name);
      if (name.startsWith("tune-")) {
        assert.ok(typeof res.val_accuracy === "number" && res.test_accuracy === undefined, name);
      }
      if (/^(ft|curve-ft)-/.test(name)) {
        assert.ok(!res.args.includes("--val-split") && (res.test_accuracy as number) >= 0, name);
      }
    }
    // Each arm's final lr and recipe are those of its best validation run (an ablation arm's,
    // those of its main arm); ablation arms have no grid of their own.
    const tail = (args: string[]) => args.slice(args.indexOf("--test-limit") + 2).join(" ");
    for (const [a, from] of [["beit", "beit"], ["dino", "dino"], ["beit-rp", "beit"]]) {
      // In grid order (results are stored in completion order): ties go to the first entry.
      const tunes = names.filter((n) => new RegExp(`^tune-${from}-\\d+$`).test(n))
        .sort((x, y) =>
          Number(x.slice(x.lastIndexOf("-") + 1)) - Number(y.slice(y.lastIndexOf("-") + 1))
        );
      assert.equal(tunes.length, q.recipes.length * q.lengths.length * q.lrGrid.length);
      const best = tunes.reduce((b, t) =>
        (results[t]!.val_accuracy as number) > (results[b]!.val_accuracy as number) ? t : b
      );
      const grid = results[best]!.args.slice(results[best]!.args.indexOf("--val-split") + 2);
      const ft = tail(results[`ft-${a}-p0-s0`]!.args);
      assert.ok(ft.startsWith(grid.slice(0, grid.indexOf("--init")).join(" ")), `${a}: ${ft}`);
    }
    assert.ok(!names.some((n) => n.startsWith("tune-beit-rp-")));
    // The small-data arm runs the disjoint 75 % masking; DINO is probed on its CLS token.
    assert.equal(flag(results["pre-splitmask-small-p0"]!.args, "--masking"), "disjoint");
    assert.equal(flag(results["probe-dino-p0"]!.args, "--pool"), "cls");
    // Every claim whose arms ran was compared, with an interval around its difference.
    const comps: Comparison[] = saved.comparisons;
    assert.equal(comps.length, CLAIMS.length);
    for (const c of comps) {
      assert.ok(c.result.ci[0] <= c.result.diff && c.result.diff <= c.result.ci[1], c.a + c.b);
      assert.ok(c.result.p > 0 && c.result.p <= 1);
    }
    const md = await Deno.readTextFile(`${dir}/results.md`);
    assert.match(md, /\| splitmask ≥ beit \(Tab\. 2[^|]*\| [\d.]+ \| [\d.]+ \| [-+][\d.]+ \| \[/);
    assert.match(md, /\| beit > random [^\n]*\| \*\*(yes|no)\*\* \|/);
    assert.match(md, /Validation grids[^]*\| beit \| `[^`]*--layer-decay 0\.75[^]*\(chosen\)/);
    assert.match(md, /Floor: logistic regression on the raw pixels/);
    assert.match(await Deno.readTextFile(`${dir}/curve.svg`), /^<svg[^]*<polyline/);
    // A rerun into the same folder keeps every job's result.
    const again = await runTrain(["experiment-cls", "--quick", "--out", dir, "--data", SAMPLE]);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /experiment: start/);
    const resaved = JSON.parse(await Deno.readTextFile(`${dir}/results.json`));
    assert.deepEqual(resaved.results, saved.results);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("experiment report: rows, verdicts from the intervals, missing arms left out", () => {
  const ft = (acc: number) => ({ test_accuracy: acc });
  const done = new Map<string, Record<string, unknown>>([
    ["ft-random-p0-s0", ft(0.80)],
    ["ft-random-p1-s0", ft(0.82)],
    ["ft-beit-p0-s0", ft(0.84)],
    ["ft-beit-p1-s0", ft(0.86)],
    ["floor", ft(0.815)],
  ]);
  const result = {
    n: 10000,
    meanA: 0.85,
    meanB: 0.81,
    diff: 0.04,
    ci: [0.01, 0.07] as [number, number],
    p: 0.004,
    resamples: 4000,
    confidence: 0.95,
    runsA: 2,
    runsB: 2,
  };
  const comps: Comparison[] = [{
    ...CLAIMS.find((c) => c.a === "beit" && c.b === "random")!,
    result,
  }];
  const md = renderReport({ preset: "full", config: EXPERIMENT_PRESETS.full }, done, comps);
  assert.match(
    md,
    /\| Random init \| – \| – \| – \| – \| 80\.00, 82\.00 \| 81\.00 ± 1\.41 \(2\) \| – \|/,
  );
  assert.match(md, /\| BEiT \| – \| – \| – \| – \| 84\.00, 86\.00 \| 85\.00 ± 1\.41 \(2\) \| – \|/);
  assert.match(
    md,
    /\| beit > random \(Tab\. 2: pre-training helps\) \| 85\.00 \| 81\.00 \| \+4\.00 \| \[\+1\.00, \+7\.00\] \| 0\.0040 \| 2\/2 \| A better \(significant\) \| \*\*yes\*\* \|/,
  );
  assert.doesNotMatch(md, /splitmask ≥ beit/);
  assert.match(md, /2000 validation images carved from the end of the training file/);
  assert.match(md, /the full 10,000-image test set/);
});

Deno.test("experiment verdicts: > needs the interval above 0, ≥ not below, ≈ around it", () => {
  assert.deepEqual(verdictOf(">", [-0.02, 0.01]), {
    holds: false,
    text: "no significant difference",
  });
  assert.deepEqual(verdictOf(">=", [-0.02, -0.001]), {
    holds: false,
    text: "B better (significant)",
  });
  assert.equal(verdictOf(">=", [0.001, 0.02]).holds, true);
  assert.equal(verdictOf("~", [0.001, 0.02]).holds, false);
  assert.equal(verdictOf("~", [-0.001, 0.02]).holds, true);
});
