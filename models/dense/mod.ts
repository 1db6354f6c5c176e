/**
 * Shared parts of the dense-prediction models (detection, segmentation): the ViT → 4-scale
 * adapter (methods.md §11); its convolution layers are nn/conv.ts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adaptScales, initVitAdapter } from "./mod.ts";
 * import { ones, random } from "../../mod.ts";
 * const m = ones([1, 4, 2, 2]);
 * const maps = adaptScales(initVitAdapter(random.key(0), { embedDim: 4 }), [m, m, m, m]);
 * assert.deepEqual(maps.map((x) => x.shape[2]), [8, 4, 2, 1]);
 * ```
 * @module
 */
export * from "./vit_adapter.ts";
