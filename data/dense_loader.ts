/**
 * A batched loader for detection and segmentation, on {@link DataLoader}'s design: the same
 * seeded plan per epoch (order from `permutation`, one host {@link Rng} stream per sample
 * position, all drawn before anything is loaded), the same prefetching and ownership rules
 * (each yielded batch owns its tensors; dispose it). What differs is the collation: images of
 * different sizes are padded at the bottom/right with 0 into one `[B, C, H, W]` tensor whose
 * H and W are the largest in the batch rounded up to `sizeDivisor` (mmdet's batch padding),
 * and targets stay per image.
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
import { type FloatImage, toFloat, type Transform } from "./transforms/image.ts";
import { type DenseSample, SEG_IGNORE } from "./dense_transforms/sample.ts";
import type { DenseItem } from "./dense_folder.ts";
import type { Dataset } from "./loader.ts";

/** Options of {@link DenseLoader}. */
export interface DenseLoaderOptions {
  /** Samples per batch. */
  batchSize: number;
  /** An integer seed or a PRNG key (a key must stay alive while the loader is used). */
  seed: number | Tensor;
  /** Shuffle every epoch (default true). */
  shuffle?: boolean;
  /** Drop the last incomplete batch (default false). */
  dropLast?: boolean;
  /** Batches loaded ahead of the one being consumed (default 2). */
  prefetch?: number;
  /** Applied to each sample with the sample's own {@link Rng} (e.g. flip + LSJ + normalise). */
  transform?: Transform<DenseSample, DenseSample | DenseSample<FloatImage>>;
  /** The padded batch size is a multiple of this (default 32). */
  sizeDivisor?: number;
  /** Backend for the batch tensors (default: the default backend). */
  backend?: string;
}

/** One image's targets in a {@link DenseBatch} (host arrays, coordinates of the padded batch). */
export interface DenseTargets {
  /** `4·N` boxes `[x1, y1, x2, y2]`. */
  boxes: Float32Array;
  /** `N` contiguous labels. */
  labels: Int32Array;
  /** `N` masks padded to the batch's `H·W` (row-major 0/1), when the samples have masks. */
  masks?: Uint8Array[];
}

/** A batch; dispose it when done. */
export interface DenseBatch {
  /** float32 `[B, C, H, W]`, zero-padded. */
  images: Tensor;
  /** Each image's `[height, width]` before padding. */
  imageSizes: [number, number][];
  /** Per-image targets, when the samples have boxes. */
  targets?: DenseTargets[];
  /** int32 `[B, H, W]` label maps padded with 255, when the samples have them. */
  semantic?: Tensor;
  /** COCO image ids (−1 where unknown). */
  imageIds: Int32Array;
  /** Data-set indices of the samples, in batch order. */
  indices: Int32Array;
  /** The epoch. */
  epoch: number;
  /** Position of this batch in the epoch. */
  step: number;
  /** Frees the tensors. */
  dispose(): void;
  /** Same as `dispose`, for `using`. */
  [Symbol.dispose](): void;
}

interface HostDense {
  images: Float32Array;
  shape: [number, number, number, number];
  sizes: [number, number][];
  targets?: DenseTargets[];
  semantic?: Int32Array;
  imageIds: Int32Array;
  indices: Int32Array;
}

const OP = "DenseLoader";

/** Pads a row-major `h×w` plane into `H×W` (top-left aligned). */
function padPlane<T extends Uint8Array | Int32Array | Float32Array>(
  out: T,
  src: ArrayLike<number>,
  h: number,
  w: number,
  W: number,
): T {
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) out[y * W + x] = src[y * w + x]!;
  }
  return out;
}

/**
 * Batches a data set of {@link DenseItem}s (see {@link cocoDetectionFolder},
 * {@link segmentationFolder}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DenseLoader } from "./dense_loader.ts";
 * const item = (h: number, w: number) => ({
 *   sample: { image: { data: new Uint8Array(h * w), height: h, width: w, channels: 1 },
 *     boxes: Float32Array.of(0, 0, 2, 2), labels: Int32Array.of(1) },
 * });
 * const data = { length: 2, get: (i: number) => item(10 + i, 40) };
 * const loader = new DenseLoader(data, { batchSize: 2, seed: 0, shuffle: false });
 * for await (const b of loader.epoch(0)) {
 *   assert.deepEqual(b.images.shape, [2, 1, 32, 64]);
 *   assert.deepEqual(b.imageSizes, [[10, 40], [11, 40]]);
 *   assert.deepEqual([...b.targets![1]!.labels], [1]);
 *   b.dispose();
 * }
 * ```
 */
export class DenseLoader {
  readonly #data: Dataset<DenseItem>;
  readonly #opts: Required<Omit<DenseLoaderOptions, "transform" | "backend">> & DenseLoaderOptions;

  /**
   * Creates a loader; nothing is read until {@link DenseLoader.epoch} is iterated.
   * @param dataset the items
   * @param opts batching, seeding, transform and padding
   */
  constructor(dataset: Dataset<DenseItem>, opts: DenseLoaderOptions) {
    const { batchSize, prefetch = 2, seed, sizeDivisor = 32 } = opts;
    for (
      const [n, v, min] of [["batchSize", batchSize, 1], ["prefetch", prefetch, 0], [
        "sizeDivisor",
        sizeDivisor,
        1,
      ]] as const
    ) {
      if (!Number.isInteger(v) || v < min) {
        throw new TesseraError(OP, `${n} must be an integer >= ${min}, got ${v}`);
      }
    }
    if (!(seed instanceof Tensor) && !Number.isSafeInteger(seed)) {
      throw new TesseraError(OP, `seed must be an integer or a PRNG key, got ${seed}`);
    }
    this.#data = dataset;
    this.#opts = { shuffle: true, dropLast: false, ...opts, prefetch, sizeDivisor };
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.#data.length, b = this.#opts.batchSize;
    return this.#opts.dropLast ? Math.floor(n / b) : Math.ceil(n / b);
  }

  async #plan(epoch: number): Promise<{ order: Int32Array; seeds: Uint32Array }> {
    const n = this.#data.length;
    const owned: Tensor[] = [];
    const keep = <T extends Tensor>(t: T) => (owned.push(t), t);
    try {
      const { seed } = this.#opts;
      const base = seed instanceof Tensor ? seed : keep(makeKey(seed));
      const [kPerm, kSample] = splitKeys(keep(foldIn(base, epoch)), 3).map(keep);
      const order = this.#opts.shuffle
        ? new Int32Array(await keep(permutation(kPerm!, n)).data() as Int32Array)
        : Int32Array.from({ length: n }, (_, i) => i);
      return { order, seeds: await keep(bits(kSample!, [n, 4])).data() as Uint32Array };
    } finally {
      for (const t of owned) t.dispose();
    }
  }

  async #sample(order: Int32Array, seeds: Uint32Array, pos: number) {
    const idx = order[pos]!;
    const item = await this.#data.get(idx);
    if (!item || !item.sample?.image) {
      throw new TesseraError(OP, `sample ${idx}: dataset item has no sample.image`);
    }
    let s: DenseSample | DenseSample<FloatImage> = item.sample;
    if (this.#opts.transform) {
      s = this.#opts.transform(item.sample, new Rng(seeds.subarray(pos * 4, pos * 4 + 4)));
    }
    const image = s.image.data instanceof Float32Array
      ? (s.image as FloatImage)
      : toFloat(s.image as DenseSample["image"]);
    return { s, image, idx, imageId: item.imageId ?? -1 };
  }

  async #batch(order: Int32Array, seeds: Uint32Array, b: number): Promise<HostDense> {
    const { batchSize, sizeDivisor: d } = this.#opts;
    const start = b * batchSize, end = Math.min(start + batchSize, order.length);
    const items = await Promise.all(
      Array.from({ length: end - start }, (_, j) => this.#sample(order, seeds, start + j)),
    );
    const C = items[0]!.image.channels;
    const H = Math.ceil(Math.max(...items.map((t) => t.image.height)) / d) * d;
    const W = Math.ceil(Math.max(...items.map((t) => t.image.width)) / d) * d;
    const B = items.length, plane = H * W;
    const images = new Float32Array(B * C * plane);
    const boxed = items[0]!.s.boxes !== undefined, seg = items[0]!.s.semantic !== undefined;
    const semantic = seg ? new Int32Array(B * plane).fill(SEG_IGNORE) : undefined;
    const targets: DenseTargets[] = [];
    items.forEach(({ s, image, idx }, j) => {
      const { height: h, width: w } = image;
      if (
        image.channels !== C || (s.boxes !== undefined) !== boxed ||
        (s.semantic !== undefined) !== seg
      ) {
        throw new TesseraError(
          OP,
          `sample ${idx} differs from sample ${
            items[0]!.idx
          } in channels or in which targets it has`,
        );
      }
      for (let c = 0; c < C; c++) {
        const off = (j * C + c) * plane;
        padPlane(images.subarray(off, off + plane), image.data.subarray(c * h * w), h, w, W);
      }
      if (semantic) padPlane(semantic.subarray(j * plane, (j + 1) * plane), s.semantic!, h, w, W);
      if (boxed) {
        targets.push({
          boxes: s.boxes!,
          labels: s.labels ?? new Int32Array(s.boxes!.length / 4),
          masks: s.masks?.map((m) => padPlane(new Uint8Array(plane), m, h, w, W)),
        });
      }
    });
    return {
      images,
      shape: [B, C, H, W],
      sizes: items.map(({ image }) => [image.height, image.width]),
      targets: boxed ? targets : undefined,
      semantic,
      imageIds: Int32Array.from(items, (t) => t.imageId),
      indices: order.slice(start, end),
    };
  }

  /**
   * The batches of epoch `epoch` (the same epoch always gives the same batches). The consumer
   * disposes every yielded batch.
   */
  async *epoch(epoch: number): AsyncGenerator<DenseBatch, void, undefined> {
    if (!Number.isInteger(epoch) || epoch < 0 || epoch >= 2 ** 32) {
      throw new TesseraError(OP, `epoch must be a non-negative integer, got ${epoch}`);
    }
    const nb = this.length;
    if (nb === 0) return;
    const { order, seeds } = await this.#plan(epoch);
    const pending: Promise<HostDense>[] = [];
    let next = 0;
    try {
      for (let b = 0; b < nb; b++) {
        while (next < nb && next <= b + this.#opts.prefetch) {
          const p = this.#batch(order, seeds, next++);
          p.catch(() => {}); // surfaced when awaited below
          pending.push(p);
        }
        yield this.#upload(await pending.shift()!, epoch, b);
      }
    } finally {
      await Promise.allSettled(pending);
    }
  }

  #upload(host: HostDense, epoch: number, step: number): DenseBatch {
    const backend = this.#opts.backend;
    const images = tensor(host.images, { shape: host.shape, dtype: "float32", backend });
    const [B, , H, W] = host.shape;
    const semantic = host.semantic
      ? tensor(host.semantic, { shape: [B, H, W], dtype: "int32", backend })
      : undefined;
    const dispose = () => {
      for (const t of [images, semantic]) if (t && !t.disposed) t.dispose();
    };
    return {
      images,
      imageSizes: host.sizes,
      targets: host.targets,
      semantic,
      imageIds: host.imageIds,
      indices: host.indices,
      epoch,
      step,
      dispose,
      [Symbol.dispose]: dispose,
    };
  }
}
