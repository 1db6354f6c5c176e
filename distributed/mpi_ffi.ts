/**
 * Open MPI and MPICH through `Deno.dlopen`, with no C shim: which library to load, the symbol
 * tables, and the handles (Open MPI's are the addresses of exported globals — a
 * `{ type: "pointer" }` static gives a symbol's address —, MPICH's are integer constants;
 * `MPI_IN_PLACE` is `(void*)1` vs `(void*)-1`).
 *
 * Every MPI call is a plain synchronous FFI call (not `nonblocking: true`): collectives run
 * inside `grad`'s synchronous pullbacks, all MPI calls stay on the thread that called
 * `MPI_Init_thread` (so `MPI_THREAD_FUNNELED` is enough), and no pending FFI promise is left
 * for the test sanitizers to flag. A collective blocks the event loop while it waits; in SPMD
 * code every rank is waiting for the same collective anyway.
 * @module
 */
import { TesseraError } from "../tensor/errors.ts";
import type { HostDType } from "./collectives.ts";

/** The MPI implementations tessera can drive. */
export type MpiFlavor = "openmpi" | "mpich";

/** What the launcher (`mpirun`/`mpiexec`) put into this process's environment. */
export interface Launch {
  /** The launcher family the variables belong to. */
  flavor: MpiFlavor;
  /** World size the launcher announced. */
  size: number;
  /** This process's rank as the launcher announced it. */
  rank: number;
  /** The variable the size came from. */
  variable: string;
}

/**
 * The launcher's announcement of this job, or null when no MPI launcher started the process
 * (Open MPI: `OMPI_COMM_WORLD_SIZE/RANK`; MPICH's Hydra and other PMI launchers:
 * `PMI_SIZE/RANK`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { launchedBy } from "./mpi_ffi.ts";
 * assert.deepEqual(launchedBy({ OMPI_COMM_WORLD_SIZE: "2", OMPI_COMM_WORLD_RANK: "1" }), {
 *   flavor: "openmpi", size: 2, rank: 1, variable: "OMPI_COMM_WORLD_SIZE",
 * });
 * assert.equal(launchedBy({}), null);
 * ```
 */
export function launchedBy(env: Record<string, string | undefined>): Launch | null {
  const read = (flavor: MpiFlavor, sizeVar: string, rankVar: string): Launch | null => {
    const s = env[sizeVar];
    if (s === undefined) return null;
    const size = Number(s), rank = Number(env[rankVar] ?? "NaN");
    if (!Number.isInteger(size) || size < 1 || !Number.isInteger(rank) || rank < 0) {
      throw new TesseraError(
        "initMpi",
        `the launcher set ${sizeVar}=${s} and ${rankVar}=${env[rankVar]}, not a rank and size`,
      );
    }
    return { flavor, size, rank, variable: sizeVar };
  };
  return read("openmpi", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK") ??
    read("mpich", "PMI_SIZE", "PMI_RANK");
}

/** Shared-library names tried for each flavour, most specific first. */
export const LIBRARIES: Readonly<Record<MpiFlavor, readonly string[]>> = {
  openmpi: ["libmpi.so.40", "libmpi.so"],
  mpich: ["libmpich.so.12", "libmpi.so.12", "libmpich.so"],
};

type Handle = "pointer" | "i32";

function symbolsFor(h: Handle) {
  const buf = "pointer" as const; // data buffers: pointers, so MPI_IN_PLACE fits
  return {
    MPI_Init_thread: { parameters: ["pointer", "pointer", "i32", "buffer"], result: "i32" },
    MPI_Comm_rank: { parameters: [h, "buffer"], result: "i32" },
    MPI_Comm_size: { parameters: [h, "buffer"], result: "i32" },
    MPI_Allreduce: { parameters: [buf, buf, "i32", h, h, h], result: "i32" },
    MPI_Bcast: { parameters: [buf, "i32", h, "i32", h], result: "i32" },
    MPI_Allgather: { parameters: [buf, "i32", h, buf, "i32", h, h], result: "i32" },
    MPI_Reduce_scatter_block: { parameters: [buf, buf, "i32", h, h, h], result: "i32" },
    MPI_Barrier: { parameters: [h], result: "i32" },
    MPI_Abort: { parameters: [h, "i32"], result: "i32" },
    MPI_Finalize: { parameters: [], result: "i32" },
  } as const;
}

const OMPI_GLOBALS = {
  ompi_mpi_comm_world: { type: "pointer" },
  ompi_mpi_float: { type: "pointer" },
  ompi_mpi_double: { type: "pointer" },
  ompi_mpi_int: { type: "pointer" },
  ompi_mpi_op_sum: { type: "pointer" },
} as const;

/** MPICH's handle constants (mpi.h of MPICH 3 and 4). */
const MPICH = {
  comm: 0x44000000,
  float32: 0x4c00040a,
  float64: 0x4c00080b,
  int32: 0x4c000405,
  sum: 0x58000003,
} as const;

/** A handle as the FFI call takes it: a pointer (Open MPI) or an int (MPICH). */
export type MpiHandle = Deno.PointerValue | number;

/** An MPI call: returns the MPI error code (0 = success). */
export type MpiFn = (...args: unknown[]) => number;

/** A loaded MPI library with its handles. */
export interface MpiLibrary {
  /** Which implementation it is. */
  flavor: MpiFlavor;
  /** The file name that loaded. */
  path: string;
  /** The MPI entry points used by the engine. */
  fn: Record<keyof ReturnType<typeof symbolsFor>, MpiFn>;
  /** `MPI_COMM_WORLD`. */
  world: MpiHandle;
  /** `MPI_SUM`. */
  sum: MpiHandle;
  /** `MPI_FLOAT`, `MPI_DOUBLE`, `MPI_INT`. */
  types: Record<HostDType, MpiHandle>;
  /** `MPI_IN_PLACE`. */
  inPlace: Deno.PointerValue;
  /** Unloads the library. */
  close(): void;
}

function open(flavor: MpiFlavor, path: string): MpiLibrary {
  if (flavor === "openmpi") {
    const lib = Deno.dlopen(path, { ...symbolsFor("pointer"), ...OMPI_GLOBALS });
    const s = lib.symbols;
    return {
      flavor,
      path,
      fn: s as unknown as MpiLibrary["fn"],
      world: s.ompi_mpi_comm_world,
      sum: s.ompi_mpi_op_sum,
      types: { float32: s.ompi_mpi_float, float64: s.ompi_mpi_double, int32: s.ompi_mpi_int },
      inPlace: Deno.UnsafePointer.create(1n),
      close: () => lib.close(),
    };
  }
  const lib = Deno.dlopen(path, symbolsFor("i32"));
  return {
    flavor,
    path,
    fn: lib.symbols as unknown as MpiLibrary["fn"],
    world: MPICH.comm,
    sum: MPICH.sum,
    types: { float32: MPICH.float32, float64: MPICH.float64, int32: MPICH.int32 },
    inPlace: Deno.UnsafePointer.create(2n ** 64n - 1n),
    close: () => lib.close(),
  };
}

/**
 * Loads an MPI library: `path` (or `TESSERA_MPI_LIB`) when given, else the known names of
 * the launcher's flavour first, then the other's. An Open MPI build is recognised by its
 * `ompi_mpi_comm_world` global. Throws a TesseraError listing every attempt when none loads.
 */
export function loadMpi(launch: Launch | null, path?: string): MpiLibrary {
  const first: MpiFlavor = launch?.flavor ?? "openmpi";
  const order: MpiFlavor[] = first === "openmpi" ? ["openmpi", "mpich"] : ["mpich", "openmpi"];
  const tries: [MpiFlavor, string][] = path
    ? order.map((f) => [f, path])
    : order.flatMap((f) => LIBRARIES[f].map((p): [MpiFlavor, string] => [f, p]));
  const errors: string[] = [];
  for (const [flavor, p] of tries) {
    try {
      return open(flavor, p);
    } catch (e) {
      errors.push(`${p} as ${flavor}: ${e instanceof Error ? e.message.split("\n")[0] : e}`);
    }
  }
  const who = launch
    ? `${launch.variable}=${launch.size} says an MPI launcher started this process, but`
    : "";
  throw new TesseraError(
    "initMpi",
    `${who} no MPI library could be loaded (install Open MPI: apt-get install openmpi-bin, or ` +
      `set TESSERA_MPI_LIB to libmpi.so's path); tried ${errors.join("; ")}`,
  );
}
