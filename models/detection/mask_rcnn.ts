/**
 * Mask R-CNN training and inference (methods.md §12) on the model of mask_rcnn_model.ts.
 * Training is split in two so the loss runs inside `valueAndGrad` (which is synchronous):
 * {@link maskRcnnPlan} (async, no gradient: proposals, anchor and RoI sampling, RoI levels,
 * mask targets — every host decision) then {@link maskRcnnLoss} (sync, differentiable: the
 * same forward with the plan's fixed choices). Proposals carry no gradient in torchvision
 * either, so the split changes no value; it costs one extra forward.
 * @module
 */
import {
  add,
  concat,
  dispose,
  gather,
  mul,
  random,
  scope,
  slice,
  sum,
  type Tensor,
  tensor,
  TesseraError,
  zeros,
} from "../../tensor/mod.ts";
import { boxHead, fastRcnnLoss } from "./box_head.ts";
import { maskHead, maskLoss, maskProbabilities, maskTargets, pasteMasks } from "./mask_head.ts";
import {
  type MaskRcnnConfig,
  maskRcnnFeatures,
  type MaskRcnnParams,
  maskRcnnProposals,
} from "./mask_rcnn_model.ts";
import { type Detections, postprocessDetections } from "./postprocess.ts";
import { planRois, poolRois, type RoiPlan } from "./roi_pool.ts";
import { roiTargets } from "./roi_targets.ts";
import { rpnLoss, type RpnTargets, rpnTargets } from "./rpn.ts";
import { rpnHead } from "./rpn_head.ts";

/**
 * Ground truth of one image.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { DetectionTarget } from "./mask_rcnn.ts";
 * import { tensor, zeros } from "../../mod.ts";
 * const t: DetectionTarget = { boxes: tensor([[0, 0, 8, 8]]), labels: tensor([1], { dtype: "int32" }), masks: zeros([1, 32, 32]) };
 * assert.equal(t.boxes.shape[0], 1);
 * ```
 */
export interface DetectionTarget {
  /** `[G, 4]` boxes (x1, y1, x2, y2) in padded-image pixels. */
  boxes: Tensor;
  /** int32 `[G]` classes ≥ 1. */
  labels: Tensor;
  /** `[G, H, W]` 0/1 instance masks at the padded image size. */
  masks: Tensor;
}

/**
 * The host decisions of one training step ({@link maskRcnnPlan}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { MaskRcnnPlan } from "./mask_rcnn.ts";
 * const rois = (p: MaskRcnnPlan) => p.boxPlan.levelOf.length;
 * assert.equal(typeof rois, "function");
 * ```
 */
export interface MaskRcnnPlan {
  /** RPN labels, regression targets and sampled anchors. */
  rpn: RpnTargets;
  /** Sampled RoIs and their levels. */
  boxPlan: RoiPlan;
  /** int32 classes of the sampled RoIs. */
  roiLabels: Tensor;
  /** Box-coder targets of the sampled RoIs. */
  roiRegression: Tensor;
  /** Foreground RoIs for the mask head. */
  maskPlan: RoiPlan;
  /** int32 classes of the foreground RoIs. */
  maskLabels: Tensor;
  /** `[P, 28, 28]` mask targets. */
  maskTargets: Tensor;
}

/**
 * Plans a training step: forward without gradient, proposals (training top-k), RPN and RoI
 * targets sampled under `key`, RoI levels and mask targets. `imageSizes` are the unpadded
 * sizes. Pass the same `forwardKey` to {@link maskRcnnLoss} so dropout/drop path agree.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskRcnnPlan } from "./mask_rcnn.ts";
 * import { initMaskRcnn } from "./mask_rcnn_model.ts";
 * import { dispose, random, tensor, zeros } from "../../mod.ts";
 * const vit = { imgSize: 32, patchSize: 16, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 };
 * const cfg = { vit, numClasses: 3, fpnChannels: 8, boxRepresentation: 16, maskDim: 8, canvasScale: 0.25, roiBatchSize: 16, rpnBatchSize: 32 };
 * const t = { boxes: tensor([[4, 4, 30, 40]]), labels: tensor([2], { dtype: "int32" }), masks: zeros([1, 64, 64]) };
 * const plan = await maskRcnnPlan(initMaskRcnn(random.key(0), cfg), random.normal(random.key(1), [1, 1, 64, 64]), [[64, 64]], [t], cfg, { key: random.key(2) });
 * assert.ok(plan.maskLabels.shape[0]! >= 1); // the GT box itself is a foreground RoI
 * dispose(plan);
 * ```
 */
export async function maskRcnnPlan(
  params: MaskRcnnParams,
  images: Tensor,
  imageSizes: readonly (readonly [number, number])[],
  targets: readonly DetectionTarget[],
  config: MaskRcnnConfig,
  opts: { key: Tensor; forwardKey?: Tensor; train?: boolean },
): Promise<MaskRcnnPlan> {
  const op = "maskRcnnPlan";
  const n = images.shape[0]!;
  if (targets.length !== n || imageSizes.length !== n) {
    throw new TesseraError(
      op,
      `need one target and one image size per image (${n}), got ${targets.length}, ${imageSizes.length}`,
    );
  }
  const canon = 224 * (config.canvasScale ?? 1);
  const feats = maskRcnnFeatures(params, images, config, {
    train: opts.train ?? true,
    key: opts.forwardKey,
  });
  const toFree: unknown[] = [feats];
  try {
    const rpnOut = await maskRcnnProposals(params, feats, images, imageSizes, config, "train");
    toFree.push(rpnOut);
    const props = rpnOut.proposals;
    const [kr, ko] = random.splitKeys(opts.key, 2);
    toFree.push(kr, ko);
    const rpn = await rpnTargets(kr!, rpnOut.anchors.boxes, targets.map((t) => t.boxes), {
      sampler: {
        batchSize: config.rpnBatchSize ?? 256,
        positiveFraction: config.rpnPositiveFraction ?? 0.5,
      },
    });
    const roi = await roiTargets(
      ko!,
      props.map((p) => p.boxes),
      targets.map((t) => t.boxes),
      targets.map((t) => t.labels),
      {
        sampler: {
          batchSize: config.roiBatchSize ?? 512,
          positiveFraction: config.roiPositiveFraction ?? 0.25,
        },
      },
    );
    toFree.push(roi.proposals, roi.matched);
    const fpn4 = feats.slice(0, 4);
    const boxPlan = await planRois(fpn4, roi.proposals, imageSizes, { canonicalSize: canon });
    const lab = await roi.labels.data();
    const pos: { boxes: Tensor; matched: Tensor; labels: Tensor }[] = [];
    let off = 0;
    for (const p of roi.proposals) {
      const r = p.shape[0]!;
      const idx: number[] = [];
      for (let j = 0; j < r; j++) if (lab[off + j]! > 0) idx.push(off + j);
      pos.push(scope(() => {
        const be = p.backend.name;
        const local = tensor(Int32Array.from(idx.map((j) => j - off)), {
          shape: [idx.length],
          backend: be,
        });
        const i = pos.length;
        return {
          boxes: gather(p, local, 0),
          matched: gather(roi.matched[i]!, local, 0),
          labels: gather(
            roi.labels,
            tensor(Int32Array.from(idx), { shape: [idx.length], backend: be }),
            0,
          ),
        };
      }));
      off += r;
    }
    toFree.push(pos);
    const maskPlan = await planRois(fpn4, pos.map((p) => p.boxes), imageSizes, {
      canonicalSize: canon,
    });
    const m = 2 * 14;
    const masks = scope(() => {
      const parts = pos.map((p, i) =>
        p.boxes.shape[0] ? maskTargets(targets[i]!.masks, p.boxes, p.matched, m) : null
      ).filter((x): x is Tensor => x !== null);
      return parts.length ? concat(parts, 0) : zeros([0, m, m], { backend: images.backend.name });
    });
    const maskLabels = scope(() => concat(pos.map((p) => p.labels), 0));
    return {
      rpn,
      boxPlan,
      roiLabels: roi.labels,
      roiRegression: roi.regression,
      maskPlan,
      maskLabels: maskLabels === pos[0]?.labels ? add(maskLabels, 0) : maskLabels,
      maskTargets: masks,
    };
  } finally {
    dispose(toFree as never);
  }
}

/**
 * Losses of one step (torchvision's names in brackets).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { MaskRcnnLosses } from "./mask_rcnn.ts";
 * const keys: (keyof MaskRcnnLosses)[] = ["rpnObjectness", "rpnBoxReg", "classifier", "boxReg", "mask", "total"];
 * assert.equal(keys.length, 6);
 * ```
 */
export interface MaskRcnnLosses {
  /** [loss_objectness] */
  rpnObjectness: Tensor;
  /** [loss_rpn_box_reg] */
  rpnBoxReg: Tensor;
  /** [loss_classifier] */
  classifier: Tensor;
  /** [loss_box_reg] */
  boxReg: Tensor;
  /** [loss_mask] */
  mask: Tensor;
  /** The sum of the five. */
  total: Tensor;
}

/**
 * The five Mask R-CNN losses for a plan (synchronous and differentiable in `params`; run it
 * under `valueAndGrad` with `(p) => maskRcnnLoss(p, …).total`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskRcnnLoss, maskRcnnPlan } from "./mask_rcnn.ts";
 * import { initMaskRcnn } from "./mask_rcnn_model.ts";
 * import { dispose, random, tensor, zeros } from "../../mod.ts";
 * const vit = { imgSize: 32, patchSize: 16, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 };
 * const cfg = { vit, numClasses: 3, fpnChannels: 8, boxRepresentation: 16, maskDim: 8, canvasScale: 0.25, roiBatchSize: 16, rpnBatchSize: 32 };
 * const p = initMaskRcnn(random.key(0), cfg), img = random.normal(random.key(1), [1, 1, 64, 64]);
 * const t = { boxes: tensor([[4, 4, 30, 40]]), labels: tensor([2], { dtype: "int32" }), masks: zeros([1, 64, 64]) };
 * const plan = await maskRcnnPlan(p, img, [[64, 64]], [t], cfg, { key: random.key(2) });
 * const l = maskRcnnLoss(p, img, plan, cfg);
 * assert.ok(Number.isFinite(await l.total.item()));
 * dispose(plan);
 * ```
 */
export function maskRcnnLoss(
  params: MaskRcnnParams,
  images: Tensor,
  plan: MaskRcnnPlan,
  config: MaskRcnnConfig,
  opts: { forwardKey?: Tensor; train?: boolean } = {},
): MaskRcnnLosses {
  return scope(() => {
    const feats = maskRcnnFeatures(params, images, config, {
      train: opts.train ?? true,
      key: opts.forwardKey,
    });
    const head = rpnHead(params.rpn.head, feats);
    const r = rpnLoss(head.objectness, head.deltas, plan.rpn);
    const fpn4 = feats.slice(0, 4);
    const o = boxHead(params.roi_heads, poolRois(fpn4, plan.boxPlan, { outputSize: 7 }));
    const b = fastRcnnLoss(o.classLogits, o.boxRegression, plan.roiLabels, plan.roiRegression);
    const mask = plan.maskLabels.shape[0]
      ? maskLoss(
        maskHead(params.roi_heads, poolRois(fpn4, plan.maskPlan, { outputSize: 14 })),
        plan.maskLabels,
        plan.maskTargets,
      )
      : mul(sum(params.roi_heads.mask_predictor.mask_fcn_logits.weight), 0);
    const total = add(add(add(r.objectness, r.boxReg), add(b.classifier, b.boxReg)), mask);
    return {
      rpnObjectness: r.objectness,
      rpnBoxReg: r.boxReg,
      classifier: b.classifier,
      boxReg: b.boxReg,
      mask,
      total,
    };
  });
}

/**
 * Detections of one image with its masks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { MaskDetections } from "./mask_rcnn.ts";
 * const binary = (d: MaskDetections) => d.masks.shape;
 * assert.equal(typeof binary, "function");
 * ```
 */
export interface MaskDetections extends Detections {
  /** `[D, 1, h, w]` mask probabilities pasted into the unpadded image (threshold at 0.5). */
  masks: Tensor;
}

/**
 * Inference: proposals (test top-k), box head, postprocessing (score 0.05, per-class NMS 0.5,
 * top 100), mask head on the final boxes, pasted masks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskRcnnPredict } from "./mask_rcnn.ts";
 * import { initMaskRcnn } from "./mask_rcnn_model.ts";
 * import { random } from "../../mod.ts";
 * const vit = { imgSize: 32, patchSize: 16, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 };
 * const cfg = { vit, numClasses: 3, fpnChannels: 8, boxRepresentation: 16, maskDim: 8, canvasScale: 0.25, test: { detectionsPerImage: 5 } };
 * const [d] = await maskRcnnPredict(initMaskRcnn(random.key(0), cfg), random.normal(random.key(1), [1, 1, 64, 64]), [[60, 62]], cfg);
 * assert.ok(d!.boxes.shape[0]! <= 5);
 * assert.deepEqual(d!.masks.shape.slice(1), [1, 60, 62]);
 * ```
 */
export async function maskRcnnPredict(
  params: MaskRcnnParams,
  images: Tensor,
  imageSizes: readonly (readonly [number, number])[],
  config: MaskRcnnConfig,
): Promise<MaskDetections[]> {
  const canon = 224 * (config.canvasScale ?? 1);
  const feats = maskRcnnFeatures(params, images, config);
  const toFree: unknown[] = [feats];
  try {
    const rpnOut = await maskRcnnProposals(params, feats, images, imageSizes, config, "test");
    toFree.push(rpnOut);
    const props = rpnOut.proposals;
    const fpn4 = feats.slice(0, 4);
    const boxPlan = await planRois(fpn4, props.map((p) => p.boxes), imageSizes, {
      canonicalSize: canon,
    });
    toFree.push(boxPlan.rois);
    const o = boxHead(params.roi_heads, poolRois(fpn4, boxPlan, { outputSize: 7 }));
    toFree.push(o);
    const dets = await postprocessDetections(
      o.classLogits,
      o.boxRegression,
      props.map((p) => p.boxes),
      imageSizes,
      config.test,
    );
    const maskPlan = await planRois(fpn4, dets.map((d) => d.boxes), imageSizes, {
      canonicalSize: canon,
    });
    toFree.push(maskPlan.rois);
    const probs = scope(() => {
      const labels = concat(dets.map((d) => d.labels), 0);
      if (labels.shape[0] === 0) return [] as Tensor[];
      const p = maskProbabilities(
        maskHead(params.roi_heads, poolRois(fpn4, maskPlan, { outputSize: 14 })),
        labels,
      );
      const sizes = dets.map((d) => d.boxes.shape[0]!);
      const parts: Tensor[] = [];
      let off = 0;
      for (const s of sizes) parts.push(slice(p, [[off, off + s]])), off += s;
      return parts;
    });
    toFree.push(probs);
    const out: MaskDetections[] = [];
    for (let i = 0; i < dets.length; i++) {
      const d = dets[i]!;
      const masks = d.boxes.shape[0] && probs.length
        ? await pasteMasks(probs[i]!, d.boxes, imageSizes[i]!)
        : zeros([0, 1, imageSizes[i]![0], imageSizes[i]![1]], { backend: images.backend.name });
      out.push({ ...d, masks });
    }
    return out;
  } finally {
    dispose(toFree as never);
  }
}
