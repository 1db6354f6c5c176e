/**
 * The `Collectives` interface every engine implements (`local`, `sim(W)`, `mpi`), the host
 * arrays they move, and the rank-order reference arithmetic that `local` and `sim` share.
 *
 * Collectives are **synchronous** and SPMD: every rank calls the same collectives in the same
 * order with matching sizes, and each call returns when the result is there. Synchronous
 * because the differentiable collectives run inside `grad`, whose pullbacks are synchronous.
 * @module
 */
import { TesseraError } from "../tensor/errors.ts";

/** The host arrays a collective moves: float32, float64 or int32 elements. */
export type HostArray = Float32Array | Float64Array | Int32Array;

/** The element type of a {@link HostArray}. */
export type HostDType = "float32" | "float64" | "int32";

/** Options of the collectives that have an in-place form (MPI's `MPI_IN_PLACE`). */
export interface InPlace {
  /** Write the result into the argument instead of a new array (default false). */
  inPlace?: boolean;
}

/** Which engine runs the collectives. */
export type EngineName = "local" | "sim" | "mpi";

/**
 * Collective communication among `size` ranks. Sums are elementwise; `allGather` and
 * `reduceScatterSum` lay the ranks' blocks out contiguously in rank order.
 */
export interface Collectives {
  /** The engine: `local` (one rank), `sim` (replicas in one process), `mpi`. */
  readonly engine: EngineName;
  /** This replica's index, 0 ≤ rank < size. */
  readonly rank: number;
  /** The number of ranks. */
  readonly size: number;
  /** Elementwise sum over the ranks (`MPI_Allreduce` with `MPI_SUM`). */
  allReduceSum<T extends HostArray>(data: T, opts?: InPlace): T;
  /** Rank `root`'s `data`, copied into every rank's `data` (in place, `MPI_Bcast`); returns it. */
  broadcast<T extends HostArray>(data: T, root?: number): T;
  /**
   * The ranks' blocks concatenated in rank order (`MPI_Allgather`). In place, `data` holds
   * `size` blocks and this rank's block (at `rank·n`) is its contribution.
   */
  allGather<T extends HostArray>(data: T, opts?: InPlace): T;
  /**
   * `data` holds `size` blocks of `n`; returns block `rank` of the elementwise sum over ranks
   * (`MPI_Reduce_scatter_block`). In place, the result is `data.subarray(0, n)`.
   */
  reduceScatterSum<T extends HostArray>(data: T, opts?: InPlace): T;
  /** Returns once every rank has called it. */
  barrier(): void;
  /** Ends the engine (`MPI_Finalize`); later calls are errors. */
  close(): void;
}

/** The dtype of a host array, or a TesseraError naming `op`. */
export function hostDType(op: string, data: unknown): HostDType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  if (data instanceof Int32Array) return "int32";
  const what = data === null || typeof data !== "object"
    ? String(data)
    : (data as object).constructor.name;
  throw new TesseraError(op, `expected a Float32Array, Float64Array or Int32Array, got ${what}`);
}

/** A new host array of `dtype` with `n` elements. */
export function newHost(dtype: HostDType, n: number): HostArray {
  return dtype === "float32"
    ? new Float32Array(n)
    : dtype === "float64"
    ? new Float64Array(n)
    : new Int32Array(n);
}

/** Checks `root` is a rank of `size`. */
export function checkRoot(op: string, root: number, size: number): void {
  if (!Number.isInteger(root) || root < 0 || root >= size) {
    throw new TesseraError(op, `root ${root} is not a rank of ${size}`);
  }
}

/** The block length of `data` split into `size` blocks, or a TesseraError. */
export function blockOf(op: string, length: number, size: number): number {
  if (length % size !== 0) {
    throw new TesseraError(op, `length ${length} does not split into ${size} equal blocks`);
  }
  return length / size;
}

/**
 * Rank-order reference of `allReduceSum`: `((x₀ + x₁) + x₂) + …` elementwise, rounded to
 * the element type after every addition (float32 sums in float32, int32 sums wrap) — what an
 * MPI library computes for two ranks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sumInRankOrder } from "./collectives.ts";
 * const out = sumInRankOrder([new Int32Array([1, 2]), new Int32Array([10, 20])], new Int32Array(2));
 * assert.deepEqual([...out], [11, 22]);
 * ```
 */
export function sumInRankOrder<T extends HostArray>(parts: readonly HostArray[], out: T): T {
  const n = out.length;
  out.set(parts[0]!.subarray(0, n));
  for (let r = 1; r < parts.length; r++) {
    const p = parts[r]!;
    for (let i = 0; i < n; i++) out[i] = out[i]! + p[i]!;
  }
  return out;
}

/**
 * One rank with nothing to talk to: every collective is the identity (a copy unless in
 * place). The engine of a plain `deno run`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { local } from "./collectives.ts";
 * const c = local();
 * assert.deepEqual([...c.allReduceSum(new Float32Array([1, 2]))], [1, 2]);
 * assert.equal(c.size, 1);
 * ```
 */
export function local(): Collectives {
  let closed = false;
  const live = (op: string) => {
    if (closed) throw new TesseraError(op, "the local collectives were closed");
  };
  const copy = <T extends HostArray>(op: string, data: T, opts?: InPlace): T => {
    live(op);
    hostDType(op, data);
    return opts?.inPlace ? data : data.slice() as T;
  };
  return {
    engine: "local",
    rank: 0,
    size: 1,
    allReduceSum: (data, opts) => copy("allReduceSum", data, opts),
    broadcast: (data, root = 0) => {
      live("broadcast");
      hostDType("broadcast", data);
      checkRoot("broadcast", root, 1);
      return data;
    },
    allGather: (data, opts) => copy("allGather", data, opts),
    reduceScatterSum: (data, opts) => copy("reduceScatterSum", data, opts),
    barrier: () => live("barrier"),
    close: () => {
      closed = true;
    },
  };
}
