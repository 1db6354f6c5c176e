/**
 * 2-D pooling on NCHW tensors with PyTorch semantics: `maxPool2d` (and its argmax indices),
 * `avgPool2d` and `adaptiveAvgPool2d`. Re-exported by tensor/ops/vision.ts.
 * @module
 */
import { fmtShape, TesseraError } from "../errors.ts";
import { bind } from "../dispatch.ts";
import { checkNumel } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { checkNchw, maxPool2dShape } from "../vision_shape_rules.ts";
import { type Resample1d } from "../vision_params.ts";
import { describe, expectTensor } from "./_util.ts";
import { bool, int, pair, type Size2 } from "./_vision_args.ts";

// ---------------------------------------------------------------------------------------
// Pooling
// ---------------------------------------------------------------------------------------

/** Options of {@link maxPool2d}. */
export interface MaxPool2dOptions {
  /** Window step (default: the kernel size). */
  stride?: Size2;
  /** Implicit −∞ padding on both sides, at most half the kernel (default 0). */
  padding?: Size2;
  /** Spacing between window taps (default 1). */
  dilation?: Size2;
  /** Round the output size up (default false). */
  ceilMode?: boolean;
}

function maxPoolParams(op: string, x: Tensor, kernel: Size2, opts: MaxPool2dOptions) {
  expectTensor(op, x);
  const k = pair(op, "kernel", kernel, 1);
  const p = {
    kernel: k,
    stride: pair(op, "stride", opts.stride ?? k, 1),
    padding: pair(op, "padding", opts.padding ?? 0, 0),
    dilation: pair(op, "dilation", opts.dilation ?? 1, 1),
    ceilMode: bool(op, "ceilMode", opts.ceilMode, false),
  };
  maxPool2dShape(op, x, p);
  return p;
}

/**
 * Max pooling over `kernel` windows (PyTorch `max_pool2d`). NaN propagates; the gradient
 * goes to each window's first maximum.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { arange, maxPool2d, reshape } from "../../mod.ts";
 * const x = reshape(arange(16), [1, 1, 4, 4]);
 * assert.deepEqual(await maxPool2d(x, 2).toArray(), [[[[5, 7], [13, 15]]]]);
 * ```
 */
export function maxPool2d(x: Tensor, kernel: Size2, opts: MaxPool2dOptions = {}): Tensor {
  opts ??= {};
  const p = maxPoolParams("maxPool2d", x, kernel, opts);
  return bind("maxPool2d", [x], p);
}

/**
 * The int32 flat index `h·W + w` of each max-pool window's maximum (PyTorch's
 * `return_indices`); not differentiable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { arange, maxPool2dIndices, reshape } from "../../mod.ts";
 * const x = reshape(arange(16), [1, 1, 4, 4]);
 * assert.deepEqual(await maxPool2dIndices(x, 2).toArray(), [[[[5, 7], [13, 15]]]]);
 * ```
 */
export function maxPool2dIndices(x: Tensor, kernel: Size2, opts: MaxPool2dOptions = {}): Tensor {
  opts ??= {};
  const p = maxPoolParams("maxPool2dIndices", x, kernel, opts);
  return bind("maxPool2dArgmax", [x], p);
}

/** Options of {@link avgPool2d}. */
export interface AvgPool2dOptions {
  /** Window step (default: the kernel size). */
  stride?: Size2;
  /** Implicit zero padding on both sides, at most half the kernel (default 0). */
  padding?: Size2;
  /** Round the output size up (default false). */
  ceilMode?: boolean;
  /** Count padding zeros in the divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
}

/**
 * Average pooling over `kernel` windows (PyTorch `avg_pool2d`: with `countIncludePad` the
 * divisor is the window clipped to the padded input, else to the input).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { arange, avgPool2d, reshape } from "../../mod.ts";
 * const x = reshape(arange(16), [1, 1, 4, 4]);
 * assert.deepEqual(await avgPool2d(x, 2).toArray(), [[[[2.5, 4.5], [10.5, 12.5]]]]);
 * ```
 */
export function avgPool2d(x: Tensor, kernel: Size2, opts: AvgPool2dOptions = {}): Tensor {
  opts ??= {};
  const op = "avgPool2d";
  expectTensor(op, x);
  const k = pair(op, "kernel", kernel, 1);
  const stride = pair(op, "stride", opts.stride ?? k, 1);
  const padding = pair(op, "padding", opts.padding ?? 0, 0);
  const ceilMode = bool(op, "ceilMode", opts.ceilMode, false);
  const countIncludePad = bool(op, "countIncludePad", opts.countIncludePad, true);
  const { shape } = maxPool2dShape(op, x, {
    kernel: k,
    stride,
    padding,
    dilation: [1, 1],
    ceilMode,
  });
  const axis = (i: number): Resample1d => ({
    kind: "avg",
    in: x.shape[2 + i]!,
    out: shape[2 + i]!,
    kernel: k[i]!,
    stride: stride[i]!,
    padding: padding[i]!,
    countIncludePad,
  });
  return bind("resample2d", [x], { h: axis(0), w: axis(1), transpose: false });
}

/**
 * Adaptive average pooling to `outputSize` (PyTorch's bins `[⌊i·H/out⌋, ⌈(i+1)·H/out⌉)`,
 * which overlap when `out` does not divide `H`). `null` keeps that axis' size.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adaptiveAvgPool2d, arange, reshape } from "../../mod.ts";
 * const x = reshape(arange(16), [1, 1, 4, 4]);
 * assert.deepEqual(await adaptiveAvgPool2d(x, 1).toArray(), [[[[7.5]]]]);
 * ```
 */
export function adaptiveAvgPool2d(
  x: Tensor,
  outputSize: number | readonly [number | null, number | null],
): Tensor {
  const op = "adaptiveAvgPool2d";
  expectTensor(op, x);
  checkNchw(op, x);
  const raw = typeof outputSize === "number" ? [outputSize, outputSize] : outputSize;
  if (!Array.isArray(raw) || raw.length !== 2) {
    throw new TesseraError(
      op,
      `outputSize must be a number or a pair, got ${describe(outputSize)}`,
    );
  }
  const out = raw.map((v, i) => (v === null ? x.shape[2 + i]! : int(op, "outputSize", v, 1)));
  if (x.shape[2] === 0 || x.shape[3] === 0) {
    throw new TesseraError(op, `input ${fmtShape(x.shape)} has an empty spatial axis`);
  }
  // Per-axis tables are sized by the output even for an empty batch: check as for batch 1.
  checkNumel(op, [x.shape[0]! || 1, x.shape[1]! || 1, out[0]!, out[1]!], x.dtype);
  const axis = (i: number): Resample1d => ({
    kind: "adaptiveAvg",
    in: x.shape[2 + i]!,
    out: out[i]!,
  });
  return bind("resample2d", [x], { h: axis(0), w: axis(1), transpose: false });
}
