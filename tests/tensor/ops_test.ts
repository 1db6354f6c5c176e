/**
 * Forward values of every public op on the CPU backend: the shared float32 suite
 * (_op_suite.ts) plus a float64 block that only the CPU backend runs.
 */
import assert from "node:assert/strict";
import * as T from "../../mod.ts";
import { dyadic, expectT, nest, refEinsum } from "../_helpers.ts";
import { opSuite } from "./_op_suite.ts";

opSuite("cpu");

const f64 = (v: T.ArrayLike, shape?: number[]) => T.tensor(v, { dtype: "float64", shape });
const tight = { rtol: 1e-14, atol: 1e-15, dtype: "float64" as const };

function cpuTest(name: string, fn: () => Promise<void>): void {
  Deno.test(`ops[cpu]: float64 ${name}`, async () => {
    const before = T.memoryStats().cpu?.tensors ?? 0;
    await T.scope(fn);
    assert.equal(T.memoryStats().cpu?.tensors ?? 0, before, "tensors leaked");
  });
}

cpuTest("creation keeps double precision", async () => {
  await expectT(f64([0.1, 1e-300, 1e300]), [0.1, 1e-300, 1e300], { ...tight, rtol: 0 });
  await expectT(T.tensor(new Float64Array([0.1])), [0.1], { ...tight, rtol: 0 });
  await expectT(T.full([2], 0.1, { dtype: "float64" }), [0.1, 0.1], tight);
  await expectT(T.linspace(0, 0.3, 4, { dtype: "float64" }), [0, 0.1, 0.2, 0.3], tight);
  await expectT(T.arange(0, 0.3, 0.1, { dtype: "float64" }), [0, 0.1, 0.2], tight);
  await expectT(T.eye(2, 2, 0, { dtype: "float64" }), [[1, 0], [0, 1]], tight);
});

cpuTest("elementwise in double precision", async () => {
  const x = [-2.5, -0.3, 0.1, 0.7, 3.2];
  const p = [1e-10, 0.3, 2, 1e10];
  await expectT(T.add(f64([0.1]), f64([0.2])), [0.1 + 0.2], { ...tight, rtol: 0, atol: 0 });
  await expectT(T.exp(f64(x)), x.map(Math.exp), tight);
  await expectT(T.tanh(f64(x)), x.map(Math.tanh), tight);
  await expectT(T.sin(f64(x)), x.map(Math.sin), tight);
  await expectT(T.cos(f64(x)), x.map(Math.cos), tight);
  await expectT(T.log(f64(p)), p.map(Math.log), tight);
  await expectT(T.log1p(f64([1e-10, 3])), [Math.log1p(1e-10), Math.log1p(3)], tight);
  await expectT(T.expm1(f64([1e-10, -3])), [Math.expm1(1e-10), Math.expm1(-3)], tight);
  await expectT(T.sqrt(f64(p)), p.map(Math.sqrt), tight);
  await expectT(T.rsqrt(f64(p)), p.map((v) => 1 / Math.sqrt(v)), { ...tight, rtol: 1e-15 });
  await expectT(T.div(f64([1]), f64([3])), [1 / 3], tight);
  await expectT(T.pow(f64([2, 10]), f64([0.5, -3])), [Math.SQRT2, 1e-3], tight);
  await expectT(T.erf(f64([0.5, -1, 3])), [
    0.5204998778130465,
    -0.8427007929497149,
    0.9999779095030014,
  ], { ...tight, rtol: 1e-13 });
  await expectT(T.round(f64([0.49999999999999994, 2.5, -3.5])), [0, 2, -4], tight);
  await expectT(T.maximum(f64([1, NaN]), 0), [1, NaN], tight);
  await expectT(T.less(f64([1 + 2 ** -52]), f64([1 + 2 ** -51])), [true]);
});

cpuTest("casts to and from float64", async () => {
  await expectT(T.cast(f64([0.1]), "float32"), [Math.fround(0.1)], { rtol: 0, atol: 0 });
  await expectT(T.cast(T.tensor([0.1]), "float64"), [Math.fround(0.1)], { ...tight, rtol: 0 });
  await expectT(T.cast(f64([3e9, -3e9, NaN, 2.9]), "int32"), [2147483647, -2147483648, 0, 2], {
    dtype: "int32",
  });
  await expectT(T.cast(T.tensor([2147483647], { dtype: "int32" }), "float64"), [2147483647], tight);
  await expectT(T.cast(f64([0, 0.5]), "bool"), [false, true], { dtype: "bool" });
});

cpuTest("reductions, matmul and einsum in double precision", async () => {
  await expectT(T.sum(f64([0.1, 0.2, 0.3])), 0.1 + 0.2 + 0.3, tight);
  await expectT(T.mean(f64([0.1, 0.2, 0.3])), (0.1 + 0.2 + 0.3) / 3, tight);
  await expectT(T.variance(f64([1, 2, 3, 4]), undefined, { correction: 1 }), 5 / 3, tight);
  await expectT(T.cumsum(f64([0.1, 0.2, 0.3])), [0.1, 0.1 + 0.2, 0.1 + 0.2 + 0.3], tight);
  await expectT(T.logsumexp(f64([1000, 1000])), 1000 + Math.LN2, tight);
  await expectT(T.max(f64([1, 1 + 2 ** -52])), 1 + 2 ** -52, { ...tight, rtol: 0 });
  const a = dyadic(12, 3).map((v) => v + 1e-9), b = dyadic(8, 4).map((v) => v / 3);
  const want = refEinsum("ij,jk->ik", { shape: [3, 4], data: a }, { shape: [4, 2], data: b });
  await expectT(T.matmul(f64(a, [3, 4]), f64(b, [4, 2])), nest(want.data, want.shape), tight);
  const e = T.einsum("ij,jk->ki", f64(a, [3, 4]), f64(b, [4, 2]));
  const wantE = refEinsum("ij,jk->ki", { shape: [3, 4], data: a }, { shape: [4, 2], data: b });
  await expectT(e, nest(wantE.data, wantE.shape), tight);
});

cpuTest("activations, sorting and indexing in double precision", async () => {
  const row = [0.1, 0.2, 0.3];
  const m = Math.max(...row), z = row.map((v) => Math.exp(v - m));
  const s = z.reduce((p, q) => p + q, 0);
  await expectT(T.softmax(f64(row)), z.map((v) => v / s), tight);
  await expectT(T.logSoftmax(f64(row)), z.map((v) => Math.log(v / s)), tight);
  await expectT(T.sigmoid(f64([1e-8, 40])), [0.5 + 2.5e-9, 1 / (1 + Math.exp(-40))], tight);
  await expectT(T.gelu(f64([1, -1])), [0.8413447460685429, -0.15865525393145707], {
    ...tight,
    rtol: 1e-13,
  });
  await expectT(T.sort(f64([0.3, 0.1 + 2 ** -55, 0.1])), [0.1, 0.1 + 2 ** -55, 0.3], tight);
  await expectT(T.argsort(f64([1 + 2 ** -52, 1])), [1, 0], { dtype: "int32" });
  await expectT(T.gather(f64([0.1, 0.2]), T.tensor([1], { dtype: "int32" })), [0.2], tight);
  await expectT(T.oneHot(T.tensor([1], { dtype: "int32" }), 2, { dtype: "float64" }), [[0, 1]], {
    dtype: "float64",
  });
});
