/**
 * The loaders of the dense-prediction Tasks (detect, segment) and their `--eval`: the first
 * images of a data set ({@link firstItems}), the shuffled training batches
 * ({@link denseTrainLoader}) and the in-order evaluation batches ({@link denseEvalLoader}).
 * @module
 */
import type { Tensor } from "../tensor/mod.ts";
import { DenseLoader, type DenseLoaderOptions } from "../data/dense_loader.ts";
import type { DenseItem } from "../data/dense_folder.ts";
import type { DataLoader, Dataset } from "../data/loader.ts";

/**
 * The first `n` items of `ds` (null: all of them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { firstItems } from "./dense_loaders.ts";
 * const ds = { length: 5, get: (i: number) => Promise.resolve(i as never) };
 * assert.deepEqual([firstItems(ds, 2).length, firstItems(ds, 9).length, firstItems(ds, null).length], [2, 5, 5]);
 * ```
 */
export function firstItems(ds: Dataset<DenseItem>, n: number | null): Dataset<DenseItem> {
  return {
    length: n === null ? ds.length : Math.min(n, ds.length),
    get: (i: number) => ds.get(i),
  };
}

/**
 * The training batches of a dense Task: `set` shuffled with `seed`, batches of `batch` (the last
 * partial one dropped), 2 prefetched, `transform` per sample, sizes padded to a multiple of
 * `sizeDivisor`; typed as the loop's {@link DataLoader} (the loop only iterates `epoch(e)` and
 * disposes the batches).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denseTrainLoader } from "./dense_loaders.ts";
 * const set = { length: 0, get: () => Promise.reject(new Error("empty")) };
 * assert.equal(typeof denseTrainLoader(set, 2, 0, (s) => s).epoch, "function");
 * ```
 */
export function denseTrainLoader(
  set: Dataset<DenseItem>,
  batch: number,
  seed: number | Tensor,
  transform: DenseLoaderOptions["transform"],
  sizeDivisor?: number,
): DataLoader {
  return new DenseLoader(set, {
    batchSize: batch,
    seed,
    shuffle: true,
    dropLast: true,
    prefetch: 2,
    ...(sizeDivisor !== undefined ? { sizeDivisor } : {}),
    transform,
  }) as unknown as DataLoader;
}

/**
 * The evaluation batches of a dense Task: `set` in order, batches of 4, 1 prefetched,
 * `transform` per sample, sizes padded to a multiple of `sizeDivisor`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denseEvalLoader } from "./dense_loaders.ts";
 * const set = { length: 0, get: () => Promise.reject(new Error("empty")) };
 * assert.equal(typeof denseEvalLoader(set, (s) => s).epoch, "function");
 * ```
 */
export function denseEvalLoader(
  set: Dataset<DenseItem>,
  transform: DenseLoaderOptions["transform"],
  sizeDivisor?: number,
): DenseLoader {
  return new DenseLoader(set, {
    batchSize: 4,
    seed: 0,
    shuffle: false,
    prefetch: 1,
    transform,
    ...(sizeDivisor !== undefined ? { sizeDivisor } : {}),
  });
}
