/**
 * The job graph of `experiment-cls` (protocol v2, issue 15): the arms and the two presets (full
 * and `--quick`) in cls_presets.ts, and here the `train.ts` command line of every job. Every
 * setting is chosen on a validation split carved from the training images (`tune-*` jobs); the
 * test set is read only by the final runs (`ft-*`, `probe-*`, `curve-ft-*`, `floor`).
 * @module
 */
import { TesseraError } from "../tensor/errors.ts";
import type { ArmSpec, ExperimentConfig } from "./cls_presets.ts";
import type { Job } from "./jobs.ts";

/**
 * One subprocess job of the experiment (experiments/jobs.ts's `Job`): a name, the jobs it waits
 * for, and its `train.ts` arguments (computed when its dependencies are done, from their results).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildJobs } from "./cls_jobs.ts";
 * import { EXPERIMENT_PRESETS } from "./cls_presets.ts";
 * const jobs = buildJobs(EXPERIMENT_PRESETS.quick, "runs/x", 1, null);
 * assert.deepEqual(jobs.find((j) => j.name === "pre-beit-eq-p0")!.deps, ["pre-splitmask-p0", "pre-beit-p0"]);
 * ```
 */
export type { Job } from "./jobs.ts";

/** A job's final JSON line. */
type Done = Map<string, Record<string, unknown>>;

const LENGTH = ["--epochs", "--steps"];

/** Flags without `--epochs X` / `--steps N`. */
function withoutLength(flags: readonly string[]): string[] {
  return flags.filter((_, i, a) => !LENGTH.includes(a[i]!) && !LENGTH.includes(a[i - 1]!));
}

/** The pre-training seeds of an arm. */
export function armSeeds(c: ExperimentConfig, arm: ArmSpec): number[] {
  return arm.extra ? c.extraSeeds : c.pretrainSeeds;
}

/**
 * The name of a final fine-tuning run: `ft-<arm>-p<pre-training seed>-s<fine-tuning seed>`
 * (for random init, `p` numbers the initialisation replicate).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ftName } from "./cls_jobs.ts";
 * assert.equal(ftName("beit-eq", 2, 1), "ft-beit-eq-p2-s1");
 * ```
 */
export function ftName(arm: string, p: number, s: number): string {
  return `ft-${arm}-p${p}-s${s}`;
}

/**
 * The validation grid of an arm: one entry per `tune-<arm>-<k>` job, the flags it adds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tuneGrid } from "./cls_jobs.ts";
 * import { EXPERIMENT_PRESETS } from "./cls_presets.ts";
 * const c = EXPERIMENT_PRESETS.full;
 * const n = c.randomLrGrid.length * c.randomLengths.length * c.randomRecipes.length;
 * assert.equal(tuneGrid(c, "random").length, n);
 * ```
 */
export function tuneGrid(c: ExperimentConfig, arm: string): string[][] {
  const grid = (lengths: string[][], recipes: string[][], lrs: number[]) =>
    lengths.flatMap((len) =>
      recipes.flatMap((r) => lrs.map((lr) => [...len, ...r, "--lr", String(lr)]))
    );
  return arm === "random"
    ? grid(c.randomLengths, c.randomRecipes, c.randomLrGrid)
    : grid(c.lengths, c.recipes, c.lrGrid);
}

/**
 * The arm whose validation grid decides an arm's fine-tuning setting: its own, or its main arm's
 * for an ablation ({@link ArmSpec.settingOf}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { settingArm } from "./cls_jobs.ts";
 * import { EXPERIMENT_PRESETS } from "./cls_presets.ts";
 * const c = EXPERIMENT_PRESETS.cpu;
 * assert.deepEqual([settingArm(c, "beit-rp"), settingArm(c, "beit")], ["beit", "beit"]);
 * ```
 */
export function settingArm(c: ExperimentConfig, arm: string): string {
  return c.arms.find((a) => a.name === arm)?.settingOf ?? arm;
}

/**
 * The setting chosen on the validation split: the grid entry of the highest `val_accuracy` (the
 * first such in grid order on ties).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chosenSetting } from "./cls_jobs.ts";
 * const done = new Map([["tune-beit-0", { val_accuracy: 0.7 }], ["tune-beit-1", { val_accuracy: 0.8 }]]);
 * assert.deepEqual(chosenSetting(done, "beit", [["--lr", "1"], ["--lr", "2"]]), { index: 1, flags: ["--lr", "2"], valAccuracy: 0.8 });
 * ```
 */
export function chosenSetting(
  done: Done,
  arm: string,
  grid: string[][],
): { index: number; flags: string[]; valAccuracy: number } {
  let best = -1, acc = -Infinity;
  grid.forEach((_, k) => {
    const v = done.get(`tune-${arm}-${k}`)?.val_accuracy;
    if (typeof v === "number" && v > acc) best = k, acc = v;
  });
  if (best < 0) throw new TesseraError("experiment-cls", `no validation result for arm ${arm}`);
  return { index: best, flags: grid[best]!, valAccuracy: acc };
}

/**
 * The experiment's jobs for a preset: the pixel floor; pre-training per arm and seed (the
 * equal-compute BEiT run's step count from SplitMask's and BEiT's FLOPs for that seed); the
 * validation grid per arm; the final fine-tuning runs per arm, pre-training seed and fine-tuning
 * seed with the chosen setting; a probe per encoder; the pre-training-length curve; `threads`
 * matmul threads each, run directories under `out`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildJobs } from "./cls_jobs.ts";
 * import { EXPERIMENT_PRESETS } from "./cls_presets.ts";
 * const jobs = buildJobs(EXPERIMENT_PRESETS.full, "runs/x", 1, null);
 * assert.ok(jobs.some((j) => j.name === "ft-splitmask-p2-s1"));
 * ```
 */
export function buildJobs(
  c: ExperimentConfig,
  out: string,
  threads: number,
  dataDir: string | null,
): Job[] {
  const data = ["--train-subset", String(c.subset), ...(dataDir ? ["--data", dataDir] : [])];
  const test = ["--test-limit", c.testLimit === null ? "all" : String(c.testLimit)];
  const val = ["--val-split", String(c.valSplit)];
  const th = ["--threads", String(threads)];
  const dir = (n: string) => ["--out", `${out}/${n}`];
  const jobs: Job[] = [{
    name: "floor",
    deps: [],
    args: () => ["linear", ...data, ...test, ...c.linear],
  }];
  // Pre-training reads the same training images as fine-tuning (the validation images are
  // carved off first, so no arm sees them).
  const pretrain = (arm: ArmSpec, name: string, seed: number, flags: string[]) => [
    "pretrain",
    "--method",
    arm.method!,
    ...data,
    ...val,
    ...c.encoder,
    ...flags,
    ...arm.pretrain,
    "--seed",
    String(seed),
    ...th,
    ...dir(name),
  ];
  const pre = (arm: string, p: number) => `pre-${arm}-p${p}`;
  for (const arm of c.arms) {
    if (arm.method === null) continue;
    for (const p of armSeeds(c, arm)) {
      const name = pre(arm.name, p);
      if (!arm.equalComputeTo) {
        jobs.push({ name, deps: [], args: () => pretrain(arm, name, p, c.pretrain) });
        continue;
      }
      // Equal compute: as many steps of this method as the other arm's total FLOPs buy.
      const other = pre(arm.equalComputeTo, p), base = pre(arm.method, p);
      jobs.push({
        name,
        deps: [other, base],
        args: (done) => {
          const o = done.get(other)!, b = done.get(base)!;
          const flops = (r: Record<string, unknown>) => r.flops_per_step as number;
          const steps = Math.round((flops(o) * (o.steps as number)) / flops(b));
          return pretrain(arm, name, p, [...withoutLength(c.pretrain), "--steps", String(steps)]);
        },
      });
    }
  }
  // A grid entry with its own length replaces the common one.
  const finetune = (name: string, init: string[], seed: number, flags: string[]) => [
    "finetune",
    ...data,
    ...c.encoder,
    ...(flags.some((f) => LENGTH.includes(f)) ? withoutLength(c.finetune) : c.finetune),
    ...flags,
    ...init,
    "--seed",
    String(seed),
    ...th,
    ...dir(name),
  ];
  const initOf = (arm: ArmSpec, p: number) =>
    arm.method === null ? [] : ["--init", `${out}/${pre(arm.name, p)}`];
  for (const arm of c.arms) {
    const seeds = armSeeds(c, arm), from = settingArm(c, arm.name), grid = tuneGrid(c, from);
    const tunes = grid.map((_, k) => `tune-${from}-${k}`);
    const first = seeds[0]!, s0 = c.seeds[0]!;
    // The validation grid (recipe, length and lr): the first pre-training seed, the first
    // fine-tuning seed.
    if (from === arm.name) {
      grid.forEach((g, k) => {
        jobs.push({
          name: tunes[k]!,
          deps: arm.method === null ? [] : [pre(arm.name, first)],
          args: () => finetune(tunes[k]!, initOf(arm, first), s0, [...val, ...g]),
        });
      });
    }
    for (const p of seeds) {
      for (const s of c.seeds) {
        const name = ftName(arm.name, p, s);
        // Random init: `p` numbers the initialisation replicate, folded into the seed.
        const seed = arm.method === null ? 100 * p + s : s;
        jobs.push({
          name,
          deps: [...(arm.method === null ? [] : [pre(arm.name, p)]), ...tunes],
          args: (done) =>
            finetune(name, initOf(arm, p), seed, [
              ...test,
              ...chosenSetting(done, from, grid).flags,
            ]),
        });
      }
      const probeName = `probe-${arm.name}-p${p}`;
      const encoder = arm.method === null
        ? ["--init", "none", ...c.encoder, "--cls-token", "--seed", String(p)]
        : initOf(arm, p);
      jobs.push({
        name: probeName,
        deps: arm.method === null ? [] : [pre(arm.name, p)],
        args: () => [
          "probe",
          ...encoder,
          ...data,
          ...test,
          ...c.probe,
          ...arm.probe,
          ...th,
          ...dir(probeName),
        ],
      });
    }
  }
  // Fine-tuned accuracy against pre-training length (the paper's Fig. 3): shorter pre-training
  // runs of the curve arms, first seeds, each arm's chosen fine-tuning setting.
  for (const name of c.curveArms) {
    const arm = c.arms.find((a) => a.name === name)!;
    const p = armSeeds(c, arm)[0]!, grid = tuneGrid(c, name);
    c.curve.forEach((len, k) => {
      const preName = `curve-pre-${name}-${k}`, ftName_ = `curve-ft-${name}-${k}`;
      jobs.push({
        name: preName,
        deps: [],
        args: () => pretrain(arm, preName, p, [...withoutLength(c.pretrain), ...len]),
      });
      jobs.push({
        name: ftName_,
        deps: [preName, ...grid.map((_, j) => `tune-${name}-${j}`)],
        args: (done) =>
          finetune(ftName_, ["--init", `${out}/${preName}`], c.seeds[0]!, [
            ...test,
            ...chosenSetting(done, name, grid).flags,
          ]),
      });
    });
  }
  return jobs;
}
