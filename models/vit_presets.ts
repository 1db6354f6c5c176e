/**
 * The one registry of named ViT configurations: timm's standard ViTs (timm's names and
 * numbers) and the small models of the training CLI (`train.ts --model`), plus helpers to derive
 * variants and to list the presets that fit an input.
 * @module
 */
import { TesseraError } from "../tensor/mod.ts";
import type { VitConfig } from "./vit.ts";

const base = { imgSize: 224, patchSize: 16, inChans: 3, numClasses: 1000 } as const;
const fmnist = { imgSize: 28, patchSize: 7, inChans: 1, numClasses: 10 } as const;
const fmnistHead = {
  classToken: false,
  globalPool: "avg",
  init: "timm",
  headInitScale: 1,
} as const;

/**
 * timm's standard ViTs at 224² with a 1000-class head (parameter counts in brackets, equal to
 * timm's): ViT-Ti/16 [5,717,416], ViT-S/16 [22,050,664], ViT-B/16 [86,567,656].
 *
 * The `-fmnist` presets are the training CLI's models for 28×28 greyscale images (10 classes),
 * trained from scratch: the BEiT fine-tuning head (no CLS token, mean-pooled patch tokens →
 * `fc_norm` → linear head) with timm's init (trunc-normal 0.02, head at full scale). On the
 * 4,000-image sample that learned faster than BEiT's fine-tuning init (head ×0.001, residual
 * rescale), 67% vs 63% test top-1 after 3 epochs; the ×0.001 head belongs to fine-tuning a
 * pre-trained encoder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VIT_PRESETS } from "./vit_presets.ts";
 * assert.equal(VIT_PRESETS.vit_small_patch16_224.embedDim, 384);
 * assert.equal(VIT_PRESETS["vit-tiny-fmnist"].patchSize, 7);
 * ```
 */
export const VIT_PRESETS: Readonly<Record<VitPresetName, Readonly<VitConfig>>> = Object.freeze({
  vit_tiny_patch16_224: { ...base, embedDim: 192, depth: 12, numHeads: 3 },
  vit_small_patch16_224: { ...base, embedDim: 384, depth: 12, numHeads: 6 },
  vit_base_patch16_224: { ...base, embedDim: 768, depth: 12, numHeads: 12 },
  "vit-tiny-fmnist": { ...fmnist, embedDim: 64, depth: 4, numHeads: 4, ...fmnistHead },
  "vit-small-fmnist": { ...fmnist, embedDim: 128, depth: 6, numHeads: 4, ...fmnistHead },
});

/**
 * The name of a built-in preset (a key of {@link VIT_PRESETS}); `vitPreset` also takes any string
 * and names the known presets when it is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VIT_PRESETS, type VitPresetName } from "./vit_presets.ts";
 * const name: VitPresetName = "vit-tiny-fmnist";
 * assert.equal(VIT_PRESETS[name].embedDim, 64);
 * ```
 */
export type VitPresetName =
  | "vit_tiny_patch16_224"
  | "vit_small_patch16_224"
  | "vit_base_patch16_224"
  | "vit-tiny-fmnist"
  | "vit-small-fmnist";

/**
 * A preset with some fields replaced, e.g. BEiT-style fine-tuning of ViT-S on 10 classes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vitPreset } from "./vit_presets.ts";
 * const c = vitPreset("vit_small_patch16_224", { numClasses: 10, globalPool: "avg", init: "beit", headInitScale: 0.001 });
 * assert.equal(c.numClasses, 10);
 * assert.equal(c.depth, 12);
 * ```
 */
export function vitPreset(name: string, overrides: Partial<VitConfig> = {}): VitConfig {
  const p = (VIT_PRESETS as Readonly<Record<string, Readonly<VitConfig> | undefined>>)[name];
  if (!p) {
    const known = Object.keys(VIT_PRESETS).join(", ");
    throw new TesseraError("vitPreset", `unknown preset "${name}"; known: ${known}`);
  }
  return { ...p, ...overrides };
}

/**
 * The names of the presets made for `imgSize`² images with `inChans` channels (the models a
 * command on that data can offer), in registry order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vitPresetsFor } from "./vit_presets.ts";
 * assert.deepEqual(vitPresetsFor(28, 1), ["vit-tiny-fmnist", "vit-small-fmnist"]);
 * ```
 */
export function vitPresetsFor(imgSize: number, inChans: number): VitPresetName[] {
  return (Object.keys(VIT_PRESETS) as VitPresetName[])
    .filter((k) => VIT_PRESETS[k].imgSize === imgSize && VIT_PRESETS[k].inChans === inChans);
}

/**
 * A preset's shape in one line (`patch 7, dim 64, depth 4, 4 heads`), for help texts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeVitPreset } from "./vit_presets.ts";
 * assert.equal(describeVitPreset("vit-small-fmnist"), "patch 7, dim 128, depth 6, 4 heads");
 * ```
 */
export function describeVitPreset(name: string): string {
  const c = vitPreset(name);
  return `patch ${c.patchSize}, dim ${c.embedDim}, depth ${c.depth}, ${c.numHeads} heads`;
}
