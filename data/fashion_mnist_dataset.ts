/**
 * Fashion-MNIST as an indexable {@link Dataset} for the {@link DataLoader}.
 *
 * @module
 */

import { TesseraError } from "../tensor/errors.ts";
import type { FashionMnist } from "./fashion_mnist.ts";
import type { Dataset, LabeledImage } from "./loader.ts";
import type { Image } from "./transforms/image.ts";

/** Options of {@link fashionMnistDataset}. */
export interface FashionMnistDatasetOptions {
  /** 1 (default, greyscale as stored) or 3 (replicated, like PIL `convert("RGB")`). */
  channels?: 1 | 3;
}

/** A Fashion-MNIST split as a synchronous {@link Dataset}. */
export interface FashionMnistDataset extends Dataset<LabeledImage> {
  /** Item `i`: a fresh 28×28 uint8 HWC image and its label. */
  get(i: number): LabeledImage & { image: Image };
}

/**
 * Wraps a loaded split: item `i` is a fresh 28×28 uint8 HWC image (1 or 3 channels) and its
 * label. Labels were validated by `loadFashionMnist` (0..9).
 *
 * @param split the result of `loadFashionMnist`
 * @param opts the channel count
 * @returns an indexable data set
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadFashionMnist } from "./fashion_mnist.ts";
 * import { fashionMnistDataset } from "./fashion_mnist_dataset.ts";
 * const ds = fashionMnistDataset(await loadFashionMnist({ split: "test", limit: 10 }), { channels: 3 });
 * const { image, label } = ds.get(0);
 * assert.equal(ds.length, 10);
 * assert.equal(image.height, 28);
 * assert.equal(image.width, 28);
 * assert.equal(image.channels, 3);
 * assert.equal(label, 9);
 * ```
 */
export function fashionMnistDataset(
  split: FashionMnist,
  opts: FashionMnistDatasetOptions = {},
): FashionMnistDataset {
  const { channels = 1 } = opts;
  if (channels !== 1 && channels !== 3) {
    throw new TesseraError("fashionMnistDataset", `channels must be 1 or 3, got ${channels}`);
  }
  const { images, labels, count, rows, cols } = split;
  const px = rows * cols;
  return {
    length: count,
    get(i: number) {
      if (!Number.isInteger(i) || i < 0 || i >= count) {
        throw new TesseraError("fashionMnistDataset", `index ${i} out of range [0, ${count})`);
      }
      const src = images.subarray(i * px, (i + 1) * px);
      let data: Uint8Array;
      if (channels === 1) {
        data = src.slice();
      } else {
        data = new Uint8Array(px * 3);
        for (let p = 0; p < px; p++) data[3 * p] = data[3 * p + 1] = data[3 * p + 2] = src[p]!;
      }
      return { image: { data, height: rows, width: cols, channels }, label: labels[i]! };
    },
  };
}
