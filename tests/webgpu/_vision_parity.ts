/**
 * CPU-vs-WebGPU parity cases of the vision primitives (spread into the table of
 * parity_test.ts): grouped/strided/dilated convolutions and their adjoints, max pooling with
 * NaN and ties, every resampling kind forwards and transposed, RoIAlign and its adjoint with
 * boxes partly outside the image, and NMS suppression over several bitmask words.
 * @module
 */
import { type PrimParams, type Tensor, tensor } from "../../mod.ts";
import type { VisionOp } from "../../tensor/primitives.ts";
import type { Resample1d } from "../../tensor/vision_params.ts";
import type { Gen, Tol } from "./_parity.ts";

interface Case<P extends VisionOp> {
  inputs: (g: Gen) => Tensor[];
  params: PrimParams[P];
  tol?: Tol;
  label?: string;
}

const SUM: Tol = { rtol: 1e-5, atol: 1e-4 };
/** Weighted sums: the CPU accumulates in float64. */
const ROI: Tol = { rtol: 1e-5, atol: 1e-6 };
const geo = (
  stride: [number, number],
  padding: [number, number],
  dilation: [number, number],
  groups: number,
) => ({ stride, padding, dilation, groups });

const BOXES = [
  [0, 1.5, 0.5, 6.25, 7.0],
  [1, -2.0, -1.5, 3.0, 2.5],
  [1, 4.0, 3.0, 4.2, 3.1],
  [0, 0.0, 0.0, 9.0, 8.0],
  [0, 7.5, 6.0, 12.0, 11.0],
  [1, 2.0, 2.0, 2.0, 5.0],
];
const boxes = () => tensor(BOXES.flat(), { shape: [BOXES.length, 5] });
const roi = (aligned: boolean, samplingRatio: number) => ({
  outputSize: [3, 2] as const,
  spatialScale: 0.75,
  samplingRatio,
  aligned,
});

function nmsBoxes(g: Gen, k: number): Tensor {
  const xy = g.f([k, 2], 0, 40);
  const wh = g.f([k, 2], 2, 15);
  const a = xy.dataSync(), b = wh.dataSync();
  const out = new Float32Array(4 * k);
  for (let i = 0; i < k; i++) {
    out[4 * i] = a[2 * i]!;
    out[4 * i + 1] = a[2 * i + 1]!;
    out[4 * i + 2] = a[2 * i]! + b[2 * i]!;
    out[4 * i + 3] = a[2 * i + 1]! + b[2 * i + 1]!;
  }
  return tensor(out, { shape: [k, 4] });
}

const avg = (n: number, out: number, k: number, s: number, p: number, c: boolean): Resample1d => ({
  kind: "avg",
  in: n,
  out,
  kernel: k,
  stride: s,
  padding: p,
  countIncludePad: c,
});

const RESAMPLE: [string, Resample1d, Resample1d, number[]][] = [
  ["avg", avg(9, 5, 3, 2, 1, true), avg(7, 4, 2, 2, 1, false), [2, 3, 9, 7]],
  [
    "adaptive",
    { kind: "adaptiveAvg", in: 16, out: 6 },
    { kind: "adaptiveAvg", in: 7, out: 3 },
    [1, 2, 16, 7],
  ],
  [
    "nearest",
    { kind: "nearest", in: 5, out: 9, scale: 0 },
    { kind: "nearest", in: 6, out: 10, scale: 1.7 },
    [1, 3, 5, 6],
  ],
  [
    "bilinear",
    { kind: "linear", in: 5, out: 11, scale: 0, alignCorners: false },
    { kind: "linear", in: 8, out: 3, scale: 0, alignCorners: true },
    [2, 2, 5, 8],
  ],
];

/** Parity cases of every vision primitive. */
export const VISION_PARITY: { [P in VisionOp]: Case<P>[] } = {
  conv2d: [
    {
      inputs: (g) => [g.f([2, 6, 9, 8]), g.f([4, 3, 3, 3])],
      params: geo([2, 1], [1, 2], [1, 2], 2),
      tol: SUM,
      label: "grouped, strided, dilated",
    },
    {
      inputs: (g) => [g.f([2, 5, 4, 3]), g.f([7, 5, 1, 1])],
      params: geo([1, 1], [0, 0], [1, 1], 1),
      tol: SUM,
      label: "pointwise",
    },
  ],
  convTranspose2d: [
    {
      inputs: (g) => [g.f([2, 4, 5, 6]), g.f([4, 3, 3, 3])],
      params: { ...geo([2, 2], [1, 1], [1, 1], 1), outputPadding: [1, 1] },
      tol: SUM,
    },
    {
      inputs: (g) => [g.f([1, 6, 4, 5]), g.f([6, 2, 3, 2])],
      params: { ...geo([3, 2], [2, 0], [2, 1], 3), outputPadding: [2, 1] },
      tol: SUM,
      label: "grouped, dilated",
    },
  ],
  conv2dWeightGrad: [
    {
      inputs: (g) => [g.f([2, 4, 7, 6]), g.f([2, 6, 4, 4])],
      params: { ...geo([2, 2], [1, 1], [1, 1], 2), kernel: [3, 2] },
      tol: SUM,
    },
    {
      inputs: (g) => [g.f([3, 3, 5, 5]), g.f([3, 2, 5, 5])],
      params: { ...geo([1, 1], [0, 0], [1, 1], 1), kernel: [1, 1] },
      tol: SUM,
      label: "pointwise",
    },
    {
      inputs: (g) => [g.f([2, 4, 20, 20]), g.f([2, 6, 20, 20])],
      params: { ...geo([1, 1], [1, 1], [1, 1], 2), kernel: [3, 3] },
      tol: SUM,
      label: "split-K (3 slices, last padded)",
    },
  ],
  maxPool2d: [
    {
      inputs: (g) => [g.special([2, 3, 9, 8])],
      params: { kernel: [3, 2], stride: [2, 2], padding: [1, 1], dilation: [1, 1], ceilMode: true },
      label: "special values",
    },
    {
      inputs: (g) => [g.f([1, 2, 11, 10])],
      params: {
        kernel: [3, 3],
        stride: [1, 2],
        padding: [1, 0],
        dilation: [2, 2],
        ceilMode: false,
      },
    },
  ],
  maxPool2dArgmax: [
    {
      inputs: (g) => [g.special([2, 3, 9, 8])],
      params: { kernel: [3, 2], stride: [2, 2], padding: [1, 1], dilation: [1, 1], ceilMode: true },
      label: "special values",
    },
    {
      inputs: (g) => [g.special([1, 2, 11, 10])],
      params: {
        kernel: [2, 3],
        stride: [1, 2],
        padding: [1, 0],
        dilation: [2, 2],
        ceilMode: false,
      },
    },
  ],
  resample2d: RESAMPLE.flatMap(([label, h, w, shape]) =>
    [false, true].map((transpose) => ({
      inputs: (g: Gen) => [
        g.f(transpose ? [shape[0]!, shape[1]!, h.out, w.out] : shape),
      ],
      params: { h, w, transpose },
      tol: { rtol: 2e-6, atol: 1e-6 },
      label: `${label}${transpose ? " transposed" : ""}`,
    }))
  ),
  roiAlign: [
    {
      inputs: (g) => [g.f([2, 3, 8, 9]), boxes()],
      params: roi(true, 0),
      tol: ROI,
      label: "aligned, adaptive",
    },
    {
      inputs: (g) => [g.f([2, 3, 8, 9]), boxes()],
      params: roi(false, 2),
      tol: ROI,
      label: "legacy, 2",
    },
    {
      inputs: (g) => [g.f([2, 21, 8, 9]), boxes()],
      params: roi(false, 0),
      tol: ROI,
      label: "21 channels (two channel blocks)",
    },
  ],
  roiAlignGrad: [
    {
      inputs: (g) => [g.f([6, 3, 3, 2]), boxes()],
      params: { ...roi(true, 0), inputShape: [2, 3, 8, 9] },
      tol: { rtol: 1e-5, atol: 1e-6 },
      label: "aligned, adaptive",
    },
    {
      inputs: (g) => [g.f([6, 3, 3, 2]), boxes()],
      params: { ...roi(false, 2), inputShape: [2, 3, 8, 9] },
      tol: { rtol: 1e-5, atol: 1e-6 },
      label: "legacy, 2",
    },
    {
      inputs: (g) => [g.f([6, 21, 3, 2]), boxes()],
      params: { ...roi(true, 1), inputShape: [2, 21, 8, 9] },
      tol: { rtol: 1e-5, atol: 1e-6 },
      label: "21 channels (two channel blocks)",
    },
  ],
  nmsKeep: [
    { inputs: (g) => [nmsBoxes(g, 70)], params: { iouThreshold: 0.3 } },
    { inputs: (g) => [nmsBoxes(g, 9)], params: { iouThreshold: 0.7 } },
  ],
};
