/**
 * Compares tessera's ops with PyTorch 1.13 reference outputs stored in
 * tests/fixtures/torch_ops.safetensors (made by `python3 tools/make_fixtures.py`; PyTorch is
 * not needed to run this test). Each metadata key `case:<name>` describes one case as JSON
 * `{op, args, inputs, outputs}`; the tensors are `<name>/<input or output>`.
 */
import assert from "node:assert/strict";
import * as t from "../../mod.ts";
import type { DType, Tensor } from "../../mod.ts";
import type { SafetensorsEntry } from "../../tensor/safetensors.ts";
import { loadFixtureFile } from "./_fixture_file.ts";

// deno-lint-ignore no-explicit-any
type Args = any;
/** Runs one op on the case's inputs (in file order) and returns its outputs in order. */
type Runner = (x: Tensor[], a: Args) => Tensor | Tensor[];

const unary = (f: (x: Tensor) => Tensor): Runner => ([x]) => f(x!);
const binary = (f: (a: Tensor, b: Tensor) => Tensor): Runner => ([a, b]) => f(a!, b!);
const axis = (a: Args): number | number[] | undefined => a.axis ?? undefined;

const RUNNERS: Record<string, Runner> = {
  neg: unary(t.neg),
  abs: unary(t.abs),
  sign: unary(t.sign),
  exp: unary(t.exp),
  log: unary(t.log),
  log1p: unary(t.log1p),
  expm1: unary(t.expm1),
  sqrt: unary(t.sqrt),
  rsqrt: unary(t.rsqrt),
  reciprocal: unary(t.reciprocal),
  sin: unary(t.sin),
  cos: unary(t.cos),
  tanh: unary(t.tanh),
  erf: unary(t.erf),
  floor: unary(t.floor),
  ceil: unary(t.ceil),
  round: unary(t.round),
  relu: unary(t.relu),
  sigmoid: unary(t.sigmoid),
  silu: unary(t.silu),
  gelu: ([x], a) => t.gelu(x!, { approximate: a.approximate }),
  add: binary(t.add),
  sub: binary(t.sub),
  mul: binary(t.mul),
  div: binary(t.div),
  pow: binary(t.pow),
  maximum: binary(t.maximum),
  minimum: binary(t.minimum),
  equal: binary(t.equal),
  notEqual: binary(t.notEqual),
  less: binary(t.less),
  lessEqual: binary(t.lessEqual),
  greater: binary(t.greater),
  greaterEqual: binary(t.greaterEqual),
  where: ([c, x, y]) => t.where(c!, x!, y!),
  clamp: ([x], a) => t.clip(x!, a.min, a.max),
  cast: ([x], a) => t.cast(x!, a.dtype as DType),
  sum: ([x], a) => t.sum(x!, axis(a), a.keepdims),
  max: ([x], a) => t.max(x!, axis(a), a.keepdims),
  min: ([x], a) => t.min(x!, axis(a), a.keepdims),
  mean: ([x], a) => t.mean(x!, axis(a), a.keepdims),
  argmax: ([x], a) => t.argmax(x!, a.axis ?? undefined, a.keepdims),
  argmin: ([x], a) => t.argmin(x!, a.axis ?? undefined, a.keepdims),
  var: ([x], a) => t.variance(x!, axis(a), { keepdims: a.keepdims, correction: a.correction }),
  logsumexp: ([x], a) => t.logsumexp(x!, axis(a), a.keepdims),
  cumsum: ([x], a) => t.cumsum(x!, a.axis, { reverse: a.reverse }),
  softmax: ([x], a) => t.softmax(x!, a.axis),
  logSoftmax: ([x], a) => t.logSoftmax(x!, a.axis),
  layerNorm: ([x, w, b], a) => t.layerNorm(x!, w, b, { eps: a.eps, axes: a.axes }),
  matmul: ([x, y], a) => t.matmul(x!, y!, { transB: a.transB ?? false }),
  einsum: (xs, a) => t.einsum(a.equation, ...xs),
  permute: ([x], a) => t.permute(x!, a.perm),
  slice: ([x], a) => t.slice(x!, a.specs),
  pad: ([x], a) => t.pad(x!, a.widths, { value: a.value }),
  concat: (xs, a) => t.concat(xs, a.axis),
  stack: (xs, a) => t.stack(xs, a.axis),
  takeAlongAxis: ([x, i], a) => t.takeAlongAxis(x!, i!, a.axis),
  gather: ([x, i], a) => t.gather(x!, i!, a.axis),
  oneHot: ([i], a) => t.oneHot(i!, a.numClasses, { dtype: a.dtype }),
  sort: ([x], a) => t.sort(x!, a.axis, { descending: a.descending }),
  argsort: ([x], a) => t.argsort(x!, a.axis, { descending: a.descending }),
  topk: ([x], a) => {
    const { values, indices } = t.topk(x!, a.k, a.axis, { largest: a.largest });
    return [values, indices];
  },
};

interface Tol {
  rtol: number;
  atol: number;
}
/**
 * float32: rtol 1e-5 / atol 1e-6 by default. That is ~100 ulp, generous on purpose: PyTorch's
 * vectorised float32 kernels (SLEEF exp/log/erf/…) are within 1-2 ulp, tessera's CPU kernels
 * compute in double and round, and composite ops (softmax, gelu, …) round at every step.
 * The absolute floor covers outputs near zero, e.g. gelu(x) for x < -4 where `1 + erf(x/√2)`
 * cancels (both libraries are ~0.5% off there in relative terms, ~1e-7 absolutely).
 */
const F32: Tol = { rtol: 1e-5, atol: 1e-6 };
const F32_LOOSE: Record<string, Tol> = {
  // Sums: PyTorch (vectorised / pairwise / BLAS blocking) and tessera add in different orders,
  // so results that cancel to near zero carry a few ulp of the largest partial sum.
  sum: { rtol: 1e-5, atol: 1e-5 },
  mean: { rtol: 1e-5, atol: 1e-5 },
  var: { rtol: 1e-5, atol: 1e-5 },
  cumsum: { rtol: 1e-5, atol: 1e-5 },
  matmul: { rtol: 1e-5, atol: 1e-5 },
  einsum: { rtol: 1e-5, atol: 1e-5 },
  // Sum-based composites: log(sum(exp)) and mean/variance-normalised values inherit the above.
  logsumexp: { rtol: 1e-5, atol: 1e-5 },
  logSoftmax: { rtol: 1e-5, atol: 1e-5 },
  layerNorm: { rtol: 1e-5, atol: 1e-5 },
};
/** float64: both sides compute in double; differences seen are 1-4 ulp. */
const F64: Tol = { rtol: 1e-12, atol: 1e-14 };
const F64_LOOSE: Record<string, Tol> = {
  matmul: { rtol: 1e-12, atol: 1e-13 },
  var: { rtol: 1e-12, atol: 1e-13 },
  sum: { rtol: 1e-12, atol: 1e-13 },
};

function tolFor(op: string, dtype: DType): Tol {
  return dtype === "float64" ? F64_LOOSE[op] ?? F64 : F32_LOOSE[op] ?? F32;
}

const { entries, cases } = loadFixtureFile("torch_ops.safetensors");

function compare(name: string, op: string, got: Tensor, want: SafetensorsEntry): void {
  assert.equal(got.dtype, want.dtype, `${name}: dtype`);
  assert.deepEqual([...got.shape], want.shape, `${name}: shape`);
  const g = got.dataSync();
  const w = want.data;
  if (want.dtype !== "float32" && want.dtype !== "float64") {
    assert.deepEqual([...g], [...w], `${name}: values`);
    return;
  }
  const { rtol, atol } = tolFor(op, want.dtype);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < w.length; i++) {
    const a = g[i]!, b = w[i]!;
    if (Number.isNaN(b) ? Number.isNaN(a) : a === b) continue;
    const excess = Math.abs(a - b) - (atol + rtol * Math.abs(b));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess)) [worst, worstExcess] = [i, excess];
  }
  if (worst >= 0) {
    assert.fail(
      `${name}: element ${worst} is ${g[worst]}, torch says ${w[worst]} ` +
        `(|diff| ${Math.abs(g[worst]! - w[worst]!)} > atol ${atol} + rtol ${rtol}·|ref|)`,
    );
  }
}

Deno.test("torch fixtures: the file covers at least 35 ops and every op has a runner", () => {
  const ops = new Set(cases.map(([, c]) => c.op));
  assert.ok(ops.size >= 35, `only ${ops.size} ops`);
  assert.deepEqual([...ops].filter((op) => !RUNNERS[op]), []);
});

for (const [name, c] of cases) {
  Deno.test(`torch fixtures: ${name} (${c.op})`, () => {
    const inputs = c.inputs.map((k) => {
      const e = entries[`${name}/${k}`]!;
      return t.tensor(e.data, { shape: e.shape, dtype: e.dtype });
    });
    const out = RUNNERS[c.op]!(inputs, c.args);
    const outs = Array.isArray(out) ? out : [out];
    assert.equal(outs.length, c.outputs.length);
    try {
      c.outputs.forEach((k, i) =>
        compare(`${name}/${k}`, c.op, outs[i]!, entries[`${name}/${k}`]!)
      );
    } finally {
      for (const x of [...inputs, ...outs]) x.dispose();
    }
  });
}
