/**
 * tessera's data-parallel layer: the `Collectives` interface and its engines (`local`,
 * `sim(W)` replicas in Workers, `mpi` through Open MPI or MPICH via Deno FFI), and
 * differentiable collectives on tensors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { local } from "./mod.ts";
 * assert.deepEqual([...local().allGather(new Int32Array([4]))], [4]);
 * ```
 * @module
 */
export {
  type Collectives,
  type EngineName,
  type HostArray,
  type HostDType,
  type InPlace,
  local,
  sumInRankOrder,
} from "./collectives.ts";
export { type Replica, simulate, type SimulateOptions } from "./sim.ts";
export { initMpi, type MpiOptions } from "./mpi.ts";
export { type DistSpec, parseDist, runDistributed, type RunOptions } from "./engine.ts";
export {
  allGather,
  allReduceSum,
  allReduceSumTree,
  broadcastTree,
  reduceScatterSum,
  replicaChecksum,
} from "./ops.ts";
export { type Launch, launchedBy, type MpiFlavor } from "./mpi_ffi.ts";

// Types referenced by the public signatures above, re-exported so the entry point documents them.
export type * from "../tensor/core_types.ts";
