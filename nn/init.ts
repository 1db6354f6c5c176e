/**
 * Parameter initialisers and parameter *specs*: a spec is a pytree whose leaves are
 * {@link ParamSpec}s (shape, dtype and an initialiser), so a model's parameters can be counted,
 * listed and checked against a checkpoint without allocating them, and materialised with
 * {@link initFromSpec} when needed. Every layer's `initX(key, config)` is
 * `initFromSpec(key, xSpec(config))`.
 * @module
 */
import {
  type DType,
  full,
  mul,
  random,
  scope,
  type Shape,
  Tensor,
  TesseraError,
} from "../tensor/mod.ts";

/**
 * Draws a tensor of `shape` and `dtype` from `key` (a PRNG key; initialisers that ignore it,
 * like {@link zerosInit}, may be given any key).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Initializer, truncNormalInit } from "./init.ts";
 * import { random } from "../mod.ts";
 * const init: Initializer = truncNormalInit(0.02);
 * assert.deepEqual(init(random.key(0), [3, 4], "float32").shape, [3, 4]);
 * ```
 */
export type Initializer = (key: Tensor, shape: Shape, dtype: DType) => Tensor;

function floatDType(op: string, dtype: DType): "float32" | "float64" {
  if (dtype !== "float32" && dtype !== "float64") {
    throw new TesseraError(op, `random initialisers need a float dtype, got ${dtype}`);
  }
  return dtype;
}

/**
 * Normal(0, std²) truncated to `[a, b]` in **absolute** units, like timm's
 * `trunc_normal_(t, std=std, a=a, b=b)` (defaults a = −2, b = 2, so for std 0.02 it is
 * effectively untruncated). BEiT's pre-training wrapper truncates at ±std: pass
 * `{ a: -std, b: std }`. Uses `random.truncatedNormal`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { truncNormalInit } from "./init.ts";
 * import { max, abs, random } from "../mod.ts";
 * const w = truncNormalInit(0.02, { a: -0.02, b: 0.02 })(random.key(1), [1000], "float32");
 * assert.equal((await max(abs(w)).item()) <= 0.02, true);
 * ```
 */
export function truncNormalInit(std = 0.02, opts: { a?: number; b?: number } = {}): Initializer {
  const a = opts.a ?? -2, b = opts.b ?? 2;
  if (!(std > 0) || !(a < b)) {
    throw new TesseraError("truncNormalInit", `needs std > 0 and a < b, got ${std}, ${a}, ${b}`);
  }
  return (key, shape, dtype) =>
    scope(() =>
      mul(
        random.truncatedNormal(key, a / std, b / std, shape, {
          dtype: floatDType("truncNormalInit", dtype),
        }),
        std,
      )
    );
}

/**
 * Normal(0, std²), e.g. timm's CLS-token init N(0, 1e-6²) or MAE's N(0, 0.02²).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalInit } from "./init.ts";
 * import { random } from "../mod.ts";
 * assert.deepEqual(normalInit(1e-6)(random.key(0), [1, 1, 8], "float32").shape, [1, 1, 8]);
 * ```
 */
export function normalInit(std: number): Initializer {
  return (key, shape, dtype) =>
    scope(() => mul(random.normal(key, shape, { dtype: floatDType("normalInit", dtype) }), std));
}

/**
 * Uniform on `[-bound, bound)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { uniformInit } from "./init.ts";
 * import { random } from "../mod.ts";
 * assert.deepEqual(uniformInit(0.1)(random.key(0), [2], "float32").shape, [2]);
 * ```
 */
export function uniformInit(bound: number): Initializer {
  return (key, shape, dtype) =>
    random.uniform(key, shape, {
      minval: -bound,
      maxval: bound,
      dtype: floatDType("uniformInit", dtype),
    });
}

/** `[fan_out, fan_in]` of a weight viewed as a matrix `[shape[0], prod(shape[1:])]`. */
function fans(shape: Shape): [number, number] {
  if (shape.length < 2) {
    throw new TesseraError("init", `fan-based init needs rank >= 2, got [${shape.join(", ")}]`);
  }
  return [shape[0]!, shape.slice(1).reduce((p, q) => p * q, 1)];
}

/**
 * Xavier/Glorot uniform: U(±gain·√(6 / (fan_in + fan_out))) with the weight viewed as the
 * matrix `[shape[0], prod(shape[1:])]` — PyTorch's rule for a Linear `[out, in]`, and MAE's for
 * the patch-embedding conv (`xavier_uniform_(w.view([w.shape[0], -1]))`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { xavierUniformInit } from "./init.ts";
 * import { max, abs, random } from "../mod.ts";
 * const w = xavierUniformInit()(random.key(0), [64, 32], "float32");
 * assert.equal((await max(abs(w)).item()) <= Math.sqrt(6 / 96), true);
 * ```
 */
export function xavierUniformInit(gain = 1): Initializer {
  return (key, shape, dtype) => {
    const [out, inn] = fans(shape);
    return uniformInit(gain * Math.sqrt(6 / (inn + out)))(key, shape, dtype);
  };
}

/**
 * PyTorch's default Linear/Conv init (`kaiming_uniform_(a=√5)` for weights, U(±1/√fan_in)
 * for biases): U(±1/√fan_in), with `fanIn` given explicitly (for a bias, the weight's fan-in).
 * timm leaves the patch-embedding conv at this default.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { torchDefaultInit } from "./init.ts";
 * import { random } from "../mod.ts";
 * assert.deepEqual(
 *   torchDefaultInit(48)(random.key(0), [8, 3, 4, 4], "float32").shape,
 *   [8, 3, 4, 4],
 * );
 * ```
 */
export function torchDefaultInit(fanIn: number): Initializer {
  return uniformInit(1 / Math.sqrt(fanIn));
}

/**
 * A constant fill (zeros, ones, layer-scale γ, …).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { constantInit } from "./init.ts";
 * import { random } from "../mod.ts";
 * assert.deepEqual(await constantInit(0.1)(random.key(0), [2], "float32").toArray(), [Math.fround(0.1), Math.fround(0.1)]);
 * ```
 */
export function constantInit(value: number): Initializer {
  return (_key, shape, dtype) => full(shape, value, { dtype });
}

/**
 * Zeros (biases, LayerNorm bias, relative-position tables).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { zerosInit } from "./init.ts";
 * import { random } from "../mod.ts";
 * assert.deepEqual(await zerosInit(random.key(0), [2], "float32").toArray(), [0, 0]);
 * ```
 */
export const zerosInit: Initializer = constantInit(0);

/**
 * Ones (LayerNorm weight).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { onesInit } from "./init.ts";
 * import { random } from "../mod.ts";
 * assert.deepEqual(await onesInit(random.key(0), [2], "float32").toArray(), [1, 1]);
 * ```
 */
export const onesInit: Initializer = constantInit(1);

/**
 * Multiplies another initialiser's draw by `factor` — BEiT's `fix_init` rescale
 * (`proj.weight /= √(2·layer_id)`) and its head init (`×0.001`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { constantInit, scaledInit } from "./init.ts";
 * import { random } from "../mod.ts";
 * assert.deepEqual(
 *   await scaledInit(constantInit(2), 0.5)(random.key(0), [1], "float32").toArray(),
 *   [1],
 * );
 * ```
 */
export function scaledInit(init: Initializer, factor: number): Initializer {
  if (factor === 1) return init;
  return (key, shape, dtype) => scope(() => mul(init(key, shape, dtype), factor));
}

/**
 * One parameter's shape, dtype and initialiser: the leaf of a parameter spec tree.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ParamSpec, zerosInit } from "./init.ts";
 * const s = new ParamSpec([4, 2], zerosInit);
 * assert.deepEqual(s.shape, [4, 2]);
 * assert.equal(s.dtype, "float32");
 * assert.equal(s.size, 8);
 * ```
 */
export class ParamSpec {
  /** Dimension sizes. */
  readonly shape: Shape;
  /** Element type. */
  readonly dtype: DType;
  /** How the value is drawn. */
  readonly init: Initializer;

  /**
   * Describes one parameter.
   * @param shape dimension sizes
   * @param init initialiser
   * @param dtype element type (default float32)
   */
  constructor(shape: Shape, init: Initializer, dtype: DType = "float32") {
    this.shape = Object.freeze([...shape]);
    this.init = init;
    this.dtype = dtype;
  }

  /** Number of elements. */
  get size(): number {
    return this.shape.reduce((p, q) => p * q, 1);
  }
}

/**
 * The `ParamSpec` leaves of a spec tree with their dotted paths (checkpoint names).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ParamSpec, specEntries, zerosInit } from "./init.ts";
 * const spec = { blocks: [{ w: new ParamSpec([2], zerosInit) }], head: { bias: new ParamSpec([3], zerosInit) } };
 * assert.deepEqual(
 *   specEntries(spec).map(([path, s]) => `${path} ${s.shape}`),
 *   ["blocks.0.w 2", "head.bias 3"],
 * );
 * ```
 */
export function specEntries(spec: unknown): [string, ParamSpec][] {
  const out: [string, ParamSpec][] = [];
  const visit = (x: unknown, path: string): void => {
    if (x instanceof ParamSpec) out.push([path, x]);
    else if (Array.isArray(x)) x.forEach((v, i) => visit(v, path ? `${path}.${i}` : String(i)));
    else if (x !== null && typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype) {
      for (const [k, v] of Object.entries(x)) visit(v, path ? `${path}.${k}` : k);
    }
  };
  visit(spec, "");
  return out;
}

/** Maps the ParamSpec leaves of a spec tree (other leaves are dropped to undefined). */
function mapSpec(spec: unknown, fn: (s: ParamSpec, index: number) => unknown): unknown {
  let i = 0;
  const visit = (x: unknown): unknown => {
    if (x instanceof ParamSpec) return fn(x, i++);
    if (Array.isArray(x)) return x.map(visit);
    if (x !== null && typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype) {
      return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, visit(v)]));
    }
    return x;
  };
  return visit(spec);
}

/**
 * Turns a spec tree into the same tree of tensors of that shape type: `Params<S>` maps every
 * `ParamSpec` leaf of `S` to `Tensor`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Params } from "./init.ts";
 * import type { ParamSpec } from "./init.ts";
 * type P = Params<{ weight: ParamSpec; bias?: ParamSpec }>; // { weight: Tensor; bias?: Tensor }
 * const ok: (p: P) => boolean = (p) => p.weight !== undefined;
 * assert.equal(typeof ok, "function");
 * ```
 */
export type Params<S> = S extends ParamSpec ? Tensor
  : S extends readonly (infer E)[] ? Params<E>[]
  : S extends object ? { [K in keyof S]: Params<S[K]> }
  : S;

/**
 * The spec tree of a parameter tree type: every `Tensor` leaf of `P` becomes a `ParamSpec`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ParamSpec, type Spec, zerosInit } from "./init.ts";
 * import type { Tensor } from "../mod.ts";
 * const s: Spec<{ bias: Tensor }> = { bias: new ParamSpec([3], zerosInit) };
 * assert.deepEqual(s.bias.shape, [3]);
 * ```
 */
export type Spec<P> = P extends Tensor ? ParamSpec
  : P extends readonly (infer E)[] ? Spec<E>[]
  : P extends object ? { [K in keyof P]: Spec<P[K]> }
  : P;

/**
 * Materialises a spec tree: leaf `i` (in flatten order) is drawn with `random.foldIn(key, i)`,
 * so adding a parameter at the end of a spec leaves the earlier ones unchanged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initFromSpec, ParamSpec, truncNormalInit, zerosInit } from "./init.ts";
 * import { random } from "../mod.ts";
 * const p = initFromSpec(random.key(0), {
 *   weight: new ParamSpec([3, 2], truncNormalInit(0.02)),
 *   bias: new ParamSpec([3], zerosInit),
 * });
 * assert.deepEqual(p.weight.shape, [3, 2]);
 * assert.deepEqual(p.bias.shape, [3]);
 * ```
 */
export function initFromSpec<S>(key: Tensor, spec: S): Params<S> {
  return scope(() =>
    mapSpec(spec, (s, i) => scope(() => s.init(random.foldIn(key, i), s.shape, s.dtype)))
  ) as Params<S>;
}

/**
 * Number of scalar parameters in a spec tree or a parameter tree (Tensor leaves), without
 * allocating anything.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { countParams, ParamSpec, zerosInit } from "./init.ts";
 * import { ones } from "../mod.ts";
 * assert.equal(countParams({ w: new ParamSpec([768, 768], zerosInit) }), 589824);
 * assert.equal(countParams({ w: ones([2, 3]), b: [ones([3])] }), 9);
 * ```
 */
export function countParams(tree: unknown): number {
  let n = 0;
  const visit = (x: unknown): void => {
    if (x instanceof ParamSpec) n += x.size;
    else if (x instanceof Tensor) n += x.size;
    else if (Array.isArray(x)) x.forEach(visit);
    else if (x !== null && typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype) {
      Object.values(x).forEach(visit);
    }
  };
  visit(tree);
  return n;
}
