/**
 * Generic box ops on `(x1, y1, x2, y2)` boxes (width = x2 − x1, no +1): area, IoU matrix,
 * clipping, and NMS (torchvision semantics: greedy in descending score order, a box is dropped
 * when its IoU with a kept box is `> iouThreshold`; ties in score keep index order).
 *
 * NMS ({@link nms}, {@link batchedNms}, {@link nmsPadded}) lives in nms.ts. The box coder and FPN level assignment are detection policy: models/detection/.
 *
 * Non-finite coordinates: these ops are arithmetic, so a NaN or ±Infinity coordinate gives
 * NaN (clipBoxes: the clamped value; NaN stays NaN) in that box's own outputs and never
 * affects another box, as in any elementwise op. The ops that select or assign boxes (nms,
 * batchedNms, roiAlign, fpnLevels) reject them instead.
 * @module
 */
import { fmtShape, fmtValue, TesseraError } from "../errors.ts";
import type { Tensor } from "../tensor.ts";
import { composite, expectTensor } from "./_util.ts";
import { notEqual } from "./comparison.ts";
import { add, clip, div, maximum, minimum, mul, sub, where } from "./elementwise.ts";
import { concat, split } from "./joining.ts";
import { expandDims, reshape } from "./reshaping.ts";

function lastFour(op: string, b: Tensor, name = "boxes"): void {
  expectTensor(op, b, name);
  if (b.ndim < 1 || b.shape[b.ndim - 1] !== 4) {
    throw new TesseraError(
      op,
      `${name} must have shape [..., 4] (x1, y1, x2, y2), got ${fmtShape(b.shape)}`,
    );
  }
  if (b.dtype !== "float32" && b.dtype !== "float64") {
    throw new TesseraError(op, `${name} must be float32 or float64, got ${b.dtype}`);
  }
}

/** The four coordinate columns `[..., 1]` of `[..., 4]` boxes. */
function cols(b: Tensor): [Tensor, Tensor, Tensor, Tensor] {
  return split(b, 4, -1) as [Tensor, Tensor, Tensor, Tensor];
}

/**
 * Areas `(x2 − x1)·(y2 − y1)` of boxes `[..., 4]` → `[...]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { boxArea, tensor } from "../../mod.ts";
 * assert.deepEqual(await boxArea(tensor([[0, 0, 2, 3], [1, 1, 2, 2]])).toArray(), [6, 1]);
 * ```
 */
export function boxArea(boxes: Tensor): Tensor {
  return composite(() => {
    lastFour("boxArea", boxes);
    const [x1, y1, x2, y2] = cols(boxes);
    return reshape(mul(sub(x2, x1), sub(y2, y1)), boxes.shape.slice(0, -1));
  });
}

/**
 * Pairwise IoU of boxes `a` `[N, 4]` and `b` `[M, 4]` → `[N, M]` (torchvision `box_iou`).
 * Two boxes whose union is empty (both of zero area) have IoU 0 (torchvision: NaN); a
 * non-finite coordinate gives NaN in that box's row or column only.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { boxIou, tensor } from "../../mod.ts";
 * const a = tensor([[0, 0, 2, 2]]), b = tensor([[1, 1, 3, 3], [0, 0, 2, 2]]);
 * assert.deepEqual(await boxIou(a, b).toArray(), [[Math.fround(1 / 7), 1]]); // float32 1/7
 * ```
 */
export function boxIou(a: Tensor, b: Tensor): Tensor {
  return composite(() => {
    const op = "boxIou";
    lastFour(op, a, "a");
    lastFour(op, b, "b");
    if (a.ndim !== 2 || b.ndim !== 2) {
      throw new TesseraError(
        op,
        `a and b must be [N, 4] and [M, 4], got ${fmtShape(a.shape)}, ${fmtShape(b.shape)}`,
      );
    }
    if (a.dtype !== b.dtype) throw new TesseraError(op, `a is ${a.dtype} but b is ${b.dtype}`);
    const area1 = boxArea(a), area2 = boxArea(b);
    const a3 = expandDims(a, 1); // [N, 1, 4]
    const [ax1, ay1, ax2, ay2] = cols(a3);
    const [bx1, by1, bx2, by2] = cols(b); // [M, 1]
    const sq = (t: Tensor) => reshape(t, t.shape.slice(0, -1));
    const w = clip(sub(minimum(sq(ax2), sq(bx2)), maximum(sq(ax1), sq(bx1))), 0);
    const h = clip(sub(minimum(sq(ay2), sq(by2)), maximum(sq(ay1), sq(by1))), 0);
    const inter = mul(w, h);
    const union = sub(add(expandDims(area1, 1), area2), inter);
    // Two empty boxes (union 0) do not overlap: IoU 0, not 0/0 = NaN.
    const some = notEqual(union, 0);
    return where(some, div(inter, where(some, union, 1)), 0);
  });
}

/**
 * Clamps x to `[0, width]` and y to `[0, height]` (torchvision `clip_boxes_to_image`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clipBoxes, tensor } from "../../mod.ts";
 * assert.deepEqual(
 *   await clipBoxes(tensor([[-5, 2, 12, 30]]), [20, 10]).toArray(),
 *   [[0, 2, 10, 20]],
 * );
 * ```
 */
export function clipBoxes(boxes: Tensor, size: readonly [number, number]): Tensor {
  return composite(() => {
    const op = "clipBoxes";
    lastFour(op, boxes);
    if (
      !Array.isArray(size) || size.length !== 2 ||
      !size.every((v) => typeof v === "number" && v >= 0)
    ) {
      throw new TesseraError(op, `size must be [height, width] >= 0, got ${fmtValue(size)}`);
    }
    const [h, w] = size;
    const [x1, y1, x2, y2] = cols(boxes);
    return concat([clip(x1, 0, w), clip(y1, 0, h), clip(x2, 0, w), clip(y2, 0, h)], -1);
  });
}
