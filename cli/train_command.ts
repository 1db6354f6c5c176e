/**
 * A training command from its flag table and its Task ({@link trainCommand}), and the parse
 * step every command starts with ({@link parseOrHelp}).
 * @module
 */
import {
  type CommandFlags,
  defaultsOf,
  type Flag,
  helpText,
  type OptionsOf,
  parseCommand,
  type Parsed,
} from "../trainer/flags.ts";
import type { CliIO } from "../trainer/io.ts";
import { type RunOptions, type Task, train, type TrainHooks } from "../trainer/train_loop.ts";
import { runSimReplicas } from "../trainer/dist.ts";

/**
 * Parses `argv` against the flag table `cmd`; with `--help` it prints the table's help on `io`
 * and returns null (the command then exits 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { group, int, row } from "../trainer/flags.ts";
 * import { captureIO } from "../trainer/io.ts";
 * import { parseOrHelp } from "./train_command.ts";
 * const cmd = { name: "demo", title: "a demo", flags: group("Demo", [row("n", "N", int(), 1, "n")]) };
 * const io = captureIO();
 * assert.equal(parseOrHelp(cmd, ["--help"], io), null);
 * assert.match(io.stdout.join("\n"), /--n N/);
 * assert.equal(parseOrHelp(cmd, ["--n", "4"], io)!.options.n, 4);
 * ```
 */
export function parseOrHelp<F extends readonly Flag[]>(
  cmd: CommandFlags<F>,
  argv: string[],
  io: CliIO,
): Parsed<OptionsOf<F>> | null {
  const p = parseCommand(cmd, argv);
  if (p !== "help") return p;
  io.out(helpText(cmd));
  return null;
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
    const p = parseOrHelp(cmd, argv, io);
    if (!p) return 0;
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
