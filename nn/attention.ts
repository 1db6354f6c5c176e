/**
 * Multi-head self-attention with timm's layout: a fused `qkv` linear `[3D, D]` (rows ordered
 * q, k, v and, within each, head by head), `proj` `[D, D]`, and the scale `head_dim^-0.5`
 * applied to q before `q·kᵀ`. Optional BEiT-style bias (`q_bias`, `v_bias` learned, k-bias
 * fixed at zero), an additive attention bias (relative positions) and a key-padding mask.
 * @module
 */
import {
  add,
  concat,
  type DType,
  matmul,
  mul,
  permute,
  reshape,
  slice,
  softmax,
  type Tensor,
  TesseraError,
  where,
  zerosLike,
} from "../tensor/mod.ts";
import { dropout } from "./dropout.ts";
import { splitKey } from "./row_keys.ts";
import { initFromSpec, type Initializer, ParamSpec, type Spec, zerosInit } from "./init.ts";
import { linear, type LinearParams, linearSpec } from "./linear.ts";

/**
 * Parameters of {@link attention}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type AttentionParams, initAttention } from "./attention.ts";
 * import { random } from "../mod.ts";
 * const p: AttentionParams = initAttention(random.key(0), { dim: 8, numHeads: 2 });
 * assert.deepEqual(p.qkv.weight.shape, [24, 8]);
 * assert.deepEqual(p.proj.weight.shape, [8, 8]);
 * ```
 */
export interface AttentionParams {
  /** Fused query/key/value projection `[3D, D]` (bias `[3D]` unless BEiT-style or none). */
  qkv: LinearParams;
  /** Output projection `[D, D]`. */
  proj: LinearParams;
  /** BEiT: learned query bias `[D]` (with `v_bias`; the key bias is fixed at zero). */
  q_bias?: Tensor;
  /** BEiT: learned value bias `[D]`. */
  v_bias?: Tensor;
}

/**
 * Configuration of an attention layer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { AttentionConfig } from "./attention.ts";
 * const c: AttentionConfig = { dim: 768, numHeads: 12, qkvBias: "qv" };
 * assert.equal(c.dim / c.numHeads, 64);
 * ```
 */
export interface AttentionConfig {
  /** Model width D (divisible by `numHeads`). */
  dim: number;
  /** Number of heads. */
  numHeads: number;
  /**
   * qkv bias: `"full"` (timm/DINO/MAE: a `[3D]` bias on the fused linear; default), `"qv"`
   * (BEiT: separate `q_bias`, `v_bias`, zero k-bias) or `"none"`.
   */
  qkvBias?: "full" | "qv" | "none";
  /** Linear weight initialiser (default truncated normal 0.02). */
  weightInit?: Initializer;
  /** Initialiser of `proj.weight` alone (BEiT's rescale); default `weightInit`. */
  projWeightInit?: Initializer;
  /** Bias initialiser (default zeros). */
  biasInit?: Initializer;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

function checkHeads(op: string, dim: number, numHeads: number): void {
  if (!Number.isInteger(numHeads) || numHeads < 1 || dim % numHeads !== 0) {
    throw new TesseraError(op, `dim ${dim} must be divisible by numHeads ${numHeads}`);
  }
}

/**
 * Spec of an attention layer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { attentionSpec } from "./attention.ts";
 * import { countParams } from "./init.ts";
 * assert.equal(countParams(attentionSpec({ dim: 384, numHeads: 6 })), 591360);
 * assert.deepEqual(
 *   Object.keys(attentionSpec({ dim: 8, numHeads: 2, qkvBias: "qv" })),
 *   ["qkv", "proj", "q_bias", "v_bias"],
 * );
 * ```
 */
export function attentionSpec(config: AttentionConfig): Spec<AttentionParams> {
  const { dim, numHeads, weightInit, biasInit, dtype } = config;
  checkHeads("attentionSpec", dim, numHeads);
  const mode = config.qkvBias ?? "full";
  if (!["full", "qv", "none"].includes(mode)) {
    throw new TesseraError("attentionSpec", `qkvBias must be "full", "qv" or "none", got ${mode}`);
  }
  const spec: Spec<AttentionParams> = {
    qkv: linearSpec({
      inFeatures: dim,
      outFeatures: 3 * dim,
      bias: mode === "full",
      weightInit,
      biasInit,
      dtype,
    }),
    proj: linearSpec({
      inFeatures: dim,
      outFeatures: dim,
      weightInit: config.projWeightInit ?? weightInit,
      biasInit,
      dtype,
    }),
  };
  if (mode === "qv") {
    spec.q_bias = new ParamSpec([dim], zerosInit, dtype);
    spec.v_bias = new ParamSpec([dim], zerosInit, dtype);
  }
  return spec;
}

/**
 * Initialises an attention layer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initAttention } from "./attention.ts";
 * import { random } from "../mod.ts";
 * assert.deepEqual(initAttention(random.key(0), { dim: 8, numHeads: 2 }).qkv.bias?.shape, [24]);
 * ```
 */
export function initAttention(key: Tensor, config: AttentionConfig): AttentionParams {
  return initFromSpec(key, attentionSpec(config)) as AttentionParams;
}

/**
 * Options of {@link attention}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { AttentionOptions } from "./attention.ts";
 * const o: AttentionOptions = { numHeads: 6 };
 * assert.equal(o.train ?? false, false);
 * ```
 */
export interface AttentionOptions {
  /** Number of heads. */
  numHeads: number;
  /** Added to the logits before softmax; broadcastable to `[B, heads, N, N]`. */
  attnBias?: Tensor;
  /** bool `[B, N]`, true = padding: that key gets no attention (PyTorch's key_padding_mask). */
  keyPaddingMask?: Tensor;
  /** Dropout on the attention probabilities (default 0). */
  attnDrop?: number;
  /** Dropout after `proj` (default 0). */
  projDrop?: number;
  /** Training mode (default false). */
  train?: boolean;
  /** PRNG key, needed when training with a dropout rate > 0. */
  key?: Tensor;
}

/** Fill value for masked logits: the lowest finite float32 (a fully masked row stays finite). */
const MASKED = -3.4028234663852886e38;

/**
 * Multi-head self-attention on `x` `[B, N, D]`, returning `[B, N, D]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { attention, initAttention } from "./attention.ts";
 * import { ones, random, tensor } from "../mod.ts";
 * const p = initAttention(random.key(0), { dim: 8, numHeads: 2 });
 * const mask = tensor([[false, false, true]]); // the third token is padding
 * assert.deepEqual(
 *   attention(p, ones([1, 3, 8]), { numHeads: 2, keyPaddingMask: mask }).shape,
 *   [1, 3, 8],
 * );
 * ```
 */
export function attention(params: AttentionParams, x: Tensor, opts: AttentionOptions): Tensor {
  const { numHeads } = opts;
  if (x.ndim !== 3) {
    throw new TesseraError("attention", `x must be [B, N, D], got [${x.shape.join(", ")}]`);
  }
  const [B, N, D] = x.shape as [number, number, number];
  checkHeads("attention", D, numHeads);
  const hd = D / numHeads;
  const train = opts.train ?? false;
  const attnDrop = opts.attnDrop ?? 0, projDrop = opts.projDrop ?? 0;
  const [k1, k2] = train && (attnDrop > 0 || projDrop > 0) && opts.key ? splitKey(opts.key, 2) : [];

  let qkv: Tensor;
  if (params.q_bias || params.v_bias) {
    if (!params.q_bias || !params.v_bias) {
      throw new TesseraError("attention", "q_bias and v_bias must be given together");
    }
    const bias = concat([params.q_bias, zerosLike(params.q_bias), params.v_bias]);
    qkv = linear({ weight: params.qkv.weight, bias }, x);
  } else {
    qkv = linear(params.qkv, x);
  }
  // [B, N, 3, H, hd] → [3, B, H, N, hd]
  const heads = permute(reshape(qkv, [B, N, 3, numHeads, hd]), [2, 0, 3, 1, 4]);
  const q = mul(slice(heads, [0]), hd ** -0.5);
  const k = slice(heads, [1]);
  const v = slice(heads, [2]);
  let logits = matmul(q, k, { transB: true }); // [B, H, N, N]
  if (opts.attnBias) logits = add(logits, opts.attnBias);
  if (opts.keyPaddingMask) {
    const m = opts.keyPaddingMask;
    if (m.dtype !== "bool" || m.ndim !== 2 || m.shape[0] !== B || m.shape[1] !== N) {
      throw new TesseraError(
        "attention",
        `keyPaddingMask must be bool [${B}, ${N}], got ${m.dtype} [${m.shape.join(", ")}]`,
      );
    }
    logits = where(reshape(m, [B, 1, 1, N]), MASKED, logits);
  }
  const probs = dropout(softmax(logits, -1), { rate: attnDrop, train, key: k1 });
  const out = reshape(permute(matmul(probs, v), [0, 2, 1, 3]), [B, N, D]);
  return dropout(linear(params.proj, out), { rate: projDrop, train, key: k2 });
}
