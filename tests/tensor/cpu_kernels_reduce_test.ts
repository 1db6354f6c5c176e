/** Tests of the CPU kernels for reductions, cumsum and matmul, against naive references. */
import assert from "node:assert/strict";
import "../../tensor/cpu/mod.ts";
import { sizeOf } from "../../tensor/shape.ts";
import {
  assertClose,
  f32,
  randArray,
  ravelBroadcast,
  rng,
  run,
  t,
  unravel,
  vals,
} from "./_cpu_kernels_helpers.ts";

// ---------------------------------------------------------------------------------------------
// Reductions

/** Naive reference reduction over `axes` keeping dims. */
function refReduce(
  x: readonly number[],
  shape: readonly number[],
  axes: readonly number[],
  init: number,
  f: (acc: number, v: number) => number,
): number[] {
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const res = new Array<number>(sizeOf(outShape)).fill(init);
  for (let i = 0; i < x.length; i++) {
    const idx = unravel(i, shape);
    const o = ravelBroadcast(idx, outShape);
    res[o] = f(res[o]!, x[i]!);
  }
  return res;
}

Deno.test("sum/max/min over axes keep reduced dims (vs naive reference)", () => {
  const r = rng(2);
  const shapes: [number[], number[][]][] = [
    [[5], [[0], []]],
    [[3, 4], [[0], [1], [0, 1], []]],
    [[2, 3, 5], [[0], [1], [2], [0, 2], [1, 2], [0, 1, 2]]],
    [[3, 1, 4, 2], [[1], [0, 3], [1, 2]]],
    [[1, 7], [[0], [1]]],
  ];
  for (const [shape, axesList] of shapes) {
    const x = randArray(sizeOf(shape), r);
    for (const axes of axesList) {
      const s = run("reduce", [t(x, shape)], { op: "sum", axes });
      assert.deepEqual(s.shape, shape.map((d, i) => (axes.includes(i) ? 1 : d)));
      assertClose(s.data, refReduce(x, shape, axes, 0, (a, v) => a + v));
      assert.deepEqual(
        vals("reduce", [t(x, shape)], { op: "max", axes }),
        refReduce(x, shape, axes, -Infinity, Math.max),
      );
      assert.deepEqual(
        vals("reduce", [t(x, shape)], { op: "min", axes }),
        refReduce(x, shape, axes, Infinity, Math.min),
      );
    }
  }
});

Deno.test("reductions: NaN, size 0, float32 accumulation, int32 wrap", () => {
  const x = t([1, NaN, 3, 4, 5, 6], [2, 3]);
  assert.deepEqual(vals("reduce", [x], { op: "max", axes: [1] }), [NaN, 6]);
  assert.deepEqual(vals("reduce", [x], { op: "min", axes: [0] }), [1, NaN, 3]);
  assert.deepEqual(vals("reduce", [x], { op: "sum", axes: [1] }), [NaN, 15]);
  assert.deepEqual(vals("reduce", [t([-Infinity, -Infinity], [2])], { op: "max", axes: [0] }), [
    -Infinity,
  ]);
  // Empty sums are zero; an empty non-reduced axis gives an empty result.
  const e = run("reduce", [t([], [0, 3])], { op: "sum", axes: [0] });
  assert.deepEqual(e, { shape: [1, 3], dtype: "float64", data: [0, 0, 0] });
  assert.deepEqual(run("reduce", [t([], [0, 3])], { op: "max", axes: [1] }).shape, [0, 1]);
  // float32 accumulates in float64: 2^24 + 1 + 1 is exact there.
  assert.deepEqual(
    vals("reduce", [t([16777216, 1, 1], [3], "float32")], { op: "sum", axes: [0] }),
    [16777218],
  );
  assert.deepEqual(
    vals("reduce", [t([2147483647, 1, 5], [3], "int32")], { op: "sum", axes: [0] }),
    [-2147483648 + 5],
  );
  assert.deepEqual(vals("reduce", [t([4294967295, 2], [2], "uint32")], { op: "sum", axes: [0] }), [
    1,
  ]);
  assert.deepEqual(vals("reduce", [t([-5, -2, -9], [3], "int32")], { op: "max", axes: [0] }), [-2]);
  assert.deepEqual(vals("reduce", [t([3000000000, 5], [2], "uint32")], { op: "min", axes: [0] }), [
    5,
  ]);
});

Deno.test("argmax/argmin: first occurrence, NaN wins, any axis", () => {
  const x = t([1, 3, 3, 0, 0, -1, 2, 7, 7, 7, 1, 1], [3, 4]);
  const r = run("argReduce", [x], { op: "argmax", axis: 1 });
  assert.deepEqual(r, { shape: [3, 1], dtype: "int32", data: [1, 3, 0] });
  assert.deepEqual(vals("argReduce", [x], { op: "argmin", axis: 1 }), [3, 1, 2]);
  assert.deepEqual(vals("argReduce", [x], { op: "argmax", axis: 0 }), [2, 2, 0, 1]);
  assert.deepEqual(vals("argReduce", [x], { op: "argmin", axis: 0 }), [1, 1, 2, 0]);
  const n = t([1, NaN, 5, NaN, 0, 2], [6]);
  assert.deepEqual(vals("argReduce", [n], { op: "argmax", axis: 0 }), [1]);
  assert.deepEqual(vals("argReduce", [n], { op: "argmin", axis: 0 }), [1]);
  const m = t([1, 2, 3, 4, NaN, 6, 7, 8], [2, 2, 2]);
  assert.deepEqual(vals("argReduce", [m], { op: "argmax", axis: 1 }), [1, 1, 0, 1]);
  assert.deepEqual(vals("argReduce", [t([5, -3, -3], [3], "int32")], { op: "argmin", axis: 0 }), [
    1,
  ]);
  assert.deepEqual(run("argReduce", [t([], [0, 2])], { op: "argmax", axis: 1 }).shape, [0, 1]);
});

Deno.test("cumsum forward/reverse along any axis", () => {
  const x = t([1, 2, 3, 4, 5, 6], [2, 3]);
  assert.deepEqual(vals("cumsum", [x], { axis: 1, reverse: false }), [1, 3, 6, 4, 9, 15]);
  assert.deepEqual(vals("cumsum", [x], { axis: 1, reverse: true }), [6, 5, 3, 15, 11, 6]);
  assert.deepEqual(vals("cumsum", [x], { axis: 0, reverse: false }), [1, 2, 3, 5, 7, 9]);
  assert.deepEqual(vals("cumsum", [x], { axis: 0, reverse: true }), [5, 7, 9, 4, 5, 6]);
  assert.deepEqual(
    vals("cumsum", [t([2147483647, 1, 1], [3], "int32")], { axis: 0, reverse: false }),
    [2147483647, -2147483648, -2147483647],
  );
  assert.deepEqual(
    vals("cumsum", [t([16777216, 1, 1], [3], "float32")], { axis: 0, reverse: false }),
    [16777216, 16777216, 16777218],
  );
  assert.deepEqual(run("cumsum", [t([], [2, 0])], { axis: 1, reverse: true }).shape, [2, 0]);
});

// ---------------------------------------------------------------------------------------------
// matmul

/** Naive batched matmul with explicit transposes and batch broadcasting. */
function refMatmul(
  a: readonly number[],
  as: readonly number[],
  b: readonly number[],
  bs: readonly number[],
  transA: boolean,
  transB: boolean,
  int = false,
): { shape: number[]; data: number[] } {
  const ar = as.length, br = bs.length;
  const m = transA ? as[ar - 1]! : as[ar - 2]!, k = transA ? as[ar - 2]! : as[ar - 1]!;
  const n = transB ? bs[br - 2]! : bs[br - 1]!;
  const ab = as.slice(0, -2), bb = bs.slice(0, -2);
  const nb = Math.max(ab.length, bb.length);
  const batch: number[] = [];
  for (let i = 0; i < nb; i++) {
    const x = ab[ab.length - nb + i] ?? 1, y = bb[bb.length - nb + i] ?? 1;
    batch.push(x === 1 ? y : x);
  }
  const data: number[] = [];
  for (let q = 0; q < sizeOf(batch); q++) {
    const bi = unravel(q, batch);
    const aoff = ravelBroadcast(bi, ab) * as[ar - 2]! * as[ar - 1]!;
    const boff = ravelBroadcast(bi, bb) * bs[br - 2]! * bs[br - 1]!;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = a[aoff + (transA ? p * m + i : i * k + p)]!;
          const bv = b[boff + (transB ? j * k + p : p * n + j)]!;
          s = int ? (s + Math.imul(av, bv)) | 0 : s + av * bv;
        }
        data.push(s);
      }
    }
  }
  return { shape: [...batch, m, n], data };
}

Deno.test("matmul with transposes and broadcast batch dims (vs naive triple loop)", () => {
  const r = rng(3);
  const cases: [number[], number[]][] = [
    [[3, 4], [4, 5]],
    [[1, 1], [1, 1]],
    [[2, 3, 4], [4, 5]],
    [[5, 4], [2, 4, 3]],
    [[2, 1, 3, 4], [3, 4, 2]],
    [[7, 1, 1], [1, 6]],
    [[2, 0, 3], [3, 4]],
    [[3, 0], [0, 4]],
    [[1, 9, 17], [4, 1, 17, 13]],
  ];
  for (const [as0, bs0] of cases) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const as = transA ? [...as0.slice(0, -2), as0.at(-1)!, as0.at(-2)!] : as0;
        const bs = transB ? [...bs0.slice(0, -2), bs0.at(-1)!, bs0.at(-2)!] : bs0;
        const av = randArray(sizeOf(as), r), bv = randArray(sizeOf(bs), r);
        const want = refMatmul(av, as, bv, bs, transA, transB);
        const got = run("matmul", [t(av, as), t(bv, bs)], { transA, transB });
        const label = `${as} @ ${bs} tA=${transA} tB=${transB}`;
        assert.deepEqual(got.shape, want.shape, label);
        assertClose(got.data, want.data, 1e-12);
        const ai = randArray(sizeOf(as), r, true), bi = randArray(sizeOf(bs), r, true);
        const gi = run("matmul", [t(ai, as, "int32"), t(bi, bs, "int32")], { transA, transB });
        assert.deepEqual(gi.data, refMatmul(ai, as, bi, bs, transA, transB, true).data, label);
      }
    }
  }
});

Deno.test("matmul float32 and int32 wrap", () => {
  const a = t([1.1, 2.2, 3.3, 4.4], [2, 2], "float32"), b = t([1, 0, 0, 1], [2, 2], "float32");
  assert.deepEqual(vals("matmul", [a, b], { transA: false, transB: false }), [
    f32(1.1),
    f32(2.2),
    f32(3.3),
    f32(4.4),
  ]);
  const big = t([65536, 65536], [1, 2], "int32"), c = t([65536, 1], [2, 1], "int32");
  assert.deepEqual(vals("matmul", [big, c], { transA: false, transB: false }), [65536]);
  // K = 0 gives zeros.
  assert.deepEqual(
    vals("matmul", [t([], [2, 0]), t([], [0, 2])], { transA: false, transB: false }),
    [
      0,
      0,
      0,
      0,
    ],
  );
});
