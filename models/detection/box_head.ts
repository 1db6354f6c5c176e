/**
 * Box head of the RoI heads (torchvision `TwoMLPHead` + `FastRCNNPredictor`, methods.md §12):
 * flatten `[R, C, 7, 7]` → `fc6` + ReLU → `fc7` + ReLU → class logits (`cls_score`, background
 * is class 0) and class-specific deltas (`bbox_pred`, `4·numClasses`); and the Fast R-CNN loss
 * (softmax CE over sampled RoIs, smooth-L1 β = 1/9 on foreground RoIs' GT-class deltas, summed
 * and divided by the number of sampled RoIs).
 * @module
 */
import {
  add,
  arange,
  div,
  expandDims,
  gather,
  greater,
  mul,
  relu,
  reshape,
  scope,
  sub,
  type Tensor,
  TesseraError,
  where,
  zerosLike,
} from "../../tensor/mod.ts";
import { initFromSpec, type Spec, torchDefaultInit } from "../../nn/init.ts";
import { linear, type LinearParams, linearSpec } from "../../nn/linear.ts";
import { crossEntropy, smoothL1Loss } from "../../nn/losses.ts";

/**
 * Parameters of the box head and predictor (torchvision names).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type BoxHeadParams, initBoxHead } from "./box_head.ts";
 * import { random } from "../../mod.ts";
 * const p: BoxHeadParams = initBoxHead(random.key(0), { inFeatures: 8 * 49, representation: 16, numClasses: 3 });
 * assert.deepEqual(p.box_predictor.bbox_pred.weight.shape, [12, 16]);
 * ```
 */
export interface BoxHeadParams {
  /** `TwoMLPHead`: fc6 `[rep, C·7·7]`, fc7 `[rep, rep]`. */
  box_head: { fc6: LinearParams; fc7: LinearParams };
  /** `FastRCNNPredictor`: cls_score `[K, rep]`, bbox_pred `[4K, rep]` (K includes background). */
  box_predictor: { cls_score: LinearParams; bbox_pred: LinearParams };
}

/**
 * Configuration of the box head.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { BoxHeadConfig } from "./box_head.ts";
 * const coco: BoxHeadConfig = { inFeatures: 256 * 7 * 7, representation: 1024, numClasses: 81 };
 * assert.equal(coco.numClasses, 81);
 * ```
 */
export interface BoxHeadConfig {
  /** Flattened pooled features C·7·7. */
  inFeatures: number;
  /** Width of fc6/fc7 (1024 in the spec; smaller for tiny models). */
  representation: number;
  /** Classes including background. */
  numClasses: number;
}

/**
 * Spec of the box head (PyTorch's default Linear init, as torchvision leaves it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { boxHeadSpec } from "./box_head.ts";
 * import { countParams } from "../../nn/init.ts";
 * assert.equal(countParams(boxHeadSpec({ inFeatures: 4, representation: 2, numClasses: 2 })), 10 + 6 + 6 + 24);
 * ```
 */
export function boxHeadSpec(config: BoxHeadConfig): Spec<BoxHeadParams> {
  const lin = (i: number, o: number) =>
    linearSpec({
      inFeatures: i,
      outFeatures: o,
      weightInit: torchDefaultInit(i),
      biasInit: torchDefaultInit(i),
    });
  const { inFeatures: f, representation: r, numClasses: k } = config;
  return {
    box_head: { fc6: lin(f, r), fc7: lin(r, r) },
    box_predictor: { cls_score: lin(r, k), bbox_pred: lin(r, 4 * k) },
  };
}

/**
 * Initialises the box head.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initBoxHead } from "./box_head.ts";
 * import { random } from "../../mod.ts";
 * assert.deepEqual(initBoxHead(random.key(0), { inFeatures: 4, representation: 2, numClasses: 5 }).box_predictor.cls_score.weight.shape, [5, 2]);
 * ```
 */
export function initBoxHead(key: Tensor, config: BoxHeadConfig): BoxHeadParams {
  return initFromSpec(key, boxHeadSpec(config)) as BoxHeadParams;
}

/**
 * Result of {@link boxHead}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { BoxHeadOutput } from "./box_head.ts";
 * const k = (o: BoxHeadOutput) => o.classLogits.shape[1];
 * assert.equal(typeof k, "function");
 * ```
 */
export interface BoxHeadOutput {
  /** `[R, K]`. */
  classLogits: Tensor;
  /** `[R, 4K]`: deltas of every class. */
  boxRegression: Tensor;
}

/**
 * Runs the box head and predictor on pooled features `[R, C, s, s]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { boxHead, initBoxHead } from "./box_head.ts";
 * import { ones, random } from "../../mod.ts";
 * const p = initBoxHead(random.key(0), { inFeatures: 2 * 49, representation: 8, numClasses: 3 });
 * const o = boxHead(p, ones([5, 2, 7, 7]));
 * assert.deepEqual([o.classLogits.shape, o.boxRegression.shape], [[5, 3], [5, 12]]);
 * ```
 */
export function boxHead(params: BoxHeadParams, pooled: Tensor): BoxHeadOutput {
  const x = reshape(pooled, [pooled.shape[0]!, -1]);
  const h = relu(linear(params.box_head.fc7, relu(linear(params.box_head.fc6, x))));
  return {
    classLogits: linear(params.box_predictor.cls_score, h),
    boxRegression: linear(params.box_predictor.bbox_pred, h),
  };
}

/**
 * Fast R-CNN losses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { FastRcnnLosses } from "./box_head.ts";
 * const parts = (l: FastRcnnLosses) => [l.classifier, l.boxReg];
 * assert.equal(typeof parts, "function");
 * ```
 */
export interface FastRcnnLosses {
  /** Softmax cross-entropy, mean over sampled RoIs. */
  classifier: Tensor;
  /** Smooth-L1 on foreground RoIs (their GT class's deltas), sum / number of RoIs. */
  boxReg: Tensor;
}

/**
 * torchvision's `fastrcnn_loss` for logits `[R, K]`, deltas `[R, 4K]`, int32 labels `[R]`
 * (0 background) and regression targets `[R, 4]`. Background rows' targets are never read
 * into the loss (a degenerate background target cannot make it NaN).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fastRcnnLoss } from "./box_head.ts";
 * import { tensor, zeros } from "../../mod.ts";
 * const l = fastRcnnLoss(zeros([2, 2]), zeros([2, 8]), tensor([1, 0], { dtype: "int32" }), tensor([[1, 0, 0, 0], [Infinity, 0, 0, 0]]));
 * assert.ok(Math.abs(await l.classifier.item() - Math.LN2) < 1e-6);
 * assert.ok(Math.abs(await l.boxReg.item() - (1 - 0.5 / 9) / 2) < 1e-6);
 * ```
 */
export function fastRcnnLoss(
  classLogits: Tensor,
  boxRegression: Tensor,
  labels: Tensor,
  regression: Tensor,
  opts: { beta?: number } = {},
): FastRcnnLosses {
  opts ??= {};
  return scope(() => {
    const op = "fastRcnnLoss";
    const [r, k] = classLogits.shape as [number, number];
    if (
      classLogits.ndim !== 2 || boxRegression.shape[0] !== r || boxRegression.shape[1] !== 4 * k ||
      labels.dtype !== "int32" || labels.shape[0] !== r || regression.shape[0] !== r || r === 0
    ) {
      throw new TesseraError(
        op,
        `need logits [R >= 1, K], deltas [R, 4K], int32 labels [R], targets [R, 4]; got ` +
          `[${classLogits.shape}], [${boxRegression.shape}], ${labels.dtype} [${labels.shape}], ` +
          `[${regression.shape}]`,
      );
    }
    const classifier = crossEntropy(classLogits, labels);
    const rows = add(
      mul(arange(0, r, 1, { dtype: "int32", backend: labels.backend.name }), k),
      labels,
    );
    const pred = gather(reshape(boxRegression, [r * k, 4]), rows, 0);
    const fg = expandDims(greater(labels, 0), 1);
    const d = where(fg, sub(pred, regression), 0);
    const box = smoothL1Loss(d, zerosLike(d), { beta: opts.beta ?? 1 / 9, reduction: "sum" });
    return { classifier, boxReg: div(box, r) };
  });
}
