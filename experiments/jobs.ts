/**
 * The job runner of the experiments (`experiment-cls`, and the dense one to come): each job is
 * a `train.ts` subprocess whose arguments may depend on earlier jobs' final JSON lines; at most
 * `parallel` run at once; each job's log goes to `out/NAME.log` and its result to
 * `out/NAME.result.json`, and a job whose kept result has the same arguments is skipped, so an
 * interrupted experiment resumes. When a job fails, the others are killed.
 * @module
 */
import { TesseraError } from "../tensor/errors.ts";
import type { CliIO } from "../trainer/io.ts";
import { formatDuration } from "../trainer/progress.ts";

/**
 * One job: a name, the jobs it waits for, and its `train.ts` arguments computed from their
 * results.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Job } from "./jobs.ts";
 * const j: Job = { name: "a", deps: [], args: () => ["linear", "--smoke"] };
 * assert.deepEqual(j.args(new Map()), ["linear", "--smoke"]);
 * ```
 */
export interface Job {
  name: string;
  deps: string[];
  /** train.ts arguments, computed when the deps are done. */
  args: (done: Map<string, Record<string, unknown>>) => string[];
}

/** Child processes still running (killed when a job fails). */
const children = new Set<Deno.ChildProcess>();

/** Runs one `train.ts` subprocess; returns its final JSON line. */
async function runJob(
  job: Job,
  args: string[],
  out: string,
  op: string,
): Promise<Record<string, unknown>> {
  const train = new URL("../train.ts", import.meta.url).href;
  const logPath = `${out}/${job.name}.log`;
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", train, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  children.add(proc);
  const [o, status] = await Promise.all([proc.output(), proc.status]).finally(
    () => children.delete(proc),
  );
  const stdout = new TextDecoder().decode(o.stdout),
    stderr = new TextDecoder().decode(o.stderr);
  await Deno.writeTextFile(
    logPath,
    `$ train.ts ${args.join(" ")}\n${stderr}${stdout}`,
  );
  if (!status.success) {
    throw new TesseraError(
      op,
      `${job.name} failed (exit ${status.code}); log ${logPath}:\n${
        stderr.split("\n").slice(-8).join("\n")
      }`,
    );
  }
  const last = stdout.trim().split("\n").at(-1) ?? "";
  let result: Record<string, unknown>;
  try {
    result = { ...JSON.parse(last), args };
  } catch {
    throw new TesseraError(
      op,
      `${job.name}: no JSON result on stdout; log ${logPath}`,
    );
  }
  // Kept so that a rerun of the experiment into the same folder skips this job.
  const file = `${out}/${job.name}.result.json`;
  await Deno.writeTextFile(`${file}.tmp`, JSON.stringify(result) + "\n");
  await Deno.rename(`${file}.tmp`, file);
  return result;
}

/** A job's kept result from an earlier run into `out`, when its arguments are the same. */
async function keptResult(
  name: string,
  args: string[],
  out: string,
): Promise<Record<string, unknown> | null> {
  let kept: Record<string, unknown>;
  try {
    kept = JSON.parse(await Deno.readTextFile(`${out}/${name}.result.json`));
  } catch {
    return null;
  }
  return JSON.stringify(kept.args) === JSON.stringify(args) ? kept : null;
}

/**
 * Runs `jobs` (dependencies honoured, at most `parallel` at once) into `out`; returns every
 * job's final JSON line (plus its `args`) by name. `op` names the experiment in errors; when a
 * job fails, the running ones are killed.
 *
 * @example
 * ```ts ignore
 * import { runJobs } from "./jobs.ts";
 * import { denoIO } from "../trainer/io.ts";
 * const done = await runJobs([{ name: "floor", deps: [], args: () => ["linear", "--smoke"] }], 1, "runs/x", denoIO(), "demo");
 * ```
 */
export async function runJobs(
  jobs: Job[],
  parallel: number,
  out: string,
  io: CliIO,
  op: string,
): Promise<Map<string, Record<string, unknown>>> {
  const done = new Map<string, Record<string, unknown>>();
  const pending = [...jobs];
  const running = new Map<string, Promise<void>>();
  const t0 = performance.now();
  try {
    while (pending.length > 0 || running.size > 0) {
      while (running.size < parallel) {
        const i = pending.findIndex((j) => j.deps.every((d) => done.has(d)));
        if (i < 0) break;
        const job = pending.splice(i, 1)[0]!;
        const args = job.args(done);
        const at = () => formatDuration((performance.now() - t0) / 1000);
        running.set(
          job.name,
          (async () => {
            const kept = await keptResult(job.name, args, out);
            if (!kept) io.err(`experiment: start ${job.name}  (${at()})\n`);
            const r = kept ?? await runJob(job, args, out, op);
            done.set(job.name, r);
            running.delete(job.name);
            io.err(
              `experiment: ${kept ? "kept " : "done "} ${job.name}  ${summary(r)}  (${at()})\n`,
            );
          })(),
        );
      }
      if (running.size === 0) {
        throw new TesseraError(op, "unsatisfiable job dependencies");
      }
      await Promise.race(running.values());
    }
  } catch (e) {
    for (const c of children) {
      try {
        c.kill();
      } catch { /* already gone */ }
    }
    throw e;
  }
  return done;
}

function summary(r: Record<string, unknown>): string {
  if (typeof r.test_accuracy === "number") {
    return `top-1 ${(r.test_accuracy * 100).toFixed(2)}%`;
  }
  if (typeof r.loss === "number") return `loss ${r.loss}, ${r.seconds}s`;
  return "";
}
