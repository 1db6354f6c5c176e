/**
 * The paper's central comparison at small scale (`train.ts experiment-cls`, `deno task
 * experiment:cls`), protocol v2 (issue 15), run as `train.ts` subprocess jobs. On a
 * class-balanced Fashion-MNIST subset it pre-trains each arm (BEiT, SplitMask with block masks
 * and with the small-data recipe, DINO, an equal-compute BEiT, the Table 8 ablations, a
 * random-projection tokenizer) with several seeds on the training images only; chooses each
 * arm's fine-tuning setting (and random init's own recipe and length) on a validation split
 * carved from the training file; fine-tunes every encoder with several seeds and tests once;
 * probes every encoder; fits a pixel logistic regression as the floor; fine-tunes shorter
 * pre-training runs for the Fig. 3 curve; and decides each claimed ordering with a two-level
 * paired bootstrap over the test images (cls_stats.ts). Each job is a subprocess with its run
 * directory under `out`; `jobs` run at once; a job whose result is kept in `out` from an
 * earlier run with the same arguments is skipped, so an interrupted experiment resumes. The
 * report (JSON, Markdown, curve SVG) goes to `out`, and with `docs` into docs/. The job graph is
 * in cls_jobs.ts, the arms and presets in cls_presets.ts, the report in cls_report.ts.
 * @module
 */
import type { CliIO } from "../trainer/io.ts";
import { formatDuration } from "../trainer/progress.ts";
import { type ArmResult, curveSvg, renderReport } from "./cls_report.ts";
import { compareArms, type Comparison } from "./cls_stats.ts";
import { buildJobs } from "./cls_jobs.ts";
import { runJobs } from "./jobs.ts";
import { EXPERIMENT_PRESETS, type PresetName } from "./cls_presets.ts";
import { writeSection } from "./docs_section.ts";

/**
 * What {@link runExperimentCls} runs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ExperimentClsOptions } from "./cls.ts";
 * const o: ExperimentClsOptions = { quick: true, preset: "full", out: null, data: null, jobs: 2, docs: false };
 * assert.equal(o.jobs, 2);
 * ```
 */
export interface ExperimentClsOptions {
  /** The `quick` preset (tiny sizes) instead of `preset`. */
  quick: boolean;
  /** The preset (cls_presets.ts): full, cpu or quick. */
  preset: PresetName;
  /** Where the runs and the report go (null: `runs/experiment-cls-<preset>`). */
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
 * await runExperimentCls({ quick: true, preset: "full", out: "runs/x", data: null, jobs: 2, docs: false }, denoIO());
 * ```
 */
export async function runExperimentCls(v: ExperimentClsOptions, io: CliIO): Promise<number> {
  const preset: PresetName = v.quick ? "quick" : v.preset;
  const cfg = EXPERIMENT_PRESETS[preset];
  const parallel = v.jobs;
  const out = v.out ?? `runs/experiment-cls-${preset}`;
  const threads = Math.max(1, Math.floor(navigator.hardwareConcurrency / parallel));
  await Deno.mkdir(out, { recursive: true });
  const t0 = performance.now();
  const jobs = buildJobs(cfg, out, threads, v.data);
  io.err(
    `experiment: ${jobs.length} jobs, ${parallel} at a time, ${threads} thread(s) each; ${out}\n`,
  );
  const done = await runJobs(jobs, parallel, out, io, "experiment-cls");
  const results: Record<string, ArmResult | Record<string, unknown>> = Object.fromEntries(done);
  const comparisons = await compareArms(out, done.keys());
  const meta = {
    preset,
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
  await writeReport(out, { meta, results, comparisons }, v.docs);
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

/** Replaces (or appends) the marked experiment section of docs/RESULTS.md. */
function writeDocsSection(md: string): Promise<void> {
  return writeSection(new URL("../docs/RESULTS.md", import.meta.url), "cls", md);
}
