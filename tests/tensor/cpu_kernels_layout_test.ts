/** Tests of the CPU kernels for layout (reshape … concat), indexing (gather/scatterAdd) and argsort. */
import assert from "node:assert/strict";
import "../../tensor/cpu/mod.ts";
import type { Operand } from "../../tensor/backend.ts";
import { cpuKernels } from "../../tensor/cpu/kernels.ts";
import { arr, CpuStorage } from "../../tensor/cpu/storage.ts";
import { evalEager } from "../../tensor/dispatch.ts";
import { TesseraError } from "../../tensor/errors.ts";
import { sizeOf } from "../../tensor/shape.ts";
import { randArray, ravelBroadcast, rng, run, t, unravel, vals } from "./_cpu_kernels_helpers.ts";

// ---------------------------------------------------------------------------------------------
// Layout

Deno.test("reshape and stopGradient kernels return copies", () => {
  const src = new Float32Array([1, 2, 3, 4]);
  const op: Operand = { storage: new CpuStorage(src), shape: [2, 2], dtype: "float32" };
  const r = cpuKernels.reshape([op], { shape: [4] }, { shape: [4], dtype: "float32" });
  assert.deepEqual(Array.from(arr(r)), [1, 2, 3, 4]);
  assert.notEqual(arr(r), src);
  const s = cpuKernels.stopGradient([op], {}, { shape: [2, 2], dtype: "float32" });
  assert.deepEqual(Array.from(arr(s)), [1, 2, 3, 4]);
  assert.notEqual(arr(s), src);
  assert.deepEqual(vals("reshape", [t([1, 2, 3, 4], [2, 2])], { shape: [4, 1] }), [1, 2, 3, 4]);
  assert.deepEqual(vals("stopGradient", [t([1, 2], [2])], {}), [1, 2]);
});

Deno.test("permute (vs naive index mapping)", () => {
  const shape = [2, 3, 4, 5];
  const x = Array.from({ length: sizeOf(shape) }, (_, i) => i);
  for (const perm of [[0, 1, 2, 3], [3, 2, 1, 0], [1, 0, 3, 2], [2, 0, 3, 1]]) {
    const r = run("permute", [t(x, shape, "int32")], { perm });
    const outShape = perm.map((p) => shape[p]!);
    assert.deepEqual(r.shape, outShape);
    const want = Array.from({ length: x.length }, (_, i) => {
      const oi = unravel(i, outShape);
      const ii = new Array<number>(4);
      perm.forEach((p, d) => (ii[p] = oi[d]!));
      return ravelBroadcast(ii, shape);
    });
    assert.deepEqual(r.data, want, `perm ${perm}`);
  }
  assert.deepEqual(vals("permute", [t([1, 0, 1], [1, 3], "bool")], { perm: [1, 0] }), [1, 0, 1]);
  assert.deepEqual(run("permute", [t([], [0, 2])], { perm: [1, 0] }).shape, [2, 0]);
});

Deno.test("broadcastTo materialises", () => {
  const r = run("broadcastTo", [t([1, 2, 3], [3, 1], "int32")], { shape: [2, 3, 2] });
  assert.deepEqual(r.shape, [2, 3, 2]);
  assert.deepEqual(r.data, [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]);
  assert.deepEqual(vals("broadcastTo", [t([7], [])], { shape: [3] }), [7, 7, 7]);
  assert.deepEqual(run("broadcastTo", [t([7], [1])], { shape: [0, 4] }).shape, [0, 4]);
});

Deno.test("slice with steps", () => {
  const x = Array.from({ length: 30 }, (_, i) => i);
  const r = run("slice", [t(x, [5, 6])], { starts: [1, 0], stops: [5, 6], steps: [2, 3] });
  assert.deepEqual(r.shape, [2, 2]);
  assert.deepEqual(r.data, [6, 9, 18, 21]);
  const r2 = run("slice", [t(x, [5, 6])], { starts: [4, 1], stops: [5, 5], steps: [1, 1] });
  assert.deepEqual(r2.data, [25, 26, 27, 28]);
  const r3 = run("slice", [t(x, [30])], { starts: [3], stops: [3], steps: [1] });
  assert.deepEqual(r3.shape, [0]);
  const r4 = run("slice", [t(x, [2, 3, 5])], {
    starts: [1, 0, 1],
    stops: [2, 3, 5],
    steps: [1, 2, 3],
  });
  assert.deepEqual(r4.data, [16, 19, 26, 29]);
});

Deno.test("flip", () => {
  const x = t([1, 2, 3, 4, 5, 6], [2, 3]);
  assert.deepEqual(vals("flip", [x], { axes: [1] }), [3, 2, 1, 6, 5, 4]);
  assert.deepEqual(vals("flip", [x], { axes: [0] }), [4, 5, 6, 1, 2, 3]);
  assert.deepEqual(vals("flip", [x], { axes: [0, 1] }), [6, 5, 4, 3, 2, 1]);
  assert.deepEqual(vals("flip", [x], { axes: [] }), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(run("flip", [t([], [0, 3])], { axes: [0, 1] }).shape, [0, 3]);
});

Deno.test("pad with lo/hi/interior and a value", () => {
  const x = t([1, 2, 3], [3]);
  const r = run("pad", [x], { lo: [1], hi: [2], interior: [1], value: -1 });
  assert.deepEqual(r.shape, [8]);
  assert.deepEqual(r.data, [-1, 1, -1, 2, -1, 3, -1, -1]);
  const y = t([1, 2, 3, 4], [2, 2], "int32");
  const r2 = run("pad", [y], { lo: [0, 1], hi: [1, 0], interior: [1, 2], value: 9 });
  assert.deepEqual(r2.shape, [4, 5]);
  // deno-fmt-ignore
  assert.deepEqual(r2.data, [
    9, 1, 9, 9, 2,
    9, 9, 9, 9, 9,
    9, 3, 9, 9, 4,
    9, 9, 9, 9, 9,
  ]);
  assert.deepEqual(
    vals("pad", [t([1], [1], "bool")], { lo: [1], hi: [0], interior: [0], value: 0 }),
    [
      0,
      1,
    ],
  );
  assert.deepEqual(vals("pad", [t([], [0])], { lo: [1], hi: [1], interior: [3], value: 5 }), [
    5,
    5,
  ]);
});

Deno.test("concat over several inputs, including empty ones", () => {
  const a = t([1, 2, 3, 4], [2, 2]), b = t([5, 6], [2, 1]), e = t([], [2, 0]);
  const r = run("concat", [a, e, b], { axis: 1 });
  assert.deepEqual(r.shape, [2, 3]);
  assert.deepEqual(r.data, [1, 2, 5, 3, 4, 6]);
  const r0 = run("concat", [a, t([7, 8], [1, 2])], { axis: 0 });
  assert.deepEqual(r0.data, [1, 2, 3, 4, 7, 8]);
  assert.deepEqual(vals("concat", [t([1], [1], "bool")], { axis: 0 }), [1]);
});

// ---------------------------------------------------------------------------------------------
// Indexing

Deno.test("gather along any axis with multi-dim indices", () => {
  const x = t([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [3, 4]);
  const i0 = t([2, 0, 2], [3], "int32");
  const r0 = run("gather", [x, i0], { axis: 0 });
  assert.deepEqual(r0.shape, [3, 4]);
  assert.deepEqual(r0.data, [8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11]);
  const i1 = t([3, 0, 1, 1], [2, 2], "int32");
  const r1 = run("gather", [x, i1], { axis: 1 });
  assert.deepEqual(r1.shape, [3, 2, 2]);
  assert.deepEqual(r1.data, [3, 0, 1, 1, 7, 4, 5, 5, 11, 8, 9, 9]);
  assert.deepEqual(run("gather", [x, t([], [0], "int32")], { axis: 1 }).shape, [3, 0]);
  assert.deepEqual(vals("gather", [x, t([1], [], "int32")], { axis: 0 }), [4, 5, 6, 7]);
});

Deno.test("gather/scatterAdd reject out-of-range indices", () => {
  const x = t([1, 2, 3, 4, 5], [5]);
  assert.throws(
    () => evalEager("gather", [x, t([0, 7], [2], "int32")], { axis: 0 }),
    (e: unknown) =>
      e instanceof TesseraError &&
      e.message === "gather: index 7 out of range for axis 0 of size 5",
  );
  assert.throws(
    () => evalEager("gather", [x, t([-1], [1], "int32")], { axis: 0 }),
    (e: unknown) => e instanceof TesseraError && /index -1 out of range/.test(e.message),
  );
  assert.throws(
    () => evalEager("scatterAdd", [x, t([5], [1], "int32"), t([1], [1])], { axis: 0 }),
    (e: unknown) =>
      e instanceof TesseraError &&
      e.message === "scatterAdd: index 5 out of range for axis 0 of size 5",
  );
});

Deno.test("scatterAdd accumulates repeated indices into a copy of x", () => {
  const xv = [1, 1, 1, 1, 1, 1];
  const x = t(xv, [2, 3]);
  const idx = t([2, 0, 2, 2], [4], "int32");
  const upd = t([1, 2, 3, 4, 10, 20, 30, 40], [2, 4]);
  const r = run("scatterAdd", [x, idx, upd], { axis: 1 });
  assert.deepEqual(r.data, [3, 1, 9, 21, 1, 81]);
  assert.deepEqual(Array.from(x.dataSync()), xv); // input untouched
  const ri = run("scatterAdd", [
    t([0, 2147483647], [2], "int32"),
    t([1, 1], [2], "int32"),
    t([1, 1], [2], "int32"),
  ], {
    axis: 0,
  });
  assert.deepEqual(ri.data, [0, -2147483647]);
  const rf = vals("scatterAdd", [
    t([16777216], [1], "float32"),
    t([0, 0], [2], "int32"),
    t([1, 1], [2], "float32"),
  ], { axis: 0 });
  assert.deepEqual(rf, [16777218]);
  // Adjoint of gather: <gather(x), u> == <x, scatterAdd(0, u)>.
  const r2 = rng(4);
  const xs = randArray(12, r2), us = randArray(10, r2);
  const ids = t([2, 0, 1, 1, 2], [5], "int32");
  const g = vals("gather", [t(xs, [3, 4]), ids], { axis: 0 });
  const rs = run("scatterAdd", [t(new Array(12).fill(0), [3, 4]), ids, t(us.concat(us), [5, 4])], {
    axis: 0,
  });
  assert.equal(rs.data.length, 12);
  const lhs = g.reduce((s, v, i) => s + v * us.concat(us)[i]!, 0);
  const rhs = rs.data.reduce((s, v, i) => s + v * xs[i]!, 0);
  assert.ok(Math.abs(lhs - rhs) < 1e-12);
});

// ---------------------------------------------------------------------------------------------
// argsort

/** Reference: stable sort with NaN largest (JS sort is stable). */
function refArgsort(xs: readonly number[], descending: boolean): number[] {
  const key = (v: number) => (Number.isNaN(v) ? Infinity : v);
  const rank = (v: number) => (Number.isNaN(v) ? 1 : 0);
  return xs.map((_, i) => i).sort((i, j) => {
    const a = xs[i]!, b = xs[j]!;
    const c = rank(a) - rank(b) || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
    return descending ? -c : c;
  });
}

Deno.test("argsort is stable in both directions; NaN sorts largest", () => {
  const xs = [3, 1, NaN, 2, 1, 3, NaN, -Infinity, 2];
  const x = t(xs, [xs.length]);
  const asc = run("argsort", [x], { axis: 0, descending: false });
  assert.equal(asc.dtype, "int32");
  assert.deepEqual(asc.data, [7, 1, 4, 3, 8, 0, 5, 2, 6]);
  assert.deepEqual(vals("argsort", [x], { axis: 0, descending: true }), [
    2,
    6,
    0,
    5,
    3,
    8,
    1,
    4,
    7,
  ]);
  // Random lines with many ties, along both axes, vs reference.
  const r = rng(5);
  const shape = [37, 23];
  const data = Array.from({ length: sizeOf(shape) }, () => {
    const v = Math.floor(r() * 7);
    return v === 6 ? NaN : v;
  });
  for (const descending of [false, true]) {
    const got = vals("argsort", [t(data, shape, "float32")], { axis: 1, descending });
    for (let i = 0; i < shape[0]!; i++) {
      const line = data.slice(i * 23, i * 23 + 23);
      assert.deepEqual(got.slice(i * 23, i * 23 + 23), refArgsort(line, descending));
    }
    const got0 = vals("argsort", [t(data, shape)], { axis: 0, descending });
    for (let j = 0; j < shape[1]!; j++) {
      const col = Array.from({ length: 37 }, (_, i) => data[i * 23 + j]!);
      assert.deepEqual(
        Array.from({ length: 37 }, (_, i) => got0[i * 23 + j]!),
        refArgsort(col, descending),
      );
    }
  }
  assert.deepEqual(
    vals("argsort", [t([5, -1, 5, 0], [4], "int32")], { axis: 0, descending: false }),
    [
      1,
      3,
      0,
      2,
    ],
  );
  assert.deepEqual(run("argsort", [t([], [0, 3])], { axis: 1, descending: false }).shape, [0, 3]);
});
