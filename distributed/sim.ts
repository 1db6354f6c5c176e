/**
 * `sim(W)`: W replicas in one process — the test oracle of the `mpi` engine. Each replica
 * runs in its own Worker (the collectives are synchronous, so replicas need their own
 * threads); collectives meet in a SharedArrayBuffer, and every rank combines the W
 * contributions itself, on the host, in rank order — so all ranks get bit-identical results,
 * and two ranks get exactly what an MPI library computes.
 * @module
 */
import { TesseraError } from "../tensor/errors.ts";
import {
  blockOf,
  checkRoot,
  type Collectives,
  type HostArray,
  type HostDType,
  hostDType,
  type InPlace,
  newHost,
  sumInRankOrder,
} from "./collectives.ts";

// Control words: generation and arrival count of the barrier, the aborting rank + 1, the number
// of replicas that finished, then four words per rank describing its pending collective (op,
// dtype, length, root).
const GEN = 0, COUNT = 1, ABORT = 2, DONE = 3, META = 4;
const OPS = ["allReduceSum", "broadcast", "allGather", "reduceScatterSum", "barrier"] as const;
const DTYPES: readonly HostDType[] = ["float32", "float64", "int32"];
const WAIT_MS = 50;

/** The memory a {@link simCollectives} replica shares with the others. */
export interface SimShared {
  /** Control words and every rank's data slot. */
  buffer: SharedArrayBuffer;
  /** Bytes of each rank's data slot. */
  capacityBytes: number;
}

/** Allocates the shared memory of `size` replicas with `capacityBytes` per rank. */
export function simShared(size: number, capacityBytes: number): SimShared {
  const ctlBytes = (META + 4 * size) * 4;
  const offset = Math.ceil(ctlBytes / 8) * 8;
  return { buffer: new SharedArrayBuffer(offset + size * capacityBytes), capacityBytes };
}

/**
 * The collectives of replica `rank` of `size` over `shared` (used by the sim Worker; tests
 * may build all ranks in one thread only for a collective that never waits, as below).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { simCollectives, simShared } from "./sim.ts";
 * const c = simCollectives(0, 1, simShared(1, 64));
 * assert.deepEqual([...c.allReduceSum(new Float64Array([0.5]))], [0.5]);
 * ```
 */
export function simCollectives(rank: number, size: number, shared: SimShared): Collectives {
  const { buffer, capacityBytes } = shared;
  const ctl = new Int32Array(buffer, 0, META + 4 * size);
  const dataOffset = Math.ceil(ctl.byteLength / 8) * 8;
  let closed = false;

  const barrier = (op: string) => {
    const gen = Atomics.load(ctl, GEN);
    if (Atomics.add(ctl, COUNT, 1) === size - 1) {
      Atomics.store(ctl, COUNT, 0);
      Atomics.add(ctl, GEN, 1);
      Atomics.notify(ctl, GEN);
    } else {
      while (Atomics.load(ctl, GEN) === gen) {
        const ab = Atomics.load(ctl, ABORT);
        if (ab) throw new TesseraError(op, `replica ${ab - 1} failed; rank ${rank} stops`);
        // A replica that finished never joins this barrier (it bumps GEN before DONE, so
        // seeing DONE with GEN unchanged means it left before this collective).
        const done = Atomics.load(ctl, DONE);
        if (done && Atomics.load(ctl, GEN) === gen) {
          throw new TesseraError(
            op,
            `rank ${rank} waits in ${op}, but ${done} replica(s) already finished: every rank ` +
              `must make the same collective calls (a rank whose loss does not use a ` +
              `differentiable collective's result skips the collective of its backward pass)`,
          );
        }
        Atomics.wait(ctl, GEN, gen, WAIT_MS);
      }
    }
    const ab = Atomics.load(ctl, ABORT);
    if (ab) throw new TesseraError(op, `replica ${ab - 1} failed; rank ${rank} stops`);
  };

  const slot = (r: number, dtype: HostDType, n: number): HostArray => {
    const off = dataOffset + r * capacityBytes;
    return dtype === "float32"
      ? new Float32Array(buffer, off, n)
      : dtype === "float64"
      ? new Float64Array(buffer, off, n)
      : new Int32Array(buffer, off, n);
  };

  /** Posts this rank's contribution, waits for all, checks they match; returns all slots. */
  const meet = (
    op: (typeof OPS)[number],
    dtype: HostDType,
    n: number,
    contribution: HostArray | null,
    root = 0,
  ): HostArray[] => {
    if (closed) throw new TesseraError(op, "the sim collectives were closed");
    const bytes = n * (dtype === "float64" ? 8 : 4);
    if (bytes > capacityBytes) {
      throw new TesseraError(
        op,
        `${n} ${dtype} elements (${bytes} bytes) exceed the sim slot of ${capacityBytes} bytes ` +
          `per rank (raise capacityBytes)`,
      );
    }
    const m = META + 4 * rank;
    ctl[m] = OPS.indexOf(op);
    ctl[m + 1] = DTYPES.indexOf(dtype);
    ctl[m + 2] = n;
    ctl[m + 3] = root;
    if (contribution) slot(rank, dtype, n).set(contribution);
    barrier(op);
    for (let r = 0; r < size; r++) {
      const b = META + 4 * r;
      if (ctl[b] !== ctl[META] || ctl[b + 1] !== ctl[META + 1] || ctl[b + 2] !== ctl[META + 2]) {
        const d = (k: number) =>
          `${OPS[ctl[k]!] ?? "?"}(${DTYPES[ctl[k + 1]!] ?? "?"} × ${ctl[k + 2]})`;
        throw new TesseraError(op, `ranks disagree: rank 0 calls ${d(META)}, rank ${r} ${d(b)}`);
      }
      if (ctl[b + 3] !== ctl[META + 3]) {
        throw new TesseraError(op, `ranks disagree on the root: ${ctl[META + 3]} vs ${ctl[b + 3]}`);
      }
    }
    return Array.from({ length: size }, (_, r) => slot(r, dtype, n));
  };

  /** Runs `combine` on the slots, then waits until every rank has read them. */
  const collective = <T>(
    op: (typeof OPS)[number],
    dtype: HostDType,
    n: number,
    contribution: HostArray | null,
    combine: (slots: HostArray[]) => T,
    root = 0,
  ): T => {
    const out = combine(meet(op, dtype, n, contribution, root));
    barrier(op);
    return out;
  };

  return {
    engine: "sim",
    rank,
    size,
    allReduceSum<T extends HostArray>(data: T, opts?: InPlace): T {
      const dtype = hostDType("allReduceSum", data);
      const out = opts?.inPlace ? data : newHost(dtype, data.length) as T;
      return collective("allReduceSum", dtype, data.length, data, (s) => sumInRankOrder(s, out));
    },
    broadcast<T extends HostArray>(data: T, root = 0): T {
      const dtype = hostDType("broadcast", data);
      checkRoot("broadcast", root, size);
      const mine = rank === root ? data : null;
      return collective("broadcast", dtype, data.length, mine, (s) => {
        if (rank !== root) data.set(s[root]!);
        return data;
      }, root);
    },
    allGather<T extends HostArray>(data: T, opts?: InPlace): T {
      const dtype = hostDType("allGather", data);
      const n = opts?.inPlace ? blockOf("allGather", data.length, size) : data.length;
      const mine = opts?.inPlace ? data.subarray(rank * n, (rank + 1) * n) : data;
      const out = opts?.inPlace ? data : newHost(dtype, n * size) as T;
      return collective("allGather", dtype, n, mine, (s) => {
        s.forEach((p, r) => out.set(p, r * n));
        return out;
      });
    },
    reduceScatterSum<T extends HostArray>(data: T, opts?: InPlace): T {
      const dtype = hostDType("reduceScatterSum", data);
      const n = blockOf("reduceScatterSum", data.length, size);
      return collective("reduceScatterSum", dtype, data.length, data, (s) => {
        const out = opts?.inPlace ? data.subarray(0, n) as T : newHost(dtype, n) as T;
        return sumInRankOrder(s.map((p) => p.subarray(rank * n, (rank + 1) * n)), out);
      });
    },
    barrier(): void {
      collective("barrier", "int32", 0, null, () => undefined);
    },
    close(): void {
      if (closed) return;
      closed = true;
      Atomics.add(ctl, DONE, 1);
      Atomics.notify(ctl, GEN);
    },
  };
}

/** Marks the replicas of `shared` as failed (by `rank`), waking every waiting rank. */
export function simAbort(shared: SimShared, rank: number): void {
  const ctl = new Int32Array(shared.buffer, 0, META);
  Atomics.compareExchange(ctl, ABORT, 0, rank + 1);
  Atomics.notify(ctl, GEN);
}

/** Options of {@link simulate}. */
export interface SimulateOptions {
  /** The module's export to run (default `"default"`). */
  exportName?: string;
  /** Passed to every replica as its second argument (structured-cloned). */
  input?: unknown;
  /** Bytes each rank may contribute to one collective (default 64 MiB). */
  capacityBytes?: number;
  /** Fail after this many milliseconds (default: no limit). */
  timeoutMs?: number;
}

/** A function a replica module exports: it runs once per rank. */
export type Replica<I = unknown, R = unknown> = (coll: Collectives, input: I) => R | Promise<R>;

/**
 * Runs `module`'s replica function (`(coll, input) => result`, see {@link Replica}) as `size`
 * replicas, each in its own Worker with `sim` collectives, and returns their results in rank
 * order. The same module runs unchanged under `mpirun` with {@link initMpi}'s collectives.
 * When a replica throws, the others stop at their next collective and `simulate` rejects
 * with a TesseraError naming the rank that failed first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { simulate } from "./sim.ts";
 * const mod = "data:application/javascript," + encodeURIComponent(
 *   "export default (c) => [...c.allReduceSum(new Float32Array([c.rank + 1]))];",
 * );
 * assert.deepEqual(await simulate(2, mod), [[3], [3]]);
 * ```
 */
export async function simulate(
  size: number,
  module: string | URL,
  opts: SimulateOptions = {},
): Promise<unknown[]> {
  if (!Number.isInteger(size) || size < 1) {
    throw new TesseraError("simulate", `size must be a positive integer, got ${size}`);
  }
  const url = String(module);
  if (!URL.canParse(url)) {
    throw new TesseraError(
      "simulate",
      `module must be an absolute URL (new URL("./replica.ts", import.meta.url)), got "${url}"`,
    );
  }
  const capacityBytes = opts.capacityBytes ?? 64 * 2 ** 20;
  const shared = simShared(size, capacityBytes);
  const workers: Worker[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const done = Array.from(
      { length: size },
      (_, rank) =>
        new Promise<{ ok: boolean; result?: unknown; message?: string; stack?: string }>(
          (resolve) => {
            const w = new Worker(new URL("./_sim_worker.ts", import.meta.url), { type: "module" });
            workers.push(w);
            w.onmessage = (e) => resolve(e.data);
            w.onerror = (e) => {
              e.preventDefault();
              simAbort(shared, rank);
              resolve({ ok: false, message: e.message, stack: e.message });
            };
            w.postMessage({
              rank,
              size,
              shared,
              module: url,
              exportName: opts.exportName ?? "default",
              input: opts.input,
            });
          },
        ),
    );
    const all = Promise.all(done);
    const outcomes = opts.timeoutMs === undefined ? await all : await Promise.race([
      all,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          simAbort(shared, -1);
          reject(
            new TesseraError("simulate", `${size} replicas did not finish in ${opts.timeoutMs} ms`),
          );
        }, opts.timeoutMs);
      }),
    ]);
    const ctl = new Int32Array(shared.buffer, 0, META);
    const first = Atomics.load(ctl, ABORT) - 1;
    const failed = outcomes[first] ?? outcomes.find((o) => !o.ok);
    if (failed && !failed.ok) {
      const r = outcomes.indexOf(failed);
      throw new TesseraError("simulate", `rank ${r} of ${size} failed: ${failed.stack}`);
    }
    return outcomes.map((o) => o.result);
  } finally {
    clearTimeout(timer);
    for (const w of workers) w.terminate();
  }
}
