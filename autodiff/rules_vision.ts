/**
 * VJP and JVP rules of the vision primitives, written in primitives (spread into the tables of
 * rules_vjp.ts and rules_jvp.ts), so gradients of convolutions, pools, resampling and
 * RoIAlign are themselves differentiable.
 *
 * - conv2d(x, w): dx = convTranspose2d(g, w) (output padding chosen to recover x's size),
 *   dw = conv2dWeightGrad(x, g). convTranspose2d and conv2dWeightGrad are adjoints of each
 *   other's inputs in turn, so the three primitives close under differentiation.
 * - maxPool2d: the cotangent goes to each window's arg-max (`maxPool2dArgmax`, PyTorch's first
 *   maximum) through `scatterAdd` on flat indices; the JVP gathers the tangent there.
 * - resample2d (pools, interpolation) is linear: its VJP is the transposed map.
 * - roiAlign / roiAlignGrad are mutual adjoints in x; boxes get no gradient (as in
 *   torchvision): a tangent or cotangent for the boxes is treated as zero.
 * @module
 */
import { arange, zeros } from "../tensor/creation.ts";
import { bind } from "../tensor/dispatch.ts";
import { add } from "../tensor/ops/elementwise.ts";
import { reshape } from "../tensor/ops/reshaping.ts";
import type { VisionOp } from "../tensor/primitives.ts";
import type { Tensor } from "../tensor/tensor.ts";
import {
  type Conv2dParams,
  convTransposeOutSize,
  type MaxPool2dParams,
  type RoiAlignParams,
} from "../tensor/vision_params.ts";
import { bilinear, type JvpRule, type VjpRule } from "./rule_kit.ts";

function geom(p: Conv2dParams): Conv2dParams {
  return { stride: p.stride, padding: p.padding, dilation: p.dilation, groups: p.groups };
}

/** convTranspose2d of `dy` with weight `w` back onto a conv input of shape `xShape`. */
function inputAdjoint(dy: Tensor, w: Tensor, xShape: readonly number[], p: Conv2dParams): Tensor {
  const op = [0, 1].map((i) =>
    xShape[2 + i]! -
    convTransposeOutSize(
      dy.shape[2 + i]!,
      w.shape[2 + i]!,
      p.stride[i]!,
      p.padding[i]!,
      p
        .dilation[i]!,
      0,
    )
  );
  return bind("convTranspose2d", [dy, w], {
    ...geom(p),
    outputPadding: [op[0]!, op[1]!],
  });
}

function weightGrad(x: Tensor, dy: Tensor, w: Tensor, p: Conv2dParams): Tensor {
  return bind("conv2dWeightGrad", [x, dy], {
    ...geom(p),
    kernel: [w.shape[2]!, w.shape[3]!],
  });
}

/** Flat indices into x (as `[N·C·H·W]`) of every window's maximum. */
function flatArgmax(x: Tensor, p: MaxPool2dParams): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const idx = bind("maxPool2dArgmax", [x], p);
  const base = reshape(
    arange(0, n * c * h * w, Math.max(1, h * w), { dtype: "int32", backend: x.backend.name }),
    [n, c, 1, 1],
  );
  return reshape(add(idx, base), [idx.size]);
}

function roiParams(p: RoiAlignParams): RoiAlignParams {
  return {
    outputSize: p.outputSize,
    spatialScale: p.spatialScale,
    samplingRatio: p.samplingRatio,
    aligned: p.aligned,
  };
}

/** VJP rules of the vision primitives. */
export const visionVjpRules: { [P in VisionOp]?: VjpRule<P> } = {
  conv2d: (g, [x, w], _o, p) => [inputAdjoint(g, w!, x!.shape, p), weightGrad(x!, g, w!, p)],
  convTranspose2d: (g, [x, w], _o, p) => [
    bind("conv2d", [g, w!], geom(p)),
    weightGrad(g, x!, w!, p),
  ],
  conv2dWeightGrad: (g, [x, dy], _o, p) => [
    inputAdjoint(dy!, g, x!.shape, p),
    bind("conv2d", [x!, g], geom(p)),
  ],
  maxPool2d: (g, [x], _o, p) => {
    const flat = flatArgmax(x!, p);
    const dx = bind("scatterAdd", [
      zeros([x!.size], { dtype: x!.dtype, backend: x!.backend.name }),
      flat,
      reshape(g, [g.size]),
    ], {
      axis: 0,
    });
    return [reshape(dx, x!.shape)];
  },
  resample2d: (g, _i, _o, p) => [bind("resample2d", [g], { ...p, transpose: !p.transpose })],
  roiAlign: (g, [x, boxes], _o, p) => [
    bind("roiAlignGrad", [g, boxes!], { ...roiParams(p), inputShape: x!.shape }),
    null,
  ],
  roiAlignGrad: (g, [_g, boxes], _o, p) => [bind("roiAlign", [g, boxes!], roiParams(p)), null],
};

/** JVP rules of the vision primitives. */
export const visionJvpRules: { [P in VisionOp]?: JvpRule<P> } = {
  conv2d: bilinear("conv2d"),
  convTranspose2d: bilinear("convTranspose2d"),
  conv2dWeightGrad: bilinear("conv2dWeightGrad"),
  maxPool2d: ([x], [t], out, p) => {
    if (!t) return null;
    const picked = bind("gather", [reshape(t, [t.size]), flatArgmax(x!, p)], { axis: 0 });
    return reshape(picked, out.shape);
  },
  resample2d: (_p, [t], _o, p) => (t ? bind("resample2d", [t], p) : null),
  roiAlign: ([_x, boxes], [t], _o, p) => (t ? bind("roiAlign", [t, boxes!], p) : null),
  roiAlignGrad: ([_g, boxes], [t], _o, p) => (t ? bind("roiAlignGrad", [t, boxes!], p) : null),
};
