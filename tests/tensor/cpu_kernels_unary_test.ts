/** Tests of the CPU kernels for unary primitives (and erf), against Math and known values. */
import assert from "node:assert/strict";
import "../../tensor/cpu/mod.ts";
import { erf, erfc } from "../../tensor/cpu/special.ts";
import type { ElementwiseOp } from "../../tensor/primitives.ts";
import { f32, run, t, vals } from "./_cpu_kernels_helpers.ts";

// ---------------------------------------------------------------------------------------------
// Unary

Deno.test("unary float ops match Math (float64) and round to float32", () => {
  const xs = [0.25, 0.5, 1, 1.5, 2, 3.7, 10];
  const cases: [ElementwiseOp, (x: number) => number][] = [
    ["neg", (x) => -x],
    ["abs", Math.abs],
    ["exp", Math.exp],
    ["log", Math.log],
    ["log1p", Math.log1p],
    ["expm1", Math.expm1],
    ["sqrt", Math.sqrt],
    ["rsqrt", (x) => 1 / Math.sqrt(x)],
    ["reciprocal", (x) => 1 / x],
    ["sin", Math.sin],
    ["cos", Math.cos],
    ["tanh", Math.tanh],
    ["floor", Math.floor],
    ["ceil", Math.ceil],
  ];
  for (const [op, f] of cases) {
    const signed = [...xs, ...xs.map((x) => -x)].filter((x) =>
      !(op === "log" || op === "sqrt" || op === "rsqrt") || x > 0
    ).filter((x) => op !== "log1p" || x > -1);
    assert.deepEqual(vals(op, [t(signed, [signed.length])], {} as never), signed.map(f), op);
    const r = run(op, [t(signed, [signed.length], "float32")], {} as never);
    assert.equal(r.dtype, "float32");
    assert.deepEqual(r.data, signed.map((x) => f32(f(f32(x)))), `${op} float32`);
  }
});

Deno.test("unary: NaN, infinities, sign and size-0", () => {
  assert.deepEqual(vals("sign", [t([-2, -0.5, 0, 3, NaN, -Infinity], [6])], {}), [
    -1,
    -1,
    0,
    1,
    NaN,
    -1,
  ]);
  assert.deepEqual(vals("exp", [t([NaN, -Infinity, Infinity], [3])], {}), [NaN, 0, Infinity]);
  assert.deepEqual(vals("log", [t([0, -1], [2])], {}), [-Infinity, NaN]);
  assert.deepEqual(vals("rsqrt", [t([0, 4], [2])], {}), [Infinity, 0.5]);
  const empty = run("exp", [t([], [0, 3])], {});
  assert.deepEqual(empty.shape, [0, 3]);
  assert.deepEqual(empty.data, []);
  // Scalar (rank 0).
  assert.deepEqual(run("neg", [t([2], [])], {}), { shape: [], dtype: "float64", data: [-2] });
});

Deno.test("round is round-half-to-even", () => {
  const xs = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 2.4, 2.6, -2.6, 0.49999999999999994, 1e300];
  assert.deepEqual(vals("round", [t(xs, [xs.length])], {}), [
    -2,
    -2,
    -0,
    0,
    2,
    2,
    4,
    2,
    3,
    -3,
    0,
    1e300,
  ]);
  assert.deepEqual(vals("round", [t([2.5, 3.5, -4.5], [3], "float32")], {}), [2, 4, -4]);
});

Deno.test("int32 neg/abs wrap like C; sign of ints; uint32 abs", () => {
  const xs = [-2147483648, -5, 0, 7, 2147483647];
  assert.deepEqual(vals("neg", [t(xs, [5], "int32")], {}), [-2147483648, 5, 0, -7, -2147483647]);
  assert.deepEqual(vals("abs", [t(xs, [5], "int32")], {}), [-2147483648, 5, 0, 7, 2147483647]);
  assert.deepEqual(vals("sign", [t(xs, [5], "int32")], {}), [-1, -1, 0, 1, 1]);
  assert.deepEqual(vals("abs", [t([0, 4294967295], [2], "uint32")], {}), [0, 4294967295]);
});

Deno.test("logicalNot", () => {
  const r = run("logicalNot", [t([1, 0, 1], [3], "bool")], {});
  assert.equal(r.dtype, "bool");
  assert.deepEqual(r.data, [0, 1, 0]);
});

Deno.test("erf: known values to 1e-15 relative, odd symmetry, limits", () => {
  const known: [number, number][] = [
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [2, 0.9953222650189527],
    [-3, -0.9999779095030014],
    [1e-10, 1.1283791670955126e-10],
    [0.1, 0.1124629160182849],
    [0.3, 0.3286267594591274],
    [0.6, 0.6038560908479259],
    [0.66, 0.6493766879629542],
    [0.7, 0.6778011938374184],
    [1.5, 0.9661051464753108],
    [2.5, 0.999593047982555],
    [3.5, 0.9999992569016276],
    [4.5, 0.9999999998033839],
    [5.5, 0.9999999999999927],
    [-0.8, -0.7421009647076605],
    [1e-5, 1.1283791670579e-5],
    [1e-300, 1.1283791670955126e-300],
  ];
  const xs = known.map(([x]) => x);
  const got = vals("erf", [t(xs, [xs.length])], {});
  for (let i = 0; i < known.length; i++) {
    const [x, want] = known[i]!;
    const rel = Math.abs(got[i]! - want) / Math.abs(want);
    assert.ok(rel <= 1e-15, `erf(${x}) = ${got[i]}, want ${want} (rel ${rel})`);
  }
  assert.deepEqual(vals("erf", [t([0, -0, 6, -7, Infinity, -Infinity, NaN], [7])], {}), [
    0,
    -0,
    1,
    -1,
    1,
    -1,
    NaN,
  ]);
  for (let x = 0.01; x < 6; x += 0.137) assert.equal(erf(-x), -erf(x));
  // Monotone across the two approximation regions (boundary at 2/3).
  let prev = -1;
  for (let x = 0.6; x < 0.75; x += 0.001) {
    const v = erf(x);
    assert.ok(v > prev);
    prev = v;
  }
  assert.deepEqual(vals("erf", [t([0.5], [1], "float32")], {}), [f32(0.5204998778130465)]);
});

Deno.test("erfc: known values to 1e-15 relative (no cancellation), erfc(-x) = 2 - erfc(x)", () => {
  const known: [number, number][] = [
    [0.5, 0.4795001221869534623],
    [1, 0.1572992070502851307],
    [2, 0.004677734981047265838],
    [3, 2.209049699858544137e-5],
    [4, 1.541725790028001885e-8],
    [5, 1.53745979442803485e-12],
    [6, 2.151973671249891311e-17],
    [8, 1.122429717298292708e-29],
    [10, 2.088487583762544757e-45],
    [20, 5.395865611607900929e-176],
    [-1, 1.842700792949714869],
  ];
  const xs = known.map(([x]) => x);
  const got = vals("erfc", [t(xs, [xs.length])], {});
  for (let i = 0; i < known.length; i++) {
    const [x, want] = known[i]!;
    const rel = Math.abs(got[i]! - want) / Math.abs(want);
    assert.ok(rel <= 1e-15, `erfc(${x}) = ${got[i]}, want ${want} (rel ${rel})`);
  }
  assert.deepEqual(vals("erfc", [t([0, -0, 30, -30, Infinity, -Infinity, NaN], [7])], {}), [
    1,
    1,
    0,
    2,
    0,
    2,
    NaN,
  ]);
  for (let x = 0.01; x < 8; x += 0.137) {
    assert.equal(erfc(-x), 2 - erfc(x));
    if (x < 2 / 3) assert.equal(erfc(x), 1 - erf(x));
  }
  assert.deepEqual(vals("erfc", [t([5], [1], "float32")], {}), [f32(1.53745979442803485e-12)]);
});
