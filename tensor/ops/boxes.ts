/**
 * Detection box utilities on `(x1, y1, x2, y2)` boxes (width = x2 − x1, no +1): area, IoU
 * matrix, clipping, the `(dx, dy, dw, dh)` box coder with weights and the dw/dh clamp
 * (detectron2's Box2BoxTransform), FPN level assignment, and NMS (torchvision semantics:
 * greedy in descending score order, a box is dropped when its IoU with a kept box is
 * `> iouThreshold`; ties in score keep index order).
 *
 * NMS runs on the tensors' backend. The suppression is the `nmsKeep` primitive (on webgpu a
 * fixed-shape IoU bitmask plus a single-workgroup sequential scan, see
 * tensor/webgpu/vision_roi.ts); the kept indices are compacted on the device (a stable argsort
 * puts kept boxes first in score order). Only the number of kept boxes is read back, to size
 * the result — {@link nmsPadded} avoids even that.
 * @module
 */
import { fmtShape, fmtValue, TesseraError } from "../errors.ts";
import { bind } from "../dispatch.ts";
import { arange, full } from "../creation.ts";
import type { Tensor } from "../tensor.ts";
import { checkBoxes } from "../vision_shape_rules.ts";
import { composite, describe, expectTensor } from "./_util.ts";
import {
  add,
  cast,
  clip,
  div,
  exp,
  greaterEqual,
  less,
  log,
  logicalNot,
  maximum,
  minimum,
  mul,
  sqrt,
  sub,
  where,
} from "./elementwise.ts";
import { gather } from "./indexing.ts";
import { concat, expandDims, pad, reshape, slice, split } from "./movement.ts";
import { max, sum } from "./reduce.ts";
import { argsort } from "./sort.ts";

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
 * import { boxArea, tensor } from "../../mod.ts";
 * console.log(await boxArea(tensor([[0, 0, 2, 3], [1, 1, 2, 2]])).toArray()); // [6, 1]
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
 *
 * @example
 * ```ts
 * import { boxIou, tensor } from "../../mod.ts";
 * const a = tensor([[0, 0, 2, 2]]), b = tensor([[1, 1, 3, 3], [0, 0, 2, 2]]);
 * console.log(await boxIou(a, b).toArray()); // [[0.1428571492433548, 1]]
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
    return div(inter, union);
  });
}

/**
 * Clamps x to `[0, width]` and y to `[0, height]` (torchvision `clip_boxes_to_image`).
 *
 * @example
 * ```ts
 * import { clipBoxes, tensor } from "../../mod.ts";
 * console.log(await clipBoxes(tensor([[-5, 2, 12, 30]]), [20, 10]).toArray()); // [[0, 2, 10, 20]]
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

/** Options of the box coder. */
export interface BoxCoderOptions {
  /** `(wx, wy, ww, wh)` (default `[1, 1, 1, 1]`; mmdet stds (0.1, 0.1, 0.2, 0.2) = `[10, 10, 5, 5]`). */
  weights?: readonly [number, number, number, number];
  /** decodeBoxes: upper clamp of dw and dh (default `log(1000/16)`). */
  scaleClamp?: number;
}

function weightsOf(op: string, o: BoxCoderOptions): [number, number, number, number] {
  const w = o.weights ?? [1, 1, 1, 1];
  if (!Array.isArray(w) || w.length !== 4 || !w.every((v) => typeof v === "number" && v > 0)) {
    throw new TesseraError(op, `weights must be four numbers > 0, got ${fmtValue(w)}`);
  }
  return [w[0]!, w[1]!, w[2]!, w[3]!];
}

function centres(b: Tensor): [Tensor, Tensor, Tensor, Tensor] {
  const [x1, y1, x2, y2] = cols(b);
  const w = sub(x2, x1), h = sub(y2, y1);
  return [add(x1, mul(w, 0.5)), add(y1, mul(h, 0.5)), w, h];
}

/**
 * Regression targets that turn `boxes` into `targets` (both `[..., 4]`, broadcasting):
 * `dx = wx·(tx − px)/pw`, `dy = wy·(ty − py)/ph`, `dw = ww·log(tw/pw)`, `dh = wh·log(th/ph)`
 * with centres `x1 + w/2` (detectron2 `get_deltas`).
 *
 * @example
 * ```ts
 * import { encodeBoxes, tensor } from "../../mod.ts";
 * const d = encodeBoxes(tensor([[0, 0, 10, 10]]), tensor([[5, 0, 15, 20]]));
 * console.log(await d.toArray()); // [[0.5, 0.5, 0, 0.6931471824645996]]
 * ```
 */
export function encodeBoxes(boxes: Tensor, targets: Tensor, opts: BoxCoderOptions = {}): Tensor {
  opts ??= {};
  return composite(() => {
    const op = "encodeBoxes";
    lastFour(op, boxes);
    lastFour(op, targets, "targets");
    const [wx, wy, ww, wh] = weightsOf(op, opts);
    const [px, py, pw, ph] = centres(boxes);
    const [tx, ty, tw, th] = centres(targets);
    return concat([
      mul(div(sub(tx, px), pw), wx),
      mul(div(sub(ty, py), ph), wy),
      mul(log(div(tw, pw)), ww),
      mul(log(div(th, ph)), wh),
    ], -1);
  });
}

/**
 * Applies regression deltas `[..., 4]` to `boxes` `[..., 4]` (broadcasting): the inverse of
 * {@link encodeBoxes}, with dw and dh divided by their weights and clamped to
 * `scaleClamp` (default `log(1000/16)` ≈ 4.135) before `exp` (detectron2 `apply_deltas`).
 *
 * @example
 * ```ts
 * import { decodeBoxes, tensor } from "../../mod.ts";
 * const b = decodeBoxes(tensor([[0.5, 0.5, 0, Math.log(2)]]), tensor([[0, 0, 10, 10]]));
 * console.log(await b.toArray()); // [[5, 0, 15, 20]]
 * ```
 */
export function decodeBoxes(deltas: Tensor, boxes: Tensor, opts: BoxCoderOptions = {}): Tensor {
  opts ??= {};
  return composite(() => {
    const op = "decodeBoxes";
    lastFour(op, deltas, "deltas");
    lastFour(op, boxes);
    const [wx, wy, ww, wh] = weightsOf(op, opts);
    const clampAt = opts.scaleClamp ?? Math.log(1000 / 16);
    if (typeof clampAt !== "number" || Number.isNaN(clampAt)) {
      throw new TesseraError(op, `scaleClamp must be a number, got ${describe(clampAt)}`);
    }
    const [cx, cy, w, h] = centres(boxes);
    const [dx, dy, dw, dh] = cols(deltas);
    const pcx = add(mul(div(dx, wx), w), cx), pcy = add(mul(div(dy, wy), h), cy);
    const pw = mul(exp(clip(div(dw, ww), undefined, clampAt)), w);
    const ph = mul(exp(clip(div(dh, wh), undefined, clampAt)), h);
    const hw = mul(pw, 0.5), hh = mul(ph, 0.5);
    return concat([sub(pcx, hw), sub(pcy, hh), add(pcx, hw), add(pcy, hh)], -1);
  });
}

/** Options of {@link fpnLevels}. */
export interface FpnLevelOptions {
  /** Smallest level (default 2). */
  minLevel?: number;
  /** Largest level (default 5). */
  maxLevel?: number;
  /** Box size mapped to `canonicalLevel` (default 224). */
  canonicalSize?: number;
  /** Level of a canonical box (default 4). */
  canonicalLevel?: number;
  /** Added inside the log (default 1e-8, detectron2). */
  eps?: number;
}

/**
 * FPN level of each box `[K, 4]` → int32 `[K]`:
 * `⌊canonicalLevel + log2(√area / canonicalSize + eps)⌋` clamped to `[minLevel, maxLevel]`
 * (detectron2 `assign_boxes_to_levels`; equals mmdet's finest_scale rule). Computed with
 * exact comparisons against powers of two, so boxes exactly at a boundary (e.g. 112 → P3)
 * never round down.
 *
 * @example
 * ```ts
 * import { fpnLevels, tensor } from "../../mod.ts";
 * const b = tensor([[0, 0, 224, 224], [0, 0, 112, 112], [0, 0, 32, 32], [0, 0, 900, 900]]);
 * console.log(await fpnLevels(b).toArray()); // [4, 3, 2, 5]
 * ```
 */
export function fpnLevels(boxes: Tensor, opts: FpnLevelOptions = {}): Tensor {
  opts ??= {};
  return composite(() => {
    const op = "fpnLevels";
    lastFour(op, boxes);
    const lo = opts.minLevel ?? 2, hi = opts.maxLevel ?? 5;
    const k0 = opts.canonicalLevel ?? 4, s0 = opts.canonicalSize ?? 224, eps = opts.eps ?? 1e-8;
    if (![lo, hi, k0].every(Number.isInteger) || lo > hi || !(s0 > 0) || !(eps >= 0)) {
      throw new TesseraError(op, `invalid options ${fmtValue(opts)}`);
    }
    const v = add(div(sqrt(boxArea(boxes)), s0), eps);
    let level = full(v.shape, lo, { dtype: "int32", backend: boxes.backend.name });
    for (let t = lo + 1; t <= hi; t++) {
      level = add(level, cast(greaterEqual(v, 2 ** (t - k0)), "int32"));
    }
    return level;
  });
}

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
 * import { nmsPadded, tensor } from "../../mod.ts";
 * const boxes = tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]]);
 * const { indices, count } = nmsPadded(boxes, tensor([0.9, 0.8, 0.7]), 0.5);
 * console.log(await indices.toArray(), await count.item()); // [0, 2, -1] 2
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
 * import { nms, tensor } from "../../mod.ts";
 * const boxes = tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]]);
 * console.log(await (await nms(boxes, tensor([0.8, 0.9, 0.7]), 0.5)).toArray()); // [1, 2]
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
 * import { batchedNms, tensor } from "../../mod.ts";
 * const boxes = tensor([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10]]);
 * const idxs = tensor([0, 0, 1], { dtype: "int32" });
 * console.log(await (await batchedNms(boxes, tensor([0.9, 0.8, 0.7]), idxs, 0.5)).toArray()); // [0, 2]
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
