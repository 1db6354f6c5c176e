/**
 * The `mpi` engine: collectives of the processes `mpirun -np N` started, through Open MPI
 * (or MPICH) loaded with `Deno.dlopen` (see mpi_ffi.ts for the library and the handles).
 * @module
 */
import { TesseraError } from "../tensor/errors.ts";
import {
  blockOf,
  checkRoot,
  type Collectives,
  type HostArray,
  hostDType,
  type InPlace,
  newHost,
} from "./collectives.ts";
import { type Launch, launchedBy, loadMpi, type MpiLibrary } from "./mpi_ffi.ts";

const MPI_THREAD_FUNNELED = 1;
/** MPI counts are C ints: longer arrays go in chunks of at most this many elements. */
const MAX_COUNT = 2 ** 31 - 1;

/** Options of {@link initMpi}. */
export interface MpiOptions {
  /** The MPI shared library (default: `TESSERA_MPI_LIB`, else the known names). */
  library?: string;
  /** Most elements per MPI call; longer arrays are chunked (default 2³¹ − 1; tests use less). */
  maxCount?: number;
  /**
   * Call `MPI_Abort` on any uncaught error or unhandled rejection, so one failing rank ends
   * the whole job instead of leaving the others blocked in a collective (default true).
   */
  abortOnError?: boolean;
}

let world: Collectives | null = null;
let finalized = false;

/**
 * Starts MPI (`MPI_Init_thread`, `MPI_THREAD_FUNNELED`) once per process and returns the
 * collectives of `MPI_COMM_WORLD`. Checks the world size and rank against the launcher's
 * environment. Every call returns the same collectives until `close()` (`MPI_Finalize`).
 *
 * @example
 * ```ts ignore
 * // under `mpirun -np 2 deno run -A script.ts`: each rank contributes rank + 1
 * import { initMpi } from "./mpi.ts";
 * const coll = initMpi();
 * const s = coll.allReduceSum(new Float32Array([coll.rank + 1])); // [3] on both ranks
 * coll.close();
 * ```
 */
export function initMpi(opts: MpiOptions = {}): Collectives {
  if (world) return world;
  if (finalized) {
    throw new TesseraError("initMpi", "MPI was finalized; it cannot start again in this process");
  }
  const maxCount = opts.maxCount ?? MAX_COUNT;
  if (!Number.isInteger(maxCount) || maxCount < 1 || maxCount > MAX_COUNT) {
    throw new TesseraError(
      "initMpi",
      `maxCount must be an integer in [1, 2^31 - 1], got ${maxCount}`,
    );
  }
  const env = Deno.env.toObject();
  const launch = launchedBy(env);
  const lib = loadMpi(launch, opts.library ?? env.TESSERA_MPI_LIB);
  const provided = new Int32Array(1);
  check(
    "initMpi",
    "MPI_Init_thread",
    lib.fn.MPI_Init_thread(null, null, MPI_THREAD_FUNNELED, provided),
  );
  const r = new Int32Array(1), n = new Int32Array(1);
  check("initMpi", "MPI_Comm_rank", lib.fn.MPI_Comm_rank(lib.world, r));
  // From here an uncaught error (these checks' included) prints and aborts the whole job.
  if (opts.abortOnError ?? true) installAbortHandlers(lib, r[0]!);
  if (provided[0]! < MPI_THREAD_FUNNELED) {
    throw new TesseraError(
      "initMpi",
      `${lib.path} provides thread level ${provided[0]}, MPI_THREAD_FUNNELED (1) is needed`,
    );
  }
  check("initMpi", "MPI_Comm_size", lib.fn.MPI_Comm_size(lib.world, n));
  crossCheck(launch, lib, r[0]!, n[0]!);
  world = mpiCollectives(lib, r[0]!, n[0]!, maxCount);
  return world;
}

function crossCheck(launch: Launch | null, lib: MpiLibrary, rank: number, size: number): void {
  if (launch && (launch.size !== size || launch.rank !== rank)) {
    throw new TesseraError(
      "initMpi",
      `${lib.path} (${lib.flavor}) reports rank ${rank} of ${size}, but the ${launch.flavor} ` +
        `launcher announced rank ${launch.rank} of ${launch.size} (${launch.variable}): is the ` +
        `library from another MPI than mpirun?`,
    );
  }
}

function check(op: string, call: string, rc: number): void {
  if (rc !== 0) throw new TesseraError(op, `${call} failed with MPI error code ${rc}`);
}

function installAbortHandlers(lib: MpiLibrary, rank: number): void {
  const abort = (what: string, err: unknown) => {
    if (finalized) return;
    const text = err instanceof Error ? err.stack ?? err.message : String(err);
    console.error(`[rank ${rank}] ${what}: ${text}\n[rank ${rank}] calling MPI_Abort`);
    lib.fn.MPI_Abort(lib.world, 1);
  };
  globalThis.addEventListener("error", (e) => abort("uncaught error", e.error ?? e.message));
  globalThis.addEventListener("unhandledrejection", (e) => abort("unhandled rejection", e.reason));
  // A program that ends without close() still finalizes, so mpirun sees a clean exit.
  globalThis.addEventListener("unload", () => {
    if (!finalized) {
      finalized = true;
      lib.fn.MPI_Finalize();
    }
  });
}

function mpiCollectives(
  lib: MpiLibrary,
  rank: number,
  size: number,
  maxCount: number,
): Collectives {
  const f = lib.fn;
  const live = (op: string) => {
    if (finalized) throw new TesseraError(op, "MPI was finalized (close() was called)");
  };
  const ptr = (a: HostArray, from: number, n: number) =>
    Deno.UnsafePointer.of(a.subarray(from, from + n));
  /** Calls `each(offset, count)` for consecutive chunks of `n` elements. */
  const chunks = (n: number, each: (off: number, c: number) => void) => {
    for (let off = 0; off < n; off += maxCount) each(off, Math.min(maxCount, n - off));
  };

  return {
    engine: "mpi",
    rank,
    size,
    allReduceSum<T extends HostArray>(data: T, opts?: InPlace): T {
      live("allReduceSum");
      const dt = lib.types[hostDType("allReduceSum", data)];
      const out = opts?.inPlace ? data : newHost(hostDType("allReduceSum", data), data.length) as T;
      chunks(data.length, (off, c) => {
        const send = opts?.inPlace ? lib.inPlace : ptr(data, off, c);
        check(
          "allReduceSum",
          "MPI_Allreduce",
          f.MPI_Allreduce(send, ptr(out, off, c), c, dt, lib.sum, lib.world),
        );
      });
      return out;
    },
    broadcast<T extends HostArray>(data: T, root = 0): T {
      live("broadcast");
      const dt = lib.types[hostDType("broadcast", data)];
      checkRoot("broadcast", root, size);
      chunks(data.length, (off, c) => {
        check("broadcast", "MPI_Bcast", f.MPI_Bcast(ptr(data, off, c), c, dt, root, lib.world));
      });
      return data;
    },
    allGather<T extends HostArray>(data: T, opts?: InPlace): T {
      live("allGather");
      const dtype = hostDType("allGather", data), dt = lib.types[dtype];
      const n = opts?.inPlace ? blockOf("allGather", data.length, size) : data.length;
      const out = opts?.inPlace ? data : newHost(dtype, n * size) as T;
      const call = (send: Deno.PointerValue, recv: Deno.PointerValue, c: number) =>
        check("allGather", "MPI_Allgather", f.MPI_Allgather(send, c, dt, recv, c, dt, lib.world));
      if (n <= maxCount) {
        call(opts?.inPlace ? lib.inPlace : ptr(data, 0, n), ptr(out, 0, n * size), n);
        return out;
      }
      // Chunk k of every rank's block lands in a buffer of `size` chunks, then in place.
      const tmp = newHost(dtype, size * Math.min(maxCount, n));
      const src = opts?.inPlace ? data.subarray(rank * n, (rank + 1) * n) : data;
      chunks(n, (off, c) => {
        call(ptr(src, off, c), ptr(tmp, 0, c * size), c);
        for (let r = 0; r < size; r++) out.set(tmp.subarray(r * c, (r + 1) * c), r * n + off);
      });
      return out;
    },
    reduceScatterSum<T extends HostArray>(data: T, opts?: InPlace): T {
      live("reduceScatterSum");
      const dtype = hostDType("reduceScatterSum", data), dt = lib.types[dtype];
      const n = blockOf("reduceScatterSum", data.length, size);
      const out = opts?.inPlace ? data.subarray(0, n) as T : newHost(dtype, n) as T;
      const call = (send: Deno.PointerValue, recv: Deno.PointerValue, c: number) =>
        check(
          "reduceScatterSum",
          "MPI_Reduce_scatter_block",
          f.MPI_Reduce_scatter_block(send, recv, c, dt, lib.sum, lib.world),
        );
      if (n <= maxCount) {
        call(opts?.inPlace ? lib.inPlace : ptr(data, 0, n * size), ptr(out, 0, n), n);
        return out;
      }
      // Chunk k of every block is packed into `size` contiguous chunks, reduced in place.
      const tmp = newHost(dtype, size * Math.min(maxCount, n));
      chunks(n, (off, c) => {
        for (let r = 0; r < size; r++) tmp.set(data.subarray(r * n + off, r * n + off + c), r * c);
        call(lib.inPlace, ptr(tmp, 0, c * size), c);
        out.set(tmp.subarray(0, c), off);
      });
      return out;
    },
    barrier(): void {
      live("barrier");
      check("barrier", "MPI_Barrier", f.MPI_Barrier(lib.world));
    },
    close(): void {
      if (finalized) return;
      finalized = true;
      world = null;
      check("close", "MPI_Finalize", f.MPI_Finalize());
    },
  };
}
