/**
 * Choosing an engine (`--dist local|mpi|sim:W`, or the launcher's environment) and running a
 * replica module under it — the one entry point a training CLI needs.
 * @module
 */
import { TesseraError } from "../tensor/errors.ts";
import { local } from "./collectives.ts";
import { initMpi, type MpiOptions } from "./mpi.ts";
import { launchedBy } from "./mpi_ffi.ts";
import { simulate, type SimulateOptions } from "./sim.ts";

/** Which engine runs a job, and for `sim` how many replicas. */
export type DistSpec = { engine: "local" } | { engine: "mpi" } | { engine: "sim"; size: number };

/**
 * Parses `local`, `mpi` or `sim:W`; without a spec, `mpi` when an MPI launcher started this
 * process (its variables are in `env`), else `local`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDist } from "./engine.ts";
 * assert.deepEqual(parseDist("sim:4"), { engine: "sim", size: 4 });
 * assert.deepEqual(parseDist(undefined, { OMPI_COMM_WORLD_SIZE: "2", OMPI_COMM_WORLD_RANK: "0" }), {
 *   engine: "mpi",
 * });
 * assert.deepEqual(parseDist(undefined, {}), { engine: "local" });
 * ```
 */
export function parseDist(
  spec: string | undefined,
  env: Record<string, string | undefined> = Deno.env.toObject(),
): DistSpec {
  if (spec === undefined || spec === "") {
    return launchedBy(env) ? { engine: "mpi" } : { engine: "local" };
  }
  if (spec === "local" || spec === "mpi") return { engine: spec };
  const m = /^sim:(\d+)$/.exec(spec);
  if (m && Number(m[1]) >= 1) return { engine: "sim", size: Number(m[1]) };
  throw new TesseraError("parseDist", `--dist must be local, mpi or sim:W (W ≥ 1), got "${spec}"`);
}

/** Options of {@link runDistributed}. */
export interface RunOptions extends SimulateOptions {
  /** Options of the mpi engine. */
  mpi?: MpiOptions;
}

/**
 * Runs `module`'s replica function (`(coll, input) => result`) under `spec`: once with
 * `local()`, once in this process as its MPI rank (then `MPI_Finalize`), or as W Workers.
 * Returns the results this process saw: `[result]` for local and mpi (this rank's), one per
 * rank for sim.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runDistributed } from "./engine.ts";
 * const mod = "data:application/javascript," +
 *   encodeURIComponent("export default (c, x) => c.rank * 10 + c.size + x;");
 * assert.deepEqual(await runDistributed({ engine: "local" }, mod, { input: 0.5 }), [1.5]);
 * assert.deepEqual(await runDistributed({ engine: "sim", size: 2 }, mod, { input: 0 }), [2, 12]);
 * ```
 */
export async function runDistributed(
  spec: DistSpec,
  module: string | URL,
  opts: RunOptions = {},
): Promise<unknown[]> {
  if (spec.engine === "sim") return await simulate(spec.size, module, opts);
  const mod = await import(String(module));
  const fn = mod[opts.exportName ?? "default"];
  if (typeof fn !== "function") {
    throw new TesseraError(
      "runDistributed",
      `${module} has no function export "${opts.exportName ?? "default"}"`,
    );
  }
  const coll = spec.engine === "mpi" ? initMpi(opts.mpi) : local();
  const result = await fn(coll, opts.input);
  coll.close();
  return [result];
}
