/**
 * Fashion-MNIST for the `train.ts` commands: loading the train/test splits with `--data`, `--train-limit` / `--train-subset` and `--test-limit`,
 * turning every data problem into a {@link UsageError} that names the flag.
 * @module
 */
import { type FashionMnist, loadFashionMnist } from "../data/fashion_mnist.ts";
import { balancedSubset } from "../data/subset.ts";
import { UsageError } from "../trainer/flags.ts";

/**
 * Which images a command uses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SplitOptions } from "./fmnist.ts";
 * const o: SplitOptions = { data: null, trainLimit: null, trainSubset: 2000, testLimit: null };
 * assert.deepEqual(o.trainSubset, 2000);
 * ```
 */
export interface SplitOptions {
  /** IDX folder, or null for the default search. */
  data: string | null;
  /** First N training images (null = all). */
  trainLimit: number | null;
  /** Class-balanced training subset of N images (first N/10 per class); overrides `trainLimit`. */
  trainSubset?: number | null;
  /** First N test images (null = all). */
  testLimit: number | null;
  /**
   * Hold out the last N of the training file's images as a validation split (null = none). They
   * are carved before `trainLimit`/`trainSubset`, so the same images are held out whatever the
   * training size, and no training image is ever a validation image.
   */
  valSplit?: number | null;
}

/**
 * Images `from` .. `to` (exclusive) of a split (views, no copy).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sliceSplit } from "./fmnist.ts";
 * const s = { images: new Uint8Array(12), labels: Uint8Array.of(1, 2, 3), count: 3, rows: 2, cols: 2, source: "x" };
 * assert.deepEqual([...sliceSplit(s, 1, 3).labels], [2, 3]);
 * ```
 */
export function sliceSplit(s: FashionMnist, from: number, to: number): FashionMnist {
  const px = s.rows * s.cols;
  return {
    ...s,
    images: s.images.subarray(from * px, to * px),
    labels: s.labels.subarray(from, to),
    count: to - from,
  };
}

/**
 * Loads the train and test splits (and, with `valSplit`, a validation split carved from the end
 * of the training file). A limit or subset beyond the data is a {@link UsageError}
 * naming the flag and the number of images there are (never a silently smaller run).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadSplits } from "./fmnist.ts";
 * const s = await loadSplits({ data: "data/sample/fashion-mnist", trainLimit: null, trainSubset: 100, testLimit: 10 });
 * assert.deepEqual([s.train.count, s.test.count], [100, 10]);
 * const v = await loadSplits({ data: "data/sample/fashion-mnist", trainLimit: 500, testLimit: 10, valSplit: 200 });
 * assert.deepEqual([v.train.count, v.val!.count], [500, 200]); // val: training images 3800..3999
 * await assert.rejects(loadSplits({ data: "data/sample/fashion-mnist", trainLimit: 5000, testLimit: 10 }), {
 *   message: /^--train-limit 5000 is more than the 4000 training images of /,
 * });
 * ```
 */
export async function loadSplits(
  o: SplitOptions,
): Promise<{ train: FashionMnist; test: FashionMnist; val?: FashionMnist }> {
  if (o.data !== null) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(o.data);
    } catch {
      throw new UsageError(`--data ${o.data}: no such directory`);
    }
    if (!info.isDirectory) throw new UsageError(`--data ${o.data}: not a directory`);
  }
  const dir = o.data ?? undefined;
  const load = async (split: "train" | "test", limit: number | null) => {
    try {
      return await loadFashionMnist({ split, dir, limit: limit ?? undefined });
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new UsageError(o.data === null ? msg : `--data ${o.data}: ${msg}`);
    }
  };
  const subset = o.trainSubset ?? null, valSplit = o.valSplit ?? null;
  let train = await load("train", subset === null && valSplit === null ? o.trainLimit : null);
  let val: FashionMnist | undefined;
  if (valSplit !== null) {
    if (valSplit >= train.count) {
      throw new UsageError(
        `--val-split ${valSplit} leaves no training images: ${train.source} has ${train.count}`,
      );
    }
    val = sliceSplit(train, train.count - valSplit, train.count);
    train = sliceSplit(train, 0, train.count - valSplit);
    if (subset === null && o.trainLimit !== null && o.trainLimit <= train.count) {
      train = sliceSplit(train, 0, o.trainLimit);
    }
  }
  const beyond = (flag: string, n: number, split: FashionMnist, what: string) =>
    new UsageError(
      `--${flag} ${n} is more than the ${split.count} ${what} images of ${split.source}` +
        (val ? ` left by --val-split ${val.count}` : ""),
    );
  if (subset === null && o.trainLimit !== null && train.count < o.trainLimit) {
    throw beyond("train-limit", o.trainLimit, train, "training");
  }
  if (subset !== null) {
    if (subset % 10 !== 0) {
      throw new UsageError(`--train-subset must be a multiple of 10 (classes), got ${subset}`);
    }
    if (subset > train.count) throw beyond("train-subset", subset, train, "training");
    try {
      train = balancedSubset(train, subset);
    } catch (e) {
      throw new UsageError(`--train-subset ${subset}: ${(e as Error).message}`);
    }
  }
  const test = await load("test", o.testLimit);
  if (o.testLimit !== null && test.count < o.testLimit) {
    throw beyond("test-limit", o.testLimit, test, "test");
  }
  return val ? { train, test, val } : { train, test };
}
