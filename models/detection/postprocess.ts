/**
 * Inference postprocessing of the box head (torchvision `RoIHeads.postprocess_detections`,
 * methods.md §12): softmax scores, per-class decoding (weights 10, 10, 5, 5), clipping,
 * background dropped, score > 0.05, tiny boxes dropped, per-class NMS 0.5, top 100 per image.
 * @module
 */
import {
  arange,
  batchedNms,
  broadcastTo,
  clipBoxes,
  expandDims,
  gather,
  greater,
  greaterEqual,
  logicalAnd,
  reshape,
  scope,
  slice,
  softmax,
  split,
  sub,
  type Tensor,
  tensor,
  TesseraError,
} from "../../tensor/mod.ts";
import { type BoxCoderOptions, decodeBoxes } from "./box_coder.ts";
import { ROI_BOX_WEIGHTS } from "./roi_targets.ts";

/**
 * Options of {@link postprocessDetections}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { PostprocessOptions } from "./postprocess.ts";
 * const o: PostprocessOptions = { scoreThresh: 0.05, nmsThresh: 0.5, detectionsPerImage: 100 };
 * assert.equal(o.detectionsPerImage, 100);
 * ```
 */
export interface PostprocessOptions {
  /** Keep class scores strictly above this (default 0.05). */
  scoreThresh?: number;
  /** Per-class NMS IoU (default 0.5). */
  nmsThresh?: number;
  /** Detections kept per image (default 100). */
  detectionsPerImage?: number;
  /** Boxes with a side below this are dropped (default 1e-2, torchvision). */
  minSize?: number;
  /** Box coder (default weights 10, 10, 5, 5). */
  coder?: BoxCoderOptions;
}

/**
 * Detections of one image.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Detections } from "./postprocess.ts";
 * const n = (d: Detections) => d.labels.shape[0];
 * assert.equal(typeof n, "function");
 * ```
 */
export interface Detections {
  /** `[D, 4]` in image coordinates, by descending score. */
  boxes: Tensor;
  /** `[D]` class probabilities. */
  scores: Tensor;
  /** int32 `[D]` classes (≥ 1). */
  labels: Tensor;
}

/**
 * Detections from box-head outputs (`[Σ R_i, K]` logits, `[Σ R_i, 4K]` deltas) for each
 * image's proposals `[R_i, 4]` and size `[h, w]`. Async: survivors are counted on the host.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { postprocessDetections } from "./postprocess.ts";
 * import { tensor, zeros } from "../../mod.ts";
 * const [d] = await postprocessDetections(tensor([[0, 3]]), zeros([1, 8]), [tensor([[2, 2, 12, 12]])], [[20, 20]]);
 * assert.deepEqual(await d!.boxes.toArray(), [[2, 2, 12, 12]]);
 * assert.deepEqual(await d!.labels.toArray(), [1]);
 * ```
 */
export async function postprocessDetections(
  classLogits: Tensor,
  boxRegression: Tensor,
  proposals: readonly Tensor[],
  imageSizes: readonly (readonly [number, number])[],
  opts: PostprocessOptions = {},
): Promise<Detections[]> {
  opts ??= {};
  const op = "postprocessDetections";
  const [r, k] = classLogits.shape as [number, number];
  const total = proposals.reduce((s, p) => s + p.shape[0]!, 0);
  if (
    classLogits.ndim !== 2 || boxRegression.shape[0] !== r || boxRegression.shape[1] !== 4 * k ||
    total !== r || imageSizes.length !== proposals.length || k < 2
  ) {
    throw new TesseraError(
      op,
      `need logits [R, K >= 2], deltas [R, 4K] and R proposals with one size per image; got ` +
        `[${classLogits.shape}], [${boxRegression.shape}], ${total} proposals, ` +
        `${imageSizes.length} sizes for ${proposals.length} images`,
    );
  }
  const scoreThresh = opts.scoreThresh ?? 0.05, minSize = opts.minSize ?? 1e-2;
  const coder = opts.coder ?? { weights: ROI_BOX_WEIGHTS };
  const out: Detections[] = [];
  let off = 0;
  for (let i = 0; i < proposals.length; i++) {
    const n = proposals[i]!.shape[0]!;
    const be = classLogits.backend.name;
    const cand = scope(() => {
      const logits = slice(classLogits, [[off, off + n]]);
      const deltas = reshape(slice(boxRegression, [[off, off + n]]), [n, k, 4]);
      const boxes = clipBoxes(
        decodeBoxes(deltas, expandDims(proposals[i]!, 1), coder),
        imageSizes[i]!,
      );
      const fb = reshape(slice(boxes, [null, [1, null]]), [-1, 4]);
      const fs = reshape(slice(softmax(logits, -1), [null, [1, null]]), [-1]);
      const cls = arange(1, k, 1, { dtype: "int32", backend: be });
      const fl = reshape(broadcastTo(expandDims(cls, 0), [n, k - 1]), [-1]);
      const [x1, y1, x2, y2] = split(fb, 4, 1) as Tensor[];
      const ok = logicalAnd(
        reshape(greater(fs, scoreThresh), [-1, 1]),
        logicalAnd(greaterEqual(sub(x2!, x1!), minSize), greaterEqual(sub(y2!, y1!), minSize)),
      );
      return { fb, fs, fl, ok: reshape(ok, [-1]) };
    });
    off += n;
    const okHost = await cand.ok.data();
    const keep: number[] = [];
    okHost.forEach((v, j) => v && keep.push(j));
    const det = await scope(async () => {
      const kk = tensor(Int32Array.from(keep), { shape: [keep.length], backend: be });
      const b = gather(cand.fb, kk, 0), s = gather(cand.fs, kk, 0), l = gather(cand.fl, kk, 0);
      const kept = await batchedNms(b, s, l, opts.nmsThresh ?? 0.5);
      const m = opts.detectionsPerImage ?? 100;
      const top = kept.shape[0]! > m ? slice(kept, [[0, m]]) : kept;
      return { boxes: gather(b, top, 0), scores: gather(s, top, 0), labels: gather(l, top, 0) };
    });
    for (const t of Object.values(cand)) t.dispose();
    out.push(det);
  }
  return out;
}
