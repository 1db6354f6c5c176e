/**
 * Where a command's output goes: machine-readable results to stdout, progress and messages to
 * stderr. Commands take a {@link CliIO} so tests can capture both streams in process.
 * @module
 */

/**
 * The output side of a command.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { captureIO } from "./io.ts";
 * const io = captureIO();
 * io.out("{}");
 * io.err("hello\n");
 * assert.deepEqual([io.stdout, io.stderr], [["{}"], "hello\n"]);
 * ```
 */
export interface CliIO {
  /** Writes one line (a newline is added) to stdout. */
  out(line: string): void;
  /** Writes text as is to stderr. */
  err(text: string): void;
  /** Whether stderr is a terminal (live progress line). */
  isTerminal: boolean;
  /** Whether colour/escape codes may be used (terminal and no NO_COLOR). */
  color: boolean;
  /** Terminal width in columns (80 when unknown). */
  columns(): number;
}

const enc = new TextEncoder();

function writeAll(file: { writeSync(p: Uint8Array): number }, text: string): void {
  let bytes = enc.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
}

/**
 * The process's real stdout/stderr (Deno).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denoIO } from "./io.ts";
 * const io = denoIO();
 * assert.deepEqual(typeof io.isTerminal, "boolean");
 * ```
 */
export function denoIO(): CliIO {
  const isTerminal = Deno.stderr.isTerminal();
  return {
    out: (line) => writeAll(Deno.stdout, `${line}\n`),
    err: (text) => writeAll(Deno.stderr, text),
    isTerminal,
    color: isTerminal && !Deno.noColor,
    columns: () => {
      try {
        return Deno.consoleSize().columns || 80;
      } catch {
        return 80;
      }
    },
  };
}

/**
 * An in-memory {@link CliIO} for tests: stdout lines and stderr text are collected.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { captureIO } from "./io.ts";
 * const io = captureIO({ isTerminal: true, columns: 40 });
 * assert.deepEqual([io.columns(), io.color], [40, false]);
 * ```
 */
export function captureIO(
  opts: { isTerminal?: boolean; columns?: number; echo?: boolean } = {},
): CliIO & { stdout: string[]; stderr: string } {
  const io = {
    stdout: [] as string[],
    stderr: "",
    out(line: string) {
      io.stdout.push(line);
    },
    err(text: string) {
      io.stderr += text;
      if (opts.echo) writeAll(Deno.stderr, text);
    },
    isTerminal: opts.isTerminal ?? false,
    color: false,
    columns: () => opts.columns ?? 80,
  };
  return io;
}
