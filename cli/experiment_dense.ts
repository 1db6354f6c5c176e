/**
 * `train.ts experiment-dense` (`deno task experiment:dense`): the paper's dense-prediction
 * transfer (Fig. 1, Tables 4–5) at small scale — its flag table ({@link EXPERIMENT_DENSE}) and
 * the call into experiments/dense.ts, where the protocol lives. `--quick` runs the whole pipeline
 * on tiny scenes in minutes (the suite's check).
 * @module
 */
import { choice, type CommandFlags, group, int, path, row, sw } from "../trainer/flags.ts";
import { parseOrHelp } from "./train_command.ts";
import type { CliIO } from "../trainer/io.ts";
import { runExperimentDense } from "../experiments/dense.ts";
import { requireDir } from "../trainer/run_dir.ts";

const FLAGS = group("Flags", [
  row("preset", "NAME", choice(["full", "quick"] as const), "full", "full (small scenes) | quick"),
  sw("quick", true, false, "= --preset quick: tiny scenes, minutes (CI)"),
  row("out", "DIR", path("a directory"), null, "runs and report; a rerun resumes", {
    none: "runs/experiment-dense-<preset>",
  }),
  row("data", "DIR", path("a directory"), null, "FMNIST-Scenes folder of the preset's version", {
    none: "generated into --out/data",
  }),
  row("fmnist", "DIR", path("a directory"), null, "Fashion-MNIST IDX folder", {
    none: "Debian's, else the sample",
  }),
  row("jobs", "N", int({ min: 1, max: 16 }), 2, "train.ts processes at once"),
  sw("docs", true, false, "also write docs/RESULTS.md's section and docs/results/"),
]);

/**
 * The flag table of `experiment-dense`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultsOf } from "../trainer/flags.ts";
 * import { EXPERIMENT_DENSE } from "./experiment_dense.ts";
 * assert.equal(defaultsOf(EXPERIMENT_DENSE.flags).preset, "full");
 * ```
 */
export const EXPERIMENT_DENSE: CommandFlags<typeof FLAGS> = {
  name: "experiment-dense",
  title: "dense-prediction transfer (Mask R-CNN, UperNet), small scale",
  intro: `
Pre-trains BEiT, SplitMask and DINO on FMNIST-Scenes training images alone (labels unused)
and a supervised encoder on Fashion-MNIST classes, fine-tunes each and random init (equal
and longer budget) with Mask R-CNN and UperNet over several seeds at one fixed recipe per
task, and decides each of the paper's orderings by a paired bootstrap over val images that
no setting choice looked at. Writes results.json, results.md and runs.svg to --out; jobs
already done there are kept.
`,
  flags: FLAGS,
};

/**
 * The `experiment-dense` command.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { experimentDenseCommand } from "./experiment_dense.ts";
 * import { captureIO } from "../trainer/io.ts";
 * await assert.rejects(experimentDenseCommand(["--jobs", "0"], captureIO()), {
 *   message: '--jobs must be an integer in [1, 16], got "0"',
 * });
 * ```
 */
export async function experimentDenseCommand(argv: string[], io: CliIO): Promise<number> {
  const p = parseOrHelp(EXPERIMENT_DENSE, argv, io);
  if (!p) return 0;
  const v = p.options;
  if (v.data !== null) await requireDir("data", v.data);
  if (v.fmnist !== null) await requireDir("fmnist", v.fmnist);
  return await runExperimentDense(
    { ...v, preset: v.quick ? "quick" : v.preset },
    io,
  );
}
