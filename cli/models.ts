/**
 * `--model` and the shape flags (`--patch`, `--dim`, `--depth`, `--heads`) of the training CLI,
 * over the one preset registry ({@link VIT_PRESETS}, models/vit_presets.ts): the presets made
 * for 28×28 greyscale images, and `--init` errors turned into {@link UsageError}s.
 * @module
 */
import type { VitConfig, VitParams } from "../models/vit.ts";
import { describeVitPreset, VIT_PRESETS, vitPreset, vitPresetsFor } from "../models/vit_presets.ts";
import { loadEncoder, type PretrainedEncoder, takeEncoder } from "../models/encoder_checkpoint.ts";
import { UsageError } from "../trainer/flags.ts";

/**
 * A preset's shape as `--help` and the shape checks see it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CLI_MODELS } from "./models.ts";
 * assert.equal(CLI_MODELS["vit-tiny-fmnist"]!.dim, 64);
 * assert.equal(CLI_MODELS["vit-tiny-fmnist"]!.summary, "patch 7, dim 64, depth 4, 4 heads");
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

/** The presets `--model` accepts: those of the registry made for 28×28 greyscale images. */
export const CLI_MODELS: Readonly<Record<string, ModelPreset>> = Object.freeze(
  Object.fromEntries(
    vitPresetsFor(28, 1).map((k) => {
      const c = VIT_PRESETS[k];
      return [k, {
        summary: describeVitPreset(k),
        patch: c.patchSize,
        dim: c.embedDim,
        depth: c.depth,
        heads: c.numHeads,
      }];
    }),
  ),
);

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
 * import assert from "node:assert/strict";
 * import { cliVitConfig } from "./models.ts";
 * const c = cliVitConfig("vit-tiny-fmnist", { depth: 2 }, { dropPath: 0.1 });
 * assert.deepEqual([c.depth, c.embedDim, c.globalPool, c.dropPathRate], [2, 64, "avg", 0.1]);
 * ```
 */
export function cliVitConfig(
  name: string,
  o: ModelOverrides,
  opts: { dropPath: number; imgSize?: number; inChans?: number; numClasses?: number },
): VitConfig {
  if (!CLI_MODELS[name]) {
    throw new UsageError(
      `--model must be one of ${Object.keys(CLI_MODELS).join(", ")}, got "${name}"`,
    );
  }
  const p = vitPreset(name);
  const patch = o.patch ?? p.patchSize, dim = o.dim ?? p.embedDim;
  const depth = o.depth ?? p.depth, heads = o.heads ?? p.numHeads;
  const img = opts.imgSize ?? (p.imgSize as number);
  if (img % patch !== 0) {
    throw new UsageError(`--patch ${patch} does not divide the image size ${img}`);
  }
  if (dim % heads !== 0) {
    throw new UsageError(`--dim ${dim} is not divisible by --heads ${heads}`);
  }
  return {
    imgSize: img,
    patchSize: patch,
    inChans: opts.inChans ?? p.inChans,
    numClasses: opts.numClasses ?? p.numClasses,
    embedDim: dim,
    depth,
    numHeads: heads,
    classToken: p.classToken,
    globalPool: p.globalPool,
    init: p.init,
    headInitScale: p.headInitScale,
    dropPathRate: opts.dropPath,
  };
}

/** The message of a library error without its op prefix (`loadEncoder: x` → `x`). */
function detail(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/^\w+: /, "");
}

/**
 * `--init PATH`: the encoder of a pretrain or finetune checkpoint; problems are
 * {@link UsageError}s naming `--init` and the path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadInitEncoder } from "./models.ts";
 * await assert.rejects(loadInitEncoder("/no/such/run"), /^UsageError: --init \/no\/such\/run: no such file/);
 * ```
 */
export async function loadInitEncoder(path: string): Promise<PretrainedEncoder> {
  try {
    return await loadEncoder(path);
  } catch (e) {
    throw new UsageError(`--init ${detail(e)}`);
  }
}

/**
 * The model-shape options an `--init` encoder sets (recorded in the run's options, so
 * `--resume` rebuilds the same model).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encoderShapeOptions } from "./models.ts";
 * import { vitPreset } from "../models/vit_presets.ts";
 * const o = encoderShapeOptions(vitPreset("vit-tiny-fmnist"));
 * assert.deepEqual([o.patch, o.dim, o.depth, o.heads], [7, 64, 4, 4]);
 * ```
 */
export function encoderShapeOptions(c: VitConfig): {
  patch: number;
  dim: number;
  depth: number;
  heads: number;
  clsToken: boolean;
} {
  return {
    patch: c.patchSize,
    dim: c.embedDim,
    depth: c.depth,
    heads: c.numHeads,
    clsToken: c.classToken ?? true,
  };
}

/**
 * `finetune --init`: the fresh classifier `params` take over the encoder of `pre` (see
 * {@link takeEncoder}); a shape mismatch is a {@link UsageError} naming `--init`.
 */
export function takeInitEncoder(params: VitParams, pre: PretrainedEncoder): VitParams {
  try {
    return takeEncoder(params, pre);
  } catch (e) {
    throw new UsageError(`--init ${detail(e)}`);
  }
}
