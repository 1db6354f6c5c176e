/**
 * Named ViT configurations (timm's names and numbers) and a helper to derive variants.
 * @module
 */
import { TesseraError } from "../tensor/mod.ts";
import type { VitConfig } from "./vit.ts";

const base = { imgSize: 224, patchSize: 16, inChans: 3, numClasses: 1000 } as const;

/**
 * timm's standard ViTs at 224² with a 1000-class head (parameter counts in brackets, equal to
 * timm's): ViT-Ti/16 [5,717,416], ViT-S/16 [22,050,664], ViT-B/16 [86,567,656].
 *
 * @example
 * ```ts
 * import { VIT_PRESETS } from "./vit_presets.ts";
 * console.log(VIT_PRESETS.vit_small_patch16_224.embedDim); // 384
 * ```
 */
export const VIT_PRESETS: Readonly<Record<string, Readonly<VitConfig>>> = Object.freeze({
  vit_tiny_patch16_224: { ...base, embedDim: 192, depth: 12, numHeads: 3 },
  vit_small_patch16_224: { ...base, embedDim: 384, depth: 12, numHeads: 6 },
  vit_base_patch16_224: { ...base, embedDim: 768, depth: 12, numHeads: 12 },
});

/**
 * A preset with some fields replaced, e.g. BEiT-style fine-tuning of ViT-S on 10 classes.
 *
 * @example
 * ```ts
 * import { vitPreset } from "./vit_presets.ts";
 * const c = vitPreset("vit_small_patch16_224", { numClasses: 10, globalPool: "avg", init: "beit", headInitScale: 0.001 });
 * console.log(c.numClasses, c.depth); // 10 12
 * ```
 */
export function vitPreset(name: string, overrides: Partial<VitConfig> = {}): VitConfig {
  const p = VIT_PRESETS[name];
  if (!p) {
    const known = Object.keys(VIT_PRESETS).join(", ");
    throw new TesseraError("vitPreset", `unknown preset "${name}"; known: ${known}`);
  }
  return { ...p, ...overrides };
}
