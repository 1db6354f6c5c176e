/**
 * Tests of the CPU kernels for binary primitives (arithmetic, comparisons, logical, bitwise) and
 * `where`, against naive broadcasting references.
 */
import assert from "node:assert/strict";
import "../../tensor/cpu/mod.ts";
import type { CompareOp, ElementwiseOp } from "../../tensor/primitives.ts";
import type { DType } from "../../tensor/dtype.ts";
import { sizeOf } from "../../tensor/shape.ts";
import { f32, randArray, refBinary, rng, run, t, vals } from "./_cpu_kernels_helpers.ts";

// ---------------------------------------------------------------------------------------------
// Binary

const BROADCAST_CASES: [number[], number[]][] = [
  [[3, 5], [3, 5]],
  [[3, 5], [5]],
  [[3, 1], [1, 7]],
  [[2, 1, 3], [4, 1]],
  [[], [4, 3]],
  [[5, 1, 1], [1]],
  [[0, 3], [1, 3]],
  [[2, 0], [2, 1]],
  [[1], [1]],
  [[7, 1, 9], [7, 11, 1]],
];

Deno.test("binary arithmetic broadcasts like NumPy (float64 vs naive reference)", () => {
  const r = rng(1);
  const fs: [ElementwiseOp, (x: number, y: number) => number][] = [
    ["add", (x, y) => x + y],
    ["sub", (x, y) => x - y],
    ["mul", (x, y) => x * y],
    ["div", (x, y) => x / y],
    ["maximum", Math.max],
    ["minimum", Math.min],
  ];
  for (const [as, bs] of BROADCAST_CASES) {
    for (const [a, b] of [[as, bs], [bs, as]] as const) {
      const av = randArray(sizeOf(a), r), bv = randArray(sizeOf(b), r);
      for (const [op, f] of fs) {
        const res = run(op, [t(av, a), t(bv, b)], {} as never);
        const out = res.shape;
        assert.deepEqual(res.data, refBinary(av, a, bv, b, out, f), `${op} ${a} ${b}`);
      }
    }
  }
});

Deno.test("binary float32 rounds each result", () => {
  const a = [0.1, 1e-8, 3], b = [0.2, 1, 7];
  const r = vals("add", [t(a, [3], "float32"), t(b, [3], "float32")], {});
  assert.deepEqual(r, a.map((x, i) => f32(f32(x) + f32(b[i]!))));
  const d = vals("div", [t([1, 2], [2], "float32"), t([3], [1], "float32")], {});
  assert.deepEqual(d, [f32(f32(1) / 3), f32(2 / 3)]);
});

Deno.test("int32 arithmetic wraps; uint32 wraps", () => {
  const big = 2147483647, small = -2147483648;
  assert.deepEqual(vals("add", [t([big, small], [2], "int32"), t([1, -1], [2], "int32")], {}), [
    small,
    big,
  ]);
  assert.deepEqual(vals("sub", [t([small], [1], "int32"), t([1], [1], "int32")], {}), [big]);
  assert.deepEqual(
    vals(
      "mul",
      [t([65536, 123456789, -7], [3], "int32"), t([65536, 987654321, 3], [3], "int32")],
      {},
    ),
    [0, Math.imul(123456789, 987654321), -21],
  );
  assert.deepEqual(vals("add", [t([4294967295], [1], "uint32"), t([2], [1], "uint32")], {}), [1]);
  assert.deepEqual(vals("sub", [t([0], [1], "uint32"), t([1], [1], "uint32")], {}), [4294967295]);
  assert.deepEqual(
    vals("mul", [t([4294967295, 65536], [2], "uint32"), t([4294967295, 65537], [2], "uint32")], {}),
    [1, 65536],
  );
  assert.deepEqual(
    vals("maximum", [t([3000000000, 1], [2], "uint32"), t([5, 2], [2], "uint32")], {}),
    [3000000000, 2],
  );
  assert.deepEqual(vals("minimum", [t([-3, 4], [2], "int32"), t([2], [1], "int32")], {}), [-3, 2]);
});

Deno.test("maximum/minimum propagate NaN; pow special cases", () => {
  const a = t([NaN, 1, NaN, 2], [4]), b = t([1, NaN, NaN, 3], [4]);
  assert.deepEqual(vals("maximum", [a, b], {}), [NaN, NaN, NaN, 3]);
  assert.deepEqual(vals("minimum", [a, b], {}), [NaN, NaN, NaN, 2]);
  assert.deepEqual(
    vals("pow", [t([2, 1, -1, 4, NaN, -8], [6]), t([10, NaN, Infinity, 0.5, 0, 1 / 3], [6])], {}),
    [1024, 1, 1, 2, 1, NaN],
  );
  assert.deepEqual(vals("pow", [t([2, 3], [2, 1], "float32"), t([2, 3], [2], "float32")], {}), [
    4,
    8,
    9,
    27,
  ]);
});

Deno.test("comparisons return bool and treat NaN as unordered", () => {
  const a = t([1, 2, 3, NaN], [4]), b = t([2], [1]);
  const want: [CompareOp, number[]][] = [
    ["equal", [0, 1, 0, 0]],
    ["notEqual", [1, 0, 1, 1]],
    ["less", [1, 0, 0, 0]],
    ["lessEqual", [1, 1, 0, 0]],
    ["greater", [0, 0, 1, 0]],
    ["greaterEqual", [0, 1, 1, 0]],
  ];
  for (const [op, w] of want) {
    const r = run("compare", [a, b], { op });
    assert.equal(r.dtype, "bool");
    assert.deepEqual(r.data, w, op);
  }
  // uint32 compares as unsigned; broadcasting [2,1] vs [3].
  const r = run("compare", [
    t([1, 3000000000], [2, 1], "uint32"),
    t([0, 2, 4000000000], [3], "uint32"),
  ], { op: "less" });
  assert.deepEqual(r.shape, [2, 3]);
  assert.deepEqual(r.data, [0, 1, 1, 0, 0, 1]);
  assert.deepEqual(
    vals("compare", [t([1, 0], [2], "bool"), t([1], [1], "bool")], { op: "equal" }),
    [1, 0],
  );
});

Deno.test("logical ops on bool with broadcasting", () => {
  const a = t([0, 0, 1, 1], [4, 1], "bool"), b = t([0, 1], [2], "bool");
  assert.deepEqual(vals("logical", [a, b], { op: "logicalAnd" }), [0, 0, 0, 0, 0, 1, 0, 1]);
  assert.deepEqual(vals("logical", [a, b], { op: "logicalOr" }), [0, 1, 0, 1, 1, 1, 1, 1]);
  assert.deepEqual(vals("logical", [a, b], { op: "logicalXor" }), [0, 1, 0, 1, 1, 0, 1, 0]);
});

Deno.test("bitwise ops and shifts (count mod 32, logical right shift)", () => {
  const a = t([-8, 0x0f0f0f0f, 1], [3], "int32"), b = t([1, 0x00ff00ff, 33], [3], "int32");
  assert.deepEqual(vals("bitwise", [a, b], { op: "bitwiseAnd" }), [
    -8 & 1,
    0x0f0f0f0f & 0x00ff00ff,
    1 & 33,
  ]);
  assert.deepEqual(vals("bitwise", [a, b], { op: "bitwiseOr" }), [
    -8 | 1,
    0x0f0f0f0f | 0x00ff00ff,
    33,
  ]);
  assert.deepEqual(vals("bitwise", [a, b], { op: "bitwiseXor" }), [
    -8 ^ 1,
    0x0f0f0f0f ^ 0x00ff00ff,
    32,
  ]);
  assert.deepEqual(vals("bitwise", [a, b], { op: "shiftLeft" }), [
    -16,
    0x0f0f0f0f << 0x00ff00ff,
    2,
  ]);
  assert.deepEqual(vals("bitwise", [a, t([1, 4, 32], [3], "int32")], { op: "shiftRightLogical" }), [
    0x7ffffffc,
    0x00f0f0f0,
    1,
  ]);
  assert.deepEqual(
    vals("bitwise", [t([-8], [1], "int32"), t([0], [1], "int32")], { op: "shiftRightLogical" }),
    [
      -8,
    ],
  );
  const u = t([0xffffffff, 0x80000000], [2], "uint32");
  assert.deepEqual(vals("bitwise", [u, t([28], [1], "uint32")], { op: "shiftRightLogical" }), [
    15,
    8,
  ]);
  assert.deepEqual(vals("bitwise", [u, t([4], [1], "uint32")], { op: "shiftLeft" }), [
    0xfffffff0,
    0,
  ]);
  assert.deepEqual(vals("bitwise", [u, t([0xffffffff], [1], "uint32")], { op: "bitwiseXor" }), [
    0,
    0x7fffffff,
  ]);
  assert.deepEqual(vals("bitwise", [u, t([0xf000000f], [1], "uint32")], { op: "bitwiseAnd" }), [
    0xf000000f,
    0x80000000,
  ]);
});

Deno.test("where broadcasts three ways", () => {
  const c = t([1, 0, 1], [1, 3, 1], "bool");
  const x = t([1, 2, 3, 4], [1, 4]);
  const y = t([-1, -2], [2, 1, 1]);
  const r = run("where", [c, x, y], {});
  assert.deepEqual(r.shape, [2, 3, 4]);
  const want: number[] = [];
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 3; j++) {
      for (let k = 0; k < 4; k++) want.push(j !== 1 ? k + 1 : -(i + 1));
    }
  }
  assert.deepEqual(r.data, want);
  assert.deepEqual(
    vals("where", [t([1, 0], [2], "bool"), t([5, 6], [2], "int32"), t([7, 8], [2], "int32")], {}),
    [5, 8],
  );
  assert.deepEqual(run("where", [t([], [0, 1], "bool"), x, t([0], [1, 1])], {}).shape, [0, 4]);
});

Deno.test("where keeps every value's bits on its flat and row paths, in every dtype", () => {
  // 4-byte dtypes select branch-free on Int32 views; the values must come through bit-exact.
  const f = [NaN, -0, Infinity, -Infinity, 1.5, -3.25, 2 ** -140, 7];
  const cond = [1, 0, 1, 1, 0, 1, 0, 1];
  const cases: [DType, number[]][] = [
    ["float32", f],
    ["float64", f],
    ["int32", [-1, 2 ** 31 - 1, -(2 ** 31), 0, 5, -7, 9, 11]],
    ["uint32", [2 ** 32 - 1, 2 ** 31, 0, 1, 5, 7, 9, 11]],
    ["bool", [1, 0, 1, 0, 1, 1, 0, 0]],
  ];
  const same = (a: number, b: number) => Object.is(a, b);
  for (const [dt, v] of cases) {
    const x = t(v, [2, 4], dt), c = t(cond, [2, 4], "bool");
    const yv = dt === "bool" ? 0 : dt === "uint32" ? 3 : -2;
    const ys = t([yv], [], dt), yr = t(v.slice(0, 4).reverse(), [4], dt);
    const flat = vals("where", [c, x, ys], {}); // same shape + scalar
    const flipped = vals("where", [c, ys, x], {}); // scalar + same shape
    const rows = vals("where", [c, x, yr], {}); // a broadcast row
    for (let i = 0; i < 8; i++) {
      assert.ok(same(flat[i]!, cond[i] ? v[i]! : yv), `${dt} flat ${i}: ${flat[i]}`);
      assert.ok(same(flipped[i]!, cond[i] ? yv : v[i]!), `${dt} flipped ${i}: ${flipped[i]}`);
      const want = cond[i] ? v[i]! : v.slice(0, 4).reverse()[i % 4]!;
      assert.ok(same(rows[i]!, want), `${dt} rows ${i}: ${rows[i]}`);
    }
  }
});
