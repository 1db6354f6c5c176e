/**
 * Gradient-table rows of the vision ops (spread into PRIMITIVE_ROWS of _grad_rows.ts, so they
 * run in float64 on the CPU in grad_table_test.ts and in float32 on webgpu in
 * tests/webgpu/grad_table_test.ts). Shapes are tiny and parameters random: strides, paddings,
 * dilations, groups, ceil mode, count_include_pad, both interpolation modes and alignments,
 * RoIAlign's sampling modes with boxes partly outside the image. Constant operands (boxes) are
 * built inside the function with the input's dtype on the default backend.
 * @module
 */
import fc from "fast-check";
import {
  adaptiveAvgPool2d,
  avgPool2d,
  conv2d,
  convTranspose2d,
  interpolate,
  maxPool2d,
  roiAlign,
  type Tensor,
  tensor,
} from "../../mod.ts";
import type { Row } from "./_grad_rows.ts";

type Setup = Row["setup"] extends fc.Arbitrary<infer S> ? S : never;
/** A per-axis pair from a function of the axis. */
const two = (f: (i: number) => number): [number, number] => [f(0), f(1)];

const str = (x: unknown) => JSON.stringify(x);
const small = (min: number, max: number) => fc.integer({ min, max });
const pair = (min: number, max: number) => fc.tuple(small(min, max), small(min, max));

const convSetup: fc.Arbitrary<Setup> = fc.record({
  n: small(1, 2),
  cg: small(1, 2),
  og: small(1, 2),
  groups: small(1, 2),
  k: pair(1, 3),
  stride: pair(1, 2),
  padding: pair(0, 1),
  dilation: pair(1, 2),
  extra: pair(0, 2),
  bias: fc.boolean(),
}).map(({ n, cg, og, groups, k, stride, padding, dilation, extra, bias }) => {
  // Input just large enough for the dilated kernel, plus 0–2.
  const hw = two((i) => Math.max(1, dilation[i]! * (k[i]! - 1) + 1 - 2 * padding[i]! + extra[i]!));
  const x = [n, cg * groups, hw[0]!, hw[1]!], w = [og * groups, cg, k[0], k[1]];
  const opts = { stride, padding, dilation, groups };
  return {
    desc: `x${str(x)} w${str(w)} bias=${bias} ${str(opts)}`,
    shapes: bias ? [x, w, [og * groups]] : [x, w],
    fn: (xv: Tensor, wv: Tensor, b?: Tensor) => conv2d(xv, wv, b, opts),
  };
});

const convTSetup: fc.Arbitrary<Setup> = fc.record({
  n: small(1, 2),
  cg: small(1, 2),
  og: small(1, 2),
  groups: small(1, 2),
  k: pair(1, 3),
  stride: pair(1, 3),
  padding: pair(0, 1),
  dilation: pair(1, 2),
  hw: pair(1, 3),
  op: pair(0, 2),
  bias: fc.boolean(),
}).map(({ n, cg, og, groups, k, stride, padding, dilation, hw, op, bias }) => {
  const outputPadding = two((i) => Math.min(op[i]!, stride[i]! - 1));
  // Keep the output size positive: enough input for the padding to crop.
  const hin = two((i) => hw[i]! + 2 * padding[i]!);
  const x = [n, cg * groups, hin[0]!, hin[1]!], w = [cg * groups, og, k[0], k[1]];
  const opts = { stride, padding, dilation, groups, outputPadding };
  return {
    desc: `x${str(x)} w${str(w)} bias=${bias} ${str(opts)}`,
    shapes: bias ? [x, w, [og * groups]] : [x, w],
    fn: (xv: Tensor, wv: Tensor, b?: Tensor) => convTranspose2d(xv, wv, b, opts),
  };
});

function coversInput(
  hw: number[],
  k: number[],
  s: number[],
  p: number[],
  d: number[],
  ceil: boolean,
): boolean {
  return [0, 1].every((i) => {
    const span = hw[i]! + 2 * p[i]! - d[i]! * (k[i]! - 1) - 1;
    let o = (ceil ? Math.ceil(span / s[i]!) : Math.floor(span / s[i]!)) + 1;
    if (ceil && (o - 1) * s[i]! >= hw[i]! + p[i]!) o--;
    for (let j = 0; j < o; j++) {
      let hit = false;
      for (let t = 0; t < k[i]!; t++) {
        const at = j * s[i]! - p[i]! + t * d[i]!;
        if (at >= 0 && at < hw[i]!) hit = true;
      }
      if (!hit) return false;
    }
    return true;
  });
}

const poolSetup = (max: boolean): fc.Arbitrary<Setup> =>
  fc.record({
    n: small(1, 2),
    c: small(1, 2),
    k: pair(1, 3),
    stride: pair(1, 2),
    pad: pair(0, 1),
    dilation: pair(1, 2),
    extra: pair(0, 3),
    ceilMode: fc.boolean(),
    countIncludePad: fc.boolean(),
  }).map(({ n, c, k, stride, pad, dilation, extra, ceilMode, countIncludePad }) => {
    let dil: [number, number] = max ? dilation : [1, 1];
    const padding = two((i) => Math.min(pad[i]!, Math.floor((dil[i]! * (k[i]! - 1) + 1) / 2)));
    const hw = two((i) => Math.max(1, dil[i]! * (k[i]! - 1) + 1 - 2 * padding[i]! + extra[i]!));
    // A dilated window may skip over the whole input (an error): fall back to dilation 1.
    if (!coversInput(hw, k, stride, padding, dil, ceilMode)) dil = [1, 1];
    const x = [n, c, hw[0]!, hw[1]!];
    const mo = { stride, padding, dilation: dil, ceilMode };
    const ao = { stride, padding, ceilMode, countIncludePad };
    return {
      desc: `x${str(x)} k${str(k)} ${str(max ? mo : ao)}`,
      shapes: [x],
      fn: (xv: Tensor) => (max ? maxPool2d(xv, k, mo) : avgPool2d(xv, k, ao)),
    };
  });

const adaptiveSetup: fc.Arbitrary<Setup> = fc.record({
  hw: pair(1, 6),
  out: pair(1, 5),
}).map(({ hw, out }) => ({
  desc: `x[1,2,${hw}] out${str(out)}`,
  shapes: [[1, 2, hw[0], hw[1]]],
  fn: (x: Tensor) => adaptiveAvgPool2d(x, out),
}));

const interpSetup: fc.Arbitrary<Setup> = fc.record({
  hw: pair(1, 5),
  out: pair(1, 7),
  mode: fc.constantFrom("nearest", "bilinear", "bilinear-align"),
  byScale: fc.boolean(),
  scale: fc.constantFrom(0.5, 1.5, 2, 2.5),
}).map(({ hw, out, mode, byScale, scale }) => {
  const useScale = byScale && Math.floor(hw[0] * scale) >= 1 && Math.floor(hw[1] * scale) >= 1;
  const opts = {
    ...(useScale ? { scaleFactor: scale } : { size: out }),
    mode: mode === "nearest" ? "nearest" as const : "bilinear" as const,
    ...(mode === "bilinear-align" ? { alignCorners: true } : {}),
  };
  return {
    desc: `x[1,2,${hw}] ${str(opts)}`,
    shapes: [[1, 2, hw[0], hw[1]]],
    fn: (x: Tensor) => interpolate(x, opts),
  };
});

const roiSetup: fc.Arbitrary<Setup> = fc.record({
  n: small(1, 2),
  hw: pair(2, 6),
  out: pair(1, 3),
  sampling: small(0, 2),
  aligned: fc.boolean(),
  half: fc.boolean(),
  boxes: fc.array(
    fc.tuple(
      fc.nat(1),
      fc.double({ min: -3, max: 6, noNaN: true }),
      fc.double({ min: -3, max: 6, noNaN: true }),
      fc.double({ min: 0, max: 7, noNaN: true }),
      fc.double({ min: 0, max: 7, noNaN: true }),
    ),
    { minLength: 0, maxLength: 3 },
  ),
}).map(({ n, hw, out, sampling, aligned, half, boxes }) => {
  const scale = half ? 0.5 : 1;
  const rows = boxes.map(([b, x1, y1, w, h]) => [Math.min(b, n - 1), x1, y1, x1 + w, y1 + h]);
  const opts = { outputSize: out, samplingRatio: sampling, aligned, spatialScale: scale };
  return {
    desc: `x[${n},2,${hw}] boxes${str(rows)} ${str(opts)}`,
    shapes: [[n, 2, hw[0], hw[1]]],
    fn: (x: Tensor) =>
      roiAlign(x, tensor(rows.flat(), { shape: [rows.length, 5], dtype: x.dtype }), opts),
  };
});

/** The vision rows: every differentiable vision op. */
export const VISION_ROWS: Row[] = [
  { name: "conv2d", arity: 3, domains: ["real", "real", "real"], order: 2, setup: convSetup },
  {
    name: "convTranspose2d",
    arity: 3,
    domains: ["real", "real", "real"],
    order: 2,
    setup: convTSetup,
  },
  { name: "maxPool2d", arity: 1, domains: ["distinct"], order: 2, setup: poolSetup(true) },
  { name: "avgPool2d", arity: 1, domains: ["real"], order: 2, setup: poolSetup(false) },
  { name: "adaptiveAvgPool2d", arity: 1, domains: ["real"], order: 2, setup: adaptiveSetup },
  { name: "interpolate", arity: 1, domains: ["real"], order: 2, setup: interpSetup },
  { name: "roiAlign", arity: 1, domains: ["real"], order: 2, setup: roiSetup },
];
