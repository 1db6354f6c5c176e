/**
 * Bilinear/nearest sampling of NCHW tensors: `interpolate` (PyTorch) and `roiAlign`
 * (torchvision). Re-exported by tensor/ops/vision.ts.
 * @module
 */
import { fmtShape, fmtValue, TesseraError } from "../errors.ts";
import { bind } from "../dispatch.ts";
import { checkNumel } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { checkBoxes, checkNchw, checkRoiParams } from "../vision_shape_rules.ts";
import { type Pair, type Resample1d, type RoiAlignParams } from "../vision_params.ts";
import { describe, expectTensor } from "./_util.ts";
import { bool, pair, type Size2 } from "./_vision_args.ts";

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
 * import assert from "node:assert/strict";
 * import { interpolate, tensor } from "../../mod.ts";
 * const x = tensor([[[[1, 2], [3, 4]]]]);
 * assert.deepEqual(
 *   await interpolate(x, { scaleFactor: 2 }).toArray(),
 *   [[[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]]],
 * );
 * assert.deepEqual(
 *   await interpolate(x, { size: [1, 3], mode: "bilinear", alignCorners: true }).toArray(),
 *   [[[[1, 1.5, 2]]]],
 * );
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
  // Per-axis tables are sized by the output even for an empty batch: check as for batch 1.
  checkNumel(op, [x.shape[0]! || 1, x.shape[1]! || 1, out[0]!, out[1]!], x.dtype);
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
 * import assert from "node:assert/strict";
 * import { arange, reshape, roiAlign, tensor } from "../../mod.ts";
 * const x = reshape(arange(16), [1, 1, 4, 4]);
 * const boxes = tensor([[0, 0, 0, 4, 4]]);
 * const y = roiAlign(x, boxes, { outputSize: 2, aligned: true, samplingRatio: 1 });
 * assert.deepEqual(await y.toArray(), [[[[2.5, 4.5], [10.5, 12.5]]]]);
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
