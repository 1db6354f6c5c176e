/**
 * Flag parsing shared by the `train.ts` commands: `node:util` `parseArgs` in strict mode, with
 * its errors turned into {@link UsageError}s (exit code 2) whose messages name the flag, and
 * typed converters (integers, numbers in a range, choices, step-or-epoch spans, limits).
 * @module
 */
import { parseArgs } from "node:util";

/**
 * A mistake in the command line or in what it points at (bad flag, bad value, missing data):
 * `train.ts` prints the message and a pointer to `--help`, and exits with code 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UsageError } from "./args.ts";
 * const e = new UsageError("--lr must be a positive number, got \"x\"");
 * assert.deepEqual(e.exitCode, 2);
 * ```
 */
export class UsageError extends Error {
  /** The process exit code for this error. */
  readonly exitCode = 2;
  /**
   * Creates the error.
   * @param message what is wrong, naming the flag or path
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A flag's declaration: every value flag is read as a string and converted afterwards. */
export interface FlagDecl {
  /** "string" (takes a value) or "boolean" (a switch). */
  type: "string" | "boolean";
  /** One-letter alias. */
  short?: string;
}

/**
 * Parses `argv` against `decls` strictly: unknown flags, missing values and positional
 * arguments are {@link UsageError}s. Returns only the flags that were given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFlags } from "./args.ts";
 * const v = parseFlags(["--lr", "0.1", "-h"], { lr: { type: "string" }, help: { type: "boolean", short: "h" } });
 * assert.deepEqual([v.lr, v.help], ["0.1", true]);
 * assert.throws(() => parseFlags(["--lr"], { lr: { type: "string" } }), {
 *   name: "UsageError",
 *   message: "flag --lr needs a value",
 * });
 * ```
 */
export function parseFlags(
  argv: string[],
  decls: Record<string, FlagDecl>,
): Record<string, string | boolean | undefined> {
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: decls,
    });
    return { ...values } as Record<string, string | boolean | undefined>;
  } catch (e) {
    const code = (e as { code?: string }).code;
    const msg = e instanceof Error ? e.message : String(e);
    const quoted = /'([^']*)'/.exec(msg)?.[1] ?? "";
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      throw new UsageError(`unknown flag ${quoted}`);
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      const flag = quoted.split(" ")[0]!.replace(/^-\w, /, "");
      throw new UsageError(
        /argument missing/.test(msg) ? `flag ${flag} needs a value` : `flag ${flag}: ${msg}`,
      );
    }
    if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
      throw new UsageError(`unexpected argument "${quoted}"`);
    }
    throw new UsageError(msg);
  }
}

/**
 * An integer flag value in `[min, max]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intFlag } from "./args.ts";
 * assert.deepEqual(intFlag("batch", "64", { min: 1 }), 64);
 * ```
 */
export function intFlag(
  name: string,
  value: string,
  range: { min?: number; max?: number } = {},
): number {
  const n = Number(value);
  const { min = -Infinity, max = Infinity } = range;
  if (value.trim() === "" || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer${rangeText(min, max)}, got "${value}"`);
  }
  return n;
}

/**
 * A finite number flag value in `[min, max]` (`above`: strictly greater than `min`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { numFlag } from "./args.ts";
 * assert.deepEqual(numFlag("lr", "1e-3", { min: 0, above: true }), 0.001);
 * ```
 */
export function numFlag(
  name: string,
  value: string,
  range: { min?: number; max?: number; above?: boolean } = {},
): number {
  const n = Number(value);
  const { min = -Infinity, max = Infinity, above = false } = range;
  if (
    value.trim() === "" || !Number.isFinite(n) || (above ? n <= min : n < min) || n > max
  ) {
    const r = above && max === Infinity ? ` > ${min}` : rangeText(min, max);
    throw new UsageError(`--${name} must be a number${r}, got "${value}"`);
  }
  return n;
}

function rangeText(min: number, max: number): string {
  if (min === -Infinity && max === Infinity) return "";
  if (max === Infinity) return ` >= ${min}`;
  if (min === -Infinity) return ` <= ${max}`;
  return ` in [${min}, ${max}]`;
}

/**
 * One of a fixed set of strings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { choiceFlag } from "./args.ts";
 * assert.deepEqual(choiceFlag("backend", "cpu", ["cpu", "webgpu"] as const), "cpu");
 * ```
 */
export function choiceFlag<T extends string>(
  name: string,
  value: string,
  choices: readonly T[],
): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} must be one of ${choices.join(", ")}, got "${value}"`);
  }
  return value as T;
}

/**
 * A length in steps (`"500"`) or epochs (`"2ep"`, fractions allowed), kept as written so it
 * can be stored in a run's config and resolved once the epoch length is known.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveSpan, spanFlag } from "./args.ts";
 * const s = spanFlag("warmup", "0.5ep");
 * assert.deepEqual([s, resolveSpan(s, 100), resolveSpan("30", 100)], ["0.5ep", 50, 30]);
 * ```
 */
export function spanFlag(name: string, value: string, opts: { allowZero?: boolean } = {}): string {
  const m = /^(\d+(?:\.\d+)?)(ep)?$/.exec(value.trim());
  const n = m ? Number(m[1]) : NaN;
  const ok = m && (m[2] ? true : Number.isInteger(n)) && (opts.allowZero ? n >= 0 : n > 0);
  if (!ok) {
    throw new UsageError(
      `--${name} must be a number of steps (e.g. 200) or epochs (e.g. 1ep)${
        opts.allowZero ? "" : ", above 0"
      }, got "${value}"`,
    );
  }
  return value.trim();
}

/**
 * Steps of a span (see {@link spanFlag}) given the steps per epoch (epochs round to the
 * nearest step).
 */
export function resolveSpan(span: string, stepsPerEpoch: number): number {
  return span.endsWith("ep") ? Math.round(Number(span.slice(0, -2)) * stepsPerEpoch) : Number(span);
}

/**
 * A count limit: a non-negative integer, or `all` (returned as null).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { limitFlag } from "./args.ts";
 * assert.deepEqual([limitFlag("train-limit", "all"), limitFlag("train-limit", "500")], [null, 500]);
 * ```
 */
export function limitFlag(name: string, value: string): number | null {
  if (value === "all") return null;
  const n = Number(value);
  if (value.trim() === "" || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--${name} must be a positive integer or "all", got "${value}"`);
  }
  return n;
}
