/**
 * Fashion-MNIST loader: 28×28 greyscale images of clothing in 10 classes, read from the
 * gzip-compressed IDX files of the original distribution.
 *
 * @module
 */

import { join } from "node:path";
import { TesseraError } from "../tensor/errors.ts";
import { readIdxFile } from "./idx.ts";

/**
 * The ten Fashion-MNIST class names; label `i` is `FASHION_MNIST_CLASSES[i]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FASHION_MNIST_CLASSES } from "./fashion_mnist.ts";
 * assert.equal(FASHION_MNIST_CLASSES[9], "Ankle boot");
 * ```
 */
export const FASHION_MNIST_CLASSES = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
] as const;

/**
 * Where Debian's `dataset-fashion-mnist` package installs the full data set.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FASHION_MNIST_SYSTEM_DIR } from "./fashion_mnist.ts";
 * assert.equal(FASHION_MNIST_SYSTEM_DIR, "/usr/share/datasets/fashion-mnist/");
 * ```
 */
export const FASHION_MNIST_SYSTEM_DIR = "/usr/share/datasets/fashion-mnist/";

/** Options for {@link loadFashionMnist}. */
export interface FashionMnistOptions {
  /** `"train"` (60,000 items) or `"test"` (10,000 items, the `t10k-*` files). */
  split: "train" | "test";
  /**
   * Folder holding the IDX files (a path, or a `file:`/`http(s):` URL). When left out,
   * {@link FASHION_MNIST_SYSTEM_DIR} is used if it holds the split's files, else the sample
   * shipped with tessera (`data/sample/fashion-mnist/`: the first 4,000 train and 1,000
   * test items).
   */
  dir?: string | URL;
  /** Keep only the first `limit` items (all of them when `limit` exceeds the count). */
  limit?: number;
}

/** A loaded Fashion-MNIST split. */
export interface FashionMnist {
  /** `count` images of `rows`×`cols` bytes each, row-major, 0 = background, 255 = ink. */
  images: Uint8Array;
  /** `count` labels in 0..9, indices into {@link FASHION_MNIST_CLASSES}. */
  labels: Uint8Array;
  /** Number of items. */
  count: number;
  /** Image height: 28. */
  rows: number;
  /** Image width: 28. */
  cols: number;
  /** The folder (path or URL) the files were read from. */
  source: string;
}

const OP = "loadFashionMnist";

function fileNames(split: "train" | "test"): { images: string; labels: string } {
  const prefix = split === "train" ? "train" : "t10k";
  return { images: `${prefix}-images-idx3-ubyte`, labels: `${prefix}-labels-idx1-ubyte` };
}

function asDirUrl(dir: string | URL): URL | null {
  if (dir instanceof URL) return dir;
  return /^(https?|file):/.test(dir) ? new URL(dir) : null;
}

/** `dir` joined with `name`: a path string or a URL, following `dir`. */
function locate(dir: string | URL, name: string): string | URL {
  const url = asDirUrl(dir);
  if (!url) return join(dir as string, name);
  const base = new URL(url.href.endsWith("/") ? url.href : `${url.href}/`);
  return new URL(name, base);
}

/** Whether `loc` exists; unreadable locations (no permission, network errors) count as absent. */
async function exists(loc: string | URL): Promise<boolean> {
  if (loc instanceof URL && (loc.protocol === "http:" || loc.protocol === "https:")) {
    try {
      const res = await fetch(loc, { method: "HEAD" });
      await res.body?.cancel();
      return res.ok;
    } catch {
      return false;
    }
  }
  try {
    return (await Deno.stat(loc)).isFile;
  } catch {
    return false;
  }
}

/** The split's two files in `dir` (`.gz` preferred over raw), or null if either is missing. */
async function findFiles(
  dir: string | URL,
  split: "train" | "test",
): Promise<{ images: string | URL; labels: string | URL } | null> {
  const names = fileNames(split);
  const find = async (base: string) => {
    for (const name of [`${base}.gz`, base]) {
      const loc = locate(dir, name);
      if (await exists(loc)) return loc;
    }
    return null;
  };
  const [images, labels] = await Promise.all([find(names.images), find(names.labels)]);
  return images && labels ? { images, labels } : null;
}

/**
 * Loads a Fashion-MNIST split as raw bytes.
 *
 * The folder is `opts.dir` when given (an error names it if the files are missing), else
 * `/usr/share/datasets/fashion-mnist/` (Debian's `dataset-fashion-mnist`) if it holds the
 * split's files, else the sample shipped in the repository next to this module. The sample
 * is found through `import.meta.url`, so it is read with `fetch` when tessera is imported
 * by URL. In each folder the files are `train-images-idx3-ubyte.gz`,
 * `train-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz`
 * (uncompressed files without `.gz` are accepted too).
 *
 * Needs `--allow-read` for local folders and `--allow-net` for URLs.
 *
 * @param opts the split, an optional folder and an optional item limit
 * @returns images (`count`×28×28 bytes), labels (`count` bytes) and where they came from
 * @throws {TesseraError} (op `loadFashionMnist`) when the files are missing or inconsistent,
 *   or `limit` is not a non-negative integer; (op `readIdx`) when a file is not valid IDX
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FASHION_MNIST_CLASSES, loadFashionMnist } from "./fashion_mnist.ts";
 * const test = await loadFashionMnist({ split: "test", limit: 3 });
 * assert.equal(test.count, 3);
 * assert.equal(test.images.length, 2352);
 * assert.deepEqual(
 *   [...test.labels].map((l) => FASHION_MNIST_CLASSES[l]),
 *   ["Ankle boot", "Pullover", "Trouser"],
 * );
 * ```
 */
export async function loadFashionMnist(opts: FashionMnistOptions): Promise<FashionMnist> {
  const { split, dir, limit } = opts;
  if (split !== "train" && split !== "test") {
    throw new TesseraError(OP, `split must be "train" or "test", got ${JSON.stringify(split)}`);
  }
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
    throw new TesseraError(OP, `limit must be a non-negative integer, got ${limit}`);
  }
  let source: string | URL;
  let files: { images: string | URL; labels: string | URL } | null;
  if (dir !== undefined) {
    source = dir;
    files = await findFiles(dir, split);
    if (!files) {
      const names = fileNames(split);
      const where = dir instanceof URL ? dir.href : dir;
      throw new TesseraError(
        OP,
        `no Fashion-MNIST ${split} files in ${where}: looked for ${names.images}(.gz) and ` +
          `${names.labels}(.gz)`,
      );
    }
  } else {
    source = FASHION_MNIST_SYSTEM_DIR;
    files = await findFiles(source, split);
    if (!files) {
      source = new URL("./sample/fashion-mnist/", import.meta.url);
      files = await findFiles(source, split);
      if (!files) {
        throw new TesseraError(
          OP,
          `no Fashion-MNIST ${split} files in ${FASHION_MNIST_SYSTEM_DIR} nor in the sample ` +
            `${source.href}; pass dir`,
        );
      }
    }
  }
  const [img, lab] = await Promise.all([readIdxFile(files.images), readIdxFile(files.labels)]);
  const name = (loc: string | URL) => (loc instanceof URL ? loc.href : loc);
  if (img.dims.length !== 3 || img.dims[1] !== 28 || img.dims[2] !== 28) {
    throw new TesseraError(
      OP,
      `${name(files.images)}: expected images of dims [N,28,28], got [${img.dims.join(",")}]`,
    );
  }
  if (lab.dims.length !== 1) {
    throw new TesseraError(
      OP,
      `${name(files.labels)}: expected labels of dims [N], got [${lab.dims.join(",")}]`,
    );
  }
  if (img.dims[0] !== lab.dims[0]) {
    throw new TesseraError(
      OP,
      `${img.dims[0]} images in ${name(files.images)} but ${lab.dims[0]} labels in ` +
        name(files.labels),
    );
  }
  const bad = lab.data.findIndex((l) => l > 9);
  if (bad >= 0) {
    throw new TesseraError(
      OP,
      `${name(files.labels)}: label ${lab.data[bad]} at index ${bad} is not a class in 0..9`,
    );
  }
  const total = img.dims[0]!;
  const count = limit === undefined ? total : Math.min(limit, total);
  const pixels = 28 * 28;
  return {
    // Copy when limited so the full decompressed buffers can be freed.
    images: count === total ? img.data : img.data.slice(0, count * pixels),
    labels: count === total ? lab.data : lab.data.slice(0, count),
    count,
    rows: 28,
    cols: 28,
    source: name(source),
  };
}
