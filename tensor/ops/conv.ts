/**
 * 2-D convolutions on NCHW tensors with PyTorch semantics: `conv2d` and `convTranspose2d`
 * (with optional per-channel bias). Re-exported by tensor/ops/vision.ts.
 * @module
 */
import { fmtShape, fmtValue, TesseraError } from "../errors.ts";
import { bind } from "../dispatch.ts";
import type { Tensor } from "../tensor.ts";
import { checkNchw, conv2dShape, convTranspose2dShape } from "../vision_shape_rules.ts";
import { type Conv2dParams } from "../vision_params.ts";
import { composite, expectTensor } from "./_util.ts";
import { add } from "./elementwise.ts";
import { reshape } from "./reshaping.ts";
import { pad } from "./slicing.ts";
import { int, pair, type Size2 } from "./_vision_args.ts";

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
 * import assert from "node:assert/strict";
 * import { conv2d, ones } from "../../mod.ts";
 * const y = conv2d(ones([1, 1, 4, 4]), ones([2, 1, 3, 3]), null, { padding: 1 });
 * assert.deepEqual(y.shape, [1, 2, 4, 4]);
 * assert.equal((await y.data())[5], 9);
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
 * import assert from "node:assert/strict";
 * import { convTranspose2d, ones } from "../../mod.ts";
 * const y = convTranspose2d(ones([1, 3, 4, 4]), ones([3, 2, 2, 2]), null, { stride: 2 });
 * assert.deepEqual(y.shape, [1, 2, 8, 8]);
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
