/**
 * The transformer MLP (timm's `Mlp`): `fc1 → GELU (exact erf) → dropout → fc2 → dropout`.
 * @module
 */
import { type DType, gelu, type Tensor } from "../tensor/mod.ts";
import { dropout } from "./dropout.ts";
import { splitKey } from "./row_keys.ts";
import { initFromSpec, type Initializer, type Spec } from "./init.ts";
import { linear, type LinearParams, linearSpec } from "./linear.ts";

/**
 * Parameters of {@link mlp}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initMlp, type MlpParams } from "./mlp.ts";
 * import { random } from "../mod.ts";
 * const p: MlpParams = initMlp(random.key(0), { inFeatures: 4, hiddenFeatures: 16 });
 * assert.deepEqual(p.fc1.weight.shape, [16, 4]);
 * assert.deepEqual(p.fc2.weight.shape, [4, 16]);
 * ```
 */
export interface MlpParams {
  /** First projection `[hidden, in]`. */
  fc1: LinearParams;
  /** Second projection `[out, hidden]`. */
  fc2: LinearParams;
}

/**
 * Configuration of an MLP.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { MlpConfig } from "./mlp.ts";
 * const c: MlpConfig = { inFeatures: 384, hiddenFeatures: 1536 };
 * assert.equal(c.outFeatures ?? c.inFeatures, 384);
 * ```
 */
export interface MlpConfig {
  /** Input features. */
  inFeatures: number;
  /** Hidden features (ViT: 4 × width). */
  hiddenFeatures: number;
  /** Output features (default `inFeatures`). */
  outFeatures?: number;
  /** Linear weight initialiser (default truncated normal 0.02). */
  weightInit?: Initializer;
  /** Initialiser of fc2's weight alone (e.g. BEiT's rescaled init); default `weightInit`. */
  fc2WeightInit?: Initializer;
  /** Linear bias initialiser (default zeros). */
  biasInit?: Initializer;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

/**
 * Spec of an MLP.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mlpSpec } from "./mlp.ts";
 * import { countParams } from "./init.ts";
 * assert.equal(countParams(mlpSpec({ inFeatures: 384, hiddenFeatures: 1536 })), 1181568);
 * ```
 */
export function mlpSpec(config: MlpConfig): Spec<MlpParams> {
  const { inFeatures, hiddenFeatures, weightInit, biasInit, dtype } = config;
  return {
    fc1: linearSpec({ inFeatures, outFeatures: hiddenFeatures, weightInit, biasInit, dtype }),
    fc2: linearSpec({
      inFeatures: hiddenFeatures,
      outFeatures: config.outFeatures ?? inFeatures,
      weightInit: config.fc2WeightInit ?? weightInit,
      biasInit,
      dtype,
    }),
  } as Spec<MlpParams>;
}

/**
 * Initialises an MLP.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initMlp } from "./mlp.ts";
 * import { random } from "../mod.ts";
 * assert.deepEqual(
 *   initMlp(random.key(0), { inFeatures: 2, hiddenFeatures: 8 }).fc1.bias?.shape,
 *   [8],
 * );
 * ```
 */
export function initMlp(key: Tensor, config: MlpConfig): MlpParams {
  return initFromSpec(key, mlpSpec(config)) as MlpParams;
}

/**
 * Options of {@link mlp}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { MlpOptions } from "./mlp.ts";
 * const o: MlpOptions = { dropRate: 0, train: false };
 * assert.equal(o.train, false);
 * ```
 */
export interface MlpOptions {
  /** Dropout after the activation and after fc2 (default 0). */
  dropRate?: number;
  /** Training mode (default false). */
  train?: boolean;
  /** PRNG key, needed when training with `dropRate > 0`. */
  key?: Tensor;
}

/**
 * `fc2(drop(gelu(fc1(x))))` followed by dropout.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initMlp, mlp } from "./mlp.ts";
 * import { ones, random } from "../mod.ts";
 * const p = initMlp(random.key(0), { inFeatures: 4, hiddenFeatures: 8 });
 * assert.deepEqual(mlp(p, ones([2, 5, 4])).shape, [2, 5, 4]);
 * ```
 */
export function mlp(params: MlpParams, x: Tensor, opts: MlpOptions = {}): Tensor {
  const rate = opts.dropRate ?? 0;
  const train = opts.train ?? false;
  const [k1, k2] = train && rate > 0 && opts.key ? splitKey(opts.key, 2) : [];
  const h = dropout(gelu(linear(params.fc1, x)), { rate, train, key: k1 });
  return dropout(linear(params.fc2, h), { rate, train, key: k2 });
}
