/**
 * Class-balanced subsets of a labelled split: the paper's "small target dataset" regime is a
 * few thousand images with every class equally represented.
 * @module
 */
import { TesseraError } from "../tensor/errors.ts";
import type { FashionMnist } from "./fashion_mnist.ts";

/**
 * The first `count / classes` images of each class, in file order (so the subset is the same
 * on every machine and does not depend on a seed), returned in file order.
 *
 * @param split a loaded split (images and labels)
 * @param count total images; must be a multiple of `classes`
 * @param classes number of classes (default 10)
 * @returns a split of `count` images
 *
 * @example
 * ```ts
 * import { balancedSubset } from "./subset.ts";
 * const split = { images: new Uint8Array(6 * 4), labels: Uint8Array.of(0, 0, 1, 0, 1, 1), count: 6, rows: 2, cols: 2, source: "x" };
 * const s = balancedSubset(split, 4, 2);
 * console.log(s.count, [...s.labels]); // 4 [0, 0, 1, 1]
 * ```
 */
export function balancedSubset(split: FashionMnist, count: number, classes = 10): FashionMnist {
  const op = "balancedSubset";
  if (!Number.isInteger(count) || count < classes || count % classes !== 0) {
    throw new TesseraError(op, `count must be a positive multiple of ${classes}, got ${count}`);
  }
  const per = count / classes;
  const taken = new Array<number>(classes).fill(0);
  const keep: number[] = [];
  for (let i = 0; i < split.count && keep.length < count; i++) {
    const c = split.labels[i]!;
    if (c >= classes) throw new TesseraError(op, `label ${c} at ${i} is not below ${classes}`);
    if (taken[c]! < per) taken[c]!++, keep.push(i);
  }
  if (keep.length < count) {
    const short = taken.map((t, c) => (t < per ? `class ${c}: ${t}` : "")).filter(Boolean);
    throw new TesseraError(
      op,
      `${split.source} has too few images for ${per} per class (${short.join(", ")})`,
    );
  }
  const px = split.rows * split.cols;
  const images = new Uint8Array(count * px), labels = new Uint8Array(count);
  keep.forEach((src, j) => {
    images.set(split.images.subarray(src * px, (src + 1) * px), j * px);
    labels[j] = split.labels[src]!;
  });
  return { ...split, images, labels, count };
}
