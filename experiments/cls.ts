/**
 * The paper's central comparison at small scale (`train.ts experiment-cls`, `deno task
 * experiment:cls`), a research protocol run through the `train.ts` commands. On a
 * class-balanced Fashion-MNIST subset it pre-trains SplitMask, BEiT, DINO and an equal-compute
 * BEiT (as many BEiT steps as SplitMask's FLOPs buy) on the training images only, fine-tunes
 * each and a random-init baseline with the same recipe and budget for every seed, fine-tunes
 * every arm once more with twice the budget (is random init at its plateau, and does
 * pre-training still help there?), linear-probes every encoder, and fits a logistic regression
 * on the raw pixels as the floor. Each job is a `train.ts` subprocess (its run directory under
 * `out`); `jobs` run at once. The report (JSON + Markdown) goes to `out`, and with `docs` into
 * docs/RESULTS.md. The `quick` preset shrinks everything so the whole pipeline runs in minutes
 * (CI). The job graph is in `cls_jobs.ts`, the report in `cls_report.ts`.
 * @module
 */
import { TesseraError } from "../tensor/errors.ts";
import type { CliIO } from "../trainer/io.ts";
import { formatDuration } from "../trainer/progress.ts";
import { type ArmResult, curveSvg, renderReport } from "./cls_report.ts";
import { compareArms, type Comparison } from "./cls_stats.ts";
import { buildJobs, type Job } from "./cls_jobs.ts";
import { EXPERIMENT_PRESETS } from "./cls_presets.ts";

/** Child processes still running (killed when a job fails). */
const children = new Set<Deno.ChildProcess>();

/** Runs one `train.ts` subprocess; returns its final JSON line. */
async function runJob(
  job: Job,
  args: string[],
  out: string,
): Promise<Record<string, unknown>> {
  const train = new URL("../train.ts", import.meta.url).href;
  const logPath = `${out}/${job.name}.log`;
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", train, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  children.add(proc);
  const [o, status] = await Promise.all([proc.output(), proc.status]).finally(
    () => children.delete(proc),
  );
  const stdout = new TextDecoder().decode(o.stdout),
    stderr = new TextDecoder().decode(o.stderr);
  await Deno.writeTextFile(
    logPath,
    `$ train.ts ${args.join(" ")}\n${stderr}${stdout}`,
  );
  if (!status.success) {
    throw new TesseraError(
      "experiment-cls",
      `${job.name} failed (exit ${status.code}); log ${logPath}:\n${
        stderr.split("\n").slice(-8).join("\n")
      }`,
    );
  }
  const last = stdout.trim().split("\n").at(-1) ?? "";
  try {
    return { ...JSON.parse(last), args };
  } catch {
    throw new TesseraError(
      "experiment-cls",
      `${job.name}: no JSON result on stdout; log ${logPath}`,
    );
  }
}

/** Runs the jobs with at most `parallel` at once, honouring dependencies. */
async function runAll(
  jobs: Job[],
  parallel: number,
  out: string,
  io: CliIO,
): Promise<Map<string, Record<string, unknown>>> {
  const done = new Map<string, Record<string, unknown>>();
  const pending = [...jobs];
  const running = new Map<string, Promise<void>>();
  const t0 = performance.now();
  while (pending.length > 0 || running.size > 0) {
    while (running.size < parallel) {
      const i = pending.findIndex((j) => j.deps.every((d) => done.has(d)));
      if (i < 0) break;
      const job = pending.splice(i, 1)[0]!;
      const args = job.args(done);
      io.err(
        `experiment: start ${job.name}  (${formatDuration((performance.now() - t0) / 1000)})\n`,
      );
      running.set(
        job.name,
        runJob(job, args, out).then((r) => {
          done.set(job.name, r);
          running.delete(job.name);
          io.err(
            `experiment: done  ${job.name}  ${summary(r)}  (${
              formatDuration((performance.now() - t0) / 1000)
            })\n`,
          );
        }),
      );
    }
    if (running.size === 0) {
      throw new TesseraError("experiment-cls", "unsatisfiable job dependencies");
    }
    await Promise.race(running.values());
  }
  return done;
}

function summary(r: Record<string, unknown>): string {
  if (typeof r.test_accuracy === "number") {
    return `top-1 ${(r.test_accuracy * 100).toFixed(2)}%`;
  }
  if (typeof r.loss === "number") return `loss ${r.loss}, ${r.seconds}s`;
  return "";
}

/**
 * What {@link runExperimentCls} runs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ExperimentClsOptions } from "./cls.ts";
 * const o: ExperimentClsOptions = { quick: true, out: null, data: null, jobs: 2, docs: false };
 * assert.equal(o.jobs, 2);
 * ```
 */
export interface ExperimentClsOptions {
  /** The `quick` preset (tiny sizes) instead of `full`. */
  quick: boolean;
  /** Where the runs and the report go (null: `runs/experiment-cls[-quick]`). */
  out: string | null;
  /** Fashion-MNIST IDX folder (null: the default search). */
  data: string | null;
  /** `train.ts` processes at once (each gets cores/jobs matmul threads). */
  jobs: number;
  /** Also replace the experiment section of docs/RESULTS.md. */
  docs: boolean;
}

/**
 * Runs every job of the experiment and writes `results.json` and `results.md` to the output
 * folder (and with `docs`, docs/RESULTS.md); prints one JSON line. Returns the exit code.
 *
 * @example
 * ```ts ignore
 * import { runExperimentCls } from "./cls.ts";
 * import { denoIO } from "../trainer/io.ts";
 * // Minutes of subprocesses: the quick preset on the bundled sample.
 * await runExperimentCls({ quick: true, out: "runs/x", data: null, jobs: 2, docs: false }, denoIO());
 * ```
 */
export async function runExperimentCls(v: ExperimentClsOptions, io: CliIO): Promise<number> {
  const quick = v.quick;
  const cfg = EXPERIMENT_PRESETS[quick ? "quick" : "full"];
  const parallel = v.jobs;
  const out = v.out ?? `runs/experiment-cls${quick ? "-quick" : ""}`;
  const threads = Math.max(1, Math.floor(navigator.hardwareConcurrency / parallel));
  await Deno.mkdir(out, { recursive: true });
  const t0 = performance.now();
  const jobs = buildJobs(cfg, out, threads, v.data);
  io.err(
    `experiment: ${jobs.length} jobs, ${parallel} at a time, ${threads} thread(s) each; ${out}\n`,
  );
  let done;
  try {
    done = await runAll(jobs, parallel, out, io);
  } catch (e) {
    for (const c of children) {
      try {
        c.kill();
      } catch { /* already gone */ }
    }
    throw e;
  }
  const results: Record<string, ArmResult | Record<string, unknown>> = Object.fromEntries(done);
  const comparisons = await compareArms(out, done.keys());
  const meta = {
    preset: quick ? "quick" : "full",
    config: cfg,
    date: new Date().toISOString(),
    seconds: Math.round((performance.now() - t0) / 1000),
    cores: navigator.hardwareConcurrency,
    jobs: parallel,
    deno: Deno.version.deno,
  };
  await Deno.writeTextFile(
    `${out}/results.json`,
    JSON.stringify({ meta, results, comparisons }, null, 2) + "\n",
  );
  const md = await writeReport(out, { meta, results, comparisons }, v.docs);
  io.err(`experiment: done in ${formatDuration(meta.seconds)}; report ${out}/results.md\n`);
  io.out(JSON.stringify({ command: "experiment-cls", out, seconds: meta.seconds }));
  return 0;
}

/**
 * Re-renders a finished run's report from its saved `results.json` content into
 * `dir/results.md` (and with `docs`, docs/RESULTS.md); returns the Markdown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rerenderReport } from "./cls.ts";
 * const dir = await Deno.makeTempDir();
 * const md = await rerenderReport(dir, { meta: { preset: "quick" }, results: {} }, false);
 * assert.equal(await Deno.readTextFile(`${dir}/results.md`), md);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function rerenderReport(
  dir: string,
  saved: SavedResults,
  docs: boolean,
): Promise<string> {
  return await writeReport(dir, saved, docs);
}

/** The contents of `results.json`. */
export interface SavedResults {
  meta: Record<string, unknown>;
  results: Record<string, Record<string, unknown>>;
  /** The paired comparisons (absent in reports of protocol v1). */
  comparisons?: Comparison[];
}

/** Writes `results.md` and `curve.svg` into `dir` (and with `docs`, the docs copies). */
async function writeReport(dir: string, saved: SavedResults, docs: boolean): Promise<string> {
  const done = new Map(Object.entries(saved.results));
  const md = renderReport(saved.meta, done, saved.comparisons ?? []);
  await Deno.writeTextFile(`${dir}/results.md`, md);
  const cfg = saved.meta.config as { curveArms?: string[] } | undefined;
  const svg = curveSvg(done, cfg?.curveArms ?? []);
  if (svg) await Deno.writeTextFile(`${dir}/curve.svg`, svg);
  if (docs) {
    await writeDocsSection(md);
    if (svg) {
      const path = new URL("../docs/results/experiment-cls-curve.svg", import.meta.url);
      await Deno.mkdir(new URL(".", path), { recursive: true });
      await Deno.writeTextFile(path, svg);
    }
  }
  return md;
}

const BEGIN = "<!-- experiment-cls:begin -->",
  END = "<!-- experiment-cls:end -->";

/** Replaces (or appends) the marked experiment section of docs/RESULTS.md. */
async function writeDocsSection(md: string): Promise<void> {
  const path = new URL("../docs/RESULTS.md", import.meta.url);
  const text = await Deno.readTextFile(path);
  const block = `${BEGIN}\n${md.trim()}\n${END}`;
  const i = text.indexOf(BEGIN), j = text.indexOf(END);
  const next = i >= 0 && j > i
    ? text.slice(0, i) + block + text.slice(j + END.length)
    : `${text.trimEnd()}\n\n${block}\n`;
  const tmp = `${path.pathname}.tmp`;
  await Deno.writeTextFile(tmp, next);
  await Deno.rename(tmp, path);
}
