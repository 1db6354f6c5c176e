/**
 * Property-based bad-input suite over the public ops (issue 20): random shapes, axes, dtypes,
 * NaN/±Infinity values, empty and huge sizes, and junk arguments. Every call either returns a
 * correct result or throws a TesseraError naming the public op — never a raw JS error, never
 * NaN from finite inputs, never a leaked tensor. Box ops: bad_input_boxes_test.ts.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import * as T from "../../mod.ts";
import {
  allFinite,
  anyValue,
  attempt,
  dim,
  filled,
  finiteValue,
  fullShape,
  junk,
  property,
  shapeArb,
  values,
} from "./_bad_input.ts";

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
// deno-lint-ignore no-explicit-any
const loose = (x: unknown): any => x;

// ---------------------------------------------------------------------------------------------
// Creation: shapes and ranges of any kind.

const shapeEntry = fc.oneof(
  { weight: 6, arbitrary: dim },
  { weight: 1, arbitrary: fc.constantFrom(-1, 0.5, NaN, Infinity, 1e5, 1e12, 2 ** 31) },
);
const anyShape = fc.oneof(
  { weight: 8, arbitrary: fc.array(shapeEntry, { maxLength: 4 }) },
  { weight: 1, arbitrary: junk },
);
const validShape = (s: unknown): s is number[] =>
  Array.isArray(s) && s.every((d) => Number.isInteger(d) && d >= 0) && size(s) < 2 ** 31;

property(
  "zeros, ones, full and tensor with any shape",
  fc.property(anyShape, fc.constantFrom("float32", "int32", "bool", "float64"), (s, dtype) => {
    T.scope(() => {
      const fill = dtype === "bool" ? 1 : 7;
      const calls: [string, () => T.Tensor, number][] = [
        ["zeros", () => T.zeros(loose(s), { dtype }), 0],
        ["ones", () => T.ones(loose(s), { dtype }), 1],
        ["full", () => T.full(loose(s), fill, { dtype }), fill],
      ];
      for (const [op, call, v] of calls) {
        const r = attempt(op, call);
        assert.equal(r.ok, validShape(s), `${op}(${String(s)})`);
        if (r.ok) {
          assert.deepEqual(r.value.shape, s);
          assert.ok(values(r.value).every((x) => x === v));
        } else if (Array.isArray(s) && s.every((d) => Number.isInteger(d) && d >= 0)) {
          assert.match(r.error.message, /elements: \d.* bytes/); // huge: says how many bytes
        }
      }
      const n = validShape(s) ? size(s) : 1;
      const r = attempt(
        "tensor",
        () => T.tensor(new Float32Array(Math.min(n, 64)), { shape: loose(s) }),
      );
      assert.equal(
        r.ok,
        s == null || (validShape(s) && n <= 64),
        `tensor(…, { shape: ${String(s)} })`,
      );
    });
  }),
);

const rangeValue = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -6, max: 6 }) },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, 1e12, 0.5) },
);
property(
  "arange, linspace and eye with any range",
  fc.property(
    rangeValue,
    rangeValue,
    fc.constantFrom(1, 2, -1, 0.5, -3, 0, NaN, Infinity, 1e-12),
    (a, b, step) => {
      T.scope(() => {
        const r = attempt("arange", () => T.arange(a, b, step));
        const n = Math.ceil((b - a) / step);
        const valid = [a, b, step].every(Number.isFinite) && step !== 0 && !(n >= 2 ** 31);
        assert.equal(r.ok, valid, `arange(${a}, ${b}, ${step})`);
        if (r.ok) {
          const want = Array.from({ length: Math.max(0, n) }, (_, i) => Math.fround(a + i * step));
          assert.deepEqual(values(r.value), want);
        }
        const num = Math.abs(b) === 1e12 ? b : Math.abs(b);
        const l = attempt("linspace", () => T.linspace(0, 1, num));
        assert.equal(l.ok, Number.isInteger(num) && num >= 0 && num < 2 ** 31);
        if (l.ok) {
          const v = values(l.value);
          assert.ok(allFinite(v) && v.length === num && (num < 2 || v.at(-1) === 1));
        }
        const e = attempt("eye", () => T.eye(Math.abs(a), Math.abs(b) === 1e12 ? 1e12 : 2));
        if (e.ok) {
          assert.equal(values(e.value).reduce((x, y) => x + y, 0), Math.min(Math.abs(a), 2));
        }
      });
    },
  ),
);

// ---------------------------------------------------------------------------------------------
// Axes of any kind, on shapes with empty dimensions.

const anyAxis = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -4, max: 4 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(NaN, Infinity, 0.5, "0", null, [0, 0], [], [0, -1]),
  },
);

/** Reference reductions along one axis of a row-major array. */
function alongAxis(
  shape: readonly number[],
  axis: number,
  v: readonly number[],
  f: (xs: number[]) => number,
): number[] {
  const n = shape[axis]!, inner = size(shape.slice(axis + 1)), outer = size(shape.slice(0, axis));
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      out.push(f(Array.from({ length: n }, (_, k) => v[(o * n + k) * inner + i]!)));
    }
  }
  return out;
}

const REDUCERS: [
  string,
  (x: T.Tensor, a: number) => T.Tensor,
  ((xs: number[]) => number) | null,
][] = [
  ["sum", (x, a) => T.sum(x, a), (xs) => xs.reduce((p, q) => p + q, 0)],
  ["max", (x, a) => T.max(x, a), (xs) => Math.max(...xs)],
  ["min", (x, a) => T.min(x, a), (xs) => Math.min(...xs)],
  ["mean", (x, a) => T.mean(x, a), (xs) => Math.fround(xs.reduce((p, q) => p + q, 0) / xs.length)],
  ["argmax", (x, a) => T.argmax(x, a), (xs) => xs.indexOf(Math.max(...xs))],
  ["argmin", (x, a) => T.argmin(x, a), (xs) => xs.indexOf(Math.min(...xs))],
  ["logsumexp", (x, a) => T.logsumexp(x, a), null],
  ["variance", (x, a) => T.variance(x, a), null],
];
const AXIS_OPS: [string, (x: T.Tensor, a: number) => unknown][] = [
  ["softmax", (x, a) => T.softmax(x, a)],
  ["logSoftmax", (x, a) => T.logSoftmax(x, a)],
  ["cumsum", (x, a) => T.cumsum(x, a)],
  ["argsort", (x, a) => T.argsort(x, a)],
  ["sort", (x, a) => T.sort(x, a)],
  ["flip", (x, a) => T.flip(x, a)],
  ["squeeze", (x, a) => T.squeeze(x, a)],
  ["expandDims", (x, a) => T.expandDims(x, a)],
  ["split", (x, a) => T.split(x, 1, a)],
  ["concat", (x, a) => T.concat([x, x], a)],
  ["stack", (x, a) => T.stack([x, x], a)],
  ["topk", (x, a) => T.topk(x, 1, a).values],
  ["gather", (x, a) => T.gather(x, T.zeros([1], { dtype: "int32" }), a)],
  ["transpose", (x, a) => T.transpose(x, a, 0)],
  ["flatten", (x, a) => T.flatten(x, a)],
];

property(
  "reductions and axis ops with any axis: correct results or a TesseraError",
  fc.property(
    shapeArb,
    anyAxis,
    fc.array(finiteValue, { minLength: 1, maxLength: 8 }),
    (s, a, vals) => {
      T.scope(() => {
        const x = () => filled(s, vals.map((v) => Math.round(v) || 0)); // no -0: max(0, -0) may be either
        const axisOk = typeof a === "number" && Number.isInteger(a) && a >= -s.length &&
          a < s.length;
        for (const [op, fn, ref] of REDUCERS) {
          const r = attempt(op, () => fn(x(), loose(a)));
          if (!axisOk) {
            assert.ok(!r.ok || Array.isArray(a), `${op} accepted axis ${String(a)}`);
            continue;
          }
          const ax = (a as number) < 0 ? (a as number) + s.length : (a as number);
          const outShape = s.filter((_, i) => i !== ax);
          // sum of nothing is 0; mean/variance of nothing is an error unless the result is empty
          // too; max/min/arg*/logsumexp reject any empty axis.
          const strict = ["max", "min", "argmax", "argmin", "logsumexp"].includes(op);
          const rejects = s[ax] === 0 && op !== "sum" && (strict || size(outShape) > 0);
          assert.equal(r.ok, !rejects, `${op} over axis ${ax} of [${s}]`);
          if (!r.ok) continue;
          assert.deepEqual(r.value.shape, outShape);
          const got = values(r.value);
          assert.ok(allFinite(got), `${op}: non-finite result from finite input`);
          if (ref) assert.deepEqual(got, alongAxis(s, ax, values(x()), ref), op);
        }
        for (const [op, fn] of AXIS_OPS) {
          const r = attempt(op, () => fn(x(), loose(a)));
          if (!r.ok) continue;
          const out = Array.isArray(r.value) ? r.value as T.Tensor[] : [r.value as T.Tensor];
          for (const t of out) {
            assert.ok(allFinite(values(t)), `${op}: non-finite from finite input`);
          }
          if (op === "softmax" && size(s) > 0) {
            const ax = (a as number) < 0 ? (a as number) + s.length : (a as number);
            for (
              const row of alongAxis(s, ax, values(out[0]), (xs) => xs.reduce((p, q) => p + q, 0))
            ) {
              assert.ok(Math.abs(row - 1) < 1e-5, `softmax row sums to ${row}`);
            }
          }
        }
      });
    },
  ),
  80,
);

// ---------------------------------------------------------------------------------------------
// Values: finite inputs give finite, exact results; NaN/±Infinity never cause raw errors.

const UNARY: [string, (x: T.Tensor) => T.Tensor][] = [
  ["exp", T.exp],
  ["tanh", T.tanh],
  ["sigmoid", T.sigmoid],
  ["relu", T.relu],
  ["gelu", (x) => T.gelu(x)],
  ["silu", T.silu],
  ["abs", T.abs],
  ["neg", T.neg],
  ["sin", T.sin],
  ["cos", T.cos],
  ["erf", T.erf],
  ["floor", T.floor],
  ["round", T.round],
  ["sign", T.sign],
  ["expm1", T.expm1],
  ["softmax", (x) => T.softmax(x)],
  ["logSoftmax", (x) => T.logSoftmax(x)],
  ["layerNorm", (x) => T.layerNorm(x)],
  ["cumsum", (x) => T.cumsum(x)],
  ["clip", (x) => T.clip(x, -1, 1)],
];
const BINARY: [string, (a: T.Tensor, b: T.Tensor) => T.Tensor, (a: number, b: number) => number][] =
  [
    ["add", T.add, (a, b) => a + b],
    ["sub", T.sub, (a, b) => a - b],
    ["mul", T.mul, (a, b) => a * b],
    ["maximum", T.maximum, (a, b) => Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)],
    ["minimum", T.minimum, (a, b) => Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)],
  ];

property(
  "elementwise ops: finite in, finite and exact out; NaN/Infinity in, no raw error",
  fc.property(
    fullShape,
    fc.array(anyValue, { minLength: 1, maxLength: 12 }),
    fc.array(anyValue, { minLength: 1, maxLength: 12 }),
    (s, va, vb) => {
      T.scope(() => {
        const finite = allFinite(va) && allFinite(vb);
        for (const [op, fn] of UNARY) {
          const r = attempt(op, () => fn(filled(s, va)));
          assert.ok(r.ok, `${op} rejected a float32 tensor`);
          if (allFinite(va)) {
            assert.ok(!values(r.value).some(Number.isNaN), `${op}: NaN from finite input`);
          }
        }
        const a = filled(s, va), b = filled(s, vb);
        for (const [op, fn, ref] of BINARY) {
          const r = attempt(op, () => fn(a, b));
          assert.ok(r.ok);
          const [x, y] = [values(a), values(b)];
          assert.deepEqual(values(r.value), x.map((v, i) => Math.fround(ref(v, y[i]!))), op);
          if (finite) assert.ok(allFinite(values(r.value)));
        }
        const m = attempt("matmul", () => T.matmul(a, T.transpose(b)));
        assert.ok(m.ok);
        if (finite) assert.ok(allFinite(values(m.value)), "matmul: non-finite from finite input");
      });
    },
  ),
);

// ---------------------------------------------------------------------------------------------
// Dtypes: every public unary/binary op with every dtype.

const DTYPES: T.DType[] = ["float32", "float64", "int32", "uint32", "bool"];
property(
  "unary and binary ops with any dtype: a result of the right dtype or a TesseraError",
  fc.property(fc.constantFrom(...DTYPES), fc.constantFrom(...DTYPES), fullShape, (da, db, s) => {
    T.scope(() => {
      const x = () => T.zeros(s, { dtype: da }), y = () => T.ones(s, { dtype: db });
      for (const [op, fn] of UNARY) attempt(op, () => fn(x()));
      for (const [op, fn] of BINARY) {
        const r = attempt(op, () => fn(x(), y()));
        assert.equal(r.ok, da === db && da !== "bool", `${op}(${da}, ${db})`);
      }
      for (
        const op of ["div", "pow", "equal", "less", "where", "bitwiseAnd", "logicalAnd"] as const
      ) {
        const fn = op === "where"
          ? () => T.where(T.cast(x(), "bool"), x(), y())
          : () => (T[op] as (a: T.Tensor, b: T.Tensor) => T.Tensor)(x(), y());
        attempt(op, fn);
      }
      const c = attempt("cast", () => T.cast(filled(s, [NaN, Infinity, -1.5, 3e9]), da));
      assert.ok(c.ok && c.value.dtype === da);
      if (da !== "float32" && da !== "float64") assert.ok(allFinite(values(c.value)));
    });
  }),
);

// ---------------------------------------------------------------------------------------------
// Huge sizes: a TesseraError naming the op and the bytes asked for, never a RangeError.

const big = fc.constantFrom(1e5, 65536, 1e6, 46341);
property(
  "huge sizes are a TesseraError saying how many bytes",
  fc.property(big, big, fc.nat(9), (m, n, which) => {
    T.scope(() => {
      const calls: [string, () => unknown][] = [
        ["zeros", () => T.zeros([m, n])],
        ["full", () => T.full([m, n, 2], 1, { dtype: "int32" })],
        ["add", () => T.add(T.zeros([m, 1]), T.zeros([1, n]))],
        ["broadcastTo", () => T.broadcastTo(T.zeros([1]), [m, n])],
        ["matmul", () => T.matmul(T.zeros([m, 1]), T.zeros([1, n]))],
        ["interpolate", () => T.interpolate(T.zeros([1, 1, 2, 2]), { scaleFactor: m })],
        ["pad", () => T.pad(T.zeros([2]), [[0, m * n]])],
        ["oneHot", () => T.oneHot(T.zeros([m], { dtype: "int32" }), n)],
        ["arange", () => T.arange(0, m * n)],
        ["eye", () => T.eye(m, n)],
      ];
      const [op, call] = calls[which]!;
      const r = attempt(op, call);
      assert.ok(!r.ok, `${op} accepted a huge size`);
      assert.match(r.error.message, /has [\d.e+]+ elements: [\d.e+]+ bytes/);
    });
  }),
  20,
);

// ---------------------------------------------------------------------------------------------
// Junk arguments in any position.

const f2 = () => T.tensor([[1, 2], [3, 4]]);
const i2 = () => T.tensor([0, 1], { dtype: "int32" });
/** [op, argument builders]; one argument is replaced by junk. */
const CALLS: [string, (...args: unknown[]) => unknown, (() => unknown)[]][] = [
  ["add", loose(T.add), [f2, f2]],
  ["matmul", loose(T.matmul), [f2, f2, () => ({})]],
  ["reshape", loose(T.reshape), [f2, () => [4]]],
  ["permute", loose(T.permute), [f2, () => [1, 0]]],
  ["transpose", loose(T.transpose), [f2, () => 0, () => 1]],
  ["slice", loose(T.slice), [f2, () => [[0, 1]]]],
  ["pad", loose(T.pad), [f2, () => [[1, 1], [0, 0]], () => ({})]],
  ["concat", loose(T.concat), [() => [f2(), f2()], () => 0]],
  ["stack", loose(T.stack), [() => [f2(), f2()], () => 0]],
  ["split", loose(T.split), [f2, () => 2, () => 0]],
  ["gather", loose(T.gather), [f2, i2, () => 0]],
  ["takeAlongAxis", loose(T.takeAlongAxis), [
    f2,
    () => T.zeros([2, 1], { dtype: "int32" }),
    () => 1,
  ]],
  ["scatterAdd", loose(T.scatterAdd), [f2, i2, f2, () => 0]],
  ["oneHot", loose(T.oneHot), [i2, () => 3]],
  ["sum", loose(T.sum), [f2, () => 0, () => false]],
  ["mean", loose(T.mean), [f2, () => 0]],
  ["variance", loose(T.variance), [f2, () => 0, () => ({})]],
  ["softmax", loose(T.softmax), [f2, () => -1]],
  ["topk", loose(T.topk), [f2, () => 1, () => -1]],
  ["sort", loose(T.sort), [f2, () => -1]],
  ["clip", loose(T.clip), [f2, () => 0, () => 1]],
  ["where", loose(T.where), [() => T.full([2, 2], true), f2, f2]],
  ["cast", loose(T.cast), [f2, () => "int32"]],
  ["layerNorm", loose(T.layerNorm), [f2, () => undefined, () => undefined, () => ({})]],
  ["broadcastTo", loose(T.broadcastTo), [f2, () => [2, 2, 2]]],
  ["flip", loose(T.flip), [f2, () => 0]],
  ["squeeze", loose(T.squeeze), [() => T.zeros([2, 1]), () => 1]],
  ["expandDims", loose(T.expandDims), [f2, () => 0]],
  ["cumsum", loose(T.cumsum), [f2, () => 0]],
  ["einsum", loose(T.einsum), [() => "ij,jk->ik", f2, f2]],
  ["full", loose(T.full), [() => [2], () => 1, () => ({})]],
  ["zeros", loose(T.zeros), [() => [2], () => ({})]],
  ["arange", loose(T.arange), [() => 0, () => 3, () => 1]],
  ["tensor", loose(T.tensor), [() => [1, 2], () => ({})]],
  ["conv2d", loose(T.conv2d), [
    () => T.zeros([1, 1, 3, 3]),
    () => T.zeros([1, 1, 2, 2]),
    () => null,
  ]],
  ["maxPool2d", loose(T.maxPool2d), [() => T.zeros([1, 1, 4, 4]), () => 2]],
  ["avgPool2d", loose(T.avgPool2d), [() => T.zeros([1, 1, 4, 4]), () => 2]],
  ["interpolate", loose(T.interpolate), [() => T.zeros([1, 1, 2, 2]), () => ({ size: 4 })]],
  ["roiAlign", loose(T.roiAlign), [
    () => T.zeros([1, 1, 4, 4]),
    () => T.tensor([[0, 0, 0, 2, 2]]),
    () => ({ outputSize: 2 }),
  ]],
  ["boxIou", loose(T.boxIou), [() => T.tensor([[0, 0, 1, 1]]), () => T.tensor([[0, 0, 2, 2]])]],
  ["boxArea", loose(T.boxArea), [() => T.tensor([[0, 0, 1, 1]])]],
  ["clipBoxes", loose(T.clipBoxes), [() => T.tensor([[0, 0, 1, 1]]), () => [2, 2]]],
  ["nmsPadded", loose(T.nmsPadded), [
    () => T.tensor([[0, 0, 1, 1]]),
    () => T.tensor([1]),
    () => 0.5,
    () => ({}),
  ]],
];

property(
  "junk in any argument: a result or a TesseraError naming the op",
  fc.property(fc.nat(CALLS.length - 1), fc.nat(3), junk, (k, pos, bad) => {
    T.scope(() => {
      const [op, fn, builders] = CALLS[k]!;
      const args = builders.map((b) => b());
      assert.ok(attempt(op, () => fn(...args)).ok, `${op} rejected its good arguments`);
      args[pos % args.length] = bad;
      const r = attempt(op, () => fn(...args));
      if (r.ok && r.value instanceof T.Tensor) values(r.value);
      if (!r.ok && bad !== null) {
        assert.doesNotMatch(r.error.message, /\bnull\b/, "a value printed as null (NaN via JSON?)");
      }
    });
  }),
  300,
);
