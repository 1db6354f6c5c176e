/**
 * Shared pieces of the masked-image-modelling models (BEiT, SplitMask): index lists from bool
 * masks with a fixed count per image, token gathers and patch position embeddings (the block
 * stack on an already-embedded token sequence is vit.ts's `runBlocks`).
 * @module
 */
import {
  add,
  arange,
  argsort,
  broadcastTo,
  cast,
  concat,
  expandDims,
  reshape,
  slice,
  takeAlongAxis,
  type Tensor,
  TesseraError,
  where,
} from "../tensor/mod.ts";

import { sincos2dPosEmbed } from "../nn/pos_embed.ts";
import { type VitConfig, vitGrid, type VitParams } from "./vit.ts";

/**
 * Number of `true` entries per row of a bool mask `[B, N]`, read on the host; throws when the
 * rows differ (batches must stay rectangular — top the masks up to an exact count) or when the
 * backend cannot read synchronously (then pass the count explicitly).
 *
 * @example
 * ```ts
 * import { countMasked } from "./mim_common.ts";
 * import { tensor } from "../mod.ts";
 * console.log(countMasked(tensor([[true, false, true], [false, true, true]]))); // 2
 * ```
 */
export function countMasked(mask: Tensor): number {
  if (mask.ndim !== 2) {
    throw new TesseraError("countMasked", `mask must be [B, N], got [${mask.shape}]`);
  }
  const c = mask.concrete();
  if (!c.backend.readSync) {
    throw new TesseraError("countMasked", "backend cannot read synchronously: pass the count");
  }
  const v = c.backend.readSync(c.storage, c.dtype, c.size);
  const [b, n] = mask.shape as [number, number];
  let first = -1;
  for (let i = 0; i < b; i++) {
    let k = 0;
    for (let j = 0; j < n; j++) if (v[i * n + j]) k++;
    if (first < 0) first = k;
    else if (k !== first) {
      throw new TesseraError("countMasked", `rows have ${first} and ${k} masked patches`);
    }
  }
  return Math.max(first, 0);
}

/**
 * Sorted positions of the `true` entries of each row of `mask` `[B, N]` followed by those of
 * the `false` entries: int32 `[B, N]` (MAE's `ids_shuffle`). The first `count` columns are the
 * masked positions in ascending order.
 *
 * @example
 * ```ts
 * import { maskOrder } from "./mim_common.ts";
 * import { tensor } from "../mod.ts";
 * console.log(await maskOrder(tensor([[false, true, false, true]])).toArray()); // [[1, 3, 0, 2]]
 * ```
 */
export function maskOrder(mask: Tensor): Tensor {
  const n = mask.shape[1]!;
  const pos = arange(0, n, 1, { dtype: "float32", backend: mask.backend.name });
  return argsort(where(mask, pos, add(pos, n)), 1);
}

/**
 * Positions of the `count` masked patches per row, ascending: int32 `[B, count]`.
 *
 * @example
 * ```ts
 * import { maskIndices } from "./mim_common.ts";
 * import { tensor } from "../mod.ts";
 * console.log(await maskIndices(tensor([[false, true, true], [true, false, true]])).toArray()); // [[1, 2], [0, 2]]
 * ```
 */
export function maskIndices(mask: Tensor, count?: number): Tensor {
  const k = count ?? countMasked(mask);
  return slice(maskOrder(mask), [null, [0, k]]);
}

/**
 * Inverse permutation of an order `[B, N]` (MAE's `ids_restore`).
 *
 * @example
 * ```ts
 * import { inverseOrder } from "./mim_common.ts";
 * import { tensor } from "../mod.ts";
 * console.log(await inverseOrder(tensor([[1, 3, 0, 2]], { dtype: "int32" })).toArray()); // [[2, 0, 3, 1]]
 * ```
 */
export function inverseOrder(order: Tensor): Tensor {
  return argsort(cast(order, "float32"), 1);
}

/**
 * Rows of `x` `[B, N, ...]` at `idx` int32 `[B, M]` → `[B, M, ...]` (also for int32 targets `[B, N]`).
 *
 * @example
 * ```ts
 * import { gatherRows } from "./mim_common.ts";
 * import { tensor } from "../mod.ts";
 * const idx = tensor([[2, 0]], { dtype: "int32" });
 * console.log(await gatherRows(tensor([[[1], [2], [3]]]), idx).toArray()); // [[[3], [1]]]
 * ```
 */
export function gatherRows(x: Tensor, idx: Tensor): Tensor {
  let i = idx;
  for (let d = 2; d < x.ndim; d++) i = expandDims(i, -1);
  return takeAlongAxis(x, i, 1);
}

/**
 * Position embedding of the patch slots `[1, N, D]` and of the CLS slot `[1, 1, D]` (null
 * when the model has none) at the config's grid.
 *
 * @example
 * ```ts
 * import { posEmbedParts } from "./mim_common.ts";
 * import { initVit } from "./vit.ts";
 * import { random } from "../mod.ts";
 * const cfg = { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 0, numHeads: 2 };
 * const pe = posEmbedParts(initVit(random.key(0), cfg), cfg);
 * console.log(pe.patches?.shape, pe.cls?.shape); // [1, 4, 8] [1, 1, 8]
 * ```
 */
export function posEmbedParts(
  params: VitParams,
  config: VitConfig,
): { patches: Tensor | null; cls: Tensor | null } {
  const kind = config.posEmbed ?? "learned";
  const prefix = params.cls_token ? 1 : 0;
  const [h, w] = vitGrid(config);
  let full: Tensor | null = null;
  if (kind === "learned") {
    if (!params.pos_embed) throw new TesseraError("posEmbedParts", "missing pos_embed");
    full = params.pos_embed;
  } else if (kind === "sincos") {
    const wt = params.patch_embed.proj.weight;
    full = sincos2dPosEmbed(config.embedDim, h, w, {
      clsToken: prefix === 1,
      dtype: wt.dtype,
      backend: wt.backend.name,
    });
  }
  if (!full) return { patches: null, cls: null };
  return {
    patches: slice(full, [null, [prefix, null]]),
    cls: prefix ? slice(full, [null, [0, 1]]) : null,
  };
}

/**
 * Prepends the CLS token (plus its position slot) to tokens `[B, T, D]` when the model has one.
 *
 * @example
 * ```ts
 * import { prependCls } from "./mim_common.ts";
 * import { initVit } from "./vit.ts";
 * import { ones, random } from "../mod.ts";
 * const cfg = { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 0, numHeads: 2 };
 * console.log(prependCls(initVit(random.key(0), cfg), cfg, ones([2, 3, 8])).shape); // [2, 4, 8]
 * ```
 */
export function prependCls(params: VitParams, config: VitConfig, x: Tensor): Tensor {
  if (!params.cls_token) return x;
  const [b, , d] = x.shape as [number, number, number];
  const pos = posEmbedParts(params, config).cls;
  const cls = pos ? add(params.cls_token, pos) : params.cls_token;
  return concat([broadcastTo(cls, [b, 1, d]), x], 1);
}

/**
 * Flattens `[B, M, ...]` to `[B·M, ...]`.
 *
 * @example
 * ```ts
 * import { flattenRows } from "./mim_common.ts";
 * import { ones } from "../mod.ts";
 * console.log(flattenRows(ones([2, 3, 4])).shape); // [6, 4]
 * ```
 */
export function flattenRows(x: Tensor): Tensor {
  return reshape(x, [x.shape[0]! * x.shape[1]!, ...x.shape.slice(2)]);
}
