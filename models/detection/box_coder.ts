/**
 * The `(dx, dy, dw, dh)` box coder of two-stage detectors (detectron2's Box2BoxTransform): the
 * regression targets that turn proposals into ground-truth boxes, with per-coordinate weights,
 * and their inverse with the dw/dh clamp. Boxes are `(x1, y1, x2, y2)` (width = x2 − x1, no +1);
 * the generic box ops (area, IoU, clipping, NMS) are tensor ops (tensor/ops/boxes.ts).
 * @module
 */
import {
  add,
  clip,
  concat,
  div,
  exp,
  log,
  mul,
  scope,
  split,
  sub,
  Tensor,
  TesseraError,
} from "../../tensor/mod.ts";

/**
 * Checks that `b` is a float32/float64 tensor of boxes `[..., 4]` (internal: shared by the
 * detection box policy of this folder, not exported from the barrel).
 */
export function expectBoxes(op: string, b: unknown, name = "boxes"): Tensor {
  if (!(b instanceof Tensor)) {
    throw new TesseraError(op, `${name} must be a Tensor, got ${b === null ? "null" : typeof b}`);
  }
  if (b.shape.at(-1) !== 4 || (b.dtype !== "float32" && b.dtype !== "float64")) {
    throw new TesseraError(
      op,
      `${name} must be float32 or float64 [..., 4] (x1, y1, x2, y2), got ${b.dtype} [${b.shape}]`,
    );
  }
  return b;
}

/**
 * Options of the box coder ({@link encodeBoxes}, {@link decodeBoxes}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBoxes, encodeBoxes } from "./box_coder.ts";
 * import { tensor } from "../../mod.ts";
 * const mmdet = { weights: [10, 10, 5, 5] } as const; // mmdet's stds (0.1, 0.1, 0.2, 0.2)
 * const props = tensor([[0, 0, 8, 8]]), gts = tensor([[2, 0, 10, 16]]);
 * assert.deepEqual(await encodeBoxes(props, gts, mmdet).toArray(), [[2.5, 5, 0, Math.fround(5 * Math.fround(Math.log(2)))]]);
 * assert.deepEqual(await decodeBoxes(encodeBoxes(props, gts, mmdet), props, mmdet).toArray(), [[2, 0, 10, 16]]);
 * ```
 */
export interface BoxCoderOptions {
  /** `(wx, wy, ww, wh)` (default `[1, 1, 1, 1]`; mmdet stds (0.1, 0.1, 0.2, 0.2) = `[10, 10, 5, 5]`). */
  weights?: readonly [number, number, number, number];
  /** decodeBoxes: upper clamp of dw and dh (default `log(1000/16)`). */
  scaleClamp?: number;
}

function weightsOf(op: string, o: BoxCoderOptions): [number, number, number, number] {
  const w = o.weights ?? [1, 1, 1, 1];
  if (!Array.isArray(w) || w.length !== 4 || !w.every((v) => typeof v === "number" && v > 0)) {
    throw new TesseraError(
      op,
      `weights must be four numbers > 0, got ${Array.isArray(w) ? `[${w.join(", ")}]` : String(w)}`,
    );
  }
  return [w[0]!, w[1]!, w[2]!, w[3]!];
}

/** The four coordinate columns `[..., 1]` of `[..., 4]` boxes. */
function cols(b: Tensor): [Tensor, Tensor, Tensor, Tensor] {
  return split(b, 4, -1) as [Tensor, Tensor, Tensor, Tensor];
}

function centres(b: Tensor): [Tensor, Tensor, Tensor, Tensor] {
  const [x1, y1, x2, y2] = cols(b);
  const w = sub(x2, x1), h = sub(y2, y1);
  return [add(x1, mul(w, 0.5)), add(y1, mul(h, 0.5)), w, h];
}

/**
 * Regression targets that turn `boxes` into `targets` (both `[..., 4]`, broadcasting):
 * `dx = wx·(tx − px)/pw`, `dy = wy·(ty − py)/ph`, `dw = ww·log(tw/pw)`, `dh = wh·log(th/ph)`
 * with centres `x1 + w/2` (detectron2 `get_deltas`). Arithmetic, like the generic box ops: a
 * non-finite coordinate gives non-finite targets for that box only, and a proposal of zero
 * width or height gives ±Infinity/NaN targets (as in detectron2), so filter empty proposals.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeBoxes } from "./box_coder.ts";
 * import { tensor } from "../../mod.ts";
 * const d = encodeBoxes(tensor([[0, 0, 10, 10]]), tensor([[5, 0, 15, 20]]));
 * assert.deepEqual(await d.toArray(), [[0.5, 0.5, 0, Math.fround(Math.log(2))]]);
 * ```
 */
export function encodeBoxes(boxes: Tensor, targets: Tensor, opts: BoxCoderOptions = {}): Tensor {
  opts ??= {};
  return scope(() => {
    const op = "encodeBoxes";
    expectBoxes(op, boxes);
    expectBoxes(op, targets, "targets");
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
 * A NaN delta or coordinate gives NaN in that box only (+Infinity dw/dh is clamped).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBoxes } from "./box_coder.ts";
 * import { tensor } from "../../mod.ts";
 * const b = decodeBoxes(tensor([[0.5, 0.5, 0, Math.log(2)]]), tensor([[0, 0, 10, 10]]));
 * assert.deepEqual(await b.toArray(), [[5, 0, 15, 20]]);
 * // dw beyond the clamp saturates: a 1-wide box grows at most 1000/16 times
 * const [x1, , x2] = await decodeBoxes(tensor([[0, 0, 100, 0]]), tensor([[0, 0, 1, 1]])).data();
 * assert.ok(Math.abs(x2! - x1! - 1000 / 16) < 1e-3);
 * ```
 */
export function decodeBoxes(deltas: Tensor, boxes: Tensor, opts: BoxCoderOptions = {}): Tensor {
  opts ??= {};
  return scope(() => {
    const op = "decodeBoxes";
    expectBoxes(op, deltas, "deltas");
    expectBoxes(op, boxes);
    const [wx, wy, ww, wh] = weightsOf(op, opts);
    const clampAt = opts.scaleClamp ?? Math.log(1000 / 16);
    if (typeof clampAt !== "number" || Number.isNaN(clampAt)) {
      throw new TesseraError(op, `scaleClamp must be a number, got ${String(clampAt)}`);
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
