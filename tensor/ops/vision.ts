/**
 * Vision ops on NCHW tensors with PyTorch semantics and gradients of every order: `conv2d`,
 * `convTranspose2d`, `maxPool2d`, `avgPool2d`, `adaptiveAvgPool2d`, `interpolate` (nearest,
 * bilinear) and `roiAlign` (torchvision). float32 on every backend, float64 on the CPU.
 *
 * avgPool2d, adaptiveAvgPool2d and interpolate share one primitive, `resample2d` (a separable
 * sparse linear map whose adjoint is its transpose); see tensor/vision_params.ts.
 * @module
 */
import { fmtShape, fmtValue, TesseraError } from "../errors.ts";
import { bind } from "../dispatch.ts";
import type { Tensor } from "../tensor.ts";
import {
  checkBoxes,
  checkNchw,
  checkRoiParams,
  conv2dShape,
  convTranspose2dShape,
  maxPool2dShape,
} from "../vision_shape_rules.ts";
import {
  type Conv2dParams,
  type Pair,
  type Resample1d,
  type RoiAlignParams,
} from "../vision_params.ts";
import { composite, describe, expectTensor } from "./_util.ts";
import { add } from "./elementwise.ts";
import { pad, reshape } from "./movement.ts";

/** A per-axis size: one number for both axes, or `[h, w]`. */
export type Size2 = number | readonly [number, number];

function pair(op: string, name: string, v: unknown, min: number): [number, number] {
  const p = typeof v === "number" ? [v, v] : v;
  const ok = Array.isArray(p) && p.length === 2 &&
    p.every((e) => typeof e === "number" && Number.isInteger(e) && e >= min);
  if (!ok) {
    throw new TesseraError(
      op,
      `${name} must be an integer >= ${min} or a pair of them, got ${
        Array.isArray(v) ? fmtValue(v) : describe(v)
      }`,
    );
  }
  return [p[0] as number, p[1] as number];
}

function int(op: string, name: string, v: unknown, min: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    throw new TesseraError(op, `${name} must be an integer >= ${min}, got ${describe(v)}`);
  }
  return v;
}

function bool(op: string, name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== "boolean") {
    throw new TesseraError(op, `${name} must be a boolean, got ${describe(v)}`);
  }
  return v;
}

/** Adds a per-channel bias `[C]` to an NCHW result. */
function addBias(op: string, y: Tensor, b: Tensor | null | undefined): Tensor {
  if (b === undefined || b === null) return y;
  expectTensor(op, b, "bias");
  if (b.ndim !== 1 || b.shape[0] !== y.shape[1]) {
    throw new TesseraError(
      op,
      `bias must have shape [${y.shape[1]}] (one per output channel), got ${fmtShape(b.shape)}`,
    );
  }
  if (b.dtype !== y.dtype) {
    throw new TesseraError(op, `bias is ${b.dtype} but x is ${y.dtype} (no implicit promotion)`);
  }
  return add(y, reshape(b, [1, b.shape[0]!, 1, 1]));
}

// ---------------------------------------------------------------------------------------
// Convolutions
// ---------------------------------------------------------------------------------------

/** Options of {@link conv2d}. */
export interface Conv2dOptions {
  /** Step between output positions (default 1). */
  stride?: Size2;
  /**
   * Zero padding on both sides (default 0), or `"valid"` (none) or `"same"` (output size =
   * input size; stride 1 only; an odd total puts the extra row/column at the bottom/right,
   * like PyTorch).
   */
  padding?: Size2 | "valid" | "same";
  /** Spacing between kernel taps (default 1). */
  dilation?: Size2;
  /** Channel groups (default 1); `groups = C` is a depthwise convolution. */
  groups?: number;
}

/**
 * 2-D convolution (cross-correlation, as in PyTorch) of `x` `[N, C, H, W]` with weight `w`
 * `[O, C/groups, kh, kw]`, plus an optional bias `[O]`. Output `[N, O, OH, OW]` with
 * `OH = ⌊(H + 2·pad − dil·(kh − 1) − 1) / stride⌋ + 1`.
 *
 * @example
 * ```ts
 * import { conv2d, ones } from "../../mod.ts";
 * const y = conv2d(ones([1, 1, 4, 4]), ones([2, 1, 3, 3]), null, { padding: 1 });
 * console.log(y.shape, (await y.data())[5]); // [1, 2, 4, 4] 9
 * ```
 */
export function conv2d(
  x: Tensor,
  w: Tensor,
  b?: Tensor | null,
  opts: Conv2dOptions = {},
): Tensor {
  opts ??= {};
  return composite(() => {
    const op = "conv2d";
    expectTensor(op, x);
    expectTensor(op, w, "weight");
    const stride = pair(op, "stride", opts.stride ?? 1, 1);
    const dilation = pair(op, "dilation", opts.dilation ?? 1, 1);
    const groups = int(op, "groups", opts.groups ?? 1, 1);
    let xin = x;
    let padding: [number, number];
    if (opts.padding === "valid") {
      padding = [0, 0];
    } else if (opts.padding === "same") {
      if (stride[0] !== 1 || stride[1] !== 1) {
        throw new TesseraError(op, `padding "same" needs stride 1, got ${fmtValue(stride)}`);
      }
      checkNchw(op, x);
      if (w.ndim !== 4) {
        throw new TesseraError(op, `weight must be rank 4, got ${fmtShape(w.shape)}`);
      }
      const total = [0, 1].map((i) => dilation[i]! * (w.shape[2 + i]! - 1));
      padding = [Math.floor(total[0]! / 2), Math.floor(total[1]! / 2)];
      const extra = [total[0]! % 2, total[1]! % 2];
      if (extra[0] || extra[1]) xin = pad(x, [[0, 0], [0, 0], [0, extra[0]!], [0, extra[1]!]]);
    } else {
      padding = pair(op, "padding", opts.padding ?? 0, 0);
    }
    const p: Conv2dParams = { stride, padding, dilation, groups };
    conv2dShape(op, xin, w, p);
    return addBias(op, bind("conv2d", [xin, w], p), b);
  });
}

/** Options of {@link convTranspose2d}. */
export interface ConvTranspose2dOptions {
  /** Upsampling step (default 1). */
  stride?: Size2;
  /** Rows/columns removed from both sides of the full output (default 0). */
  padding?: Size2;
  /** Extra rows/columns at the bottom/right, `< stride` (default 0). */
  outputPadding?: Size2;
  /** Spacing between kernel taps (default 1). */
  dilation?: Size2;
  /** Channel groups (default 1). */
  groups?: number;
}

/**
 * Transposed 2-D convolution (PyTorch's `conv_transpose2d`, the input gradient of conv2d):
 * `x` `[N, Cin, H, W]`, weight `[Cin, Cout/groups, kh, kw]`, optional bias `[Cout]`. Output
 * size `(H − 1)·stride − 2·pad + dil·(kh − 1) + outputPadding + 1`.
 *
 * @example
 * ```ts
 * import { convTranspose2d, ones } from "../../mod.ts";
 * const y = convTranspose2d(ones([1, 3, 4, 4]), ones([3, 2, 2, 2]), null, { stride: 2 });
 * console.log(y.shape); // [1, 2, 8, 8]
 * ```
 */
export function convTranspose2d(
  x: Tensor,
  w: Tensor,
  b?: Tensor | null,
  opts: ConvTranspose2dOptions = {},
): Tensor {
  opts ??= {};
  return composite(() => {
    const op = "convTranspose2d";
    expectTensor(op, x);
    expectTensor(op, w, "weight");
    const p = {
      stride: pair(op, "stride", opts.stride ?? 1, 1),
      padding: pair(op, "padding", opts.padding ?? 0, 0),
      dilation: pair(op, "dilation", opts.dilation ?? 1, 1),
      groups: int(op, "groups", opts.groups ?? 1, 1),
      outputPadding: pair(op, "outputPadding", opts.outputPadding ?? 0, 0),
    };
    convTranspose2dShape(op, x, w, p);
    return addBias(op, bind("convTranspose2d", [x, w], p), b);
  });
}

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
 * import { arange, maxPool2d, reshape } from "../../mod.ts";
 * const x = reshape(arange(16), [1, 1, 4, 4]);
 * console.log(await maxPool2d(x, 2).toArray()); // [[[[5, 7], [13, 15]]]]
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
 * import { arange, maxPool2dIndices, reshape } from "../../mod.ts";
 * const x = reshape(arange(16), [1, 1, 4, 4]);
 * console.log(await maxPool2dIndices(x, 2).toArray()); // [[[[5, 7], [13, 15]]]]
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
 * import { arange, avgPool2d, reshape } from "../../mod.ts";
 * const x = reshape(arange(16), [1, 1, 4, 4]);
 * console.log(await avgPool2d(x, 2).toArray()); // [[[[2.5, 4.5], [10.5, 12.5]]]]
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
 * import { adaptiveAvgPool2d, arange, reshape } from "../../mod.ts";
 * const x = reshape(arange(16), [1, 1, 4, 4]);
 * console.log(await adaptiveAvgPool2d(x, 1).toArray()); // [[[[7.5]]]]
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
  const axis = (i: number): Resample1d => ({
    kind: "adaptiveAvg",
    in: x.shape[2 + i]!,
    out: out[i]!,
  });
  return bind("resample2d", [x], { h: axis(0), w: axis(1), transpose: false });
}

// ---------------------------------------------------------------------------------------
// Interpolation
// ---------------------------------------------------------------------------------------

/** Options of {@link interpolate}: exactly one of `size` and `scaleFactor`. */
export interface InterpolateOptions {
  /** Output size. */
  size?: Size2;
  /** Output = ⌊input · scaleFactor⌋; the factor itself sets the sampling ratio (PyTorch). */
  scaleFactor?: number | readonly [number, number];
  /** `"nearest"` (PyTorch's legacy floor rule, default) or `"bilinear"`. */
  mode?: "nearest" | "bilinear";
  /** Bilinear only: align the corner pixels' centres (default false). */
  alignCorners?: boolean;
}

/**
 * Resizes the spatial axes like `torch.nn.functional.interpolate` (modes `nearest`:
 * `src = min(⌊dst·scale⌋, in − 1)`, and `bilinear` with `align_corners` false/true).
 *
 * @example
 * ```ts
 * import { interpolate, tensor } from "../../mod.ts";
 * const x = tensor([[[[1, 2], [3, 4]]]]);
 * console.log(await interpolate(x, { scaleFactor: 2 }).toArray());
 * // [[[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]]]
 * console.log(await interpolate(x, { size: [1, 3], mode: "bilinear", alignCorners: true }).toArray());
 * // [[[[1, 1.5, 2]]]]
 * ```
 */
export function interpolate(x: Tensor, opts: InterpolateOptions): Tensor {
  const op = "interpolate";
  expectTensor(op, x);
  checkNchw(op, x);
  if (opts === null || typeof opts !== "object") {
    throw new TesseraError(
      op,
      `options must be an object with size or scaleFactor, got ${describe(opts)}`,
    );
  }
  const mode = opts.mode ?? "nearest";
  if (mode !== "nearest" && mode !== "bilinear") {
    throw new TesseraError(op, `mode must be "nearest" or "bilinear", got ${fmtValue(mode)}`);
  }
  if (opts.alignCorners !== undefined && mode === "nearest") {
    throw new TesseraError(op, `alignCorners only applies to mode "bilinear"`);
  }
  const alignCorners = bool(op, "alignCorners", opts.alignCorners, false);
  if ((opts.size === undefined) === (opts.scaleFactor === undefined)) {
    throw new TesseraError(op, "give exactly one of size and scaleFactor");
  }
  const inS = [x.shape[2]!, x.shape[3]!];
  let out: [number, number];
  let scale: [number, number] = [0, 0];
  if (opts.size !== undefined) {
    out = pair(op, "size", opts.size, 1);
  } else {
    const sf = typeof opts.scaleFactor === "number"
      ? [opts.scaleFactor, opts.scaleFactor]
      : opts.scaleFactor;
    if (
      !Array.isArray(sf) || sf.length !== 2 ||
      !sf.every((v) => typeof v === "number" && Number.isFinite(v) && v > 0)
    ) {
      throw new TesseraError(
        op,
        `scaleFactor must be a finite number > 0 or a pair of them, got ${
          fmtValue(opts.scaleFactor)
        }`,
      );
    }
    scale = [sf[0]!, sf[1]!];
    out = [Math.floor(inS[0]! * sf[0]!), Math.floor(inS[1]! * sf[1]!)];
    if (out[0] < 1 || out[1] < 1) {
      throw new TesseraError(
        op,
        `scaleFactor ${fmtValue(opts.scaleFactor)} gives an empty output for ${fmtShape(x.shape)}`,
      );
    }
  }
  if (inS[0] === 0 || inS[1] === 0) {
    throw new TesseraError(op, `input ${fmtShape(x.shape)} has an empty spatial axis`);
  }
  const axis = (i: number): Resample1d =>
    mode === "nearest"
      ? { kind: "nearest", in: inS[i]!, out: out[i]!, scale: scale[i]! }
      : { kind: "linear", in: inS[i]!, out: out[i]!, scale: scale[i]!, alignCorners };
  return bind("resample2d", [x], { h: axis(0), w: axis(1), transpose: false });
}

// ---------------------------------------------------------------------------------------
// RoIAlign
// ---------------------------------------------------------------------------------------

/** Options of {@link roiAlign}. */
export interface RoiAlignOptions {
  /** Output size per box `[ph, pw]` (e.g. 7 for box heads, 14 for mask heads). */
  outputSize: Size2;
  /** Multiplies box coordinates (1 / the feature map's stride; default 1). */
  spatialScale?: number;
  /** Samples per bin and axis; 0 (default) or negative = adaptive `⌈roi_size / out⌉`. */
  samplingRatio?: number;
  /** Half-pixel alignment (detectron2/mmcv default true; torchvision default false). */
  aligned?: boolean;
}

/**
 * RoIAlign (torchvision `roi_align`): bilinearly samples each box of `boxes` `[K, 5]` (batch
 * index, x1, y1, x2, y2 in input coordinates) from `x` `[N, C, H, W]` into `[K, C, ph, pw]`.
 * Differentiable in `x` (the gradient is a deterministic scatter-add; boxes get none). A box
 * with x2 < x1, y2 < y1, non-finite coordinates or a batch index outside [0, N) is an error
 * (on webgpu reported by the next read).
 *
 * @example
 * ```ts
 * import { arange, reshape, roiAlign, tensor } from "../../mod.ts";
 * const x = reshape(arange(16), [1, 1, 4, 4]);
 * const boxes = tensor([[0, 0, 0, 4, 4]]);
 * const y = roiAlign(x, boxes, { outputSize: 2, aligned: true, samplingRatio: 1 });
 * console.log(await y.toArray()); // [[[[2.5, 4.5], [10.5, 12.5]]]]
 * ```
 */
export function roiAlign(x: Tensor, boxes: Tensor, opts: RoiAlignOptions): Tensor {
  const op = "roiAlign";
  expectTensor(op, x);
  expectTensor(op, boxes, "boxes");
  if (opts === null || typeof opts !== "object") {
    throw new TesseraError(op, `options with outputSize are required, got ${describe(opts)}`);
  }
  checkNchw(op, x);
  checkBoxes(op, boxes, 5, x);
  const sr = opts.samplingRatio ?? 0;
  const p: RoiAlignParams = {
    outputSize: pair(op, "outputSize", opts.outputSize, 1) as Pair,
    spatialScale: opts.spatialScale ?? 1,
    samplingRatio: typeof sr === "number" && sr < 0 ? 0 : sr,
    aligned: opts.aligned ?? false,
  };
  checkRoiParams(op, p);
  return bind("roiAlign", [x, boxes], p);
}
