/**
 * The Worker of one `sim` replica: imports the replica module, runs its function with the
 * replica's collectives and posts the result (or the error) back to `simulate`.
 * @module
 */
/// <reference lib="deno.worker" />
import { TesseraError } from "../tensor/errors.ts";
import { simAbort, simCollectives, type SimShared } from "./sim.ts";

/** What `simulate` sends each Worker. */
interface Start {
  rank: number;
  size: number;
  shared: SimShared;
  module: string;
  exportName: string;
  input: unknown;
}

self.onmessage = async (e: MessageEvent<Start>) => {
  const { rank, size, shared, module, exportName, input } = e.data;
  try {
    const mod = await import(module);
    const fn = mod[exportName];
    if (typeof fn !== "function") {
      throw new TesseraError("simulate", `${module} has no function export "${exportName}"`);
    }
    const coll = simCollectives(rank, size, shared);
    const result = await fn(coll, input);
    coll.close();
    self.postMessage({ ok: true, result });
  } catch (err) {
    simAbort(shared, rank);
    const message = err instanceof Error ? err.message : String(err);
    const stack = err instanceof Error ? err.stack ?? message : message;
    self.postMessage({ ok: false, message, stack });
  }
};
