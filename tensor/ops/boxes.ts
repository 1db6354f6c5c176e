/**
 * Detection box utilities on `(x1, y1, x2, y2)` boxes (width = x2 − x1, no +1): area, IoU
 * matrix, clipping, the `(dx, dy, dw, dh)` box coder with weights and the dw/dh clamp
 * (detectron2's Box2BoxTransform), FPN level assignment; NMS (torchvision semantics:
 * greedy in descending score order, a box is dropped when its IoU with a kept box is
 * `> iouThreshold`; ties in score keep index order).
 *
 * NMS ({@link nms}, {@link batchedNms}, {@link nmsPadded}) lives in nms.ts.
 * @module
 */
import { fmtShape, fmtValue, TesseraError } from "../errors.ts";
import { full } from "../creation.ts";
import type { Tensor } from "../tensor.ts";
import { composite, describe, expectTensor } from "./_util.ts";
import { greaterEqual } from "./comparison.ts";
import { add, cast, clip, div, maximum, minimum, mul, sub } from "./elementwise.ts";
import { exp, log, sqrt } from "./unary.ts";
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
