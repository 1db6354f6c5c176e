/**
 * `train.ts experiment-cls` (`deno task experiment:cls`): the command of the paper's central
 * comparison at small scale — its flag table ({@link EXPERIMENT}) and the call into
 * experiments/cls.ts, where the protocol (jobs, subprocesses, report) lives. `--quick` shrinks
 * everything so the whole pipeline runs in minutes (CI); `--report DIR` only re-renders a
 * finished run's report.
 * @module
 */
import {
  choice,
  type CommandFlags,
  group,
  int,
  path,
  row,
  sw,
  UsageError,
} from "../trainer/flags.ts";
import { parseOrHelp } from "./train_command.ts";
import type { CliIO } from "../trainer/io.ts";
import { rerenderReport, runExperimentCls, type SavedResults } from "../experiments/cls.ts";
import { requireDir } from "../trainer/run_dir.ts";

const FLAGS = group("Flags", [
  row("preset", "NAME", choice(["full", "cpu", "quick"]), "full", "full (GPU) | cpu | quick"),
  sw("quick", true, false, "= --preset quick: the whole pipeline in a minute (CI)"),
  row("out", "DIR", path("a directory"), null, "runs and report; a rerun resumes", {
    none: "runs/experiment-cls-<preset>",
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
Protocol v2 of the paper's comparison on a class-balanced Fashion-MNIST subset: pre-trains
BEiT, SplitMask (block masks; small-data recipe), DINO, an equal-compute BEiT and the ablation
arms with several seeds (labels unused), chooses every fine-tuning setting on a validation
split carved from the training file, fine-tunes and probes every encoder and random init, and
decides each claimed ordering by a paired bootstrap over the test images. Writes results.json,
results.md and curve.svg to --out; jobs already done there are kept.
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
    let saved: SavedResults;
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
