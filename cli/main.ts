/**
 * The `train.ts` dispatcher: `deno run -A train.ts <command> [flags]`. With no command it runs
 * `finetune` with its defaults (the main job). Commands live one per file in `cli/`; a later
 * issue adds `segment` to {@link COMMANDS}.
 *
 * Exit codes: 0 done, 1 failure, 2 usage error (bad flag, value or data path), 130
 * interrupted (a checkpoint was written).
 * @module
 */
import { UsageError } from "../trainer/flags.ts";
import { finetuneCommand } from "./finetune.ts";
import { type CliIO, denoIO } from "../trainer/io.ts";
import { linearCommand } from "./linear.ts";
import { probeCommand } from "./probe.ts";
import { pretrainCommand } from "./pretrain.ts";
import { experimentCommand } from "./experiment_cls.ts";
import { experimentDenseCommand } from "./experiment_dense.ts";
import { SCENES_COMMAND } from "./scenes.ts";
import { EVALUATE_COMMAND } from "./evaluate.ts";
import { detectCommand } from "./detect.ts";
import { segmentCommand } from "./segment_eval.ts";
import { pathUsageError } from "../trainer/run_dir.ts";
import { TesseraError } from "../tensor/errors.ts";

/**
 * A `train.ts` command.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { COMMANDS } from "./main.ts";
 * assert.deepEqual(Object.keys(COMMANDS), ["finetune", "linear", "probe", "pretrain", "experiment-cls", "experiment-dense", "scenes", "evaluate", "detect", "segment"]);
 * ```
 */
export interface Command {
  /** One line for the top-level help. */
  summary: string;
  /** Runs with the flags after the command name; returns the exit code. */
  run(argv: string[], io: CliIO): Promise<number>;
}

/** The commands, by name. */
export const COMMANDS: Readonly<Record<string, Command>> = Object.freeze({
  finetune: {
    summary: "train a ViT classifier on Fashion-MNIST (the default command)",
    run: finetuneCommand,
  },
  linear: {
    summary: "logistic-regression floor on Fashion-MNIST pixels (L-BFGS, converged)",
    run: linearCommand,
  },
  probe: {
    summary: "linear probe of a frozen encoder (checkpoint or random init)",
    run: probeCommand,
  },
  pretrain: {
    summary: "self-supervised pre-training: --method splitmask | beit | dino",
    run: pretrainCommand,
  },
  "experiment-cls": {
    summary: "the paper's central comparison at small scale (--quick: minutes)",
    run: experimentCommand,
  },
  "experiment-dense": {
    summary: "dense-prediction transfer, Mask R-CNN and UperNet (--quick: minutes)",
    run: experimentDenseCommand,
  },
  scenes: SCENES_COMMAND,
  evaluate: EVALUATE_COMMAND,
  detect: {
    summary: "train Mask R-CNN (ViT + FPN) on FMNIST-Scenes or a COCO folder",
    run: detectCommand,
  },
  segment: {
    summary: "train UperNet (ViT) semantic segmentation on FMNIST-Scenes or ADE",
    run: segmentCommand,
  },
});

/** Top-level `--help`. */
export const MAIN_HELP = `tessera train.ts — training jobs

Usage: deno run -A train.ts [command] [flags]
       deno run -A train.ts <command> --help

Commands:
${Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(14)} ${c.summary}`).join("\n")}

With no command, runs \`finetune\` with its defaults: a small ViT trained from scratch on
4,000 Fashion-MNIST images, tested on 1,000 (a few minutes on 2 CPU cores).`;

/**
 * Runs `train.ts` with `argv`; returns the exit code. Errors are printed to stderr:
 * {@link UsageError}s with a pointer to `--help` (code 2), others with their message (code 1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "./main.ts";
 * import { captureIO } from "../trainer/io.ts";
 * const io = captureIO();
 * assert.deepEqual(await main(["finetune", "--bogus"], io), 2);
 * assert.deepEqual(io.stderr.split("\n")[0], "train.ts finetune: unknown flag --bogus");
 * ```
 */
export async function main(argv: string[], io: CliIO = denoIO()): Promise<number> {
  const [first, ...rest] = argv;
  if (first === "-h" || first === "--help" || first === "help") {
    io.out(MAIN_HELP);
    return 0;
  }
  const named = first !== undefined && !first.startsWith("-");
  const name = named ? first : "finetune";
  const cmd = COMMANDS[name];
  if (!cmd) {
    io.err(
      `train.ts: unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(", ")}\n` +
        `Run "deno run -A train.ts --help" for usage.\n`,
    );
    return 2;
  }
  try {
    return await cmd.run(named ? rest : argv, io);
  } catch (err) {
    const e = pathUsageError(err, argv) ?? err;
    if (e instanceof UsageError) {
      io.err(
        `train.ts ${name}: ${e.message}\nRun "deno run -A train.ts ${name} --help" for usage.\n`,
      );
      return e.exitCode;
    }
    io.err(`train.ts ${name}: error: ${failureText(e)}\n`);
    return 1;
  }
}

/**
 * What a failed run prints: the message alone for an error that explains itself (a
 * `TesseraError`, or an operating-system error such as ENOSPC that carries a `code`), the
 * stack for anything else, which is a bug worth a report.
 */
function failureText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const explained = e instanceof TesseraError ||
    typeof (e as { code?: unknown }).code === "string";
  return explained ? e.message : (e.stack ?? e.message);
}
