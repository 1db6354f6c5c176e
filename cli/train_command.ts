/**
 * A training command from its flag table and its Task ({@link trainCommand}), and the run
 * lengths every training command derives from its flags ({@link runLengths}).
 * @module
 */
import {
  type CommandFlags,
  defaultsOf,
  type Flag,
  helpText,
  type OptionsOf,
  parseCommand,
  resolveSpan,
} from "../trainer/flags.ts";
import type { CliIO } from "../trainer/io.ts";
import { type RunOptions, type Task, train, type TrainHooks } from "../trainer/train_loop.ts";
import { runSimReplicas } from "../trainer/dist.ts";

/**
 * A run's lengths in steps from its flags: `total` (`--steps`, else `--epochs` × steps per
 * epoch, at least 1), `warmup` (at most the total), and the evaluation and checkpoint periods
 * (at least 1); spans are steps (`200`) or epochs (`1ep`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runLengths } from "./train_command.ts";
 * const o = { steps: null, epochs: 2, warmup: "1ep", evalEvery: "1ep", ckptEvery: "5" };
 * assert.deepEqual(runLengths(o, 10), { total: 20, warmup: 10, evalEvery: 10, ckptEvery: 5 });
 * ```
 */
export function runLengths(
  o: { steps: number | null; epochs: number; warmup: string; evalEvery: string; ckptEvery: string },
  spe: number,
): { total: number; warmup: number; evalEvery: number; ckptEvery: number } {
  const total = o.steps ?? Math.max(1, Math.round(o.epochs * spe));
  return {
    total,
    warmup: Math.min(resolveSpan(o.warmup, spe), total),
    evalEvery: Math.max(1, resolveSpan(o.evalEvery, spe)),
    ckptEvery: Math.max(1, resolveSpan(o.ckptEvery, spe)),
  };
}

/**
 * A training command from its flag table and its Task: parses `argv` (`--help` prints the
 * table's help) and runs {@link train}; `build` gets the settings, the resumed run's settings
 * (null for a new run), the backend, the options given now and the command's IO.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { group, int, row } from "../trainer/flags.ts";
 * import { captureIO } from "../trainer/io.ts";
 * import { trainCommand } from "./train_command.ts";
 * const flags = group("Demo", [row("steps", "N", int({ min: 1 }), 3, "steps")] as const);
 * const cmd = trainCommand({ name: "demo", title: "a demo", flags }, () => {
 *   throw new Error("not reached");
 * });
 * const io = captureIO();
 * assert.equal(await cmd(["--help"], io), 0);
 * assert.match(io.stdout.join("\n"), /--steps N +steps \(default 3\)/);
 * ```
 */
export function trainCommand<F extends readonly Flag[]>(
  cmd: CommandFlags<F>,
  build: (
    o: OptionsOf<F> & RunOptions,
    saved: (OptionsOf<F> & RunOptions) | null,
    backend: string,
    given: Partial<OptionsOf<F>>,
    io: CliIO,
  ) => Promise<Task>,
): (argv: string[], io: CliIO, hooks?: TrainHooks) => Promise<number> {
  return async (argv, io, hooks) => {
    const p = parseCommand(cmd, argv);
    if (p === "help") {
      io.out(helpText(cmd));
      return 0;
    }
    const sim = await runSimReplicas(
      (p.given as { dist?: string }).dist,
      cmd.name,
      argv,
      new URL("./_dist_replica.ts", import.meta.url),
    );
    if (sim !== null) return sim;
    type O = OptionsOf<F> & RunOptions;
    return await train<O>({
      command: cmd.name,
      defaults: defaultsOf(cmd.flags) as O,
      given: p.given as Partial<O>,
      io,
      hooks,
      build: (o, saved, backend) => build(o, saved, backend, p.given, io),
    });
  };
}
