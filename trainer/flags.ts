/**
 * The flag table of the `train.ts` commands. Every flag is one {@link Flag} entry `{flag, key,
 * parse, default, help, group}`; a command lists its entries (mostly shared groups from
 * `flag_groups.ts`), and its Options type ({@link OptionsOf}), defaults, `--help` text
 * ({@link helpText}) and parser ({@link parseCommand}) are derived from that list. Values are
 * strings converted by the entry's `parse` (range checks name the flag); a value may start with
 * `-` (`--lr -1` reaches the range check), a repeated flag is an error, and every mistake is a
 * {@link UsageError} (exit code 2).
 * @module
 */

/**
 * A mistake in the command line or in what it points at (bad flag, bad value, missing data):
 * `train.ts` prints the message and a pointer to `--help`, and exits with code 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UsageError } from "./flags.ts";
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

/**
 * The message of a library error without its op prefix (`loadEncoder: x` → `x`), for a
 * {@link UsageError} that names the flag instead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorDetail } from "./flags.ts";
 * assert.equal(errorDetail(new Error("loadEncoder: no such file")), "no such file");
 * assert.equal(errorDetail("plain"), "plain");
 * ```
 */
export function errorDetail(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/^\w+: /, "");
}

/** A flag's declaration for {@link parseFlags}: a value flag or a switch. */
export interface FlagDecl {
  /** "string" (takes a value) or "boolean" (a switch). */
  type: "string" | "boolean";
  /** One-letter alias. */
  short?: string;
}

/** A value that looks like a (negative) number, so `--lr -1` takes it as the value. */
const NEGATIVE = /^-(?:\d|\.\d|Infinity$|NaN$)/;

/**
 * Parses `argv` against `decls` strictly: unknown flags, missing values, positional arguments and
 * repeated flags are {@link UsageError}s. A value follows its flag (`--lr 0.1`, `--lr=0.1`) and
 * may be a negative number. Returns only the flags that were given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFlags } from "./flags.ts";
 * const decls = { lr: { type: "string" }, help: { type: "boolean", short: "h" } } as const;
 * assert.deepEqual(parseFlags(["--lr", "-1", "-h"], decls), { lr: "-1", help: true });
 * assert.throws(() => parseFlags(["--lr"], decls), { message: "flag --lr needs a value" });
 * assert.throws(() => parseFlags(["--lr", "1", "--lr=2"], decls), { message: "flag --lr is given twice" });
 * ```
 */
export function parseFlags(
  argv: string[],
  decls: Record<string, FlagDecl>,
): Record<string, string | boolean | undefined> {
  const shorts = new Map(
    Object.entries(decls).flatMap(([k, d]) => (d.short ? [[d.short, k] as const] : [])),
  );
  const out: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    let name: string, inline: string | undefined;
    if (a.startsWith("--") && a.length > 2) {
      const eq = a.indexOf("=");
      name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      inline = eq < 0 ? undefined : a.slice(eq + 1);
    } else if (/^-[A-Za-z]$/.test(a)) {
      name = shorts.get(a[1]!) ?? a;
    } else throw new UsageError(`unexpected argument "${a}"`);
    const d = Object.hasOwn(decls, name) ? decls[name] : undefined;
    if (!d) throw new UsageError(`unknown flag ${name.startsWith("-") ? name : `--${name}`}`);
    if (Object.hasOwn(out, name) && name !== "help") {
      throw new UsageError(`flag --${name} is given twice`);
    }
    if (d.type === "boolean") {
      if (inline !== undefined) throw new UsageError(`flag --${name} takes no value`);
      out[name] = true;
    } else if (inline !== undefined) out[name] = inline;
    else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith("-") && !NEGATIVE.test(next))) {
        throw new UsageError(`flag --${name} needs a value`);
      }
      out[name] = next, i++;
    }
  }
  return out;
}

function rangeText(min: number, max: number): string {
  if (min === -Infinity && max === Infinity) return "";
  if (max === Infinity) return ` >= ${min}`;
  if (min === -Infinity) return ` <= ${max}`;
  return ` in [${min}, ${max}]`;
}

/** A `parse`: the raw value and the flag's name (for the message) to a typed value. */
export type Parse<T> = (raw: string, flag: string) => T;

/**
 * A `parse` for integers in `[min, max]`. The converters below ({@link num}, {@link choice},
 * {@link span}, {@link limit}, {@link path}) likewise throw a {@link UsageError} that names the
 * flag and quotes the value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { choice, int, limit, num, span } from "./flags.ts";
 * assert.deepEqual(int({ min: 1 })("64", "batch"), 64);
 * assert.throws(() => int({ min: 1 })("-1", "batch"), { message: '--batch must be an integer >= 1, got "-1"' });
 * assert.deepEqual(num({ min: 0, above: true })("1e-3", "lr"), 0.001);
 * assert.throws(() => num({ min: 0, above: true })("NaN", "lr"), { message: '--lr must be a number > 0, got "NaN"' });
 * assert.deepEqual(choice(["cpu", "webgpu"])("cpu", "backend"), "cpu");
 * assert.deepEqual([span()("0.5ep", "warmup"), limit("all", "test-limit")], ["0.5ep", null]);
 * ```
 */
export const int = (range: { min?: number; max?: number } = {}): Parse<number> => (x, f) => {
  const n = Number(x), { min = -Infinity, max = Infinity } = range;
  if (x.trim() === "" || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${f} must be an integer${rangeText(min, max)}, got "${x}"`);
  }
  return n;
};

/** A `parse` for finite numbers in `[min, max]` (`above`: strictly greater than `min`). */
export const num =
  (range: { min?: number; max?: number; above?: boolean } = {}): Parse<number> => (x, f) => {
    const n = Number(x), { min = -Infinity, max = Infinity, above = false } = range;
    if (x.trim() === "" || !Number.isFinite(n) || (above ? n <= min : n < min) || n > max) {
      const r = above && max === Infinity ? ` > ${min}` : rangeText(min, max);
      throw new UsageError(`--${f} must be a number${r}, got "${x}"`);
    }
    return n;
  };

/** A `parse` for one of `choices`. */
export const choice = <const T extends string>(choices: readonly T[]): Parse<T> => (x, f) => {
  if (!(choices as readonly string[]).includes(x)) {
    throw new UsageError(`--${f} must be one of ${choices.join(", ")}, got "${x}"`);
  }
  return x as T;
};

/**
 * A `parse` for a length in steps (`"500"`) or epochs (`"2ep"`, fractions allowed), kept as
 * written so it can be stored in a run's config and resolved ({@link resolveSpan}) once the
 * epoch length is known.
 */
export const span = (opts: { allowZero?: boolean } = {}): Parse<string> => (x, f) => {
  const m = /^(\d+(?:\.\d+)?)(ep)?$/.exec(x.trim());
  const n = m ? Number(m[1]) : NaN;
  if (!(m && (m[2] || Number.isInteger(n)) && (opts.allowZero ? n >= 0 : n > 0))) {
    throw new UsageError(
      `--${f} must be a number of steps (e.g. 200) or epochs (e.g. 1ep)${
        opts.allowZero ? "" : ", above 0"
      }, got "${x}"`,
    );
  }
  return x.trim();
};

/**
 * Steps of a span (see {@link span}) given the steps per epoch (epochs round to the nearest
 * step).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveSpan } from "./flags.ts";
 * assert.deepEqual([resolveSpan("0.5ep", 100), resolveSpan("30", 100)], [50, 30]);
 * ```
 */
export function resolveSpan(span: string, stepsPerEpoch: number): number {
  return span.endsWith("ep") ? Math.round(Number(span.slice(0, -2)) * stepsPerEpoch) : Number(span);
}

/** A `parse` for a count limit: a positive integer, or `all` (null). */
export const limit: Parse<number | null> = (x, f): number | null => {
  if (x === "all") return null;
  const n = Number(x);
  if (x.trim() === "" || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--${f} must be a positive integer or "all", got "${x}"`);
  }
  return n;
};

/** A `parse` for a path that must not be empty (`what` names what it should be). */
export const path = (what: string): Parse<string> => (x, f) => {
  if (x.trim() === "") throw new UsageError(`--${f} needs ${what}`);
  return x;
};

/** A switch's `parse`: the flag sets `value`. */
export const on = <const T>(value: T): () => T => (): T => value;

/**
 * One row of the flag table: `--flag` sets option `key` to `parse(value, flag)` (a switch, one
 * without `arg`, to `parse("", flag)`); `default` is the value when the flag is absent and is
 * what `--help` shows (`none` describes a null default); `group` is the help section.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Flag } from "./flags.ts";
 * const lr: Flag = { flag: "lr", key: "lr", arg: "X", parse: Number, default: 0.1, help: "learning rate", group: "Optimisation" };
 * assert.deepEqual(lr.parse("0.5", "lr"), 0.5);
 * ```
 */
export interface Flag {
  /** The name after `--`. */
  flag: string;
  /** The option it sets. */
  key: string;
  /** Converts the value ({@link UsageError} naming the flag when it is bad). */
  parse(raw: string, flag: string): unknown;
  /** The option's value when the flag is absent. */
  default: unknown;
  /** One line of `--help` (the default is appended from `default`). */
  help: string;
  /** The `--help` section. */
  group: string;
  /** The value's placeholder in `--help` (`N`, `X`, `DIR`); absent for a switch. */
  arg?: string;
  /** What a null default means, for `--help`. */
  none?: string;
  /** Options a given flag also sets (explicit flags win). */
  implies?: Record<string, unknown>;
  /** Left out of `--help` (test hooks, retired flags). */
  hidden?: boolean;
}

/** The value type of a flag entry: what `parse` returns or the default. */
export type ValueOf<F> = F extends { parse(...a: never[]): infer T; default: infer D } ? T | D
  : never;

/** The Options type of a flag list: one key per entry, typed by its parser and default. */
export type OptionsOf<F extends readonly Flag[]> = {
  -readonly [E in F[number] as E["key"]]: ValueOf<E>;
};

/**
 * Sets the `group` of flag rows (a group's rows are written without it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { group, int } from "./flags.ts";
 * const [seed] = group("Run", [{ flag: "seed", key: "seed", arg: "N", parse: int(), default: 0, help: "seed" }]);
 * assert.deepEqual(seed.group, "Run");
 * ```
 */
export function group<const F extends readonly Omit<Flag, "group">[]>(
  name: string,
  rows: F,
): { [I in keyof F]: F[I] & { group: string } } {
  return rows.map((r) => ({ ...r, group: name })) as never;
}

/** A row with some fields replaced (`default`, `parse`, `help`…), typed accordingly. */
export type Adjusted<F, D> = F extends { key: infer K }
  ? K extends keyof D ? Omit<F, keyof D[K]> & D[K]
  : F
  : F;

/**
 * A command's version of shared rows: fields of the rows named by key replaced (a different
 * default, a stricter parser, a different help line).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adjust, group, int } from "./flags.ts";
 * const g = group("Run", [{ flag: "seed", key: "seed", arg: "N", parse: int(), default: 0, help: "seed" }]);
 * assert.deepEqual(adjust(g, { seed: { default: null } })[0].default, null);
 * ```
 */
export function adjust<
  const F extends readonly Flag[],
  const D extends { [K in F[number]["key"]]?: Partial<Flag> },
>(rows: F, changes: D): { [I in keyof F]: Adjusted<F[I], D> } {
  return rows.map((r) => ({ ...r, ...(changes as Record<string, Partial<Flag>>)[r.key] })) as never;
}

/** `train-limit` → `trainLimit`. */
export type CamelCase<S extends string> = S extends `${infer A}-${infer B}`
  ? `${A}${Capitalize<CamelCase<B>>}`
  : S;

/**
 * A value row in one line: `row("train-limit", "N|all", limit, 4000, "first N training images")`
 * is `{flag: "train-limit", key: "trainLimit", arg: "N|all", parse: limit, default: 4000, help}`;
 * `more` adds `none`, `implies` or `hidden`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { int, row } from "./flags.ts";
 * const r = row("log-every", "N", int({ min: 1 }), 50, "progress period");
 * assert.deepEqual([r.key, r.parse("7", r.flag), r.default], ["logEvery", 7, 50]);
 * ```
 */
export function row<const N extends string, P extends (x: string, f: string) => unknown, const D>(
  flag: N,
  arg: string,
  parse: P,
  def: D,
  help: string,
  more: Pick<Flag, "none" | "implies" | "hidden"> = {},
): { flag: N; key: CamelCase<N>; arg: string; parse: P; default: D; help: string } {
  const key = flag.replace(/-(\w)/g, (_, c: string) => c.toUpperCase()) as CamelCase<N>;
  return { flag, key, arg, parse, default: def, help, ...more };
}

/** A switch row: `--flag` sets its key to `value` (else `def`). */
export function sw<const N extends string, const V extends boolean>(
  flag: N,
  value: V,
  def: boolean,
  help: string,
): { flag: N; key: CamelCase<N>; parse: () => V; default: boolean; help: string } {
  return { ...row(flag, "", () => value, def, help), arg: undefined } as never;
}

/**
 * A preset switch: `--flag` sets its key to true and the options in `implies` (flags given
 * explicitly, and what they imply, win over a preset). `--help` spells the preset out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { int, parseCommand, preset, row } from "./flags.ts";
 * const flags = [
 *   { ...row("steps", "N", int({ min: 1 }), 100, "steps"), group: "Run" },
 *   { ...preset("smoke", "a few steps", { steps: 3 }), group: "Run" },
 * ] as const;
 * const p = parseCommand({ name: "demo", title: "", flags }, ["--smoke"]);
 * const q = parseCommand({ name: "demo", title: "", flags }, ["--steps", "5", "--smoke"]);
 * assert.ok(p !== "help" && q !== "help");
 * assert.deepEqual([p.options, q.options], [{ steps: 3, smoke: true }, { steps: 5, smoke: true }]);
 * ```
 */
export function preset<const N extends string>(
  flag: N,
  help: string,
  implies: Record<string, unknown>,
): { flag: N; key: CamelCase<N>; parse: () => true; default: boolean; help: string } {
  return { ...sw(flag, true, false, help), implies } as never;
}

/** `--smoke = --steps 3 --batch 8` for a preset row (null settings left out). */
function presetText(f: Flag, flags: readonly Flag[]): string {
  const parts = Object.entries(f.implies ?? {}).flatMap(([k, v]) => {
    const r = flags.find((x) => x.key === k && x.arg !== undefined) ??
      flags.find((x) => x.key === k);
    if (v === null || v === false || r === undefined) return [];
    return [r.arg === undefined ? `--${r.flag}` : `--${r.flag} ${showValue(v)}`];
  });
  return `--${f.flag} = ${parts.join(" ")}`;
}

/**
 * A command's flag table and the text around it in `--help`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CommandFlags } from "./flags.ts";
 * const c: CommandFlags<[]> = { name: "demo", title: "a demo", flags: [] };
 * assert.deepEqual(c.name, "demo");
 * ```
 */
export interface CommandFlags<F extends readonly Flag[]> {
  /** The command name. */
  name: string;
  /** One line after the name in `--help`. */
  title: string;
  /** The rows. */
  flags: F;
  /** The usage line's tail (default `[flags]`). */
  usage?: string;
  /** Paragraph between the usage line and the flags. */
  intro?: string;
  /** Pairs of flags that exclude each other. */
  exclusive?: readonly (readonly [string, string])[];
  /** Last lines of `--help`. */
  footer?: string;
}

/** The result of {@link parseCommand}: the options given (and implied) and all of them. */
export interface Parsed<O> {
  /** Options set on the command line (including those implied by a given flag). */
  given: Partial<O>;
  /** Defaults overridden by `given`. */
  options: O;
}

/** The defaults of a flag table. */
export function defaultsOf<F extends readonly Flag[]>(flags: F): OptionsOf<F> {
  const o: Record<string, unknown> = {};
  for (const f of flags) if (!(f.key in o)) o[f.key] = f.default;
  return o as OptionsOf<F>;
}

/**
 * Parses `argv` with a command's table; `"help"` for `-h`/`--help`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { group, int, parseCommand } from "./flags.ts";
 * const flags = group("Run", [
 *   { flag: "steps", key: "steps", arg: "N", parse: int({ min: 1 }), default: null, help: "steps" },
 *   { flag: "epochs", key: "epochs", arg: "X", parse: Number, default: 2, help: "epochs", implies: { steps: null } },
 * ]);
 * const p = parseCommand({ name: "demo", title: "", flags }, ["--steps", "5"]);
 * assert.ok(p !== "help");
 * assert.deepEqual([p.given, p.options], [{ steps: 5 }, { steps: 5, epochs: 2 }]);
 * assert.throws(() => parseCommand({ name: "demo", title: "", flags }, ["--steps", "-1"]), {
 *   message: '--steps must be an integer >= 1, got "-1"',
 * });
 * ```
 */
export function parseCommand<F extends readonly Flag[]>(
  cmd: CommandFlags<F>,
  argv: string[],
): Parsed<OptionsOf<F>> | "help" {
  const decls: Record<string, FlagDecl> = { help: { type: "boolean", short: "h" } };
  for (const f of cmd.flags) decls[f.flag] = { type: f.arg === undefined ? "boolean" : "string" };
  const v = parseFlags(argv, decls);
  if (v.help) return "help";
  for (const [a, b] of cmd.exclusive ?? []) {
    if (v[a] !== undefined && v[b] !== undefined) {
      throw new UsageError(`give --${a} or --${b}, not both`);
    }
  }
  // A preset's (a switch's) implied settings first, then a value flag's; given flags win.
  const implied: Record<string, unknown> = {}, set: Record<string, unknown> = {};
  const given = cmd.flags.filter((f) => v[f.flag] !== undefined);
  for (const f of given) if (f.arg === undefined) Object.assign(implied, f.implies);
  for (const f of given) {
    const raw = v[f.flag];
    if (f.arg !== undefined) Object.assign(implied, f.implies);
    set[f.key] = f.parse(typeof raw === "string" ? raw : "", f.flag);
  }
  const all = { ...implied, ...set } as Partial<OptionsOf<F>>;
  return { given: all, options: { ...defaultsOf(cmd.flags), ...all } };
}

/**
 * A value as `--help` writes it; a fraction as the shorter of `0.003` and `3e-3`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { showValue } from "./flags.ts";
 * assert.deepEqual([showValue(0.003), showValue(0.05), showValue(4000)], ["3e-3", "0.05", "4000"]);
 * ```
 */
export function showValue(x: unknown): string {
  if (typeof x !== "number" || Number.isInteger(x)) return String(x);
  const e = x.toExponential().replace("e+", "e");
  return e.length < String(x).length ? e : String(x);
}

function showDefault(f: Flag): string {
  if (f.arg === undefined) return "";
  if (f.default === null) return f.none ? ` (default: ${f.none})` : "";
  return ` (default ${showValue(f.default)})`;
}

/**
 * The `--help` text of a command: title, usage, intro, then each group's flags with their
 * defaults (short rows two to a line), then the footer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { group, helpText, int } from "./flags.ts";
 * const flags = group("Run", [{ flag: "seed", key: "seed", arg: "N", parse: int(), default: 0, help: "seed" }]);
 * assert.match(helpText({ name: "demo", title: "a demo", flags }), /--seed N +seed \(default 0\)/);
 * ```
 */
export function helpText<F extends readonly Flag[]>(cmd: CommandFlags<F>): string {
  const lines = [
    `train.ts ${cmd.name} — ${cmd.title}`,
    "",
    `Usage: deno run -A train.ts ${cmd.name} ${cmd.usage ?? "[flags]"}`,
    ...(cmd.intro ? [cmd.intro] : []),
  ];
  const groups = [...new Set(cmd.flags.filter((f) => !f.hidden).map((f) => f.group))];
  for (const g of groups) {
    lines.push(`${g}:`);
    const cells = cmd.flags.filter((f) => f.group === g && !f.hidden).map((f) => {
      const name = `--${f.flag}${f.arg ? ` ${f.arg}` : ""}`;
      return `${name.padEnd(Math.max(name.length + 1, 18))} ${f.help}${showDefault(f)}`;
    });
    // Two cells of a group share a line (at column 51 when they can) if it stays ≤ 98 wide.
    while (cells.length > 0) {
      const a = cells.shift()!, left = a.length <= 47 ? a.padEnd(49) : `${a}   `;
      const j = cells.findIndex((c) => left.length + c.length <= 96);
      lines.push(j < 0 ? `  ${a}` : `  ${left}${cells.splice(j, 1)[0]}`);
    }
  }
  for (const f of cmd.flags.filter((f) => f.implies && f.arg === undefined && !f.hidden)) {
    // Wrapped at 96 columns, continuation lines indented.
    let line = "";
    for (const word of presetText(f, cmd.flags).split(" ")) {
      if (line.length > 0 && line.length + word.length + 1 > 96) lines.push(line), line = "   ";
      line += (line.trim() ? " " : "") + word;
    }
    lines.push(line);
  }
  lines.push(`-h, --help: this help. ${cmd.footer ?? ""}`.trimEnd());
  return lines.join("\n");
}
