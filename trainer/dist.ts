/**
 * Data-parallel training for `train.ts` (`--dist local|mpi|sim:W`; under `mpirun` the mpi engine
 * is chosen from the environment). Every rank builds the same run, loads the same global batch
 * and takes its rows `[rB, (r+1)B)` ({@link shardBatch}); every random draw of an example (MIM
 * masks, dropout, drop path) comes from its global index ({@link firstRow}, {@link exampleKeys}),
 * so results do not depend on the split; the gradients, DINO's centre statistics and the logged loss/metrics of a step are
 * averaged over the ranks in one fused collective ({@link meanOverRanks}); SplitMask's InfoNCE
 * gathers its negatives ({@link gatherRows}). Parameters are broadcast from rank 0 at the start
 * and checksummed ({@link checkReplicas}); only rank 0 writes the run directory and prints.
 *
 * One rank (`local`) changes nothing: every helper is the identity and no collective runs, so
 * single-process results are bit for bit those of a plain run.
 * @module
 */
import { concat, dispose, mul, reshape, scope, slice, type Tensor, tensor } from "../tensor/mod.ts";
import { treeLeaves, treeMap } from "../autodiff/mod.ts";
import type { Batch } from "../data/loader.ts";
import {
  allGather,
  allReduceSumTree,
  broadcastTree,
  type Collectives,
  initMpi,
  local,
  parseDist,
  replicaChecksum,
  runDistributed,
} from "../distributed/mod.ts";
import { rowKeys } from "../nn/row_keys.ts";
import { UsageError } from "./flags.ts";
import type { CliIO } from "./io.ts";

/** The collectives installed by a sim replica or by {@link openDist} (null: one plain rank). */
let current: Collectives | null = null;
const LOCAL = local();

/**
 * The `--dist` value parser: `local`, `mpi` or `sim:W`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { distFlag } from "./dist.ts";
 * assert.equal(distFlag("sim:2", "dist"), "sim:2");
 * assert.throws(() => distFlag("ring", "dist"), /--dist must be local, mpi or sim:W/);
 * ```
 */
export function distFlag(x: string, f: string): string {
  try {
    parseDist(x, {});
  } catch {
    throw new UsageError(`--${f} must be local, mpi or sim:W (W ≥ 1), got "${x}"`);
  }
  return x;
}

/**
 * The collectives of this process's training run (one `local` rank unless a distributed run
 * is in progress).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { collectives } from "./dist.ts";
 * assert.deepEqual([collectives().rank, collectives().size], [0, 1]);
 * ```
 */
export function collectives(): Collectives {
  return current ?? LOCAL;
}

/**
 * Whether this process prints and writes the run directory (rank 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isRootRank } from "./dist.ts";
 * assert.equal(isRootRank(), true);
 * ```
 */
export function isRootRank(): boolean {
  return collectives().rank === 0;
}

/**
 * Runs `fn` with `coll` as the training collectives (what a sim replica does), restoring the
 * previous ones after.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { collectives, withCollectives } from "./dist.ts";
 * import { local } from "../distributed/mod.ts";
 * const c = local();
 * assert.equal(await withCollectives(c, () => Promise.resolve(collectives() === c)), true);
 * ```
 */
export async function withCollectives<R>(coll: Collectives, fn: () => Promise<R>): Promise<R> {
  const before = current;
  current = coll;
  try {
    return await fn();
  } finally {
    current = before;
  }
}

/**
 * For `--dist sim:W` (W > 1) outside a replica: runs `train.ts command argv…` as W Worker
 * replicas (each runs `replicaModule`, cli/_dist_replica.ts) and returns rank 0's exit code (the first non-zero one if any failed). Null when the
 * run is not a sim run to start here (the command then runs in this process).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runSimReplicas } from "./dist.ts";
 * const replica = new URL("../cli/_dist_replica.ts", import.meta.url);
 * assert.equal(await runSimReplicas("local", "finetune", [], replica), null);
 * ```
 */
export async function runSimReplicas(
  dist: string | null | undefined,
  command: string,
  argv: readonly string[],
  replicaModule: URL,
): Promise<number | null> {
  if (current !== null || !dist) return null;
  const spec = parseDist(dist, {});
  if (spec.engine !== "sim" || spec.size === 1) return null;
  const codes = await runDistributed(spec, replicaModule, {
    input: { argv: [command, ...argv] },
  }) as number[];
  return codes.find((c) => c !== 0) ?? 0;
}

/** The collectives a run opened, and how to end them. */
export interface OpenDist {
  /** The collectives (installed as {@link collectives} until `close`). */
  coll: Collectives;
  /** Ends the engine if this call started it (`MPI_Finalize`) and uninstalls it. */
  close(): void;
  /** The scratch run directory of a rank other than 0 (removed by {@link closeDist}). */
  scratch?: string;
}

let scratchOf: OpenDist | null = null;

/**
 * The run directory of this rank: `dir` on rank 0; a fresh private scratch directory on the
 * others (their metrics and the tokenizer they fit go there, never into rank 0's directory),
 * removed when the run ends.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rankRunDir } from "./dist.ts";
 * assert.equal(await rankRunDir("runs/x"), "runs/x");
 * ```
 */
export async function rankRunDir(dir: string): Promise<string> {
  if (isRootRank()) return dir;
  const scratch = await Deno.makeTempDir({ prefix: `tessera-rank${collectives().rank}-` });
  if (scratchOf) scratchOf.scratch = scratch;
  return scratch;
}

/**
 * Ends a run's collectives: removes a scratch directory, then `MPI_Finalize` unless the run
 * threw (a failing rank exits without finalising, which makes the launcher end the job).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeDist, collectives, openDist } from "./dist.ts";
 * const d = openDist("local");
 * await closeDist(d, false);
 * assert.equal(collectives().size, 1);
 * ```
 */
export async function closeDist(d: OpenDist, threw: boolean): Promise<void> {
  if (scratchOf === d) scratchOf = null;
  if (d.scratch) await Deno.remove(d.scratch, { recursive: true }).catch(() => {});
  if (!threw) d.close();
}

/**
 * The collectives of a run given `--dist` (null: from the environment): those of the enclosing
 * sim replica, else `local`, or MPI initialised now (under `mpirun`, or `--dist mpi`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openDist } from "./dist.ts";
 * const d = openDist("local");
 * assert.equal(d.coll.size, 1);
 * d.close();
 * ```
 */
export function openDist(dist: string | null | undefined): OpenDist {
  const d = openEngine(dist);
  scratchOf = d;
  return d;
}

function openEngine(dist: string | null | undefined): OpenDist {
  if (current !== null) return { coll: current, close() {} };
  const spec = parseDist(dist ?? undefined);
  if (spec.engine === "local" || (spec.engine === "sim" && spec.size === 1)) {
    return { coll: LOCAL, close() {} };
  }
  if (spec.engine === "sim") {
    throw new UsageError(`--dist ${dist}: sim replicas are started by the command, not the loop`);
  }
  const coll = initMpi();
  current = coll;
  return {
    coll,
    close() {
      current = null;
      coll.close();
    },
  };
}

/**
 * An IO that drops everything (the output of ranks other than 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quietIO } from "./dist.ts";
 * quietIO.err("nothing");
 * assert.equal(quietIO.isTerminal, false);
 * ```
 */
export const quietIO: CliIO = {
  out() {},
  err() {},
  isTerminal: false,
  color: false,
  columns: () => 80,
};

/** Rows `[rank·n/size, (rank+1)·n/size)` of `t` along axis 0. */
function rowsOf(t: Tensor, coll: Collectives): Tensor {
  const n = t.shape[0]!, b = n / coll.size;
  return slice(t, [[coll.rank * b, (coll.rank + 1) * b]]);
}

/** Checks the global batch splits evenly. */
function perRank(n: number, coll: Collectives): number {
  if (n % coll.size !== 0) {
    throw new UsageError(`--batch ${n} does not split evenly over ${coll.size} ranks`);
  }
  return n / coll.size;
}

/**
 * This rank's rows of the global batch (the batch itself on one rank); the batch is disposed
 * when the returned one is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shardBatch } from "./dist.ts";
 * import { local } from "../distributed/mod.ts";
 * import { tensor, zeros } from "../mod.ts";
 * const b = { images: zeros([2, 1, 1, 1]), labels: tensor([0, 1], { dtype: "int32" }), indices: new Int32Array([5, 6]), epoch: 0, step: 0, dispose() {}, [Symbol.dispose]() {} };
 * assert.equal(shardBatch(b, local()), b);
 * b.images.dispose(), b.labels.dispose();
 * ```
 */
export function shardBatch(batch: Batch, coll: Collectives = collectives()): Batch {
  if (coll.size === 1) return batch;
  const b = perRank(batch.images.shape[0]!, coll);
  const [images, labels, targets] = scope(() => [
    rowsOf(batch.images, coll),
    rowsOf(batch.labels, coll),
    batch.targets ? rowsOf(batch.targets, coll) : undefined,
  ]);
  const free = () => {
    dispose([images, labels, targets]);
    batch.dispose();
  };
  return {
    images: images!,
    labels: labels!,
    ...(targets ? { targets } : {}),
    indices: batch.indices.slice(coll.rank * b, (coll.rank + 1) * b),
    epoch: batch.epoch,
    step: batch.step,
    dispose: free,
    [Symbol.dispose]: free,
  };
}

/**
 * Throws a {@link UsageError} naming `--dist` when this run has more than one rank: for the
 * commands that cannot split their batches or statistics over ranks yet (`why` says what).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { oneRankOnly } from "./dist.ts";
 * assert.doesNotThrow(() => oneRankOnly("segment", "its BatchNorm needs SyncBN")); // one rank
 * ```
 */
export function oneRankOnly(command: string, why: string, coll: Collectives = collectives()): void {
  if (coll.size > 1) {
    throw new UsageError(
      `--dist: ${command} runs on one rank only (${coll.size} ranks here): ${why}; drop --dist`,
    );
  }
}

/**
 * The global index of this rank's first example when each rank holds `b` rows: `rank · b`
 * (0 on one rank). Rows `[first, first + b)` of the global batch are this rank's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { firstRow } from "./dist.ts";
 * assert.equal(firstRow(8), 0);
 * ```
 */
export function firstRow(b: number, coll: Collectives = collectives()): number {
  return coll.rank * b;
}

/**
 * The per-example keys of this rank's `b` rows (nn/row_keys.ts): row `i` is
 * `foldIn(key, firstRow(b) + i)`, the key of the example's global index, so its dropout and
 * drop-path draws are the same however the global batch is split over ranks or micro-batches.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exampleKeys } from "./dist.ts";
 * import { random } from "../mod.ts";
 * const k = random.key(0);
 * const rows = (await exampleKeys(k, 2).toArray()) as number[][];
 * assert.deepEqual(rows[1], await random.foldIn(k, 1).toArray());
 * ```
 */
export function exampleKeys(key: Tensor, b: number, coll: Collectives = collectives()): Tensor {
  return rowKeys(key, firstRow(b, coll), b);
}

/**
 * The mean over the ranks of every tensor leaf of `tree` (gradients ‖ centre statistics ‖
 * loss and metrics), in one fused allreduce per dtype (on webgpu: one read-back, the sum on
 * the host, one upload each). One rank: `tree` itself, untouched; else `tree` is disposed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { meanOverRanks } from "./dist.ts";
 * import { tensor } from "../mod.ts";
 * const g = { w: tensor([1, 2]) };
 * assert.equal(await meanOverRanks(g), g);
 * g.w.dispose();
 * ```
 */
export async function meanOverRanks<T>(tree: T, coll: Collectives = collectives()): Promise<T> {
  if (coll.size === 1) return tree;
  const leaves = treeLeaves(tree);
  const dtype = leaves[0]?.dtype;
  if (dtype !== "float32" || leaves.some((l) => l.dtype !== dtype)) {
    const sum = await allReduceSumTree(coll, tree);
    dispose(tree);
    const out = scope(() => treeMap((t: Tensor) => mul(t, 1 / coll.size), sum) as T);
    dispose(sum);
    return out;
  }
  // One flat buffer on the device, one read-back, the sum on the host, one upload.
  const flat = scope(() => concat(leaves.map((l) => reshape(l, [-1])), 0));
  const host = await flat.data() as Float32Array;
  const backend = flat.backend.name;
  flat.dispose();
  dispose(tree);
  coll.allReduceSum(host, { inPlace: true });
  const summed = tensor(host, { shape: [host.length], backend });
  const parts = scope(() => {
    let off = 0;
    return leaves.map((l) => {
      const part = reshape(slice(summed, [[off, off + l.size]]), l.shape);
      off += l.size;
      return mul(part, 1 / coll.size);
    });
  });
  summed.dispose();
  const byLeaf = new Map(leaves.map((l, i) => [l, parts[i]!]));
  return treeMap((t: Tensor) => byLeaf.get(t)!, tree) as T;
}

/**
 * The InfoNCE gather of a distributed run: `{ gather, offset }` where `gather` concatenates the
 * ranks' rows (differentiable) and `offset` is this rank's first global row; undefined on one
 * rank (the loss then uses its in-batch negatives, unchanged).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gatherRows } from "./dist.ts";
 * assert.equal(gatherRows(), undefined);
 * ```
 */
export function gatherRows(
  coll: Collectives = collectives(),
): { gather: (t: Tensor) => Tensor; offset: (b: number) => number } | undefined {
  if (coll.size === 1) return undefined;
  return { gather: (t) => allGather(coll, t), offset: (b) => coll.rank * b };
}

/**
 * Rank 0's tree on every rank (the state at the start of a run); `tree` itself on one rank,
 * else `tree` is disposed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRankZero } from "./dist.ts";
 * import { tensor } from "../mod.ts";
 * const s = [tensor([1])];
 * assert.equal(await fromRankZero(s), s);
 * s[0]!.dispose();
 * ```
 */
export async function fromRankZero<T>(tree: T, coll: Collectives = collectives()): Promise<T> {
  if (coll.size === 1) return tree;
  const out = await broadcastTree(coll, tree);
  dispose(tree);
  return out;
}

/**
 * Whether `flag` is true on any rank (one tiny allreduce; `flag` itself on one rank): the
 * ranks agree on stopping (Ctrl-C reaches them at different steps) so none is left waiting.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { anyRank } from "./dist.ts";
 * assert.equal(anyRank(true), true);
 * ```
 */
export function anyRank(flag: boolean, coll: Collectives = collectives()): boolean {
  if (coll.size === 1) return flag;
  return coll.allReduceSum(new Int32Array([flag ? 1 : 0]))[0]! > 0;
}

/** Steps between two replica checksums of a distributed run (and one at the end). */
export const CHECKSUM_EVERY = 50;

/**
 * Checks every rank holds the same `tree` (a TesseraError naming the ranks that drifted);
 * returns the checksum, or null on one rank (nothing to check).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkReplicas } from "./dist.ts";
 * import { tensor } from "../mod.ts";
 * const t = tensor([1]);
 * assert.equal(await checkReplicas(t), null);
 * t.dispose();
 * ```
 */
export async function checkReplicas(
  tree: unknown,
  coll: Collectives = collectives(),
): Promise<number | null> {
  return coll.size === 1 ? null : await replicaChecksum(coll, tree);
}
