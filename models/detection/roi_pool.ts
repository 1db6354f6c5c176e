/**
 * Multi-scale RoIAlign (torchvision `MultiScaleRoIAlign`, methods.md §12): each box is pooled
 * from the FPN level of its size (`⌊4 + log2(√area/224) + ε⌋`, clamped to the levels present),
 * with the level's scale inferred as torchvision does (`2^round(log2(map / image))`).
 * Differentiable in the feature maps.
 * @module
 */
import {
  concat,
  expandDims,
  gather,
  roiAlign,
  scope,
  slice,
  type Tensor,
  tensor,
  TesseraError,
  zeros,
} from "../../tensor/mod.ts";
import { fpnLevels } from "./fpn_levels.ts";

/**
 * Options of {@link multiScaleRoiAlign}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { MultiScaleRoiAlignOptions } from "./roi_pool.ts";
 * const mask: MultiScaleRoiAlignOptions = { outputSize: 14 };
 * assert.equal(mask.samplingRatio ?? 2, 2);
 * ```
 */
export interface MultiScaleRoiAlignOptions {
  /** Output side (7 for the box head, 14 for the mask head). */
  outputSize: number;
  /** Samples per bin and axis (default 2, torchvision). */
  samplingRatio?: number;
  /** Half-pixel alignment (default false, torchvision; detectron2/mmdet use true). */
  aligned?: boolean;
  /** Box size of the canonical level (default 224; scale it for small canvases). */
  canonicalSize?: number;
  /** Canonical level (default 4). */
  canonicalLevel?: number;
}

/**
 * The pyramid levels of feature maps `[N, C, H_l, W_l]` for images of `imageSizes`: level
 * `−log2(2^round(log2(H_l / max image height)))` per map (torchvision `_setup_scales`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { featureLevels } from "./roi_pool.ts";
 * import { zeros } from "../../mod.ts";
 * assert.deepEqual(featureLevels([zeros([1, 1, 16, 16]), zeros([1, 1, 8, 8])], [[60, 64]]), [2, 3]);
 * ```
 */
export function featureLevels(
  features: readonly Tensor[],
  imageSizes: readonly (readonly [number, number])[],
): number[] {
  if (imageSizes.length === 0) throw new TesseraError("featureLevels", "no image sizes");
  const maxH = Math.max(...imageSizes.map((s) => s[0]));
  const levels = features.map((f) => -Math.round(Math.log2(f.shape[2]! / maxH)));
  levels.forEach((l, i) => {
    if (i > 0 && l !== levels[i - 1]! + 1) {
      throw new TesseraError(
        "featureLevels",
        `feature maps must halve level by level, got levels [${levels}]`,
      );
    }
  });
  return levels;
}

/**
 * Where each box is pooled from: the RoIs `[K, 5]` (image index, box) and each box's level
 * index into the feature list — computed once on the host so that pooling itself
 * ({@link poolRois}) is synchronous and can run inside `valueAndGrad`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RoiPlan } from "./roi_pool.ts";
 * const n = (p: RoiPlan) => p.levelOf.length;
 * assert.equal(typeof n, "function");
 * ```
 */
export interface RoiPlan {
  /** `[K, 5]`: image index, x1, y1, x2, y2 (image coordinates). */
  rois: Tensor;
  /** Index into the feature maps of each RoI's level. */
  levelOf: Int32Array;
  /** The pyramid level of each feature map (2 for stride 4, …). */
  levels: number[];
}

/**
 * Plans the pooling of boxes `[K_i, 4]` per image from FPN maps `[N, C, H_l, W_l]` (finest
 * first; only their shapes are read). Async: box levels are read back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planRois } from "./roi_pool.ts";
 * import { tensor, zeros } from "../../mod.ts";
 * const maps = [zeros([1, 1, 16, 16]), zeros([1, 1, 8, 8])];
 * const plan = await planRois(maps, [tensor([[0, 0, 20, 20], [0, 0, 60, 60]])], [[64, 64]], { canonicalSize: 56 });
 * assert.deepEqual(Array.from(plan.levelOf), [0, 1]);
 * ```
 */
export async function planRois(
  features: readonly Tensor[],
  boxes: readonly Tensor[],
  imageSizes: readonly (readonly [number, number])[],
  opts: { canonicalSize?: number; canonicalLevel?: number } = {},
): Promise<RoiPlan> {
  opts ??= {};
  const op = "planRois";
  if (features.length < 1 || boxes.length !== features[0]!.shape[0]) {
    throw new TesseraError(
      op,
      `need feature maps and one box tensor per image, got ${features.length} maps, ` +
        `${boxes.length} box tensors for batch ${features[0]?.shape[0]}`,
    );
  }
  const levels = featureLevels(features, imageSizes);
  const be = features[0]!.backend.name;
  const rois = scope(() => {
    const ids: number[] = [];
    boxes.forEach((b, i) => {
      for (let j = 0; j < b.shape[0]!; j++) ids.push(i);
    });
    const all = concat(
      boxes.map((b) => b.shape[0] ? b : zeros([0, 4], { dtype: b.dtype, backend: be })),
      0,
    );
    const col = tensor(Float32Array.from(ids), {
      shape: [ids.length],
      backend: be,
      dtype: all.dtype,
    });
    return concat([expandDims(col, 1), all], 1);
  });
  if (rois.shape[0] === 0) return { rois, levelOf: new Int32Array(0), levels };
  const lvT = scope(() =>
    fpnLevels(slice(rois, [null, [1, 5]]), {
      minLevel: levels[0]!,
      maxLevel: levels[levels.length - 1]!,
      canonicalSize: opts.canonicalSize ?? 224,
      canonicalLevel: opts.canonicalLevel ?? 4,
      eps: 1e-6,
    })
  );
  const lv = await lvT.data();
  lvT.dispose();
  const levelOf = new Int32Array(lv.length);
  for (let j = 0; j < lv.length; j++) {
    const li = levels.indexOf(lv[j]!);
    if (li < 0) {
      rois.dispose();
      throw new TesseraError(op, `box ${j} has no level (a non-finite coordinate)`);
    }
    levelOf[j] = li;
  }
  return { rois, levelOf, levels };
}

/**
 * Pools planned RoIs from FPN maps into `[K, C, s, s]` in RoI order (synchronous and
 * differentiable in the maps).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planRois, poolRois } from "./roi_pool.ts";
 * import { ones, tensor } from "../../mod.ts";
 * const maps = [ones([1, 2, 16, 16]), ones([1, 2, 8, 8])];
 * const plan = await planRois(maps, [tensor([[0, 0, 20, 20]])], [[64, 64]]);
 * assert.deepEqual(poolRois(maps, plan, { outputSize: 3 }).shape, [1, 2, 3, 3]);
 * ```
 */
export function poolRois(
  features: readonly Tensor[],
  plan: RoiPlan,
  opts: MultiScaleRoiAlignOptions,
): Tensor {
  return scope(() => {
    const k = plan.levelOf.length, be = plan.rois.backend.name;
    const c = features[0]!.shape[1]!, s = opts.outputSize;
    if (k === 0) return zeros([0, c, s, s], { dtype: features[0]!.dtype, backend: be });
    const parts: Tensor[] = [];
    const order: number[] = [];
    plan.levels.forEach((l, li) => {
      const sel: number[] = [];
      plan.levelOf.forEach((v, j) => v === li && sel.push(j));
      if (sel.length === 0) return;
      const r = gather(plan.rois, tensor(Int32Array.from(sel), { backend: be }), 0);
      parts.push(roiAlign(features[li]!, r, {
        outputSize: s,
        spatialScale: 2 ** -l,
        samplingRatio: opts.samplingRatio ?? 2,
        aligned: opts.aligned ?? false,
      }));
      order.push(...sel);
    });
    const inverse = new Int32Array(k);
    order.forEach((j, p) => inverse[j] = p);
    return gather(concat(parts, 0), tensor(inverse, { backend: be }), 0);
  });
}

/**
 * Pools boxes `[K_i, 4]` per image (image coordinates) from FPN maps `[N, C, H_l, W_l]`
 * (finest first) into `[Σ K_i, C, s, s]`, in box order: {@link planRois} then
 * {@link poolRois}. Async: box levels are read back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { multiScaleRoiAlign } from "./roi_pool.ts";
 * import { ones, tensor } from "../../mod.ts";
 * const maps = [ones([1, 2, 16, 16]), ones([1, 2, 8, 8])];
 * const y = await multiScaleRoiAlign(maps, [tensor([[0, 0, 20, 20], [0, 0, 60, 60]])], [[64, 64]], { outputSize: 3 });
 * assert.deepEqual(y.shape, [2, 2, 3, 3]);
 * assert.ok((await y.data()).every((v) => Math.abs(v - 1) < 1e-6));
 * ```
 */
export async function multiScaleRoiAlign(
  features: readonly Tensor[],
  boxes: readonly Tensor[],
  imageSizes: readonly (readonly [number, number])[],
  opts: MultiScaleRoiAlignOptions,
): Promise<Tensor> {
  const plan = await planRois(features, boxes, imageSizes, opts);
  try {
    return poolRois(features, plan, opts);
  } finally {
    plan.rois.dispose();
  }
}
