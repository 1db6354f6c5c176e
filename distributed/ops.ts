/**
 * Collectives on tensors. `allReduceSum`, `allGather` and `reduceScatterSum` are
 * differentiable under `grad`/`vjp` (through `customVjp`): the adjoint of a sum over ranks is
 * a sum over ranks, and the adjoint of `allGather` is `reduceScatterSum` — every rank's
 * cotangent of the gathered value contributes to this rank's block, not only its own
 * (returning "my slice" of the cotangent is a known bug of popular gathered-InfoNCE code).
 * They read their input synchronously, so they need a backend with synchronous reads (CPU).
 *
 * SPMD rule: every rank must make the same collective calls, in the backward pass too. The
 * backward collective runs only where the forward result reaches the loss, so use it in every
 * rank's loss (or in none); sim(W) reports a rank left waiting, MPI would hang.
 *
 * The `…Tree` functions move whole pytrees in one collective per dtype (the fused per-step
 * allreduce of a training loop); they read asynchronously, so they work on every backend.
 * @module
 */
import { customVjp, treeLeaves, treeMap } from "../autodiff/mod.ts";
import { type Shape, Tensor, tensor, TesseraError } from "../tensor/mod.ts";
import { fmtShape } from "../tensor/errors.ts";
import {
  type Collectives,
  type HostArray,
  type HostDType,
  hostDType,
  newHost,
} from "./collectives.ts";

const HOST_DTYPES: readonly string[] = ["float32", "float64", "int32"];

function hostData(op: string, x: Tensor): HostArray {
  if (!HOST_DTYPES.includes(x.dtype)) {
    throw new TesseraError(
      op,
      `collectives move float32, float64 or int32 tensors, got ${x.dtype}`,
    );
  }
  return x.dataSync() as HostArray;
}

function upload(data: HostArray, shape: Shape, like: Tensor): Tensor {
  return tensor(data, { shape, dtype: like.dtype, backend: like.backend.name });
}

/** Applies a linear collective, differentiable in reverse mode with `adjoint`. */
function linear(
  op: string,
  coll: Collectives,
  x: Tensor,
  host: (x: Tensor) => Tensor,
  adjoint: (coll: Collectives, ct: Tensor) => Tensor,
): Tensor {
  if (!(x instanceof Tensor)) {
    throw new TesseraError(op, `expected a Tensor, got ${typeof x}`);
  }
  if (!x.tracer) return host(x);
  if (x.tracer.trace.kind === "jvp") {
    throw new TesseraError(
      op,
      "forward mode (jvp) through a collective is not supported; use grad",
    );
  }
  const self = (t: Tensor) => linear(op, coll, t, host, adjoint);
  return customVjp(self, (t: Tensor): [Tensor, null] => [self(t), null], (_, ct: Tensor) => [
    adjoint(coll, ct),
  ])(x);
}

/**
 * The elementwise sum of `x` over all ranks (every rank gets it). Its VJP is `allReduceSum`
 * of the cotangent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allReduceSum, local } from "./mod.ts";
 * import { tensor } from "../tensor/mod.ts";
 * assert.deepEqual(await allReduceSum(local(), tensor([1, 2])).toArray(), [1, 2]);
 * ```
 */
export function allReduceSum(coll: Collectives, x: Tensor): Tensor {
  return linear(
    "allReduceSum",
    coll,
    x,
    (t) => upload(coll.allReduceSum(hostData("allReduceSum", t)), t.shape, t),
    allReduceSum,
  );
}

/**
 * The ranks' `x` concatenated along axis 0 in rank order: `[n, …]` → `[size·n, …]`. Its VJP
 * is `reduceScatterSum` of the cotangent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allGather, local } from "./mod.ts";
 * import { tensor } from "../tensor/mod.ts";
 * assert.deepEqual(await allGather(local(), tensor([[1, 2]])).toArray(), [[1, 2]]);
 * ```
 */
export function allGather(coll: Collectives, x: Tensor): Tensor {
  return linear("allGather", coll, x, (t) => {
    if (t.ndim === 0) throw new TesseraError("allGather", "x must have an axis 0 (got a scalar)");
    const out = coll.allGather(hostData("allGather", t));
    return upload(out, [coll.size * t.shape[0]!, ...t.shape.slice(1)], t);
  }, reduceScatterSum);
}

/**
 * Block `rank` (along axis 0) of the sum of `x` over ranks: `[size·n, …]` → `[n, …]`. Its
 * VJP is `allGather` of the cotangent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { local, reduceScatterSum } from "./mod.ts";
 * import { tensor } from "../tensor/mod.ts";
 * assert.deepEqual(await reduceScatterSum(local(), tensor([3, 4])).toArray(), [3, 4]);
 * ```
 */
export function reduceScatterSum(coll: Collectives, x: Tensor): Tensor {
  return linear("reduceScatterSum", coll, x, (t) => {
    if (t.ndim === 0 || t.shape[0]! % coll.size !== 0) {
      throw new TesseraError(
        "reduceScatterSum",
        `axis 0 of x ${fmtShape(t.shape)} must split into ${coll.size} equal blocks`,
      );
    }
    const out = coll.reduceScatterSum(hostData("reduceScatterSum", t));
    return upload(out, [t.shape[0]! / coll.size, ...t.shape.slice(1)], t);
  }, allGather);
}

/** Packs the tree's leaves per dtype, runs `run` on each packed buffer, unpacks new leaves. */
async function fused<T>(
  op: string,
  tree: T,
  run: (buf: HostArray) => void,
): Promise<T> {
  const leaves = treeLeaves(tree);
  const groups = new Map<HostDType, Tensor[]>();
  for (const l of leaves) {
    if (!HOST_DTYPES.includes(l.dtype)) {
      throw new TesseraError(
        op,
        `collectives move float32, float64 or int32 tensors, got ${l.dtype}`,
      );
    }
    const g = groups.get(l.dtype as HostDType) ?? [];
    g.push(l);
    groups.set(l.dtype as HostDType, g);
  }
  const results = new Map<Tensor, Tensor>();
  for (const dtype of [...groups.keys()].sort()) {
    const group = groups.get(dtype)!;
    const buf = newHost(dtype, group.reduce((n, t) => n + t.size, 0));
    let off = 0;
    for (const t of group) {
      buf.set(await t.data() as HostArray, off);
      off += t.size;
    }
    hostDType(op, buf);
    run(buf);
    off = 0;
    for (const t of group) {
      results.set(t, upload(buf.subarray(off, off + t.size), t.shape, t));
      off += t.size;
    }
  }
  return treeMap((t) => results.get(t)!, tree);
}

/**
 * Sums every tensor leaf of `tree` over the ranks with one collective per dtype (gradients ‖
 * statistics ‖ metrics in one message). Returns a new tree; the caller still owns `tree`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allReduceSumTree, local } from "./mod.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const g = await allReduceSumTree(local(), { w: tensor([1, 2]), loss: tensor(0.5) });
 * assert.deepEqual(await g.w.toArray(), [1, 2]);
 * assert.equal(await g.loss.item(), 0.5);
 * ```
 */
export function allReduceSumTree<T>(coll: Collectives, tree: T): Promise<T> {
  return fused("allReduceSumTree", tree, (b) => coll.allReduceSum(b, { inPlace: true }));
}

/**
 * Every tensor leaf of rank `root`'s `tree` on every rank (parameters at the start of
 * training), one collective per dtype. Returns a new tree.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { broadcastTree, local } from "./mod.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const p = await broadcastTree(local(), [tensor([7])]);
 * assert.deepEqual(await p[0]!.toArray(), [7]);
 * ```
 */
export function broadcastTree<T>(coll: Collectives, tree: T, root = 0): Promise<T> {
  return fused("broadcastTree", tree, (b) => coll.broadcast(b, root));
}

/**
 * A checksum (FNV-1a over the bytes) of `tree`'s tensor leaves, checked equal on all ranks:
 * throws a TesseraError naming the ranks whose replicas drifted apart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { local, replicaChecksum } from "./mod.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const h = await replicaChecksum(local(), { w: tensor([1, 2]) });
 * assert.equal(h, await replicaChecksum(local(), { w: tensor([1, 2]) }));
 * ```
 */
export async function replicaChecksum(coll: Collectives, tree: unknown): Promise<number> {
  let h = 0x811c9dc5;
  for (const t of treeLeaves(tree)) {
    const d = await t.data();
    const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  }
  const all = coll.allGather(new Int32Array([h]));
  const bad = [...all.keys()].filter((r) => all[r] !== all[0]);
  if (bad.length) {
    throw new TesseraError(
      "replicaChecksum",
      `replicas differ from rank 0 on rank(s) ${bad.join(", ")}: checksums [${[...all]}]`,
    );
  }
  return h >>> 0;
}
