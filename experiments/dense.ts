/**
 * The paper's dense-prediction transfer at small scale (`train.ts experiment-dense`, issue 15
 * part 2): generates FMNIST-Scenes (unless given), pre-trains BEiT, SplitMask and DINO on the
 * scene images alone and a supervised encoder on Fashion-MNIST classification, fine-tunes each
 * and random init (equal and longer budget) with Mask R-CNN and UperNet over several seeds,
 * scores every run on the comparison images and decides each claimed ordering by a two-level
 * paired bootstrap (dense_stats.ts). Jobs are `train.ts` subprocesses (experiments/jobs.ts), so an
 * interrupted experiment resumes; the report (JSON, Markdown, SVG) goes to `out`, and with
 * `docs` into docs/RESULTS.md and docs/results/.
 * @module
 */
import type { CliIO } from "../trainer/io.ts";
import { formatDuration } from "../trainer/progress.ts";
import { runJobs } from "./jobs.ts";
import { buildDenseJobs, RANDOM_ARMS } from "./dense_jobs.ts";
import { DENSE_PRESETS, type DensePresetName } from "./dense_presets.ts";
import { denseStatistics } from "./dense_stats.ts";
import { denseSvg, renderDenseReport } from "./dense_report.ts";
import { writeSection } from "./docs_section.ts";

/**
 * What {@link runExperimentDense} runs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ExperimentDenseOptions } from "./dense.ts";
 * const o: ExperimentDenseOptions = { preset: "quick", out: null, data: null, fmnist: null, jobs: 2, docs: false };
 * assert.equal(o.preset, "quick");
 * ```
 */
export interface ExperimentDenseOptions {
  /** The preset (dense_presets.ts). */
  preset: DensePresetName;
  /** Runs and report (null: `runs/experiment-dense-<preset>`). */
  out: string | null;
  /** An FMNIST-Scenes folder of the preset's version (null: generated into `out/data`). */
  data: string | null;
  /** Fashion-MNIST IDX folder (scenes generation and the supervised arm; null: the default). */
  fmnist: string | null;
  /** `train.ts` processes at once. */
  jobs: number;
  /** Also write the section of docs/RESULTS.md and the records under docs/results/. */
  docs: boolean;
}

/** Replaces (or appends) the marked section of docs/RESULTS.md and keeps the raw records. */
async function writeDocs(md: string, svg: string, json: string): Promise<void> {
  const docs = new URL("../docs/", import.meta.url);
  await Deno.mkdir(new URL("results/", docs), { recursive: true });
  await Deno.writeTextFile(new URL("results/experiment-dense.svg", docs), svg);
  await Deno.writeTextFile(new URL("results/experiment-dense.json", docs), json);
  const body = `${md.trim()}\n\n![every run per arm](results/experiment-dense.svg)`;
  await writeSection(new URL("RESULTS.md", docs), "dense", body);
}

/**
 * Runs the experiment and writes `results.json`, `results.md` and `runs.svg` to the output
 * folder; prints one JSON line. Returns the exit code.
 *
 * @example
 * ```ts ignore
 * import { runExperimentDense } from "./dense.ts";
 * import { denoIO } from "../trainer/io.ts";
 * await runExperimentDense({ preset: "quick", out: "runs/x", data: null, fmnist: null, jobs: 2, docs: false }, denoIO());
 * ```
 */
export async function runExperimentDense(v: ExperimentDenseOptions, io: CliIO): Promise<number> {
  const cfg = DENSE_PRESETS[v.preset];
  const out = v.out ?? `runs/experiment-dense-${v.preset}`;
  const threads = Math.max(1, Math.floor(navigator.hardwareConcurrency / v.jobs));
  await Deno.mkdir(out, { recursive: true });
  const t0 = performance.now();
  const jobs = buildDenseJobs(cfg, out, threads, { scenes: v.data, fmnist: v.fmnist });
  io.err(
    `experiment-dense: ${jobs.length} jobs, ${v.jobs} at a time, ${threads} thread(s) each; ${out}\n`,
  );
  const done = await runJobs(jobs, v.jobs, out, io, "experiment-dense");
  const scenes = v.data ?? `${out}/data/fmnist-scenes-${cfg.scenes}`;
  const arms = [...RANDOM_ARMS, ...cfg.arms.map((a) => a.name)];
  io.err("experiment-dense: scoring every run and bootstrapping the comparisons\n");
  const stats = await denseStatistics(
    out,
    scenes,
    arms,
    cfg.pretrainSeeds,
    cfg.seeds,
    cfg.compareFrom,
    cfg.resamples,
  );
  const meta = {
    preset: v.preset,
    config: cfg,
    date: new Date().toISOString(),
    seconds: Math.round((performance.now() - t0) / 1000),
    cores: navigator.hardwareConcurrency,
    jobs: v.jobs,
    deno: Deno.version.deno,
  };
  const json = JSON.stringify({ meta, results: Object.fromEntries(done), stats }, null, 1) + "\n";
  await Deno.writeTextFile(`${out}/results.json`, json);
  const md = renderDenseReport(meta, cfg, stats, done), svg = denseSvg(cfg, stats);
  await Deno.writeTextFile(`${out}/results.md`, md);
  await Deno.writeTextFile(`${out}/runs.svg`, svg);
  if (v.docs) await writeDocs(md, svg, json);
  io.err(`experiment-dense: done in ${formatDuration(meta.seconds)}; report ${out}/results.md\n`);
  io.out(JSON.stringify({ command: "experiment-dense", out, seconds: meta.seconds }));
  return 0;
}
