/**
 * The PyTorch/torchvision vision fixtures (tests/fixtures/vision_ops.safetensors, made by
 * `python3 tools/make_vision_fixtures.py`) as a reusable check: `visionFixtureTests(backend)`
 * registers one test per case, running the tessera op on `backend` (float64 cases only on
 * the CPU) and comparing with torch's outputs.
 * @module
 */
import assert from "node:assert/strict";
import * as t from "../../mod.ts";
import type { Tensor } from "../../mod.ts";
import { decodeBoxes, encodeBoxes } from "../../models/mod.ts";
import type { SafetensorsEntry } from "../../tensor/safetensors.ts";
import { type FixtureCase as Case, loadFixtureFile } from "./_fixture_file.ts";

// deno-lint-ignore no-explicit-any
type Args = any;
type Runner = (x: Tensor[], a: Args) => Tensor | Tensor[] | Promise<Tensor | Tensor[]>;

const orNull = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

/** torch → tessera: one runner per fixture op. */
export const RUNNERS: Record<string, Runner> = {
  conv2d: ([x, w, b], a) =>
    t.conv2d(x!, w!, b, {
      stride: a.stride,
      padding: a.padding,
      dilation: a.dilation,
      groups: a.groups,
    }),
  convTranspose2d: ([x, w, b], a) =>
    t.convTranspose2d(x!, w!, b, {
      stride: a.stride,
      padding: a.padding,
      outputPadding: a.outputPadding,
      dilation: a.dilation,
      groups: a.groups,
    }),
  maxPool2d: ([x], a) => {
    const o = {
      stride: orNull(a.stride),
      padding: a.padding,
      dilation: a.dilation,
      ceilMode: a.ceilMode,
    };
    return [t.maxPool2d(x!, a.kernel, o), t.maxPool2dIndices(x!, a.kernel, o)];
  },
  avgPool2d: ([x], a) =>
    t.avgPool2d(x!, a.kernel, {
      stride: orNull(a.stride),
      padding: a.padding,
      ceilMode: a.ceilMode,
      countIncludePad: a.countIncludePad,
    }),
  adaptiveAvgPool2d: ([x], a) => t.adaptiveAvgPool2d(x!, a.outputSize),
  interpolate: ([x], a) =>
    t.interpolate(x!, {
      size: a.size,
      scaleFactor: a.scaleFactor,
      mode: a.mode,
      alignCorners: a.alignCorners,
    }),
  roiAlign: ([x, boxes], a) =>
    t.roiAlign(x!, boxes!, {
      outputSize: a.outputSize,
      spatialScale: a.spatialScale,
      samplingRatio: a.samplingRatio,
      aligned: a.aligned,
    }),
  boxIou: ([a, b]) => t.boxIou(a!, b!),
  boxArea: ([b]) => t.boxArea(b!),
  clipBoxes: ([b], a) => t.clipBoxes(b!, a.size),
  nms: ([b, s], a) => t.nms(b!, s!, a.iouThreshold),
  batchedNms: ([b, s, i], a) => t.batchedNms(b!, s!, i!, a.iouThreshold),
  encodeBoxes: ([b, g], a) => encodeBoxes(b!, g!, { weights: a.weights }),
  decodeBoxes: ([d, b], a) => decodeBoxes(d!, b!, { weights: a.weights, scaleClamp: a.scaleClamp }),
};

interface Tol {
  rtol: number;
  atol: number;
}

/** float32: sums are accumulated in a different order than PyTorch's (GEMM blocking etc.). */
const F32: Record<string, Tol> = {
  conv2d: { rtol: 1e-5, atol: 2e-5 },
  convTranspose2d: { rtol: 1e-5, atol: 2e-5 },
  roiAlign: { rtol: 1e-5, atol: 1e-5 },
  encodeBoxes: { rtol: 1e-5, atol: 1e-5 },
  decodeBoxes: { rtol: 1e-5, atol: 1e-4 },
};
const F32_DEFAULT: Tol = { rtol: 1e-6, atol: 1e-6 };
const F64: Tol = { rtol: 1e-12, atol: 1e-13 };

const { entries, cases } = loadFixtureFile("vision_ops.safetensors");

/** Every case of the file: `[name, case]`. */
export const CASES: [string, Case][] = cases;

/** The stored tensor `name`. */
export function entry(name: string): SafetensorsEntry {
  return entries[name]!;
}

async function compare(
  name: string,
  op: string,
  got: Tensor,
  want: SafetensorsEntry,
  gpu: boolean,
) {
  assert.equal(got.dtype, want.dtype, `${name}: dtype`);
  assert.deepEqual([...got.shape], want.shape, `${name}: shape`);
  const g = await got.data();
  const w = want.data;
  if (want.dtype !== "float32" && want.dtype !== "float64") {
    assert.deepEqual([...g], [...w], `${name}: values`);
    return;
  }
  let { rtol, atol } = want.dtype === "float64" ? F64 : F32[op] ?? F32_DEFAULT;
  if (gpu) [rtol, atol] = [Math.max(rtol, 2e-6), Math.max(atol, 2e-6)];
  for (let i = 0; i < w.length; i++) {
    const a = g[i]!, b = w[i]!;
    if (Number.isNaN(b) ? Number.isNaN(a) : a === b) continue;
    if (!(Math.abs(a - b) <= atol + rtol * Math.abs(b))) {
      assert.fail(
        `${name}: element ${i} is ${a}, torch says ${b} (|diff| ${
          Math.abs(a - b)
        } > atol ${atol} + rtol ${rtol}·|ref|)`,
      );
    }
  }
}

/** Runs case `name` on `backend` and compares every output. */
export async function runCase(name: string, c: Case, backend: string): Promise<void> {
  const inputs = c.inputs.map((k) => {
    const e = entries[`${name}/${k}`]!;
    return t.tensor(e.data, { shape: e.shape, dtype: e.dtype, backend });
  });
  let outs: Tensor[] = [];
  try {
    const out = await RUNNERS[c.op]!(inputs, c.args);
    outs = Array.isArray(out) ? out : [out];
    assert.equal(outs.length, c.outputs.length);
    for (const [i, k] of c.outputs.entries()) {
      await compare(`${name}/${k}`, c.op, outs[i]!, entries[`${name}/${k}`]!, backend !== "cpu");
    }
  } finally {
    for (const x of [...inputs, ...outs]) x.dispose();
  }
}

/** True when a case can run on a float32-only backend. */
export function float32Only(name: string, c: Case): boolean {
  return c.inputs.every((k) => entries[`${name}/${k}`]!.dtype !== "float64");
}
