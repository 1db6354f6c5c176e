/**
 * `train.ts experiment-dense --quick`: the whole pipeline — tiny scenes generated, every arm
 * pre-trained (self-supervised on the scene images only, supervised on Fashion-MNIST classes),
 * Mask R-CNN and UperNet fine-tuned per arm and seed and scored on every val image, the paired
 * comparisons on the images no recipe was chosen on — runs end to end; a rerun resumes.
 */
import assert from "node:assert/strict";
import { DENSE_PRESETS } from "../../experiments/dense_presets.ts";
import { DENSE_CLAIMS, DENSE_METRICS } from "../../experiments/dense_stats.ts";
import { verdictOf } from "../../experiments/cls_stats.ts";
import { scaleLength } from "../../experiments/dense_jobs.ts";
import { runTrain, SAMPLE } from "../cli/_util.ts";

type R = Record<string, Record<string, unknown> & { args: string[] }>;
const flag = (args: string[], f: string) => args[args.indexOf(f) + 1];

Deno.test("experiment-dense --quick: every arm and task, scored off the recipe images, resume", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const argv = ["experiment-dense", "--quick", "--out", dir, "--fmnist", SAMPLE];
    const r = await runTrain(argv);
    assert.equal(r.code, 0, r.stderr);
    const saved = JSON.parse(await Deno.readTextFile(`${dir}/results.json`));
    const results: R = saved.results;
    const q = DENSE_PRESETS.quick;
    const scenes = `${dir}/data/fmnist-scenes-tiny`;
    // Self-supervised arms pre-train on the scene images; the supervised arm on FMNIST classes.
    for (const a of ["beit", "splitmask", "dino"]) {
      const pre = results[`pre-${a}-p0`]!;
      assert.deepEqual([pre.args[0], flag(pre.args, "--method"), flag(pre.args, "--data")], [
        "pretrain",
        a,
        scenes,
      ]);
      assert.equal(pre.train_images, 160);
    }
    const sup = results["pre-supervised-p0"]!;
    assert.deepEqual([sup.args[0], flag(sup.args, "--data"), flag(sup.args, "--img-size")], [
      "finetune",
      SAMPLE,
      "32",
    ]);
    // Every arm × task: a run from its encoder (random init: none; the long arm 2× the steps),
    // then its scoring on every val image.
    for (const task of ["det", "seg"]) {
      for (const a of ["supervised", "beit", "splitmask", "dino", "random", "random-long"]) {
        const run = results[`${task}-${a}-p0-s0`]!, ev = results[`${task}-${a}-p0-s0-eval`]!;
        assert.equal(run.args[0], task === "det" ? "detect" : "segment");
        const init = a.startsWith("random") ? undefined : `${dir}/pre-${a}-p0`;
        assert.equal(run.args.includes("--init") ? flag(run.args, "--init") : undefined, init);
        assert.deepEqual([flag(ev.args, "--eval"), flag(ev.args, "--val-limit")], [
          `${dir}/${task}-${a}-p0-s0`,
          "all",
        ]);
      }
      const steps = (a: string) => Number(flag(results[`${task}-${a}-p0-s0`]!.args, "--steps"));
      assert.equal(steps("random-long"), 2 * steps("random"));
    }
    // Scores: one per run, on the 32 val images after the first 8; every claim on every metric,
    // its verdict the one its interval gives.
    const s = saved.stats;
    assert.deepEqual(s.images, { det: 40 - q.compareFrom, seg: 40 - q.compareFrom });
    for (const m of DENSE_METRICS) {
      for (const a of ["random", "random-long", "supervised", "beit", "splitmask", "dino"]) {
        const cell = s.arms[m.key][a];
        assert.equal(cell.scores.length, 1, `${m.key} ${a}`);
        assert.ok(cell.scores[0] >= 0 && cell.scores[0] <= 1);
      }
    }
    assert.equal(s.comparisons.length, DENSE_CLAIMS.length * DENSE_METRICS.length);
    for (const c of s.comparisons) {
      const d = s.arms[c.metric][c.a].mean - s.arms[c.metric][c.b].mean;
      assert.ok(Math.abs(c.result.diff - d) < 1e-12, `${c.a} vs ${c.b} ${c.metric}`);
      assert.ok(c.result.ci[0] <= c.result.ci[1]);
      assert.equal(c.holds, verdictOf(c.claim, c.result.ci).holds);
    }
    const md = await Deno.readTextFile(`${dir}/results.md`);
    assert.match(md, /\| SplitMask \(scenes only\) \|/);
    assert.match(md, /\| splitmask ≥ supervised \| mIoU \|/);
    // The budget table: each pre-trained arm's steps, random init without pre-training.
    assert.match(md, /\| BEiT \(scenes only\) \| 3 \| [\d.]+ \| [\d.]+ \| [\d.]+ \|/);
    assert.match(md, /\| Random init \(equal budget\) \| — \| — \| [\d.]+ \| [\d.]+ \|/);
    assert.match(await Deno.readTextFile(`${dir}/runs.svg`), /^<svg/);
    // A rerun keeps every job and reproduces the statistics.
    const again = await runTrain(argv);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /experiment: start /);
    const s2 = JSON.parse(await Deno.readTextFile(`${dir}/results.json`)).stats;
    assert.deepEqual(s2, s);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("experiment-dense: scaleLength names the missing length; bad flags are usage errors", async () => {
  assert.throws(() => scaleLength(["--batch", "2"], 2), /no --epochs or --steps in --batch 2/);
  const r = await runTrain(["experiment-dense", "--preset", "huge"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--preset must be one of full, quick, got "huge"/);
});
