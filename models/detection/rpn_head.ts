/**
 * RPN head (torchvision `RPNHead`, methods.md §12), shared over pyramid levels: 3×3 conv + ReLU,
 * then 1×1 convs to A objectness logits (`cls_logits`) and 4A box deltas (`bbox_pred`); and
 * the flattening of per-level predictions into per-image rows in anchor order (torchvision
 * `concat_box_prediction_layers`). torchvision 0.14 names the first conv `conv.0.0`.
 * @module
 */
import { concat, permute, relu, reshape, type Tensor, TesseraError } from "../../tensor/mod.ts";
import { initFromSpec, normalInit, type Spec, zerosInit } from "../../nn/init.ts";
import { convLayer, type ConvLayerParams, convLayerSpec } from "../../nn/conv.ts";

/**
 * Parameters of {@link rpnHead}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initRpnHead, type RpnHeadParams } from "./rpn_head.ts";
 * import { random } from "../../mod.ts";
 * const p: RpnHeadParams = initRpnHead(random.key(0), { inChannels: 8, numAnchors: 3 });
 * assert.deepEqual(p.bbox_pred.weight.shape, [12, 8, 1, 1]);
 * ```
 */
export interface RpnHeadParams {
  /** 3×3 conv `[C, C, 3, 3]`. */
  conv: ConvLayerParams;
  /** 1×1 conv `[A, C, 1, 1]`. */
  cls_logits: ConvLayerParams;
  /** 1×1 conv `[4A, C, 1, 1]`. */
  bbox_pred: ConvLayerParams;
}

/**
 * Configuration of the RPN head.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RpnHeadConfig } from "./rpn_head.ts";
 * const c: RpnHeadConfig = { inChannels: 256, numAnchors: 3 };
 * assert.equal(c.numAnchors, 3);
 * ```
 */
export interface RpnHeadConfig {
  /** FPN channels. */
  inChannels: number;
  /** Anchors per location A. */
  numAnchors: number;
}

/**
 * Spec of the RPN head (torchvision init: weights N(0, 0.01²), biases 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rpnHeadSpec } from "./rpn_head.ts";
 * import { countParams } from "../../nn/init.ts";
 * assert.equal(countParams(rpnHeadSpec({ inChannels: 2, numAnchors: 1 })), 2 * 2 * 9 + 2 + 3 + 12);
 * ```
 */
export function rpnHeadSpec(config: RpnHeadConfig): Spec<RpnHeadParams> {
  const c = config.inChannels, a = config.numAnchors;
  const conv = (o: number, k: number) =>
    convLayerSpec({
      inChannels: c,
      outChannels: o,
      kernel: k,
      weightInit: normalInit(0.01),
      biasInit: zerosInit,
    });
  return { conv: conv(c, 3), cls_logits: conv(a, 1), bbox_pred: conv(4 * a, 1) };
}

/**
 * Initialises the RPN head.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initRpnHead } from "./rpn_head.ts";
 * import { random } from "../../mod.ts";
 * assert.deepEqual(initRpnHead(random.key(0), { inChannels: 4, numAnchors: 3 }).cls_logits.weight.shape, [3, 4, 1, 1]);
 * ```
 */
export function initRpnHead(key: Tensor, config: RpnHeadConfig): RpnHeadParams {
  return initFromSpec(key, rpnHeadSpec(config)) as RpnHeadParams;
}

/**
 * Result of {@link rpnHead}: per-level maps and their flattened concatenation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RpnHeadOutput } from "./rpn_head.ts";
 * const rows = (o: RpnHeadOutput) => o.objectness.shape[1];
 * assert.equal(typeof rows, "function");
 * ```
 */
export interface RpnHeadOutput {
  /** `[N, Σ H·W·A]` logits, anchor order (level, y, x, anchor). */
  objectness: Tensor;
  /** `[N, Σ H·W·A, 4]` deltas in the same order. */
  deltas: Tensor;
}

/**
 * Runs the head on every FPN level `[N, C, H_l, W_l]` and flattens the predictions to anchor
 * order (matching {@link generateAnchors}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initRpnHead, rpnHead } from "./rpn_head.ts";
 * import { ones, random } from "../../mod.ts";
 * const p = initRpnHead(random.key(0), { inChannels: 4, numAnchors: 3 });
 * const o = rpnHead(p, [ones([2, 4, 4, 4]), ones([2, 4, 2, 2])]);
 * assert.deepEqual([o.objectness.shape, o.deltas.shape], [[2, 60], [2, 60, 4]]);
 * ```
 */
export function rpnHead(params: RpnHeadParams, features: readonly Tensor[]): RpnHeadOutput {
  if (features.length < 1) throw new TesseraError("rpnHead", "no feature maps");
  const a = params.cls_logits.weight.shape[0]!;
  const obj: Tensor[] = [], del: Tensor[] = [];
  for (const f of features) {
    const [n, , h, w] = f.shape as [number, number, number, number];
    const t = relu(convLayer(params.conv, f, { padding: 1 }));
    const o = convLayer(params.cls_logits, t); // [N, A, H, W]
    obj.push(reshape(permute(o, [0, 2, 3, 1]), [n, h * w * a]));
    const d = reshape(convLayer(params.bbox_pred, t), [n, a, 4, h, w]);
    del.push(reshape(permute(d, [0, 3, 4, 1, 2]), [n, h * w * a, 4]));
  }
  return { objectness: concat(obj, 1), deltas: concat(del, 1) };
}
