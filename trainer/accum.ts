/**
 * Gradient accumulation (`--accum N`): a step's batch runs as `N` micro-batches of equal size
 * through the gradient half, and their results are summed in index order and scaled by `1/N`
 * — the same float32 operations, in the same order, as the mean over `N` ranks of
 * trainer/dist.ts (`sumInRankOrder`, then `× 1/N`). So `--batch 2B --accum 2` on one process
 * is bit for bit `--batch 2B --dist sim:2` (and `mpirun -np 2`, whose two-term sums are
 * order-free) for losses with no coupling between examples; and it trains with a batch that
 * does not fit in memory at once.
 * @module
 */
import { add, dispose, mul, scope, slice, Tensor } from "../tensor/mod.ts";
import { treeMap } from "../autodiff/mod.ts";
import { UsageError } from "./flags.ts";

/**
 * The `n` micro-batches of a step's arguments: every tensor of rank ≥ 1 is a batch of rows
 * (images, labels, masks, per-example keys) and is cut into `n` equal row blocks; anything
 * else (numbers, rank-0 tensors) is passed to every micro-batch as it is. `args` itself when
 * `n` is 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { microBatches } from "./accum.ts";
 * import { tensor } from "../mod.ts";
 * const [a, b] = microBatches([tensor([1, 2, 3, 4]), 0.5], 2);
 * assert.deepEqual([await (a![0] as ReturnType<typeof tensor>).toArray(), b![1]], [[1, 2], 0.5]);
 * ```
 */
export function microBatches<A extends unknown[]>(args: A, n: number): A[] {
  if (n === 1) return [args];
  const rows = args.filter((a): a is Tensor => a instanceof Tensor && a.ndim > 0)
    .map((t) => t.shape[0]!);
  const b = rows[0] ?? 0;
  if (rows.some((r) => r !== b)) {
    throw new UsageError(`--accum: the step's batched inputs have ${rows.join(", ")} rows`);
  }
  if (b % n !== 0) {
    throw new UsageError(`--accum ${n}: a batch of ${b} rows does not split into ${n} equal parts`);
  }
  const m = b / n;
  return Array.from(
    { length: n },
    (_, i) =>
      args.map((a) =>
        a instanceof Tensor && a.ndim > 0 ? scope(() => slice(a, [[i * m, (i + 1) * m]])) : a
      ) as A,
  );
}

/**
 * The mean of `grad` over the micro-batches of `args`: the results (any pytree of tensors)
 * summed in micro-batch order, then `× 1/n`; `grad(...args)` itself when `n` is 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { accumulate } from "./accum.ts";
 * import { sum, tensor, type Tensor } from "../mod.ts";
 * const g = accumulate((x: Tensor) => ({ s: sum(x) }), [tensor([1, 2, 3, 5])], 2);
 * assert.equal(await g.s.item(), 5.5);
 * ```
 */
export function accumulate<A extends unknown[], G>(grad: (...args: A) => G, args: A, n: number): G {
  if (n === 1) return scope(() => grad(...args));
  let total: G | null = null;
  for (const part of microBatches(args, n)) {
    const g = scope(() => grad(...part));
    dispose(part.filter((a) => a instanceof Tensor && !args.includes(a)));
    if (total === null) total = g;
    else {
      const prev: G = total;
      total = scope(() => treeMap((a: Tensor, b: Tensor) => add(a, b), prev, g) as G);
      dispose([prev, g]);
    }
  }
  const out = scope(() => treeMap((t: Tensor) => mul(t, 1 / n), total) as G);
  dispose(total);
  return out;
}
