/**
 * `train.ts experiment-cls` (`deno task experiment:cls`): the command of the paper's central
 * comparison at small scale — its flag table ({@link EXPERIMENT}) and the call into
 * experiments/cls.ts, where the protocol (jobs, subprocesses, report) lives. `--quick` shrinks
 * everything so the whole pipeline runs in minutes (CI); `--report DIR` only re-renders a
 * finished run's report.
 * @module
 */
import { type CommandFlags, group, int, path, row, sw, UsageError } from "../trainer/flags.ts";
import { parseOrHelp } from "./train_command.ts";
import type { CliIO } from "../trainer/io.ts";
import { rerenderReport, runExperimentCls } from "../experiments/cls.ts";
import { requireDir } from "../trainer/run_dir.ts";

const FLAGS = group("Flags", [
  sw("quick", true, false, "tiny sizes: the whole pipeline in minutes (CI)"),
  row("out", "DIR", path("a directory"), null, "where the runs and the report go", {
    none: "runs/experiment-cls[-quick]",
  }),
  row("data", "DIR", path("a directory"), null, "Fashion-MNIST IDX folder", {
    none: "Debian's; the sample is too small for full",
  }),
  row(
    "jobs",
    "N",
    int({ min: 1, max: 16 }),
    2,
    "train.ts processes at once; each gets cores/N matmul threads",
  ),
  sw("docs", true, false, "also replace the experiment section of docs/RESULTS.md"),
  row(
    "report",
    "DIR",
    path("a directory"),
    null,
    "only re-render DIR/results.md (and --docs) from DIR/results.json",
  ),
]);

/** The flag table of `experiment-cls`. */
export const EXPERIMENT: CommandFlags<typeof FLAGS> = {
  name: "experiment-cls",
  title: "the paper's central comparison, small scale",
  intro: `
Pre-trains SplitMask, BEiT, DINO and an equal-compute BEiT on a class-balanced Fashion-MNIST
subset (labels unused), fine-tunes each and a random-init ViT with the same recipe for every
seed and once more with twice the budget, probes every encoder linearly, and fits a logistic
regression on pixels as the floor. Writes results.json and results.md to --out.
`,
  flags: FLAGS,
};

/**
 * The `experiment-cls` command.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { experimentCommand } from "./experiment_cls.ts";
 * import { captureIO } from "../trainer/io.ts";
 * await assert.rejects(experimentCommand(["--jobs", "0"], captureIO()), {
 *   message: '--jobs must be an integer in [1, 16], got "0"',
 * });
 * ```
 */
export async function experimentCommand(
  argv: string[],
  io: CliIO,
): Promise<number> {
  const p = parseOrHelp(EXPERIMENT, argv, io);
  if (!p) return 0;
  const v = p.options;
  if (v.report !== null) {
    // Re-render the report of a finished run from its results.json.
    const file = `${v.report}/results.json`;
    let saved: { meta: Record<string, unknown>; results: Record<string, Record<string, unknown>> };
    try {
      saved = JSON.parse(await Deno.readTextFile(file));
    } catch (e) {
      throw new UsageError(`--report ${v.report}: ${(e as Error).message}`);
    }
    io.out(await rerenderReport(v.report, saved, v.docs));
    return 0;
  }
  if (v.data !== null) await requireDir("data", v.data);
  return await runExperimentCls(v, io);
}
