/**
 * Model presets of the training CLI (`--model`), sized for 28×28 greyscale images, and the
 * flags that override them (`--patch`, `--dim`, `--depth`, `--heads`). Every preset is a ViT
 * with the BEiT fine-tuning head (methods.md §10): no CLS token, mean-pooled patch tokens →
 * `fc_norm` → linear head. The models are trained from scratch, so they use timm's init
 * (trunc-normal 0.02, head at full scale): on the 4,000-image sample it learned faster than
 * BEiT's fine-tuning init (head ×0.001, residual rescale), 67% vs 63% test top-1 after 3
 * epochs. The ×0.001 head belongs to fine-tuning a pre-trained encoder.
 * @module
 */
import type { VitConfig } from "../models/vit.ts";

import { UsageError } from "./args.ts";

/**
 * A preset's shape.
 *
 * @example
 * ```ts
 * import { CLI_MODELS } from "./models.ts";
 * console.log(CLI_MODELS["vit-tiny-fmnist"]!.dim); // 64
 * ```
 */
export interface ModelPreset {
  /** One-line description for `--help`. */
  summary: string;
  /** Patch side. */
  patch: number;
  /** Width. */
  dim: number;
  /** Blocks. */
  depth: number;
  /** Attention heads. */
  heads: number;
}

/** The presets `--model` accepts. */
export const CLI_MODELS: Readonly<Record<string, ModelPreset>> = Object.freeze({
  "vit-tiny-fmnist": {
    summary: "patch 7, dim 64, depth 4, 4 heads",
    patch: 7,
    dim: 64,
    depth: 4,
    heads: 4,
  },
  "vit-small-fmnist": {
    summary: "patch 7, dim 128, depth 6, 4 heads",
    patch: 7,
    dim: 128,
    depth: 6,
    heads: 4,
  },
});

/** Shape overrides given on the command line. */
export interface ModelOverrides {
  /** Patch side. */
  patch?: number | null;
  /** Width. */
  dim?: number | null;
  /** Blocks. */
  depth?: number | null;
  /** Heads. */
  heads?: number | null;
}

/**
 * The ViT config of a preset with overrides, for `imgSize`×`imgSize` images with `inChans`
 * channels and `numClasses` classes.
 *
 * @example
 * ```ts
 * import { cliVitConfig } from "./models.ts";
 * const c = cliVitConfig("vit-tiny-fmnist", { depth: 2 }, { dropPath: 0.1 });
 * console.log(c.depth, c.embedDim, c.globalPool); // 2 64 "avg"
 * ```
 */
export function cliVitConfig(
  name: string,
  o: ModelOverrides,
  opts: { dropPath: number; imgSize?: number; inChans?: number; numClasses?: number },
): VitConfig {
  const p = CLI_MODELS[name];
  if (!p) {
    throw new UsageError(
      `--model must be one of ${Object.keys(CLI_MODELS).join(", ")}, got "${name}"`,
    );
  }
  const patch = o.patch ?? p.patch, dim = o.dim ?? p.dim;
  const depth = o.depth ?? p.depth, heads = o.heads ?? p.heads;
  const img = opts.imgSize ?? 28;
  if (img % patch !== 0) {
    throw new UsageError(`--patch ${patch} does not divide the image size ${img}`);
  }
  if (dim % heads !== 0) {
    throw new UsageError(`--dim ${dim} is not divisible by --heads ${heads}`);
  }
  return {
    imgSize: img,
    patchSize: patch,
    inChans: opts.inChans ?? 1,
    numClasses: opts.numClasses ?? 10,
    embedDim: dim,
    depth,
    numHeads: heads,
    classToken: false,
    globalPool: "avg",
    init: "timm",
    headInitScale: 1,
    dropPathRate: opts.dropPath,
  };
}
