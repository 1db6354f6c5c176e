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

/** The two presets. */
export const EXPERIMENT_PRESETS: Readonly<
  Record<"full" | "quick", ExperimentConfig>
> = Object
  .freeze({
    full: {
      subset: 4000,
      testLimit: null,
      seeds: [0, 1],
      pretrain: [
        ...TINY_MODEL,
        "--epochs",
        "50",
        "--batch",
        "64",
        "--log-every",
        "200",
      ],
      methodFlags: { dino: ["--local-crops", "4"] },
      finetune: [
        ...TINY_MODEL,
        "--cls-token",
        "--epochs",
        "50",
        "--batch",
        "64",
        "--lr",
        "3e-3",
        "--warmup",
        "5ep",
        "--drop-path",
        "0.1",
        "--eval-every",
        "10ep",
        "--ckpt-every",
        "25ep",
        "--log-every",
        "200",
      ],
      plateau: ["--epochs", "100"],
      probe: [],
      linear: [],
    },
    quick: {
      subset: 200,
      testLimit: 200,
      seeds: [0, 1],
      pretrain: [
        ...TINY_MODEL,
        "--steps",
        "6",
        "--batch",
        "32",
        "--vocab",
        "32",
        "--log-every",
        "3",
      ],
      methodFlags: {
        dino: ["--local-crops", "2", "--out-dim", "64", "--hidden-dim", "32"],
      },
      finetune: [
        ...TINY_MODEL,
        "--cls-token",
        "--steps",
        "8",
        "--batch",
        "32",
        "--log-every",
        "4",
      ],
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
  const data = [
    "--train-subset",
    String(c.subset),
    ...(dataDir ? ["--data", dataDir] : []),
  ];
  const test = [
    "--test-limit",
    c.testLimit === null ? "all" : String(c.testLimit),
  ];
  const th = ["--threads", String(threads)];
  const dir = (n: string) => ["--out", `${out}/${n}`];
  const jobs: Job[] = [];
  jobs.push({
    name: "floor",
    deps: [],
    args: () => ["linear", ...data, ...test, ...c.linear],
  });
  for (const m of METHODS) {
    jobs.push({
      name: `pre-${m}`,
      deps: [],
      args: () => [
        "pretrain",
        "--method",
        m,
        ...data,
        ...c.pretrain,
        ...(c.methodFlags[m] ?? []),
        ...th,
        ...dir(`pre-${m}`),
      ],
    });
  }
  // Equal compute: as many BEiT steps as SplitMask's total FLOPs buy.
  jobs.push({
    name: "pre-beit-eq",
    deps: ["pre-splitmask", "pre-beit"],
    args: (done) => {
      const sm = done.get("pre-splitmask")!, be = done.get("pre-beit")!;
      const steps = Math.round(
        ((sm.flops_per_step as number) * (sm.steps as number)) /
          (be.flops_per_step as number),
      );
      const base = withoutLength(c.pretrain);
      return [
        "pretrain",
        "--method",
        "beit",
        ...data,
        ...base,
        "--steps",
        String(steps),
        ...th,
        ...dir("pre-beit-eq"),
      ];
    },
  });
  const arms = ["random", ...METHODS, "beit-eq"];
  for (const arm of arms) {
    const pre = arm === "random" ? [] : [`pre-${arm}`];
    const init = arm === "random" ? [] : ["--init", `${out}/pre-${arm}`];
    for (const seed of c.seeds) {
      const name = `ft-${arm}-s${seed}`;
      jobs.push({
        name,
        deps: pre,
        args: () => [
          "finetune",
          ...data,
          ...test,
          ...c.finetune,
          ...init,
          "--seed",
          String(seed),
          ...th,
          ...dir(name),
        ],
      });
    }
    jobs.push({
      name: `probe-${arm}`,
      deps: pre,
      args: () => [
        "probe",
        ...(arm === "random" ? ["--init", "none", ...TINY_MODEL, "--cls-token"] : init),
        ...data,
        ...test,
        ...c.probe,
        ...th,
        ...dir(`probe-${arm}`),
      ],
    });
  }
  // Twice the fine-tuning budget for every arm (seed of the first arm): where random init has
  // (nearly) plateaued, does pre-training still help?
  for (const arm of [...METHODS, "beit-eq"]) {
    jobs.push({
      name: `long-${arm}`,
      deps: [`pre-${arm}`],
      args: () => [
        "finetune",
        ...data,
        ...test,
        ...withoutLength(c.finetune),
        ...c.plateau,
        ...["--init", `${out}/pre-${arm}`, "--seed", String(c.seeds[0])],
        ...th,
        ...dir(`long-${arm}`),
      ],
    });
  }
  jobs.push({
    name: "plateau-random",
    deps: [],
    args: () => {
      const base = withoutLength(c.finetune);
      return [
        "finetune",
        ...data,
        ...test,
        ...base,
        ...c.plateau,
        "--seed",
        String(c.seeds[0]),
        ...th,
        ...dir("plateau-random"),
      ];
    },
  });
  return jobs;
}
