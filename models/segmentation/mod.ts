/**
 * Semantic segmentation (methods.md §13): mmseg's UperHead and auxiliary FCNHead on the shared
 * ViT → 4-scale adapter (models/dense), their ConvModules with BatchNorm state, and the
 * per-pixel cross-entropy with ignore index 255.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initUperHead, initUperHeadState, uperHead } from "./mod.ts";
 * import { ones, random } from "../../mod.ts";
 * const cfg = { inChannels: 2, channels: 2, numClasses: 3 };
 * const maps = [8, 4, 2, 1].map((s) => ones([1, 2, s, s]));
 * assert.deepEqual(uperHead(initUperHead(random.key(0), cfg), initUperHeadState(cfg), maps).logits.shape, [1, 3, 8, 8]);
 * ```
 * @module
 */
export * from "./conv_module.ts";
export * from "./uper_head.ts";
export * from "./fcn_head.ts";
export * from "./losses.ts";
export * from "./uper_net.ts";
