/**
 * Mask R-CNN + FPN on a ViT backbone (methods.md §11–12), one file per part: box coder and
 * FPN level assignment, FPN neck, anchors, RPN head / proposals / targets / losses, IoU
 * matcher, fg/bg sampler, multi-scale RoIAlign, box head + Fast R-CNN loss, RoI targets,
 * postprocessing, mask head / targets / loss / pasting, and the composed model
 * (mask_rcnn_model.ts, mask_rcnn.ts). The generic box ops they build on (boxArea, boxIou,
 * clipBoxes, nms, roiAlign) are tensor ops; the ViT → 4-scale adapter is models/dense/.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBoxes, encodeBoxes, fpnLevels } from "./mod.ts";
 * import { tensor } from "../../mod.ts";
 * const props = tensor([[0, 0, 112, 112]]), gts = tensor([[16, 0, 128, 224]]);
 * assert.deepEqual(await fpnLevels(props).toArray(), [3]);
 * assert.deepEqual(await decodeBoxes(encodeBoxes(props, gts), props).toArray(), [[16, 0, 128, 224]]);
 * ```
 * @module
 */
export { type BoxCoderOptions, decodeBoxes, encodeBoxes } from "./box_coder.ts";
export { type FpnLevelOptions, fpnLevels } from "./fpn_levels.ts";
export * from "./fpn.ts";
export * from "./anchors.ts";
export * from "./rpn_head.ts";
export * from "./matcher.ts";
export * from "./sampler.ts";
export * from "./rpn.ts";
export * from "./roi_pool.ts";
export * from "./box_head.ts";
export * from "./roi_targets.ts";
export * from "./postprocess.ts";
export * from "./mask_head.ts";
export * from "./mask_rcnn.ts";
export * from "./mask_rcnn_model.ts";
