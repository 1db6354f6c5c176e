/**
 * Shape rules of the vision primitives (spread into the table of shape_rules.ts). The
 * checks are exported with an `op` argument so the public ops (tensor/ops/vision.ts) run the
 * same validation under their own names before binding.
 * @module
 */
import { type DType, isFloat } from "./dtype.ts";
import { fmtShape, fmtValue, TesseraError } from "./errors.ts";
import type { PrimParams, VisionOp } from "./primitives.ts";
import type { Aval, ShapeRule } from "./aval.ts";
import {
  type Conv2dParams,
  convOutSize,
  convTransposeOutSize,
  type MaxPool2dParams,
  type Pair,
  poolOutSize,
  type Resample1d,
  type RoiAlignParams,
} from "./vision_params.ts";

function arity(op: string, inputs: readonly Aval[], n: number): void {
  if (inputs.length !== n) throw new TesseraError(op, `expected ${n} inputs, got ${inputs.length}`);
}

/** Checks a float NCHW input. */
export function checkNchw(op: string, x: Aval, name = "x"): void {
  if (x.shape.length !== 4) {
    throw new TesseraError(
      op,
      `${name} must be NCHW (rank 4, [N, C, H, W]), got shape ${fmtShape(x.shape)}`,
    );
  }
  checkFloat(op, x.dtype, name);
}

function checkFloat(op: string, d: DType, name: string): void {
  if (!isFloat(d)) throw new TesseraError(op, `${name} must be float32 or float64, got ${d}`);
}

function sameDtype(op: string, a: Aval, b: Aval, an: string, bn: string): void {
  if (a.dtype !== b.dtype) {
    throw new TesseraError(
      op,
      `${an} is ${a.dtype} but ${bn} is ${b.dtype} (no implicit promotion)`,
    );
  }
}

/** Checks a per-axis integer pair (each ≥ `min`). */
export function checkPair(op: string, name: string, v: Pair, min: number): void {
  const ok = Array.isArray(v) && v.length === 2 &&
    v.every((e) => typeof e === "number" && Number.isInteger(e) && e >= min);
  if (!ok) {
    throw new TesseraError(op, `${name} must be two integers >= ${min}, got ${fmtValue(v)}`);
  }
}

function checkGroups(op: string, groups: number): void {
  if (!Number.isInteger(groups) || groups < 1) {
    throw new TesseraError(op, `groups must be an integer >= 1, got ${fmtValue(groups)}`);
  }
}

function checkConvGeometry(op: string, p: Conv2dParams): void {
  checkPair(op, "stride", p.stride, 1);
  checkPair(op, "padding", p.padding, 0);
  checkPair(op, "dilation", p.dilation, 1);
  checkGroups(op, p.groups);
}

const AX = ["height", "width"];

/** Validates conv2d(x [N,C,H,W], w [O,C/groups,kh,kw]) and returns the output aval. */
export function conv2dShape(op: string, x: Aval, w: Aval, p: Conv2dParams): Aval {
  checkNchw(op, x);
  if (w.shape.length !== 4) {
    throw new TesseraError(
      op,
      `weight must be [out_channels, in_channels/groups, kh, kw], got ${fmtShape(w.shape)}`,
    );
  }
  sameDtype(op, x, w, "x", "weight");
  checkConvGeometry(op, p);
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [o, cg, kh, kw] = w.shape as [number, number, number, number];
  if (c !== cg * p.groups) {
    throw new TesseraError(
      op,
      `x has ${c} channels but weight ${fmtShape(w.shape)} with groups=${p.groups} expects ${
        cg * p.groups
      } (in_channels/groups = ${cg})`,
    );
  }
  if (o % p.groups !== 0) {
    throw new TesseraError(
      op,
      `out_channels ${o} of weight ${fmtShape(w.shape)} is not divisible by groups=${p.groups}`,
    );
  }
  if (kh < 1 || kw < 1) throw new TesseraError(op, `empty kernel ${fmtShape(w.shape)}`);
  const out = [h, wd].map((s, i) => {
    const k = [kh, kw][i]!;
    const ek = p.dilation[i]! * (k - 1) + 1;
    if (ek > s + 2 * p.padding[i]!) {
      throw new TesseraError(
        op,
        `kernel ${AX[i]} ${k} (dilated ${ek}) is larger than the padded input ${AX[i]} ${
          s + 2 * p.padding[i]!
        } (x ${fmtShape(x.shape)}, padding ${p.padding[i]})`,
      );
    }
    return convOutSize(s, k, p.stride[i]!, p.padding[i]!, p.dilation[i]!);
  });
  return { shape: [n, o, out[0]!, out[1]!], dtype: x.dtype };
}

/** Validates convTranspose2d(x [N,Cin,H,W], w [Cin,Cout/groups,kh,kw]). */
export function convTranspose2dShape(
  op: string,
  x: Aval,
  w: Aval,
  p: PrimParams["convTranspose2d"],
): Aval {
  checkNchw(op, x);
  if (w.shape.length !== 4) {
    throw new TesseraError(
      op,
      `weight must be [in_channels, out_channels/groups, kh, kw], got ${fmtShape(w.shape)}`,
    );
  }
  sameDtype(op, x, w, "x", "weight");
  checkConvGeometry(op, p);
  checkPair(op, "outputPadding", p.outputPadding, 0);
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [ci, og, kh, kw] = w.shape as [number, number, number, number];
  if (c !== ci) {
    throw new TesseraError(
      op,
      `x has ${c} channels but weight ${fmtShape(w.shape)} expects ${ci} (in_channels)`,
    );
  }
  if (c % p.groups !== 0) {
    throw new TesseraError(op, `in_channels ${c} is not divisible by groups=${p.groups}`);
  }
  if (kh < 1 || kw < 1) throw new TesseraError(op, `empty kernel ${fmtShape(w.shape)}`);
  const out = [h, wd].map((s, i) => {
    if (p.outputPadding[i]! >= p.stride[i]!) {
      throw new TesseraError(
        op,
        `outputPadding ${fmtValue(p.outputPadding)} must be smaller than stride ${
          fmtValue(p.stride)
        }`,
      );
    }
    const k = [kh, kw][i]!;
    const o = convTransposeOutSize(
      s,
      k,
      p.stride[i]!,
      p.padding[i]!,
      p.dilation[i]!,
      p.outputPadding[i]!,
    );
    if (o < 1 && s > 0) {
      throw new TesseraError(
        op,
        `output ${AX[i]} ${o} is not positive (x ${fmtShape(x.shape)}, kernel ${k}, stride ${
          p.stride[i]
        }, padding ${p.padding[i]})`,
      );
    }
    return Math.max(o, 0);
  });
  return { shape: [n, og * p.groups, out[0]!, out[1]!], dtype: x.dtype };
}

function conv2dWeightGradShape(
  x: Aval,
  dy: Aval,
  p: PrimParams["conv2dWeightGrad"],
): Aval {
  const op = "conv2dWeightGrad";
  checkNchw(op, x);
  checkNchw(op, dy, "dy");
  sameDtype(op, x, dy, "x", "dy");
  checkConvGeometry(op, p);
  checkPair(op, "kernel", p.kernel, 1);
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [n2, o, oh, ow] = dy.shape as [number, number, number, number];
  if (c % p.groups !== 0 || o % p.groups !== 0 || n !== n2) {
    throw new TesseraError(
      op,
      `x ${fmtShape(x.shape)} and dy ${fmtShape(dy.shape)} do not fit groups=${p.groups}`,
    );
  }
  const eh = convOutSize(h, p.kernel[0], p.stride[0], p.padding[0], p.dilation[0]);
  const ew = convOutSize(wd, p.kernel[1], p.stride[1], p.padding[1], p.dilation[1]);
  if (eh !== oh || ew !== ow) {
    throw new TesseraError(
      op,
      `dy ${fmtShape(dy.shape)} is not the conv2d output size [${eh},${ew}] of x ${
        fmtShape(x.shape)
      }`,
    );
  }
  return { shape: [o, c / p.groups, p.kernel[0], p.kernel[1]], dtype: x.dtype };
}

/** Validates a max pool and returns the output aval (values; the argmax rule swaps the dtype). */
export function maxPool2dShape(op: string, x: Aval, p: MaxPool2dParams): Aval {
  checkNchw(op, x);
  checkPair(op, "kernel", p.kernel, 1);
  checkPair(op, "stride", p.stride, 1);
  checkPair(op, "padding", p.padding, 0);
  checkPair(op, "dilation", p.dilation, 1);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (h === 0 || w === 0) {
    throw new TesseraError(op, `x ${fmtShape(x.shape)} has an empty spatial axis`);
  }
  const out = [h, w].map((s, i) => {
    const ek = p.dilation[i]! * (p.kernel[i]! - 1) + 1;
    if (p.padding[i]! > Math.floor(ek / 2)) {
      throw new TesseraError(
        op,
        `padding ${fmtValue(p.padding)} must be at most half the kernel ${fmtValue(p.kernel)}`,
      );
    }
    const o = poolOutSize(s, p.kernel[i]!, p.stride[i]!, p.padding[i]!, p.dilation[i]!, p.ceilMode);
    if (o < 1) {
      throw new TesseraError(
        op,
        `kernel ${fmtValue(p.kernel)} is larger than the padded input ${AX[i]} ${
          s + 2 * p.padding[i]!
        } (x ${fmtShape(x.shape)})`,
      );
    }
    // With dilation a window can skip over the whole input (PyTorch returns −∞ there and an
    // index outside the input); reject it.
    for (let j = 0; j < o && p.dilation[i]! > 1; j++) {
      const start = j * p.stride[i]! - p.padding[i]!;
      let hit = false;
      for (let t = 0; t < p.kernel[i]! && !hit; t++) {
        const at = start + t * p.dilation[i]!;
        hit = at >= 0 && at < s;
      }
      if (!hit) {
        throw new TesseraError(
          op,
          `window ${j} along ${AX[i]} covers only padding (x ${fmtShape(x.shape)}, kernel ${
            fmtValue(p.kernel)
          }, dilation ${fmtValue(p.dilation)}, padding ${fmtValue(p.padding)})`,
        );
      }
    }
    return o;
  });
  return { shape: [n, c, out[0]!, out[1]!], dtype: x.dtype };
}

/** Checks one axis of a resampling map. */
export function checkResample1d(op: string, d: Resample1d): void {
  const int = (v: unknown, min: number) => typeof v === "number" && Number.isInteger(v) && v >= min;
  let ok = int(d?.in, 0) && int(d?.out, 0);
  if (ok) {
    switch (d.kind) {
      case "nearest":
      case "linear":
        ok = typeof d.scale === "number" && Number.isFinite(d.scale) && d.scale >= 0;
        break;
      case "adaptiveAvg":
        ok = d.in > 0 || d.out === 0;
        break;
      case "avg":
        ok = int(d.kernel, 1) && int(d.stride, 1) && int(d.padding, 0);
        break;
      default:
        ok = false;
    }
  }
  if (!ok) throw new TesseraError(op, `invalid resampling axis ${fmtValue(d)}`);
}

function resample2dShape(x: Aval, p: PrimParams["resample2d"]): Aval {
  const op = "resample2d";
  checkNchw(op, x);
  checkResample1d(op, p.h);
  checkResample1d(op, p.w);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const from = p.transpose ? [p.h.out, p.w.out] : [p.h.in, p.w.in];
  const to = p.transpose ? [p.h.in, p.w.in] : [p.h.out, p.w.out];
  if (h !== from[0] || w !== from[1]) {
    throw new TesseraError(
      op,
      `x ${fmtShape(x.shape)} does not match the map's input size [${from[0]},${from[1]}]`,
    );
  }
  return { shape: [n, c, to[0]!, to[1]!], dtype: x.dtype };
}

/** Checks roiAlign's static parameters. */
export function checkRoiParams(op: string, p: RoiAlignParams): void {
  checkPair(op, "outputSize", p.outputSize, 1);
  if (typeof p.spatialScale !== "number" || !(p.spatialScale > 0) || !isFinite(p.spatialScale)) {
    throw new TesseraError(
      op,
      `spatialScale must be a finite number > 0, got ${fmtValue(p.spatialScale)}`,
    );
  }
  if (!Number.isInteger(p.samplingRatio) || p.samplingRatio < 0) {
    throw new TesseraError(
      op,
      `samplingRatio must be an integer >= 0 (0 = adaptive), got ${fmtValue(p.samplingRatio)}`,
    );
  }
  if (typeof p.aligned !== "boolean") {
    throw new TesseraError(op, `aligned must be a boolean, got ${fmtValue(p.aligned)}`);
  }
}

/** Checks boxes `[K, cols]` of the same float dtype as `like`. */
export function checkBoxes(op: string, boxes: Aval, cols: number, like?: Aval): void {
  if (boxes.shape.length !== 2 || boxes.shape[1] !== cols) {
    const what = cols === 5 ? "[K, 5] (batch index, x1, y1, x2, y2)" : "[K, 4] (x1, y1, x2, y2)";
    throw new TesseraError(op, `boxes must be ${what}, got ${fmtShape(boxes.shape)}`);
  }
  checkFloat(op, boxes.dtype, "boxes");
  if (like) sameDtype(op, like, boxes, "x", "boxes");
}

/** Validates roiAlign(x, boxes) and returns `[K, C, ph, pw]`. */
export function roiAlignShape(op: string, x: Aval, boxes: Aval, p: RoiAlignParams): Aval {
  checkNchw(op, x);
  checkBoxes(op, boxes, 5, x);
  checkRoiParams(op, p);
  return {
    shape: [boxes.shape[0]!, x.shape[1]!, p.outputSize[0], p.outputSize[1]],
    dtype: x.dtype,
  };
}

/** Vision shape rules, keyed by primitive. */
export const visionShapeRules: { [P in VisionOp]: ShapeRule<P> } = {
  conv2d(inputs, p) {
    arity("conv2d", inputs, 2);
    return conv2dShape("conv2d", inputs[0]!, inputs[1]!, p);
  },
  convTranspose2d(inputs, p) {
    arity("convTranspose2d", inputs, 2);
    return convTranspose2dShape("convTranspose2d", inputs[0]!, inputs[1]!, p);
  },
  conv2dWeightGrad(inputs, p) {
    arity("conv2dWeightGrad", inputs, 2);
    return conv2dWeightGradShape(inputs[0]!, inputs[1]!, p);
  },
  maxPool2d(inputs, p) {
    arity("maxPool2d", inputs, 1);
    return maxPool2dShape("maxPool2d", inputs[0]!, p);
  },
  maxPool2dArgmax(inputs, p) {
    arity("maxPool2dArgmax", inputs, 1);
    return { shape: maxPool2dShape("maxPool2dArgmax", inputs[0]!, p).shape, dtype: "int32" };
  },
  resample2d(inputs, p) {
    arity("resample2d", inputs, 1);
    return resample2dShape(inputs[0]!, p);
  },
  roiAlign(inputs, p) {
    arity("roiAlign", inputs, 2);
    return roiAlignShape("roiAlign", inputs[0]!, inputs[1]!, p);
  },
  roiAlignGrad(inputs, p) {
    const op = "roiAlignGrad";
    arity(op, inputs, 2);
    const [g, boxes] = inputs as [Aval, Aval];
    checkNchw(op, g, "g");
    checkBoxes(op, boxes, 5, g);
    checkRoiParams(op, p);
    const s = p.inputShape;
    const ok = s.length === 4 && s.every((d) => Number.isInteger(d) && d >= 0) &&
      g.shape[0] === boxes.shape[0] && g.shape[1] === s[1] &&
      g.shape[2] === p.outputSize[0] && g.shape[3] === p.outputSize[1];
    if (!ok) {
      throw new TesseraError(
        op,
        `g ${fmtShape(g.shape)} does not fit boxes ${fmtShape(boxes.shape)}, input ${
          fmtShape(s)
        } and output size ${fmtValue(p.outputSize)}`,
      );
    }
    return { shape: [...s], dtype: g.dtype };
  },
  nmsKeep(inputs, p) {
    arity("nmsKeep", inputs, 1);
    checkBoxes("nmsKeep", inputs[0]!, 4);
    if (typeof p.iouThreshold !== "number" || Number.isNaN(p.iouThreshold)) {
      throw new TesseraError("nmsKeep", `iouThreshold must be a number, got ${p.iouThreshold}`);
    }
    return { shape: [inputs[0]!.shape[0]!], dtype: "bool" };
  },
};
