/**
 * The job graph of `experiment-dense`: the scenes (`scenes`, unless given), each arm's
 * pre-training per seed (`pre-<arm>-p<p>`: `pretrain --data <scenes>` for the self-supervised
 * arms, `finetune --data <fmnist>` for the supervised one), then per arm, encoder and seed a
 * Mask R-CNN run (`det-…`) and a UperNet run (`seg-…`), each followed by its scoring on every
 * val image (`det-…-eval`: COCO detections; `seg-…-eval`: label PNGs), which the paired
 * statistics read (dense_stats.ts).
 * @module
 */
import type { Job } from "./jobs.ts";
import type { DenseArm, DenseExperimentConfig } from "./dense_presets.ts";
import { TesseraError } from "../tensor/errors.ts";

/** Where the experiment reads its data. */
export interface DenseData {
  /** The FMNIST-Scenes folder (null: generated into `<out>/data` by the `scenes` job). */
  scenes: string | null;
  /** The Fashion-MNIST IDX folder of the supervised arm (null: finetune's default search). */
  fmnist: string | null;
}

/** The random-init arms: the equal budget and the longer schedule. */
export const RANDOM_ARMS = ["random", "random-long"] as const;

/**
 * The two dense tasks: `det` (Mask R-CNN) and `seg` (UperNet).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TASKS } from "./dense_jobs.ts";
 * assert.deepEqual(TASKS, ["det", "seg"]);
 * ```
 */
export const TASKS = ["det", "seg"] as const;

/** A dense task. */
export type DenseTask = (typeof TASKS)[number];

/**
 * The name of a fine-tuning run: `<task>-<arm>-p<encoder seed>-s<fine-tuning seed>` (for random
 * init, `p` numbers the initialisation replicate); its scoring job adds `-eval`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runName } from "./dense_jobs.ts";
 * assert.equal(runName("seg", "beit", 1, 0), "seg-beit-p1-s0");
 * ```
 */
export function runName(task: DenseTask, arm: string, p: number, s: number): string {
  return `${task}-${arm}-p${p}-s${s}`;
}

/**
 * `flags` with its `--epochs X` or `--steps N` multiplied by `k` (steps rounded).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scaleLength } from "./dense_jobs.ts";
 * assert.deepEqual(scaleLength(["--steps", "3", "--batch", "2"], 2), ["--steps", "6", "--batch", "2"]);
 * assert.deepEqual(scaleLength(["--epochs", "1.5"], 2), ["--epochs", "3"]);
 * ```
 */
export function scaleLength(flags: readonly string[], k: number): string[] {
  const i = flags.findIndex((f) => f === "--epochs" || f === "--steps");
  if (i < 0 || i + 1 >= flags.length) {
    throw new TesseraError("scaleLength", `no --epochs or --steps in ${flags.join(" ")}`);
  }
  const v = Number(flags[i + 1]) * k;
  const out = [...flags];
  out[i + 1] = String(flags[i] === "--steps" ? Math.round(v) : v);
  return out;
}

/** The job that pre-trains `arm` with seed `p`. */
function pretrainJob(
  c: DenseExperimentConfig,
  arm: DenseArm,
  p: number,
  out: string,
  scenes: string,
  d: DenseData,
  threads: string[],
  after: string[],
): Job {
  const name = `pre-${arm.name}-p${p}`, dir = `${out}/${name}`;
  const common = [...c.encoder, "--seed", String(p), ...threads, "--out", dir];
  if (arm.method === "supervised") {
    const data = d.fmnist === null ? [] : ["--data", d.fmnist];
    return { name, deps: [], args: () => ["finetune", ...data, ...c.supervised, ...common] };
  }
  return {
    name,
    deps: after,
    args: () => [
      "pretrain",
      "--method",
      arm.method,
      "--data",
      scenes,
      ...c.pretrain,
      ...arm.flags,
      ...common,
    ],
  };
}

/**
 * Every job of the experiment for preset `c` into `out`, with `threads` matmul threads each.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildDenseJobs } from "./dense_jobs.ts";
 * import { DENSE_PRESETS } from "./dense_presets.ts";
 * const jobs = buildDenseJobs(DENSE_PRESETS.quick, "runs/x", 1, { scenes: null, fmnist: null });
 * const seg = jobs.find((j) => j.name === "seg-beit-p0-s0")!;
 * assert.deepEqual(seg.deps, ["scenes", "pre-beit-p0"]);
 * assert.ok(seg.args(new Map()).includes("runs/x/pre-beit-p0"));
 * ```
 */
export function buildDenseJobs(
  c: DenseExperimentConfig,
  out: string,
  threads: number,
  d: DenseData,
): Job[] {
  const th = ["--threads", String(threads)];
  const jobs: Job[] = [];
  const scenes = d.scenes ?? `${out}/data/fmnist-scenes-${c.scenes}`;
  const data = d.scenes === null ? ["scenes"] : [];
  if (d.scenes === null) {
    jobs.push({
      name: "scenes",
      deps: [],
      args: () => [
        "scenes",
        "--version",
        c.scenes,
        "--out",
        `${out}/data`,
        ...(d.fmnist === null ? [] : ["--data", d.fmnist]),
      ],
    });
  }
  for (const arm of c.arms) {
    for (const p of c.pretrainSeeds) jobs.push(pretrainJob(c, arm, p, out, scenes, d, th, data));
  }
  const taskFlags = (task: DenseTask, random: boolean) =>
    task === "det" ? c.detect : [...c.segment, ...(random ? c.segmentRandom : c.segmentPretrained)];
  const command = { det: "detect", seg: "segment" } as const;
  for (const task of TASKS) {
    for (const p of c.pretrainSeeds) {
      for (const s of c.seeds) {
        const runs: { arm: string; init: string | null; flags: string[]; seed: number }[] = [
          ...c.arms.map((a) => ({
            arm: a.name,
            init: `pre-${a.name}-p${p}`,
            flags: taskFlags(task, false),
            seed: s,
          })),
          // Random init: replicate p differs in its initialisation seed.
          { arm: "random", init: null, flags: [...c.encoder, ...taskFlags(task, true)], seed: 0 },
          {
            arm: "random-long",
            init: null,
            flags: [...c.encoder, ...scaleLength(taskFlags(task, true), c.randomLong)],
            seed: 0,
          },
        ].map((r) => (r.init === null ? { ...r, seed: 100 * p + s } : r));
        for (const r of runs) {
          const name = runName(task, r.arm, p, s), dir = `${out}/${name}`;
          const init = r.init === null ? [] : ["--init", `${out}/${r.init}`];
          jobs.push({
            name,
            deps: [...data, ...(r.init === null ? [] : [r.init])],
            args: () => [
              command[task],
              "--data",
              scenes,
              ...init,
              ...r.flags,
              "--seed",
              String(r.seed),
              ...th,
              "--out",
              dir,
            ],
          });
          // Scored on every val image; the statistics keep those from compareFrom on.
          const scoring = task === "seg" ? ["--save-pred"] : [];
          jobs.push({
            name: `${name}-eval`,
            deps: [name],
            args: () => [
              command[task],
              "--eval",
              dir,
              "--data",
              scenes,
              "--val-limit",
              "all",
              ...scoring,
              ...th,
              "--out",
              `${dir}/eval`,
            ],
          });
        }
      }
    }
  }
  return jobs;
}
