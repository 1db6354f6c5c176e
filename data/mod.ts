/**
 * Data sets and file formats: an IDX reader (MNIST/Fashion-MNIST files, gzipped or raw) and
 * a Fashion-MNIST loader that falls back to a small sample shipped with tessera.
 *
 * Needs `--allow-read` for local files (or `--allow-net` when tessera is imported by URL).
 *
 * @example
 * ```ts
 * import { FASHION_MNIST_CLASSES, loadFashionMnist } from "./mod.ts";
 * const train = await loadFashionMnist({ split: "train", limit: 100 });
 * console.log(train.count, train.rows, train.cols); // 100 28 28
 * console.log(FASHION_MNIST_CLASSES[train.labels[0]!]); // "Ankle boot"
 * ```
 *
 * @module
 */

export { encodeIdx, type Idx, readIdx, readIdxFile } from "./idx.ts";
export {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_SYSTEM_DIR,
  type FashionMnist,
  type FashionMnistOptions,
  loadFashionMnist,
} from "./fashion_mnist.ts";
