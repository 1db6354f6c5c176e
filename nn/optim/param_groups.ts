/**
 * Per-parameter rules keyed on the dotted path: which parameters get weight decay, and
 * BEiT's layer-wise learning-rate decay (methods.md §10).
 * @module
 */
/**
 * Parameter names never decayed by {@link weightDecayMask} (matched on the last path segment).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NO_DECAY_NAMES } from "./param_groups.ts";
 * assert.equal(NO_DECAY_NAMES.includes("pos_embed"), true);
 * ```
 */
export const NO_DECAY_NAMES: readonly string[] = Object.freeze([
  "pos_embed",
  "cls_token",
  "mask_token",
  "dist_token",
  "relative_position_bias_table",
]);

/**
 * BEiT/timm's weight-decay rule: no decay for 1-D tensors (LayerNorm, layer scale, q/v bias),
 * biases (`*.bias`) and the names in `skip` (default {@link NO_DECAY_NAMES}); everything else
 * is decayed. Returns `true` for "decay". Works on tensors and on `ParamSpec`s.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { weightDecayMask } from "./param_groups.ts";
 * import { zeros } from "../../mod.ts";
 * const decay = weightDecayMask();
 * assert.equal(decay("blocks.0.attn.qkv.weight", zeros([3, 1])), true);
 * assert.equal(decay("pos_embed", zeros([1, 5, 1])), false);
 * ```
 */
export function weightDecayMask(
  opts: { skip?: readonly string[] } = {},
): (path: string, param: { readonly shape: readonly number[] }) => boolean {
  const skip = new Set(opts.skip ?? NO_DECAY_NAMES);
  return (path, param) => {
    if (param.shape.length <= 1 || path.endsWith(".bias") || path === "bias") return false;
    return !skip.has(path.slice(path.lastIndexOf(".") + 1));
  };
}

/**
 * BEiT's `get_num_layer_for_vit`: `cls_token`, `mask_token`, `pos_embed` and `patch_embed.*` →
 * 0; `blocks.i.*` → i + 1; everything else (final norm, fc_norm, head, shared `rel_pos_bias`)
 * → numLayers + 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vitLayerId } from "./param_groups.ts";
 * assert.equal(vitLayerId("patch_embed.proj.weight", 12), 0);
 * assert.equal(vitLayerId("blocks.3.mlp.fc1.bias", 12), 4);
 * assert.equal(vitLayerId("head.weight", 12), 13);
 * ```
 */
export function vitLayerId(path: string, numLayers: number): number {
  if (path === "cls_token" || path === "mask_token" || path === "pos_embed") return 0;
  if (path.startsWith("patch_embed")) return 0;
  const m = /^blocks\.(\d+)(\.|$)/.exec(path);
  if (m) return Number(m[1]) + 1;
  return numLayers + 1;
}

/**
 * Layer-wise lr decay as an `lrScale` hook: `decay^(numLayers + 1 − layerId(path))`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { layerDecayScale } from "./param_groups.ts";
 * const scale = layerDecayScale(12, 0.65);
 * assert.equal(scale("pos_embed").toFixed(6), "0.003697");
 * assert.ok(Math.abs(scale("blocks.11.norm1.weight") - 0.65) < 1e-6);
 * assert.equal(scale("head.bias"), 1);
 * ```
 */
export function layerDecayScale(numLayers: number, decay: number): (path: string) => number {
  return (path) => decay ** (numLayers + 1 - vitLayerId(path, numLayers));
}
