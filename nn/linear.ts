/**
 * Fully connected layer with PyTorch's layout: `weight` is `[out, in]`, `bias` is `[out]`,
 * and `linear(p, x) = x · weightᵀ + bias` over the last axis of `x`.
 * @module
 */
import { add, type DType, matmul, reshape, type Tensor, TesseraError } from "../tensor/mod.ts";
import {
  initFromSpec,
  type Initializer,
  ParamSpec,
  type Spec,
  truncNormalInit,
  zerosInit,
} from "./init.ts";

/**
 * Parameters of {@link linear} (timm/PyTorch names).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { LinearParams } from "./linear.ts";
 * import { ones } from "../mod.ts";
 * const p: LinearParams = { weight: ones([4, 3]), bias: ones([4]) };
 * assert.deepEqual(p.weight.shape, [4, 3]);
 * ```
 */
export interface LinearParams {
  /** `[outFeatures, inFeatures]`. */
  weight: Tensor;
  /** `[outFeatures]`, absent when the layer has no bias. */
  bias?: Tensor;
}

/**
 * Configuration of a linear layer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { LinearConfig } from "./linear.ts";
 * const c: LinearConfig = { inFeatures: 384, outFeatures: 1152 };
 * assert.equal(c.bias ?? true, true);
 * ```
 */
export interface LinearConfig {
  /** Input features. */
  inFeatures: number;
  /** Output features. */
  outFeatures: number;
  /** Whether to have a bias (default true). */
  bias?: boolean;
  /** Weight initialiser (default truncated normal, std 0.02 — timm's ViT init). */
  weightInit?: Initializer;
  /** Bias initialiser (default zeros). */
  biasInit?: Initializer;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

function checkDim(op: string, name: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 1) {
    throw new TesseraError(op, `${name} must be a positive integer, got ${String(v)}`);
  }
  return v as number;
}

/**
 * The parameter spec (shapes + initialisers, nothing allocated) of a linear layer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linearSpec } from "./linear.ts";
 * import { countParams } from "./init.ts";
 * assert.equal(countParams(linearSpec({ inFeatures: 384, outFeatures: 1000 })), 385000);
 * ```
 */
export function linearSpec(config: LinearConfig): Spec<LinearParams> {
  const inF = checkDim("linearSpec", "inFeatures", config.inFeatures);
  const outF = checkDim("linearSpec", "outFeatures", config.outFeatures);
  const dtype = config.dtype ?? "float32";
  const spec: Spec<LinearParams> = {
    weight: new ParamSpec([outF, inF], config.weightInit ?? truncNormalInit(0.02), dtype),
  };
  if (config.bias ?? true) spec.bias = new ParamSpec([outF], config.biasInit ?? zerosInit, dtype);
  return spec;
}

/**
 * Initialises a linear layer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initLinear } from "./linear.ts";
 * import { random } from "../mod.ts";
 * const p = initLinear(random.key(0), { inFeatures: 3, outFeatures: 4 });
 * assert.deepEqual(p.weight.shape, [4, 3]);
 * assert.deepEqual(p.bias?.shape, [4]);
 * ```
 */
export function initLinear(key: Tensor, config: LinearConfig): LinearParams {
  return initFromSpec(key, linearSpec(config)) as LinearParams;
}

/**
 * `x · weightᵀ + bias` over the last axis of `x` (any leading dims). Leading dims are
 * flattened first so the weight gradient is one matrix product.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linear } from "./linear.ts";
 * import { tensor } from "../mod.ts";
 * const p = { weight: tensor([[1, 0], [0, 2], [1, 1]]), bias: tensor([0, 0, 1]) };
 * assert.deepEqual(await linear(p, tensor([[3, 4]])).toArray(), [[3, 8, 8]]);
 * ```
 */
export function linear(params: LinearParams, x: Tensor): Tensor {
  const w = params.weight;
  const inF = w.shape[1]!;
  if (w.ndim !== 2 || x.ndim < 1 || x.shape[x.ndim - 1] !== inF) {
    throw new TesseraError(
      "linear",
      `input [${x.shape.join(", ")}] does not end in the weight's in-features (weight [${
        w.shape.join(", ")
      }])`,
    );
  }
  const lead = x.shape.slice(0, -1);
  const y = matmul(x.ndim === 2 ? x : reshape(x, [-1, inF]), w, { transB: true });
  const yb = params.bias ? add(y, params.bias) : y;
  return x.ndim === 2 ? yb : reshape(yb, [...lead, w.shape[0]!]);
}
