/**
 * The primitive half of the gradient table: one row per differentiable primitive, through its
 * public op (the vision rows are spread in from _vision_grad_rows.ts). Re-exported by
 * _grad_rows.ts.
 * @module
 */
import fc from "fast-check";
import { VISION_ROWS } from "./_vision_grad_rows.ts";
import {
  abs,
  add,
  broadcastTo,
  cast,
  concat,
  cos,
  cumsum,
  div,
  erf,
  erfc,
  exp,
  expm1,
  flip,
  gather,
  log,
  log1p,
  matmul,
  max,
  maximum,
  min,
  minimum,
  mul,
  neg,
  pad,
  permute,
  pow,
  reciprocal,
  reshape,
  rsqrt,
  scatterAdd,
  sin,
  slice,
  type SliceSpec,
  sqrt,
  sub,
  sum,
  tanh,
  type Tensor,
  tensor,
  where,
} from "../../mod.ts";
import {
  axisArb,
  broadcastPair,
  broadcastsTo,
  broadcastTriple,
  dim,
  i32,
  intsArb,
  range,
  type Row,
  type Setup,
  shapeArb,
  size,
  str,
} from "./_grad_gen.ts";
import { binary, reduction, shapedRow, unary } from "./_grad_row_builders.ts";

// --- matmul -----------------------------------------------------------------------------

const matmulSetup: fc.Arbitrary<Setup> = fc.record({
  m: dim,
  k: dim,
  n: dim,
  transA: fc.boolean(),
  transB: fc.boolean(),
  vecA: fc.boolean(),
  vecB: fc.boolean(),
  batch: broadcastPair(2),
}).map(({ m, k, n, transA, transB, vecA, vecB, batch: [ba, bb] }) => {
  const a = vecA ? [k] : [...ba, ...(transA ? [k, m] : [m, k])];
  const b = vecB ? [k] : [...bb, ...(transB ? [n, k] : [k, n])];
  return {
    desc: `a${str(a)} b${str(b)} transA=${transA} transB=${transB}`,
    shapes: [a, b],
    fn: (x: Tensor, y: Tensor) => matmul(x, y, { transA, transB }),
  };
});

// --- slicing ------------------------------------------------------------------------------

function sliceSpecArb(d: number): fc.Arbitrary<SliceSpec> {
  const bound = fc.option(fc.integer({ min: -d - 1, max: d + 1 }), { nil: null });
  const step = fc.option(fc.integer({ min: -3, max: 3 }).filter((s) => s !== 0), { nil: null });
  return fc.oneof(
    fc.constant(null),
    fc.integer({ min: -d, max: d - 1 }),
    fc.tuple(bound, bound, step),
  );
}

const sliceSetup: fc.Arbitrary<Setup> = shapeArb(1).chain((s) =>
  fc.tuple(fc.tuple(...s.map(sliceSpecArb)), fc.integer({ min: 0, max: s.length })).map((
    [specs, n],
  ) => {
    const sp = specs.slice(0, n);
    return { desc: `x${str(s)} specs=${str(sp)}`, shapes: [s], fn: (x: Tensor) => slice(x, sp) };
  })
);

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

/** Primitives (through their public ops). */
export const PRIMITIVE_ROWS: Row[] = [
  unary("neg", neg, "real"),
  unary("abs", abs, "distinct", 1),
  unary("exp", exp, "bounded"),
  unary("log", log, "positive"),
  unary("log1p", log1p, "gtMinus1"),
  unary("expm1", expm1, "bounded"),
  unary("sqrt", sqrt, "positive"),
  unary("rsqrt", rsqrt, "positive"),
  unary("reciprocal", reciprocal, "nonzero"),
  unary("sin", sin, "real"),
  unary("cos", cos, "real"),
  unary("tanh", tanh, "unit"),
  unary("erf", erf, "unit"),
  unary("erfc", erfc, "unit"),
  binary("add", add, ["real", "real"]),
  binary("sub", sub, ["real", "real"]),
  binary("mul", mul, ["real", "real"]),
  binary("div", div, ["real", "nonzero"]),
  // a^b's high derivatives reach ~10³ at a = 0.5, b = -2: a smaller step keeps the
  // order-2 finite differences inside the default tolerance.
  { ...binary("pow", pow, ["positive", "nonzero"]), tol: { eps: 1e-5 } },
  // Regression: exponent exactly 0 keeps the mixed derivative ∂²(a^b)/∂a∂b = 1/a.
  binary("pow (exponent exactly 0)", pow, ["positive", "zero"]),
  binary("maximum", maximum, ["distinct", "distinct"], 1),
  binary("minimum", minimum, ["distinct", "distinct"], 1),
  {
    name: "where",
    arity: 2,
    domains: ["real", "real"],
    order: 2,
    setup: broadcastTriple().chain(([c, x, y]) =>
      fc.array(fc.boolean(), { minLength: size(c), maxLength: size(c) }).map((bits) => ({
        desc: `cond${str(c)}=${str(bits)} x${str(x)} y${str(y)}`,
        shapes: [x, y],
        fn: (a: Tensor, b: Tensor) => where(tensor(bits, { shape: c }), a, b),
      }))
    ),
  },
  reduction("sum", sum, "real", 2),
  reduction("max", max, "distinct", 1),
  reduction("min", min, "distinct", 1),
  shapedRow(
    "cumsum",
    1,
    (s) => fc.tuple(axisArb(s.length), fc.boolean()),
    ([axis, reverse]) => `axis=${axis} reverse=${reverse}`,
    (x, [axis, reverse]) => cumsum(x, axis, { reverse }),
  ),
  { name: "matmul", arity: 2, domains: ["real", "real"], order: 2, setup: matmulSetup },
  {
    name: "reshape",
    arity: 1,
    domains: ["real"],
    order: 2,
    setup: shapeArb().chain((s) =>
      fc.tuple(
        fc.shuffledSubarray(s, { minLength: s.length, maxLength: s.length }),
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
        fc.boolean(),
      ).map(([dims, ones, inferOne]) => {
        const target = [...dims];
        for (const at of ones) target.splice(Math.min(at, target.length), 0, 1);
        if (inferOne && target.length > 0) target[0] = -1;
        return {
          desc: `x${str(s)} -> ${str(target)}`,
          shapes: [s],
          fn: (x: Tensor) => reshape(x, target),
        };
      })
    ),
  },
  shapedRow(
    "permute",
    0,
    (s) => fc.shuffledSubarray(range(s.length), { minLength: s.length, maxLength: s.length }),
    (perm) => `perm=${str(perm)}`,
    permute,
  ),
  {
    name: "broadcastTo",
    arity: 1,
    domains: ["real"],
    order: 2,
    setup: shapeArb().chain((out) =>
      broadcastsTo(out).map((s) => ({
        desc: `x${str(s)} -> ${str(out)}`,
        shapes: [s],
        fn: (x: Tensor) => broadcastTo(x, out),
      }))
    ),
  },
  { name: "slice", arity: 1, domains: ["real"], order: 2, setup: sliceSetup },
  shapedRow("flip", 0, (s) => fc.subarray(range(s.length)), (axes) => `axes=${str(axes)}`, flip),
  shapedRow(
    "pad",
    0,
    (s) =>
      fc.record({
        widths: fc.tuple(
          ...s.map(() => fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }))),
        ),
        interior: fc.tuple(...s.map(() => fc.integer({ min: 0, max: 2 }))),
        value: fc.double({ min: -1, max: 1, noNaN: true }),
      }),
    ({ widths, interior, value }) =>
      `widths=${str(widths)} interior=${str(interior)} value=${value}`,
    (x, { widths, interior, value }) => pad(x, widths, { interior, value }),
  ),
  {
    name: "concat",
    arity: 3,
    domains: ["real", "real", "real"],
    order: 2,
    setup: shapeArb(1).chain((s) =>
      fc.tuple(axisArb(s.length), fc.tuple(dim, dim, dim)).map(([axis, ds]) => {
        const a = axis < 0 ? axis + s.length : axis;
        const shapes = ds.map((d) => s.map((x, i) => (i === a ? d : x)));
        return {
          desc: `${shapes.map((t) => str(t)).join(" ")} axis=${axis}`,
          shapes,
          fn: (...xs: Tensor[]) => concat(xs, axis),
        };
      })
    ),
  },
  {
    name: "gather",
    arity: 1,
    domains: ["real"],
    order: 2,
    setup: shapeArb(1).chain((s) =>
      fc.tuple(axisArb(s.length), shapeArb(0, 2)).chain(([axis, is]) =>
        intsArb(is, s[axis < 0 ? axis + s.length : axis]!).map((idx) => ({
          desc: `x${str(s)} axis=${axis} indices${str(is)}=${str(idx)}`,
          shapes: [s],
          fn: (x: Tensor) => gather(x, i32(idx, is), axis),
        }))
      )
    ),
  },
  {
    name: "scatterAdd",
    arity: 2,
    domains: ["real", "real"],
    order: 2,
    setup: shapeArb(1).chain((s) =>
      fc.tuple(axisArb(s.length), shapeArb(0, 2)).chain(([axis, is]) => {
        const a = axis < 0 ? axis + s.length : axis;
        const u = [...s.slice(0, a), ...is, ...s.slice(a + 1)];
        return intsArb(is, s[a]!).map((idx) => ({
          desc: `x${str(s)} axis=${axis} indices${str(is)}=${str(idx)} updates${str(u)}`,
          shapes: [s, u],
          fn: (x: Tensor, up: Tensor) => scatterAdd(x, i32(idx, is), up, axis),
        }));
      })
    ),
  },
  {
    // float32 input: the cast's JVP makes a float64 tangent, its VJP casts back to float32.
    name: "cast float32→float64",
    arity: 1,
    domains: ["real"],
    order: 2,
    dtype: "float32",
    tol: { atol: 1e-3, rtol: 1e-3 },
    setup: shapeArb().map((s) => ({
      desc: `x${str(s)}`,
      shapes: [s],
      fn: (x: Tensor) => mul(sin(cast(x, "float64")), cast(x, "float64")),
    })),
  },
  {
    // Linear, so only float32 rounding (~1e-7/eps) enters the finite differences.
    name: "cast float64→float32→float64",
    arity: 1,
    domains: ["real"],
    order: 2,
    tol: { atol: 1e-4, rtol: 1e-4, eps: 1e-2 },
    setup: shapeArb().map((s) => ({
      desc: `x${str(s)}`,
      shapes: [s],
      fn: (x: Tensor) => cast(cast(x, "float32"), "float64"),
    })),
  },
  ...VISION_ROWS,
];
