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
 *
 * Non-finite input is rejected, never ranked: a NaN score or a NaN/±Infinity coordinate makes
 * `nms` and `batchedNms` throw a TesseraError naming the op and the first offending box (the
 * check rides on the one scalar they read back), and makes `nmsPadded`, which reads nothing
 * back, return `count = −1` with every index −1.
 * @module
 */
import { fmtShape, fmtValue, TesseraError } from "../errors.ts";
import { bind } from "../dispatch.ts";
import { arange, full } from "../creation.ts";
import type { Tensor } from "../tensor.ts";
import { checkBoxes } from "../vision_shape_rules.ts";
import { composite, describe, expectTensor } from "./_util.ts";
import { equal, less } from "./comparison.ts";
import { add, cast, mul, sub, where } from "./elementwise.ts";
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
  if (typeof iou !== "number") {
    throw new TesseraError(op, `iouThreshold must be a number, got ${describe(iou)}`);
  }
  if (Number.isNaN(iou)) {
    // NaN would compare false against every IoU and keep every box: reject it, as a NaN score is.
    throw new TesseraError(
      op,
      "iouThreshold is NaN; pass a number (boxes with IoU > it are dropped)",
    );
  }
}

/** Result of {@link nmsPadded}. */
export interface PaddedNms {
  /** int32 `[maxOutput]`: kept indices in descending score order, then −1 (all −1 when count is −1). */
  indices: Tensor;
  /** int32 scalar: how many boxes were kept (before truncation to maxOutput); −1 when a box or score is not finite. */
  count: Tensor;
}

/** nmsPadded's computation, reporting errors under `op`. */
function paddedNms(
  op: string,
  boxes: Tensor,
  scores: Tensor,
  iouThreshold: number,
  maxOutput: number | undefined,
): PaddedNms {
  return composite(() => {
    checkNmsArgs(op, boxes, scores, iouThreshold);
    const k = boxes.shape[0]!;
    const m = maxOutput ?? k;
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
    // x − x is 0 exactly when x is finite, so this scalar is 0 or NaN.
    const finite = equal(add(sum(sub(boxes, boxes)), sum(sub(scores, scores))), 0);
    const order = argsort(scores, 0, { descending: true });
    const keep = bind("nmsKeep", [gather(boxes, order, 0)], { iouThreshold });
    const count = where(finite, sum(cast(keep, "int32")), -1);
    // Stable: kept boxes first, each group in score order.
    const rank = argsort(cast(logicalNot(keep), "int32"), 0);
    let idx = gather(order, rank);
    idx = m <= k ? slice(idx, [[0, m]]) : pad(idx, [[0, m - k]], { value: -1 });
    const pos = arange(0, m, 1, { dtype: "int32", backend: be });
    return { indices: where(less(pos, count), idx, -1), count };
  });
}

/**
 * NMS with a fixed-size result and no readback: the first `min(count, maxOutput)` entries of
 * `indices` are the kept boxes in descending score order, the rest −1 (TensorFlow's padded
 * NMS). `maxOutput` defaults to the number of boxes. A NaN score or a non-finite coordinate
 * gives `count = −1` and every index −1 (nothing is read back, so it cannot throw; {@link nms}
 * turns that into an error).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nmsPadded, tensor } from "../../mod.ts";
 * const boxes = tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]]);
 * const { indices, count } = nmsPadded(boxes, tensor([0.9, 0.8, 0.7]), 0.5);
 * assert.deepEqual(await indices.toArray(), [0, 2, -1]);
 * assert.equal(await count.item(), 2);
 * const bad = nmsPadded(boxes, tensor([NaN, 0.8, 0.7]), 0.5);
 * assert.equal(await bad.count.item(), -1);
 * assert.deepEqual(await bad.indices.toArray(), [-1, -1, -1]);
 * ```
 */
export function nmsPadded(
  boxes: Tensor,
  scores: Tensor,
  iouThreshold: number,
  opts: { maxOutput?: number } = {},
): PaddedNms {
  opts ??= {};
  return paddedNms("nmsPadded", boxes, scores, iouThreshold, opts.maxOutput);
}

/** Runs padded NMS under `op`, reads the count back and trims; non-finite input throws. */
async function nmsAs(
  op: string,
  boxes: Tensor,
  scores: Tensor,
  iouThreshold: number,
  original: Tensor = boxes,
  groups?: Tensor,
): Promise<Tensor> {
  const { indices, count } = paddedNms(op, boxes, scores, iouThreshold, undefined);
  let out: Tensor | undefined;
  try {
    const n = await count.item();
    if (n < 0) throw await nonFinite(op, original, scores, groups);
    out = slice(indices, [[0, n]]);
    return out;
  } finally {
    if (out !== indices) indices.dispose();
    count.dispose();
  }
}

/** The error for non-finite NMS input, naming the first offending box or score. */
async function nonFinite(
  op: string,
  boxes: Tensor,
  scores: Tensor,
  groups?: Tensor,
): Promise<TesseraError> {
  const [b, s] = [await boxes.data(), await scores.data()];
  for (let i = 0; i < s.length; i++) {
    const box = Array.from(b.subarray(4 * i, 4 * i + 4));
    if (!box.every(Number.isFinite)) {
      return new TesseraError(op, `box ${i} ${fmtValue(box)} has a non-finite coordinate`);
    }
    if (!Number.isFinite(s[i]!)) {
      return new TesseraError(op, `score ${i} is ${s[i]}; scores must be finite`);
    }
  }
  let g = 0;
  if (groups) { for (const v of await groups.data()) g = Math.max(g, v); }
  return new TesseraError(
    op,
    `boxes offset by group (up to ${g}) overflow ${boxes.dtype}; the coordinates are too large`,
  );
}

/**
 * Non-maximum suppression (torchvision `nms`): int32 indices of the kept boxes `[K, 4]` in
 * descending score order. Async because the kept count is read back (one scalar) to size the
 * result; boxes never leave the device. A NaN score or a non-finite coordinate is a
 * TesseraError (torchvision would rank a NaN score first).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nms, tensor, TesseraError } from "../../mod.ts";
 * const boxes = tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]]);
 * assert.deepEqual(await (await nms(boxes, tensor([0.8, 0.9, 0.7]), 0.5)).toArray(), [1, 2]);
 * await assert.rejects(nms(boxes, tensor([NaN, 0.9, 0.7]), 0.5), TesseraError);
 * ```
 */
export function nms(boxes: Tensor, scores: Tensor, iouThreshold: number): Promise<Tensor> {
  return nmsAs("nms", boxes, scores, iouThreshold);
}

/**
 * NMS within groups (classes, FPN levels): boxes of different `idxs` (int32 `[K]`) never
 * suppress each other. Uses torchvision's coordinate trick (each group is shifted by
 * `idx · (max coordinate + 1)`), so it is one `nms` call. Result: kept indices in
 * descending score order. Non-finite boxes or scores are a TesseraError, as in {@link nms}.
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
    return await nmsAs(op, shifted, scores, iouThreshold, boxes, idxs);
  } finally {
    shifted.dispose();
  }
}
