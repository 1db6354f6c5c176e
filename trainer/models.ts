/**
 * `--model` and the shape flags (`--patch`, `--dim`, `--depth`, `--heads`) of the training CLI,
 * over the one preset registry ({@link VIT_PRESETS}, models/vit_presets.ts): the presets made
 * for 28×28 greyscale images, and `--init` errors turned into {@link UsageError}s.
 * @module
 */
import type { VitConfig, VitParams } from "../models/vit.ts";
import { describeVitPreset, VIT_PRESETS, vitPreset, vitPresetsFor } from "../models/vit_presets.ts";
import { loadEncoder, type PretrainedEncoder, takeEncoder } from "../models/encoder_checkpoint.ts";
import { dispose } from "../tensor/mod.ts";
import { errorDetail, UsageError } from "./flags.ts";
import type { VitPyramid } from "../models/dense/vit_adapter.ts";

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
  /** Patch embedding (`--stem`): "patch" (default) or a conv stem ("conv", power-of-2 patch). */
  stem?: "patch" | "conv" | null;
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
  const stem = o.stem ?? p.stem ?? "patch";
  if (stem === "conv" && !(patch >= 2 && Number.isInteger(Math.log2(patch)))) {
    throw new UsageError(
      `--stem conv needs a power-of-2 --patch (one stride-2 conv per halving), got ${patch}`,
    );
  }
  return {
    ...(stem === "conv" ? { stem } : {}),
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

/** The settings that fix a run's ViT: `--model`, the shape overrides, `--drop-path`, `--cls-token`. */
export interface VitOptions extends ModelOverrides {
  /** `--model`. */
  model: string;
  /** `--drop-path`. */
  dropPath: number;
  /** `--cls-token`. */
  clsToken: boolean;
}

/**
 * The ViT of a run's settings ({@link cliVitConfig} of `--model` with the overrides, stochastic
 * depth and `--cls-token`), for `imgSize`×`imgSize` images with `inChans` channels and
 * `numClasses` classes (the preset's where not given).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vitOf } from "./models.ts";
 * const o = { model: "vit-tiny-fmnist", depth: 2, dropPath: 0.1, clsToken: true };
 * const c = vitOf(o, { numClasses: 0 });
 * assert.deepEqual([c.depth, c.numClasses, c.classToken, c.dropPathRate], [2, 0, true, 0.1]);
 * ```
 */
export function vitOf(
  o: VitOptions,
  opts: { imgSize?: number; inChans?: number; numClasses?: number } = {},
): VitConfig {
  return { ...cliVitConfig(o.model, o, { dropPath: o.dropPath, ...opts }), classToken: o.clsToken };
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
    throw new UsageError(`--init ${errorDetail(e)}`);
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
  stem: "patch" | "conv";
} {
  return {
    patch: c.patchSize,
    dim: c.embedDim,
    depth: c.depth,
    heads: c.numHeads,
    clsToken: c.classToken ?? true,
    stem: c.stem ?? "patch",
  };
}

/**
 * `--init` of a training run: for a fresh run (`resuming` false) with `o.init` set, the encoder
 * of that checkpoint ({@link loadInitEncoder}), its shape written into `o`
 * ({@link encoderShapeOptions}; the run's options are recorded, so `--resume` rebuilds the same
 * model); null otherwise (a resumed run keeps its own weights).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initEncoderOf } from "./models.ts";
 * assert.equal(await initEncoderOf({ init: null }, false), null);
 * assert.equal(await initEncoderOf({ init: "/no/such/run" }, true), null);
 * await assert.rejects(initEncoderOf({ init: "/no/such/run" }, false), /^UsageError: --init /);
 * ```
 */
export async function initEncoderOf(
  o: { init: string | null },
  resuming: boolean,
): Promise<PretrainedEncoder | null> {
  if (o.init === null || resuming) return null;
  const pre = await loadInitEncoder(o.init);
  Object.assign(o, encoderShapeOptions(pre.config));
  return pre;
}

/**
 * `finetune --init`: the fresh classifier `params` take over the encoder of `pre` (see
 * {@link takeEncoder}); a shape mismatch is a {@link UsageError} naming `--init`.
 */
export function takeInitEncoder(params: VitParams, pre: PretrainedEncoder): VitParams {
  try {
    return takeEncoder(params, pre);
  } catch (e) {
    throw new UsageError(`--init ${errorDetail(e)}`);
  }
}

/**
 * `detect --init` / `segment --init`: a dense model's fresh `params` whose `backbone` takes over
 * the encoder of `pre` ({@link takeEncoder}); on a shape mismatch `params` (and `pre`) are
 * freed and a {@link UsageError} names `--init`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dispose, memoryStats, random } from "../tensor/mod.ts";
 * import { initVit } from "../models/vit.ts";
 * import { vitPreset } from "../models/vit_presets.ts";
 * import { takeInitBackbone } from "./models.ts";
 * const small = { ...vitPreset("vit-tiny-fmnist"), embedDim: 8, depth: 1, numHeads: 2 };
 * const before = memoryStats().cpu?.tensors ?? 0;
 * const [k0, k1] = [random.key(0), random.key(1)];
 * const pre = { params: initVit(k1, small), config: small, path: "x", method: "finetune", step: 1 };
 * const fresh = { backbone: initVit(k0, { ...small, embedDim: 16 }) };
 * assert.throws(() => takeInitBackbone(fresh, pre), /^UsageError: --init x: the encoder does not fit/);
 * dispose([k0, k1]);
 * assert.equal(memoryStats().cpu?.tensors ?? 0, before); // the fresh model and `pre` are freed
 * ```
 */
export function takeInitBackbone<P extends { backbone: VitParams }>(
  params: P,
  pre: PretrainedEncoder,
): P {
  try {
    return { ...params, backbone: takeEncoder(params.backbone, pre) };
  } catch (e) {
    dispose(params);
    throw new UsageError(`--init ${errorDetail(e)}`);
  }
}

/**
 * What a run records of its `--init` encoder `pre`: the `resolved` config entry
 * (`init: {path, method, step}`) and the plan line `<label>: encoder from …`; both empty
 * without one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initRecord } from "./models.ts";
 * const pre = { path: "runs/p/ckpt.safetensors", method: "dino", step: 9 } as Parameters<typeof initRecord>[1];
 * const r = initRecord("detect", pre);
 * assert.deepEqual(r.resolved, { init: { path: "runs/p/ckpt.safetensors", method: "dino", step: 9 } });
 * assert.equal(r.line, "detect: encoder from runs/p/ckpt.safetensors (dino, step 9)\n");
 * assert.deepEqual(initRecord("detect", null), { resolved: {}, line: "" });
 * ```
 */
export function initRecord(label: string, pre: PretrainedEncoder | null): {
  resolved: { init?: { path: string; method: string; step: number } };
  line: string;
} {
  if (!pre) return { resolved: {}, line: "" };
  return {
    resolved: { init: { path: pre.path, method: pre.method, step: pre.step } },
    line: `${label}: encoder from ${pre.path} (${pre.method}, step ${pre.step})\n`,
  };
}

/**
 * The settings of a dense command's encoder: {@link VitOptions} and `--pyramid`, the adapter's
 * branch (models/dense/vit_adapter.ts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { DenseVitOptions } from "./models.ts";
 * const o: DenseVitOptions = { model: "vit-tiny-fmnist", dropPath: 0, clsToken: false, pyramid: "xcit8", patch: 8 };
 * assert.equal(o.pyramid, "xcit8");
 * ```
 */
export interface DenseVitOptions extends VitOptions {
  /** `--pyramid` (default "beit"; "xcit8" needs patch 8). */
  pyramid?: VitPyramid;
}

/**
 * The ViT of a dense run ({@link vitOf}) and its adapter branch, checked against the patch size:
 * `xcit8` is XCiT's branch for patch-8 encoders.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denseVitOf } from "./models.ts";
 * const o = { model: "vit-tiny-fmnist", dropPath: 0, clsToken: false };
 * assert.equal(denseVitOf(o, { imgSize: 56 }).pyramid, "beit");
 * assert.throws(() => denseVitOf({ ...o, pyramid: "xcit8" }, { imgSize: 56 }), /--pyramid xcit8 needs --patch 8, got 7/);
 * ```
 */
export function denseVitOf(
  o: DenseVitOptions,
  opts: { imgSize?: number; inChans?: number; numClasses?: number } = {},
): { vit: VitConfig; pyramid: VitPyramid } {
  const vit = vitOf(o, opts), pyramid = o.pyramid ?? "beit";
  if (pyramid === "xcit8" && vit.patchSize !== 8) {
    throw new UsageError(`--pyramid xcit8 needs --patch 8, got ${vit.patchSize}`);
  }
  return { vit, pyramid };
}
