/**
 * Activation and normalisation composites: relu, gelu, silu, sigmoid, softmax, logSoftmax,
 * layerNorm. Built from primitives only, so they need no gradient code of their own.
 * @module
 */
import { isFloat } from "../dtype.ts";
import { fmtShape, fmtValue, TesseraError } from "../errors.ts";
import { normAxes, normAxis } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { fusedOr } from "../dispatch.ts";
import { composite, expectTensor } from "./_util.ts";
import { lessEqual } from "./comparison.ts";
import { add, div, mul, sub, where } from "./elementwise.ts";
import { erf, exp, neg, rsqrt, tanh } from "./unary.ts";
import { stopGradientOf } from "./_elementwise_internal.ts";
import { logsumexp, max, mean, sum } from "./reduce.ts";

function floatInput(op: string, x: Tensor): void {
  expectTensor(op, x);
  if (!isFloat(x.dtype)) throw new TesseraError(op, `needs a float input, got ${x.dtype}`);
}

/**
 * `max(x, 0)`; the gradient at 0 is 0 (as in PyTorch).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { relu, tensor } from "../../mod.ts";
 * assert.deepEqual(await relu(tensor([-1, 2])).toArray(), [0, 2]);
 * ```
 */
export function relu(x: Tensor): Tensor {
  return composite(() => {
    floatInput("relu", x);
    return where(lessEqual(x, 0), 0, x); // NaN stays NaN; gradient 0 at 0
  });
}

/**
 * Logistic sigmoid `1 / (1 + e^-x)`, computed as `0.5·tanh(x/2) + 0.5` so that neither the
 * value nor the gradient overflows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sigmoid, tensor } from "../../mod.ts";
 * assert.deepEqual(await sigmoid(tensor([0])).toArray(), [0.5]);
 * ```
 */
export function sigmoid(x: Tensor): Tensor {
  return composite(() => {
    floatInput("sigmoid", x);
    return add(mul(tanh(mul(x, 0.5)), 0.5), 0.5);
  });
}

/**
 * GELU with the exact erf form `x·Φ(x) = 0.5·x·(1 + erf(x/√2))` (PyTorch's default), or the
 * tanh approximation with `approximate: "tanh"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gelu, tensor } from "../../mod.ts";
 * const [y0, y1] = await gelu(tensor([0, 1])).data();
 * assert.equal(y0, 0);
 * assert.ok(Math.abs(y1! - 0.8413447) < 1e-6); // Φ(1)
 * ```
 */
export function gelu(x: Tensor, opts: { approximate?: "none" | "tanh" } = {}): Tensor {
  opts ??= {};
  return composite(() => {
    floatInput("gelu", x);
    if (opts.approximate === "tanh") {
      const inner = mul(add(x, mul(mul(mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
      return mul(mul(x, 0.5), add(tanh(inner), 1));
    }
    const exact = () => mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
    return fusedOr("gelu", [x], {}, x, exact); // a backend's fused kernel, else the composite
  });
}

/**
 * SiLU / swish: `x · sigmoid(x)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { silu, tensor } from "../../mod.ts";
 * assert.deepEqual(await silu(tensor([0])).toArray(), [0]);
 * ```
 */
export function silu(x: Tensor): Tensor {
  return composite(() => {
    floatInput("silu", x);
    return mul(x, sigmoid(x));
  });
}

/**
 * Softmax along `axis` (default last), shifted by the (gradient-stopped) maximum for
 * stability. An empty axis gives an empty result of x's shape (as in PyTorch).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { softmax, tensor } from "../../mod.ts";
 * assert.deepEqual(await softmax(tensor([0, 0])).toArray(), [0.5, 0.5]);
 * ```
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  return composite(() => {
    floatInput("softmax", x);
    const a = normAxis("softmax", axis, x.ndim);
    if (x.shape[a] === 0) return exp(x); // an empty axis: the (empty) result has x's shape
    const e = exp(sub(x, stopGradientOf(max(x, a, true))));
    return div(e, sum(e, a, true));
  });
}

/**
 * `log(softmax(x))` along `axis`, computed as `x - logsumexp(x)`. An empty axis gives an
 * empty result of x's shape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logSoftmax, tensor } from "../../mod.ts";
 * const y = await logSoftmax(tensor([0, 0])).data();
 * y.forEach((v) => assert.ok(Math.abs(v - -Math.LN2) < 1e-6)); // log(1/2)
 * ```
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return composite(() => {
    floatInput("logSoftmax", x);
    const a = normAxis("logSoftmax", axis, x.ndim);
    if (x.shape[a] === 0) return neg(x); // an empty axis: the (empty) result has x's shape
    return sub(x, logsumexp(x, a, true));
  });
}

/** Options for {@link layerNorm}. */
export interface LayerNormOptions {
  /** Added to the variance (PyTorch default 1e-5; ViTs in timm use 1e-6). */
  eps?: number;
  /** Normalised trailing axes (default the last one). */
  axes?: number | number[];
}

/**
 * Layer normalisation over trailing axes with optional elementwise `weight` and `bias`
 * (shaped like the normalised dims): `(x - mean) / sqrt(var + eps) · weight + bias`, using
 * the biased variance as PyTorch does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { layerNorm, tensor } from "../../mod.ts";
 * const y = layerNorm(tensor([[1, 2, 3]]), undefined, undefined, { eps: 0 });
 * const s = Math.sqrt(1.5); // mean 2, biased variance 2/3
 * (await y.data()).forEach((v, i) => assert.ok(Math.abs(v - [-s, 0, s][i]!) < 1e-6));
 * ```
 */
export function layerNorm(
  x: Tensor,
  weight?: Tensor,
  bias?: Tensor,
  opts: LayerNormOptions = {},
): Tensor {
  opts ??= {};
  return composite(() => {
    floatInput("layerNorm", x);
    if (weight !== undefined) expectTensor("layerNorm", weight, "weight");
    if (bias !== undefined) expectTensor("layerNorm", bias, "bias");
    const eps = opts.eps ?? 1e-5;
    if (typeof eps !== "number" || !(eps >= 0)) {
      throw new TesseraError("layerNorm", `eps must be >= 0, got ${eps}`);
    }
    const axes = normAxes("layerNorm", opts.axes ?? -1, x.ndim);
    const normShape = axes.map((a) => x.shape[a]!);
    for (const [name, p] of [["weight", weight], ["bias", bias]] as const) {
      if (p && (p.ndim !== normShape.length || p.shape.some((d, i) => d !== normShape[i]))) {
        throw new TesseraError(
          "layerNorm",
          `${name} shape ${fmtShape(p.shape)} must be ${fmtShape(normShape)}`,
        );
      }
    }
    if (axes.some((a, i) => a !== x.ndim - axes.length + i)) {
      throw new TesseraError(
        "layerNorm",
        `axes ${fmtValue(opts.axes)} must be the trailing axes`,
      );
    }
    let y: Tensor;
    if (normShape.includes(0)) {
      y = neg(x); // nothing to normalise: the (empty) result has x's shape
    } else {
      const d = sub(x, mean(x, axes, true));
      const v = mean(mul(d, d), axes, true);
      y = mul(d, rsqrt(add(v, eps)));
    }
    if (weight) y = mul(y, weight);
    if (bias) y = add(y, bias);
    return y;
  });
}
