/**
 * Detection policy shared by the detection heads: the `(dx, dy, dw, dh)` box coder and FPN
 * level assignment. The generic box ops they build on (boxArea, boxIou, clipBoxes, nms,
 * roiAlign) are tensor ops.
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
