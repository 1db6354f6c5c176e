/**
 * The job graph of `experiment-cls`: the two presets (full and `--quick`) and the `train.ts`
 * command line of every job.
 * @module
 */

/**
 * The experiment's settings (`full` and `quick` presets).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EXPERIMENT_PRESETS } from "./experiment_jobs.ts";
 * assert.deepEqual([EXPERIMENT_PRESETS.full.subset, EXPERIMENT_PRESETS.full.seeds], [4000, [0, 1]]);
 * ```
 */
export interface ExperimentConfig {
  /** Class-balanced training images. */
  subset: number;
  /** Test images (null = the full 10,000). */
  testLimit: number | null;
  /** Fine-tuning seeds. */
  seeds: number[];
  /** Flags common to every pretrain run. */
  pretrain: string[];
  /** Per-method extra pretrain flags. */
  methodFlags: Record<string, string[]>;
  /** Flags common to every finetune run (the shared recipe and budget). */
  finetune: string[];
  /** Flags of the plateau check (random init, seed of the first arm, longer budget). */
  plateau: string[];
  /** Flags of every probe. */
  probe: string[];
  /** Flags of the pixel logistic regression. */
  linear: string[];
}

const TINY_MODEL = ["--model", "vit-tiny-fmnist"];
const words = (s: string) => s.split(" ");

/** The two presets. */
export const EXPERIMENT_PRESETS: Readonly<Record<"full" | "quick", ExperimentConfig>> = Object
  .freeze({
    full: {
      subset: 4000,
      testLimit: null,
      seeds: [0, 1],
      pretrain: [...TINY_MODEL, ...words("--epochs 50 --batch 64 --log-every 200")],
      methodFlags: { dino: ["--local-crops", "4"] },
      finetune: [
        ...TINY_MODEL,
        ...words("--cls-token --epochs 50 --batch 64 --lr 3e-3 --warmup 5ep --drop-path 0.1"),
        ...words("--eval-every 10ep --ckpt-every 25ep --log-every 200"),
      ],
      plateau: ["--epochs", "100"],
      probe: [],
      linear: [],
    },
    quick: {
      subset: 200,
      testLimit: 200,
      seeds: [0, 1],
      pretrain: [...TINY_MODEL, ...words("--steps 6 --batch 32 --vocab 32 --log-every 3")],
      methodFlags: { dino: words("--local-crops 2 --out-dim 64 --hidden-dim 32") },
      finetune: [...TINY_MODEL, ...words("--cls-token --steps 8 --batch 32 --log-every 4")],
      plateau: ["--steps", "16"],
      probe: [],
      linear: [],
    },
  });

/**
 * One subprocess job of the experiment: a name, the jobs it waits for, and its `train.ts`
 * arguments (computed when its dependencies are done, from their results).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildJobs, EXPERIMENT_PRESETS } from "./experiment_jobs.ts";
 * const jobs = buildJobs(EXPERIMENT_PRESETS.quick, "runs/x", 1, null);
 * assert.deepEqual(jobs.find((j) => j.name === "pre-beit-eq")!.deps, ["pre-splitmask", "pre-beit"]);
 * ```
 */
export interface Job {
  name: string;
  deps: string[];
  /** train.ts arguments, computed when the deps are done. */
  args: (done: Map<string, Record<string, unknown>>) => string[];
}

const METHODS = ["splitmask", "beit", "dino"] as const;

/** Flags without `--epochs X` / `--steps N`. */
function withoutLength(flags: readonly string[]): string[] {
  return flags.filter((_, i, a) =>
    !["--epochs", "--steps"].includes(a[i]!) && !["--epochs", "--steps"].includes(a[i - 1]!)
  );
}

/**
 * The experiment's jobs for a preset: the pixel floor, the pre-training runs (the equal-compute
 * BEiT run's step count from SplitMask's and BEiT's FLOPs), fine-tuning per arm and seed, the
 * twice-the-budget runs, the probes; `threads` matmul threads each, run directories under `out`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildJobs, EXPERIMENT_PRESETS } from "./experiment_jobs.ts";
 * assert.deepEqual(buildJobs(EXPERIMENT_PRESETS.full, "runs/x", 1, null).length, 25);
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
  const th = ["--threads", String(threads)];
  const dir = (n: string) => ["--out", `${out}/${n}`];
  const jobs: Job[] = [{
    name: "floor",
    deps: [],
    args: () => ["linear", ...data, ...test, ...c.linear],
  }];
  const pretrain = (
    m: string,
    name: string,
    length: string[],
  ) => ["pretrain", "--method", m, ...data, ...length, ...th, ...dir(name)];
  for (const m of METHODS) {
    jobs.push({
      name: `pre-${m}`,
      deps: [],
      args: () => pretrain(m, `pre-${m}`, [...c.pretrain, ...(c.methodFlags[m] ?? [])]),
    });
  }
  // Equal compute: as many BEiT steps as SplitMask's total FLOPs buy.
  jobs.push({
    name: "pre-beit-eq",
    deps: ["pre-splitmask", "pre-beit"],
    args: (done) => {
      const sm = done.get("pre-splitmask")!, be = done.get("pre-beit")!;
      const flops = (r: Record<string, unknown>) => r.flops_per_step as number;
      const steps = Math.round((flops(sm) * (sm.steps as number)) / flops(be));
      return pretrain("beit", "pre-beit-eq", [
        ...withoutLength(c.pretrain),
        "--steps",
        String(steps),
      ]);
    },
  });
  const finetune = (
    name: string,
    recipe: string[],
    init: string[],
    seed: number,
  ) => [
    "finetune",
    ...data,
    ...test,
    ...recipe,
    ...init,
    "--seed",
    String(seed),
    ...th,
    ...dir(name),
  ];
  for (const arm of ["random", ...METHODS, "beit-eq"]) {
    const pre = arm === "random" ? [] : [`pre-${arm}`];
    const init = arm === "random" ? [] : ["--init", `${out}/pre-${arm}`];
    for (const seed of c.seeds) {
      const name = `ft-${arm}-s${seed}`;
      jobs.push({ name, deps: pre, args: () => finetune(name, c.finetune, init, seed) });
    }
    const encoder = arm === "random" ? ["--init", "none", ...TINY_MODEL, "--cls-token"] : init;
    jobs.push({
      name: `probe-${arm}`,
      deps: pre,
      args:
        () => ["probe", ...encoder, ...data, ...test, ...c.probe, ...th, ...dir(`probe-${arm}`)],
    });
  }
  // Twice the fine-tuning budget for every arm (seed of the first arm): where random init has
  // (nearly) plateaued, does pre-training still help?
  const long = [...withoutLength(c.finetune), ...c.plateau];
  for (const arm of [...METHODS, "beit-eq"]) {
    jobs.push({
      name: `long-${arm}`,
      deps: [`pre-${arm}`],
      args: () => finetune(`long-${arm}`, long, ["--init", `${out}/pre-${arm}`], c.seeds[0]!),
    });
  }
  jobs.push({
    name: "plateau-random",
    deps: [],
    args: () => finetune("plateau-random", long, [], c.seeds[0]!),
  });
  return jobs;
}
