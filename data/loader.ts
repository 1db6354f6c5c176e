/**
 * A data loader: seeded shuffling per epoch, batching, per-sample transforms with their own
 * host PRNG streams, batch transforms (Mixup/CutMix), collation into tessera tensors and async
 * prefetching. Deterministic given the seed, whatever the prefetch depth.
 *
 * Randomness. For epoch `e` the loader takes `k = foldIn(key, e)` and
 * `[kPerm, kSample, kBatch] = splitKeys(k, 3)`: the order is `permutation(kPerm, n)` (or
 * 0..n−1 without shuffling); the sample at position `j` of the epoch gets the host stream
 * `Rng(bits(kSample, [n, 4])[j])`; batch `b`'s batch transform gets `Rng(bits(kBatch, [nb, 4])[b])`.
 * Everything is drawn before any sample is loaded, so results cannot depend on timing.
 *
 * Memory. Each yielded {@link Batch} owns its tensors: the consumer must dispose it
 * (`batch.dispose()`, or `using`). Prefetched batches are kept on the host (typed arrays) and
 * uploaded only when yielded, so abandoning an epoch early (`break`) leaks nothing; the
 * generator waits for in-flight loads before it finishes.
 *
 * @module
 */

import "../tensor/cpu/mod.ts"; // registers the default backend when only data/ is imported
import { TesseraError } from "../tensor/errors.ts";
import { tensor } from "../tensor/creation.ts";
import { bits, foldIn, key as makeKey, splitKeys } from "../tensor/random_keys.ts";
import { permutation } from "../tensor/random_discrete.ts";
import { Tensor } from "../tensor/tensor.ts";
import { Rng } from "../tensor/host_rng.ts";
import {
  type FloatImage,
  type HostBatch,
  type Image,
  toFloat,
  type Transform,
} from "./transforms/image.ts";

/** Anything indexable: a length and an (async or sync) item getter. */
export interface Dataset<T> {
  /** Number of items. */
  readonly length: number;
  /** Item `i`, for integer `0 <= i < length`. */
  get(i: number): Promise<T> | T;
}

/** The items the loader batches: an image and an integer label (`path` names it in errors). */
export interface LabeledImage {
  /** A uint8 HWC image (converted with `toFloat` when collated) or a float CHW image. */
  image: Image | FloatImage;
  /** Class index. */
  label: number;
  /** Where the item came from, for error messages. */
  path?: string;
}

/** Options of {@link DataLoader}. */
export interface LoaderOptions {
  /** Samples per batch. */
  batchSize: number;
  /** An integer seed or a PRNG key (a key must stay alive while the loader is used). */
  seed: number | Tensor;
  /** Shuffle every epoch (default true). */
  shuffle?: boolean;
  /** Drop the last incomplete batch (default false). */
  dropLast?: boolean;
  /** Batches loaded ahead of the one being consumed (default 2; 0 loads on demand). */
  prefetch?: number;
  /** Applied to each sample's image with the sample's own {@link Rng}. */
  transform?: Transform<Image, Image | FloatImage>;
  /** Applied to each collated host batch (e.g. `mixup`) with the batch's own {@link Rng}. */
  batchTransform?: Transform<HostBatch, HostBatch>;
  /** When set, labels must lie in `[0, numClasses)`. */
  numClasses?: number;
  /** Backend for the batch tensors (default: the default backend). */
  backend?: string;
}

/** A batch of tensors; dispose it when done. */
export interface Batch {
  /** float32 `[B, C, H, W]`. */
  images: Tensor;
  /** int32 `[B]`. */
  labels: Tensor;
  /** float32 `[B, K]` soft targets, when a batch transform produced them. */
  targets?: Tensor;
  /** Data-set indices of the samples, in batch order. */
  indices: Int32Array;
  /** The epoch and the batch's position in it. */
  epoch: number;
  /** Position of this batch in the epoch. */
  step: number;
  /** Frees the tensors. */
  dispose(): void;
  /** Same as `dispose`, for `using`. */
  [Symbol.dispose](): void;
}

interface Plan {
  order: Int32Array;
  sampleSeeds: Uint32Array;
  batchSeeds: Uint32Array;
}

const OP = "DataLoader";

/**
 * Batches a {@link Dataset} of {@link LabeledImage}s; see the module doc for the randomness
 * and memory rules.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DataLoader } from "./loader.ts";
 * const data = {
 *   length: 5,
 *   get: (i: number) => ({ image: { data: new Uint8Array(4).fill(i), height: 2, width: 2, channels: 1 }, label: i % 2 }),
 * };
 * const loader = new DataLoader(data, { batchSize: 2, seed: 0, dropLast: true });
 * for await (const batch of loader.epoch(0)) {
 *   assert.deepEqual(batch.images.shape, [2, 1, 2, 2]);
 *   assert.equal(batch.labels.dtype, "int32");
 *   batch.dispose();
 * }
 * ```
 */
export class DataLoader {
  readonly #data: Dataset<LabeledImage>;
  readonly #opts:
    & Required<Pick<LoaderOptions, "batchSize" | "shuffle" | "dropLast" | "prefetch">>
    & LoaderOptions;

  /**
   * Creates a loader; nothing is read until {@link DataLoader.epoch} is iterated.
   * @param dataset the items
   * @param opts batching, seeding and transforms
   */
  constructor(dataset: Dataset<LabeledImage>, opts: LoaderOptions) {
    const { batchSize, prefetch = 2, seed } = opts;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new TesseraError(OP, `batchSize must be a positive integer, got ${batchSize}`);
    }
    if (!Number.isInteger(prefetch) || prefetch < 0) {
      throw new TesseraError(OP, `prefetch must be a non-negative integer, got ${prefetch}`);
    }
    if (!(seed instanceof Tensor) && !Number.isSafeInteger(seed)) {
      throw new TesseraError(OP, `seed must be an integer or a PRNG key, got ${seed}`);
    }
    if (!Number.isInteger(dataset.length) || dataset.length < 0) {
      throw new TesseraError(
        OP,
        `dataset.length must be a non-negative integer, got ${dataset.length}`,
      );
    }
    this.#data = dataset;
    this.#opts = { shuffle: true, dropLast: false, ...opts, prefetch };
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.#data.length, b = this.#opts.batchSize;
    return this.#opts.dropLast ? Math.floor(n / b) : Math.ceil(n / b);
  }

  async #plan(epoch: number): Promise<Plan> {
    const n = this.#data.length;
    const { seed, shuffle } = this.#opts;
    const owned: Tensor[] = [];
    const keep = <T extends Tensor>(t: T) => (owned.push(t), t);
    try {
      const base = seed instanceof Tensor ? seed : keep(makeKey(seed));
      const ek = keep(foldIn(base, epoch));
      const [kPerm, kSample, kBatch] = splitKeys(ek, 3).map(keep);
      const order = shuffle
        ? new Int32Array(await keep(permutation(kPerm!, n)).data() as Int32Array)
        : Int32Array.from({ length: n }, (_, i) => i);
      const sampleSeeds = await keep(bits(kSample!, [n, 4])).data() as Uint32Array;
      const batchSeeds = await keep(bits(kBatch!, [Math.max(1, this.length), 4]))
        .data() as Uint32Array;
      return { order, sampleSeeds, batchSeeds };
    } finally {
      for (const t of owned) t.dispose();
    }
  }

  async #loadSample(plan: Plan, pos: number): Promise<{ img: FloatImage; label: number }> {
    const idx = plan.order[pos]!;
    const item = await this.#data.get(idx);
    const name = () => `sample ${idx}${item?.path ? ` (${item.path})` : ""}`;
    if (!item || typeof item !== "object" || !item.image) {
      throw new TesseraError(OP, `${name()}: dataset item has no image`);
    }
    const { label } = item;
    const k = this.#opts.numClasses;
    if (
      !Number.isInteger(label) || label < 0 || label > 2 ** 31 - 1 ||
      (k !== undefined && label >= k)
    ) {
      throw new TesseraError(
        OP,
        `${name()}: label ${label} is not ${
          k === undefined ? "a non-negative integer" : `a class in 0..${k - 1}`
        }`,
      );
    }
    const rng = new Rng(plan.sampleSeeds.subarray(pos * 4, pos * 4 + 4));
    let img = item.image;
    if (this.#opts.transform) img = this.#opts.transform(img as Image, rng);
    return {
      img: img.data instanceof Float32Array ? (img as FloatImage) : toFloat(img as Image),
      label,
    };
  }

  async #loadBatch(plan: Plan, b: number): Promise<HostBatch & { indices: Int32Array }> {
    const { batchSize, batchTransform } = this.#opts;
    const start = b * batchSize;
    const end = Math.min(start + batchSize, plan.order.length);
    const samples = await Promise.all(
      Array.from({ length: end - start }, (_, j) => this.#loadSample(plan, start + j)),
    );
    const { channels: C, height: H, width: W } = samples[0]!.img;
    const chw = C * H * W;
    const images = new Float32Array(samples.length * chw);
    const labels = new Int32Array(samples.length);
    samples.forEach(({ img, label }, j) => {
      if (img.channels !== C || img.height !== H || img.width !== W) {
        const idx = plan.order[start + j];
        throw new TesseraError(
          OP,
          `sample ${idx} has shape [${img.channels},${img.height},${img.width}] but sample ` +
            `${plan.order[start]} has [${C},${H},${W}]; resize or crop to a common size`,
        );
      }
      images.set(img.data, j * chw);
      labels[j] = label;
    });
    let host: HostBatch = { images, shape: [samples.length, C, H, W], labels };
    if (batchTransform) {
      host = batchTransform(host, new Rng(plan.batchSeeds.subarray(b * 4, b * 4 + 4)));
    }
    return { ...host, indices: plan.order.slice(start, end) };
  }

  /**
   * The batches of epoch `epoch` (any non-negative integer; the same epoch always gives the
   * same batches). The consumer disposes every yielded batch.
   */
  async *epoch(epoch: number): AsyncGenerator<Batch, void, undefined> {
    if (!Number.isInteger(epoch) || epoch < 0 || epoch >= 2 ** 32) {
      throw new TesseraError(OP, `epoch must be a non-negative integer, got ${epoch}`);
    }
    const nb = this.length;
    if (nb === 0) return;
    const plan = await this.#plan(epoch);
    const pending: Promise<HostBatch & { indices: Int32Array }>[] = [];
    let next = 0;
    try {
      for (let b = 0; b < nb; b++) {
        while (next < nb && next <= b + this.#opts.prefetch) {
          const p = this.#loadBatch(plan, next++);
          p.catch(() => {}); // surfaced when awaited below; avoids an unhandled rejection
          pending.push(p);
        }
        const host = await pending.shift()!;
        yield this.#upload(host, epoch, b);
      }
    } finally {
      await Promise.allSettled(pending);
    }
  }

  #upload(host: HostBatch & { indices: Int32Array }, epoch: number, step: number): Batch {
    const backend = this.#opts.backend;
    const images = tensor(host.images, { shape: host.shape, dtype: "float32", backend });
    const labels = tensor(host.labels, { dtype: "int32", backend });
    const targets = host.targets
      ? tensor(host.targets, {
        shape: [host.labels.length, host.numClasses!],
        dtype: "float32",
        backend,
      })
      : undefined;
    const dispose = () => {
      for (const t of [images, labels, targets]) if (t && !t.disposed) t.dispose();
    };
    return {
      images,
      labels,
      targets,
      indices: host.indices,
      epoch,
      step,
      dispose,
      [Symbol.dispose]: dispose,
    };
  }
}
