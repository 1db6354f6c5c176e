/**
 * Non-maximum suppression with torchvision semantics: greedy in descending score order, a box
 * is dropped when its IoU with a kept box is `> iouThreshold`; ties in score keep index order.
 * Boxes are `(x1, y1, x2, y2)`. Re-exported by boxes.ts.
 *
 * NMS runs on the tensors' backend. The suppression is the `nmsKeep` primitive (on webgpu a
 * fixed-shape IoU bitmask plus a single-workgroup sequential scan, see
 * tensor/webgpu/vision_roi.ts); the kept indices are compacted on the device (a stable argsort
 * puts kept boxes first in score order). Only the number of kept boxes is read back, to size
 * the result — {@link nmsPadded} avoids even that.
 * @module
 */
import { fmtShape, TesseraError } from "../errors.ts";
import { bind } from "../dispatch.ts";
import { arange, full } from "../creation.ts";
import type { Tensor } from "../tensor.ts";
import { checkBoxes } from "../vision_shape_rules.ts";
import { composite, describe, expectTensor } from "./_util.ts";
import { less } from "./comparison.ts";
import { add, cast, mul, where } from "./elementwise.ts";
import { logicalNot } from "./unary.ts";
import { gather } from "./indexing.ts";
import { expandDims } from "./reshaping.ts";
import { pad, slice } from "./slicing.ts";
import { max, sum } from "./reduce.ts";
import { argsort } from "./sort.ts";

function checkNmsArgs(op: string, boxes: Tensor, scores: Tensor, iou: number): void {
  expectTensor(op, boxes, "boxes");
  expectTensor(op, scores, "scores");
  checkBoxes(op, boxes, 4);
  if (scores.ndim !== 1 || scores.shape[0] !== boxes.shape[0]) {
    throw new TesseraError(
      op,
      `scores must be [${boxes.shape[0]}] (one per box), got ${fmtShape(scores.shape)}`,
    );
  }
  if (scores.dtype !== boxes.dtype) {
    throw new TesseraError(op, `scores are ${scores.dtype} but boxes are ${boxes.dtype}`);
  }
  if (typeof iou !== "number" || Number.isNaN(iou)) {
    throw new TesseraError(op, `iouThreshold must be a number, got ${describe(iou)}`);
  }
}

/** Result of {@link nmsPadded}. */
export interface PaddedNms {
  /** int32 `[maxOutput]`: kept indices in descending score order, then −1. */
  indices: Tensor;
  /** int32 scalar: how many boxes were kept (before truncation to maxOutput). */
  count: Tensor;
}

/**
 * NMS with a fixed-size result and no readback: the first `min(count, maxOutput)` entries of
 * `indices` are the kept boxes in descending score order, the rest −1 (TensorFlow's padded
 * NMS). `maxOutput` defaults to the number of boxes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nmsPadded, tensor } from "../../mod.ts";
 * const boxes = tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]]);
 * const { indices, count } = nmsPadded(boxes, tensor([0.9, 0.8, 0.7]), 0.5);
 * assert.deepEqual(await indices.toArray(), [0, 2, -1]);
 * assert.equal(await count.item(), 2);
 * ```
 */
export function nmsPadded(
  boxes: Tensor,
  scores: Tensor,
  iouThreshold: number,
  opts: { maxOutput?: number } = {},
): PaddedNms {
  opts ??= {};
  return composite(() => {
    const op = "nmsPadded";
    checkNmsArgs(op, boxes, scores, iouThreshold);
    const k = boxes.shape[0]!;
    const m = opts.maxOutput ?? k;
    if (!Number.isInteger(m) || m < 0) {
      throw new TesseraError(op, `maxOutput must be an integer >= 0, got ${describe(m)}`);
    }
    const be = boxes.backend.name;
    if (k === 0) {
      return {
        indices: full([m], -1, { dtype: "int32", backend: be }),
        count: full([], 0, { dtype: "int32", backend: be }),
      };
    }
    const order = argsort(scores, 0, { descending: true });
    const keep = bind("nmsKeep", [gather(boxes, order, 0)], { iouThreshold });
    const count = sum(cast(keep, "int32"));
    // Stable: kept boxes first, each group in score order.
    const rank = argsort(cast(logicalNot(keep), "int32"), 0);
    let idx = gather(order, rank);
    idx = m <= k ? slice(idx, [[0, m]]) : pad(idx, [[0, m - k]], { value: -1 });
    const pos = arange(0, m, 1, { dtype: "int32", backend: be });
    return { indices: where(less(pos, count), idx, -1), count };
  });
}

/**
 * Non-maximum suppression (torchvision `nms`): int32 indices of the kept boxes `[K, 4]` in
 * descending score order. Async because the kept count is read back (one scalar) to size the
 * result; boxes never leave the device.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nms, tensor } from "../../mod.ts";
 * const boxes = tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]]);
 * assert.deepEqual(await (await nms(boxes, tensor([0.8, 0.9, 0.7]), 0.5)).toArray(), [1, 2]);
 * ```
 */
export async function nms(boxes: Tensor, scores: Tensor, iouThreshold: number): Promise<Tensor> {
  const { indices, count } = nmsPadded(boxes, scores, iouThreshold);
  let out: Tensor | undefined;
  try {
    const n = await count.item();
    out = slice(indices, [[0, n]]);
    return out;
  } finally {
    if (out !== indices) indices.dispose();
    count.dispose();
  }
}

/**
 * NMS within groups (classes, FPN levels): boxes of different `idxs` (int32 `[K]`) never
 * suppress each other. Uses torchvision's coordinate trick (each group is shifted by
 * `idx · (max coordinate + 1)`), so it is one `nms` call. Result: kept indices in
 * descending score order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchedNms, tensor } from "../../mod.ts";
 * const boxes = tensor([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10]]);
 * const idxs = tensor([0, 0, 1], { dtype: "int32" });
 * assert.deepEqual(
 *   await (await batchedNms(boxes, tensor([0.9, 0.8, 0.7]), idxs, 0.5)).toArray(),
 *   [0, 2],
 * );
 * ```
 */
export async function batchedNms(
  boxes: Tensor,
  scores: Tensor,
  idxs: Tensor,
  iouThreshold: number,
): Promise<Tensor> {
  const op = "batchedNms";
  checkNmsArgs(op, boxes, scores, iouThreshold);
  expectTensor(op, idxs, "idxs");
  if (
    idxs.ndim !== 1 || idxs.shape[0] !== boxes.shape[0] ||
    (idxs.dtype !== "int32" && idxs.dtype !== "uint32")
  ) {
    throw new TesseraError(
      op,
      `idxs must be int32 [${boxes.shape[0]}], got ${idxs.dtype} ${fmtShape(idxs.shape)}`,
    );
  }
  if (boxes.shape[0] === 0) return full([0], 0, { dtype: "int32", backend: boxes.backend.name });
  const shifted = composite(() => {
    const off = mul(cast(idxs, boxes.dtype), add(max(boxes), 1));
    return add(boxes, expandDims(off, 1));
  });
  try {
    return await nms(shifted, scores, iouThreshold);
  } finally {
    shifted.dispose();
  }
}
