/**
 * Mask branch of Mask R-CNN (torchvision `MaskRCNNHeads` + `MaskRCNNPredictor`, methods.md
 * §12): four 3×3 conv + ReLU (`mask_head.i`), deconv 2×2 s2 + ReLU (`conv5_mask`), 1×1 conv to
 * per-class logits (`mask_fcn_logits`) → `[R, K, 28, 28]`; mask targets (GT masks RoIAligned
 * into each foreground proposal), the per-pixel BCE on the GT class, the inference
 * probabilities of the predicted class and their pasting into the image (torchvision
 * `paste_masks_in_image`). torchvision 0.14 names the convs `mask_head.i.0`.
 * @module
 */
import {
  add,
  arange,
  cast,
  concat,
  expandDims,
  gather,
  interpolate,
  mul,
  pad as padOp,
  relu,
  reshape,
  roiAlign,
  scope,
  sigmoid,
  slice,
  sum,
  type Tensor,
  tensor,
  TesseraError,
} from "../../tensor/mod.ts";
import { initFromSpec, type Initializer, normalInit, type Spec, zerosInit } from "../../nn/init.ts";
import { binaryCrossEntropyWithLogits } from "../../nn/losses.ts";
import {
  convLayer,
  type ConvLayerParams,
  convLayerSpec,
  convTransposeLayer,
} from "../../nn/conv.ts";

/** kaiming_normal_(mode="fan_out", nonlinearity="relu"): N(0, 2 / (shape[0]·k²)). */
const kaimingFanOut: Initializer = (key, shape, dtype) => {
  const fanOut = shape[0]! * (shape[2] ?? 1) * (shape[3] ?? 1);
  return normalInit(Math.sqrt(2 / fanOut))(key, shape, dtype);
};

/**
 * Parameters of the mask branch (torchvision names).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initMaskHead, type MaskHeadParams } from "./mask_head.ts";
 * import { random } from "../../mod.ts";
 * const p: MaskHeadParams = initMaskHead(random.key(0), { inChannels: 8, dim: 8, numClasses: 3 });
 * assert.deepEqual(p.mask_predictor.mask_fcn_logits.weight.shape, [3, 8, 1, 1]);
 * ```
 */
export interface MaskHeadParams {
  /** Four 3×3 convs. */
  mask_head: ConvLayerParams[];
  /** `conv5_mask` deconv `[dim, dim, 2, 2]` and `mask_fcn_logits` `[K, dim, 1, 1]`. */
  mask_predictor: { conv5_mask: ConvLayerParams; mask_fcn_logits: ConvLayerParams };
}

/**
 * Configuration of the mask branch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { MaskHeadConfig } from "./mask_head.ts";
 * const coco: MaskHeadConfig = { inChannels: 256, dim: 256, numClasses: 81 };
 * assert.equal(coco.convs ?? 4, 4);
 * ```
 */
export interface MaskHeadConfig {
  /** FPN channels. */
  inChannels: number;
  /** Width of the convs (256 in the spec). */
  dim: number;
  /** Classes including background. */
  numClasses: number;
  /** Number of 3×3 convs (default 4). */
  convs?: number;
}

/**
 * Spec of the mask branch: convs and deconv kaiming-normal (fan out, ReLU) with zero bias
 * (torchvision), the logits N(0, 0.001²) (detectron2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskHeadSpec } from "./mask_head.ts";
 * import { countParams } from "../../nn/init.ts";
 * assert.equal(countParams(maskHeadSpec({ inChannels: 1, dim: 1, numClasses: 2, convs: 1 })), 10 + 5 + 4);
 * ```
 */
export function maskHeadSpec(config: MaskHeadConfig): Spec<MaskHeadParams> {
  const { inChannels: c, dim: d, numClasses: k } = config;
  const n = config.convs ?? 4;
  const layer = (i: number, o: number, kernel: number, transposed = false, w = kaimingFanOut) =>
    convLayerSpec({
      inChannels: i,
      outChannels: o,
      kernel,
      transposed,
      weightInit: w,
      biasInit: zerosInit,
    });
  return {
    mask_head: Array.from({ length: n }, (_, i) => layer(i === 0 ? c : d, d, 3)),
    mask_predictor: {
      conv5_mask: layer(d, d, 2, true),
      mask_fcn_logits: layer(d, k, 1, false, normalInit(0.001)),
    },
  };
}

/**
 * Initialises the mask branch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initMaskHead } from "./mask_head.ts";
 * import { random } from "../../mod.ts";
 * assert.equal(initMaskHead(random.key(0), { inChannels: 4, dim: 4, numClasses: 2 }).mask_head.length, 4);
 * ```
 */
export function initMaskHead(key: Tensor, config: MaskHeadConfig): MaskHeadParams {
  return initFromSpec(key, maskHeadSpec(config)) as MaskHeadParams;
}

/**
 * Mask logits `[R, K, 2s, 2s]` from pooled features `[R, C, s, s]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initMaskHead, maskHead } from "./mask_head.ts";
 * import { ones, random } from "../../mod.ts";
 * const p = initMaskHead(random.key(0), { inChannels: 2, dim: 4, numClasses: 3 });
 * assert.deepEqual(maskHead(p, ones([5, 2, 14, 14])).shape, [5, 3, 28, 28]);
 * ```
 */
export function maskHead(params: MaskHeadParams, pooled: Tensor): Tensor {
  let x = pooled;
  for (const c of params.mask_head) x = relu(convLayer(c, x, { padding: 1 }));
  const p = params.mask_predictor;
  return convLayer(p.mask_fcn_logits, relu(convTransposeLayer(p.conv5_mask, x, { stride: 2 })));
}

/**
 * Mask targets `[R, M, M]`: each GT mask of `gtMasks` `[G, H, W]` (0/1 float) RoIAligned into
 * its proposal `[R, 4]` (matched GT index int32 `[R]`; torchvision `project_masks_on_boxes`:
 * aligned false, adaptive sampling).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskTargets } from "./mask_head.ts";
 * import { ones, tensor } from "../../mod.ts";
 * const t = maskTargets(ones([1, 8, 8]), tensor([[0, 0, 4, 4]]), tensor([0], { dtype: "int32" }), 2);
 * assert.deepEqual(await t.toArray(), [[[1, 1], [1, 1]]]);
 * ```
 */
export function maskTargets(gtMasks: Tensor, proposals: Tensor, matched: Tensor, m = 28): Tensor {
  return scope(() => {
    if (gtMasks.ndim !== 3) {
      throw new TesseraError("maskTargets", `gtMasks must be [G, H, W], got [${gtMasks.shape}]`);
    }
    const ids = expandDims(cast(matched, proposals.dtype), 1);
    const rois = concat([ids, proposals], 1);
    const y = roiAlign(expandDims(gtMasks, 1), rois, { outputSize: m, samplingRatio: 0 });
    return reshape(y, [proposals.shape[0]!, m, m]);
  });
}

/** `[R, M, M]`: the channel `labels[r]` of logits `[R, K, M, M]`. */
function pickClass(logits: Tensor, labels: Tensor): Tensor {
  const [r, k, h, w] = logits.shape as [number, number, number, number];
  const rows = add(
    mul(arange(0, r, 1, { dtype: "int32", backend: labels.backend.name }), k),
    labels,
  );
  return gather(reshape(logits, [r * k, h, w]), rows, 0);
}

/**
 * Mask loss (torchvision `maskrcnn_loss`): BCE-with-logits of the GT-class channel of logits
 * `[R, K, M, M]` (int32 `labels` `[R]`) against `targets` `[R, M, M]`, mean over R·M²
 * (0 with a gradient path when R = 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskLoss } from "./mask_head.ts";
 * import { ones, tensor, zeros } from "../../mod.ts";
 * const l = maskLoss(zeros([1, 2, 2, 2]), tensor([1], { dtype: "int32" }), ones([1, 2, 2]));
 * assert.ok(Math.abs(await l.item() - Math.LN2) < 1e-6);
 * ```
 */
export function maskLoss(maskLogits: Tensor, labels: Tensor, targets: Tensor): Tensor {
  return scope(() => {
    if (labels.dtype !== "int32" || labels.shape[0] !== maskLogits.shape[0]) {
      throw new TesseraError(
        "maskLoss",
        `labels must be int32 [${maskLogits.shape[0]}], got ${labels.dtype} [${labels.shape}]`,
      );
    }
    if (maskLogits.shape[0] === 0) return mul(sum(maskLogits), 0);
    return binaryCrossEntropyWithLogits(pickClass(maskLogits, labels), targets);
  });
}

/**
 * Mask probabilities `[D, 1, M, M]` of each detection's class (torchvision `maskrcnn_inference`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskProbabilities } from "./mask_head.ts";
 * import { tensor, zeros } from "../../mod.ts";
 * const p = maskProbabilities(zeros([1, 2, 1, 1]), tensor([1], { dtype: "int32" }));
 * assert.deepEqual(await p.toArray(), [[[[0.5]]]]);
 * ```
 */
export function maskProbabilities(maskLogits: Tensor, labels: Tensor): Tensor {
  return scope(() => {
    const [r, , h, w] = maskLogits.shape as [number, number, number, number];
    return reshape(sigmoid(pickClass(maskLogits, labels)), [r, 1, h, w]);
  });
}

/**
 * Pastes mask probabilities `[D, 1, M, M]` into images of `size` `[h, w]` at `boxes` `[D, 4]`
 * (torchvision `paste_masks_in_image`: 1-pixel zero padding, box scaled by (M+2)/M and
 * truncated to integers, bilinear resize to the box, copy clipped to the image) → `[D, 1, h, w]`.
 * Threshold at 0.5 for binary masks. Async: boxes are read back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pasteMasks } from "./mask_head.ts";
 * import { ones, tensor } from "../../mod.ts";
 * const m = await pasteMasks(ones([1, 1, 4, 4]), tensor([[2, 2, 6, 6]]), [8, 8]);
 * assert.deepEqual(m.shape, [1, 1, 8, 8]);
 * assert.equal((await m.data())[4 * 8 + 4], 1);
 * assert.equal((await m.data())[0], 0);
 * ```
 */
export async function pasteMasks(
  probs: Tensor,
  boxes: Tensor,
  size: readonly [number, number],
  opts: { padding?: number } = {},
): Promise<Tensor> {
  const [d, , mh] = probs.shape as [number, number, number, number];
  const [imH, imW] = size;
  const pad = opts.padding ?? 1;
  const scale = (mh + 2 * pad) / mh;
  const f = Math.fround;
  const b = await boxes.data();
  const out = new Float32Array(d * imH * imW);
  for (let i = 0; i < d; i++) {
    const [x0, y0, x1, y1] = [b[4 * i]!, b[4 * i + 1]!, b[4 * i + 2]!, b[4 * i + 3]!];
    const wh = f(f(f(x1 - x0) * 0.5) * f(scale)), hh = f(f(f(y1 - y0) * 0.5) * f(scale));
    const xc = f(f(x1 + x0) * 0.5), yc = f(f(y1 + y0) * 0.5);
    const bx0 = Math.trunc(f(xc - wh)), by0 = Math.trunc(f(yc - hh));
    const bx1 = Math.trunc(f(xc + wh)), by1 = Math.trunc(f(yc + hh));
    const w = Math.max(bx1 - bx0 + 1, 1), h = Math.max(by1 - by0 + 1, 1);
    const resized = await scope(async () => {
      const m = reshape(slice(probs, [[i, i + 1]]), [1, 1, mh, mh]);
      const padded = padOp(m, [[0, 0], [0, 0], [pad, pad], [pad, pad]]);
      return await interpolate(padded, { size: [h, w], mode: "bilinear" }).data();
    });
    const xs = Math.max(bx0, 0), xe = Math.min(bx1 + 1, imW);
    const ys = Math.max(by0, 0), ye = Math.min(by1 + 1, imH);
    for (let y = ys; y < ye; y++) {
      for (let x = xs; x < xe; x++) {
        out[(i * imH + y) * imW + x] = resized[(y - by0) * w + (x - bx0)]!;
      }
    }
  }
  return tensor(out, { shape: [d, 1, imH, imW], backend: probs.backend.name });
}
