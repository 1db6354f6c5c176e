/**
 * Run directories: `runs/<command>-<timestamp>/` by default, holding `metrics.jsonl`, the SVG
 * plots and `ckpt_latest.safetensors`.
 * @module
 */
import { TesseraError } from "../tensor/errors.ts";
import { dirname, join } from "node:path";
import { dispose } from "../tensor/mod.ts";
import { CHECKPOINT_FORMAT, decodeCheckpoint } from "../nn/checkpoint.ts";
import { UsageError } from "./flags.ts";

/**
 * The files of a run directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runPaths } from "./run_dir.ts";
 * assert.deepEqual(runPaths("runs/x").checkpoint, "runs/x/ckpt_latest.safetensors");
 * ```
 */
export interface RunPaths {
  /** The directory. */
  dir: string;
  /** `metrics.jsonl`. */
  metrics: string;
  /** `ckpt_latest.safetensors` (rewritten atomically at every checkpoint). */
  checkpoint: string;
}

/** The paths of the run directory `dir`. */
export function runPaths(dir: string): RunPaths {
  return {
    dir,
    metrics: join(dir, "metrics.jsonl"),
    checkpoint: join(dir, "ckpt_latest.safetensors"),
  };
}

/**
 * `runs/<command>-YYYYMMDD-HHMMSS` (local time).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultRunDir } from "./run_dir.ts";
 * assert.deepEqual(defaultRunDir("finetune", new Date(2026, 0, 2, 3, 4, 5)), "runs/finetune-20260102-030405");
 * ```
 */
export function defaultRunDir(command: string, now: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${
    p(now.getHours())
  }${p(now.getMinutes())}${p(now.getSeconds())}`;
  return join("runs", `${command}-${stamp}`);
}

/** Whether `path` exists; other failures (a file as a parent, no permission) are usage errors. */
async function exists(path: string, flag: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw new UsageError(`${flag}: cannot use ${path} (${(e as Error).message})`);
  }
}

/** The first of `dir` and its ancestors that exists and is not a directory, or null. */
async function fileInTheWay(dir: string): Promise<string | null> {
  const chain: string[] = [];
  for (let p = dir; !chain.includes(p); p = dirname(p)) chain.push(p);
  for (const p of chain.reverse()) {
    try {
      if (!(await Deno.stat(p)).isDirectory) return p;
    } catch {
      return null; // missing (mkdir creates it) or unreadable (reported below)
    }
  }
  return null;
}

/**
 * Creates the run directory. A new run refuses a directory that already has metrics (so two
 * runs never mix); a resumed run (`resuming`) continues in it.
 */
export async function prepareRunDir(dir: string, resuming: boolean): Promise<RunPaths> {
  const paths = runPaths(dir);
  const blocker = await fileInTheWay(dir);
  if (blocker !== null) {
    throw new UsageError(
      blocker === dir
        ? `--out ${dir} is a file, not a directory`
        : `--out ${dir}: ${blocker} is a file, not a directory`,
    );
  }
  if (!resuming && await exists(paths.metrics, `--out ${dir}`)) {
    throw new UsageError(
      `--out ${dir} already holds a run (metrics.jsonl); choose another --out, or continue it ` +
        `with --resume ${paths.checkpoint}`,
    );
  }
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (e) {
    throw new UsageError(`--out ${dir}: cannot create the directory (${(e as Error).message})`);
  }
  return paths;
}

/**
 * The checkpoint file a `--resume` value names: the file itself, or a run directory's
 * `ckpt_latest.safetensors`. Missing files are {@link UsageError}s naming the path.
 */
export async function resolveResume(path: string): Promise<{ file: string; runDir: string }> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    throw new UsageError(`--resume ${path}: no such file or directory`);
  }
  const file = info.isDirectory ? runPaths(path).checkpoint : path;
  if (info.isDirectory && !(await exists(file, `--resume ${path}`))) {
    throw new UsageError(`--resume ${path}: the directory has no ckpt_latest.safetensors`);
  }
  return { file, runDir: info.isDirectory ? path : dirname(path) };
}

/**
 * Where a `--resume` run continues from: the checkpoint's bytes, its run directory, the settings
 * it was started with (its config must be a `command` run's) and its step. Every problem is a
 * {@link UsageError} naming `--resume` and the file.
 *
 * @example
 * ```ts ignore
 * import { readResumePoint } from "./run_dir.ts";
 * const r = await readResumePoint<{ lr: number }>("runs/finetune-x", "finetune");
 * console.log(r.step, r.options.lr);
 * ```
 */
export async function readResumePoint<O>(
  path: string,
  command: string,
): Promise<{ bytes: Uint8Array; file: string; runDir: string; options: O; step: number }> {
  const { file, runDir } = await resolveResume(path);
  try {
    const bytes = await Deno.readFile(file);
    const peek = decodeCheckpoint(bytes);
    dispose([peek.params, peek.optState, peek.rngKey]);
    if (peek.format !== CHECKPOINT_FORMAT) {
      throw new TesseraError(
        "readResumePoint",
        `its format is ${JSON.stringify(peek.format)}, not ${CHECKPOINT_FORMAT}`,
      );
    }
    const cfg = peek.config as { command?: string; options?: O } | null;
    if (!cfg || cfg.command !== command || !cfg.options) {
      throw new TesseraError(
        "readResumePoint",
        `it is not a checkpoint of a ${command} run (no ${command} config)`,
      );
    }
    return { bytes, file, runDir, options: cfg.options, step: peek.step };
  } catch (e) {
    throw new UsageError(
      `--resume ${file}: ${(e as Error).message.replace(/^readResumePoint: /, "")}`,
    );
  }
}

/**
 * Throws a {@link UsageError} naming `--flag` unless `path` is a directory it can list.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requireDir } from "./run_dir.ts";
 * await requireDir("data", ".");
 * await assert.rejects(requireDir("data", "/no/such/dir"), /^UsageError: --data \/no\/such\/dir: /);
 * ```
 */
export async function requireDir(flag: string, path: string): Promise<void> {
  try {
    for await (const _ of Deno.readDir(path)) break;
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "no such directory" : fsReason(e as Error);
    throw new UsageError(`--${flag} ${path}: ${why}`);
  }
}

/** `Not a directory (os error 20): mkdir '/x'` → `Not a directory (mkdir /x)`. */
function fsReason(e: Error): string {
  const m = /^(.*?) \(os error \d+\)(?:: (\w+) '(.*)')?$/.exec(e.message);
  if (!m) return e.message;
  return m[2] ? `${m[1]} (${m[2]} ${m[3]})` : m[1]!;
}

/**
 * Loaders whose errors about the path a flag names (missing, unreadable, the wrong kind, empty
 * of what it should hold: {@link NOT_THERE}) are usage errors (exit 2); complaints about the
 * content of a file that is there keep their exit code.
 */
const LOADER_OPS = new Set([
  "loadFashionMnist",
  "fashionMnistDataset",
  "readIdx",
  "loadCocoGt",
  "loadCocoResults",
  "cocoDetectionFolder",
  "segmentationFolder",
  "evaluateSegFolders",
  "readLabelPng",
  "decodeImage",
  "ImageFolder",
]);

const NOT_THERE =
  /cannot (?:read|list|open)|does not exist|no such|not a directory|is a directory|permission denied|holds no|no prediction|no Fashion-MNIST/i;

const FS_ERRORS = [
  "NotFound",
  "PermissionDenied",
  "NotADirectory",
  "IsADirectory",
  "AlreadyExists",
];

/**
 * The {@link UsageError} a command's failure is when it is about a path given on the command
 * line (`argv`): a file-system error (no such file, no permission, a file where a directory is
 * needed…) on that path or below it, or a data loader's report that it is missing, unreadable or
 * empty. The message names the flag and the path; null for any other failure.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pathUsageError } from "./run_dir.ts";
 * const e = await Deno.mkdir("/proc/x/y", { recursive: true }).catch((e) => e);
 * const u = pathUsageError(e, ["--lr", "1", "--out", "/proc/x"]);
 * assert.match(u!.message, /^--out \/proc\/x: /);
 * assert.deepEqual(pathUsageError(new Error("boom"), ["--out", "/proc/x"]), null);
 * ```
 */
export function pathUsageError(e: unknown, argv: readonly string[]): UsageError | null {
  if (!(e instanceof Error)) return null;
  const given: [string, string][] = [];
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z][a-z-]*)(?:=(.*))?$/.exec(argv[i]!);
    if (!m) continue;
    const v = m[2] ?? argv[i + 1];
    if (m[2] === undefined) i++;
    if (v && !v.startsWith("--") && !Number.isFinite(Number(v))) given.push([m[1]!, v]);
  }
  /** The flag whose value `text` mentions first (as a path or a path's parent). */
  const at = (text: string, exact: boolean): [string, string] | null => {
    let best: [string, string] | null = null, bestAt = Infinity;
    for (const [flag, v] of given) {
      const esc = v.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      const re = exact
        ? new RegExp(`^${esc}(?:/|$)`)
        : new RegExp(`(?:^|[\\s'"(])${esc}(?=$|[/\\s'":),])`);
      const m = re.exec(text);
      if (m && m.index < bestAt) best = [flag, v], bestAt = m.index;
    }
    return best;
  };
  if (FS_ERRORS.includes(e.name)) {
    const target = /: \w+ '(.*)'$/.exec(e.message)?.[1];
    const hit = target === undefined ? null : at(target, true);
    if (!hit) return null;
    const why = e.name === "AlreadyExists" && / mkdir '/.test(e.message)
      ? `${target} is a file, not a directory`
      : fsReason(e);
    return new UsageError(`--${hit[0]} ${hit[1]}: ${why}`);
  }
  if (e instanceof TesseraError && LOADER_OPS.has(e.op) && NOT_THERE.test(e.message)) {
    const detail = e.message.slice(e.op.length + 2);
    const hit = at(detail, false);
    if (!hit) return null;
    const rest = detail.startsWith(`${hit[1]}: `) ? detail.slice(hit[1].length + 2) : detail;
    return new UsageError(`--${hit[0]} ${hit[1]}: ${rest}`);
  }
  return null;
}
