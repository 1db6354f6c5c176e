/**
 * The gradient table (JAX's `LAX_GRAD_OPS`): one row per differentiable primitive and per
 * composite. A row's `setup` arbitrary draws the static part of a case (shapes, axes, flags,
 * fixed integer/bool operands) and the function to check; `domains` say where each
 * differentiated input's values are drawn. grad_table_test.ts runs every row through
 * `checkGrad` in float64.
 * @module
 */
import fc from "fast-check";
import { VISION_ROWS } from "./_vision_grad_rows.ts";
import {
  abs,
  add,
  broadcastTo,
  cast,
  clip,
  concat,
  cos,
  cumsum,
  div,
  einsum,
  erf,
  exp,
  expandDims,
  expm1,
  flatten,
  flip,
  gather,
  gelu,
  layerNorm,
  log,
  log1p,
  logSoftmax,
  logsumexp,
  matmul,
  max,
  maximum,
  mean,
  min,
  minimum,
  mul,
  neg,
  oneHot,
  pad,
  permute,
  pow,
  reciprocal,
  relu,
  reshape,
  rsqrt,
  scatterAdd,
  sigmoid,
  silu,
  sin,
  slice,
  type SliceSpec,
  softmax,
  sort,
  split,
  sqrt,
  squeeze,
  stack,
  sub,
  sum,
  takeAlongAxis,
  tanh,
  type Tensor,
  tensor,
  topk,
  transpose,
  variance,
  where,
} from "../../mod.ts";
import {
  axesArb,
  axisArb,
  broadcastPair,
  broadcastsTo,
  broadcastTriple,
  dim,
  type Domain,
  i32,
  intsArb,
  normAxes,
  range,
  type Row,
  type Setup,
  shapeArb,
  size,
  str,
} from "./_grad_gen.ts";

export type { Row } from "./_grad_gen.ts";
export { caseArb } from "./_grad_gen.ts";

// ---------------------------------------------------------------------------------------
// Row builders
// ---------------------------------------------------------------------------------------

function unary(
  name: string,
  f: (x: Tensor) => Tensor,
  domain: Domain,
  order: 1 | 2 = 2,
  extra: Partial<Row> = {},
): Row {
  return {
    name,
    arity: 1,
    domains: [domain],
    order,
    setup: shapeArb().map((s) => ({ desc: `x${str(s)}`, shapes: [s], fn: f })),
    ...extra,
  };
}

function binary(
  name: string,
  f: (a: Tensor, b: Tensor) => Tensor,
  domains: [Domain, Domain],
  order: 1 | 2 = 2,
): Row {
  return {
    name,
    arity: 2,
    domains,
    order,
    setup: broadcastPair().map(([a, b]) => ({
      desc: `a${str(a)} b${str(b)}`,
      shapes: [a, b],
      fn: f,
    })),
  };
}

/** Reductions over random axes with random keepdims. */
function reduction(
  name: string,
  f: (x: Tensor, axes: number | number[] | undefined, keep: boolean) => Tensor,
  domain: Domain,
  order: 1 | 2,
): Row {
  return {
    name,
    arity: 1,
    domains: [domain],
    order,
    setup: shapeArb().chain((s) =>
      fc.tuple(axesArb(s.length), fc.boolean()).map(([axes, keep]) => ({
        desc: `x${str(s)} axes=${str(axes)} keepdims=${keep}`,
        shapes: [s],
        fn: (x: Tensor) => f(x, axes, keep),
      }))
    ),
  };
}

/** Ops along one axis of a rank ≥ 1 tensor. */
function alongAxis(
  name: string,
  f: (x: Tensor, axis: number) => Tensor,
  domain: Domain,
  order: 1 | 2,
): Row {
  return {
    name,
    arity: 1,
    domains: [domain],
    order,
    setup: shapeArb(1).chain((s) =>
      axisArb(s.length).map((axis) => ({
        desc: `x${str(s)} axis=${axis}`,
        shapes: [s],
        fn: (x: Tensor) => f(x, axis),
      }))
    ),
  };
}

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

// --- einsum -------------------------------------------------------------------------------

const EINSUM_EQS = [
  "ij,jk->ik",
  "bij,bjk->bik",
  "ij->",
  "i,i->",
  "ij,j->i",
  "ij->ji",
  "ijk,ik->j",
  "bi,bj->bij",
  "b...d,bd->b...",
  "ij,kj",
  "ij,jk,kl->il",
];

const einsumSetup: fc.Arbitrary<Setup> = fc.record({
  eq: fc.constantFrom(...EINSUM_EQS),
  sizes: fc.array(dim, { minLength: 12, maxLength: 12 }),
  ell: shapeArb(0, 2),
}).map(({ eq, sizes, ell }) => {
  const lhs = eq.split("->")[0]!;
  const shapes = lhs.split(",").map((spec) => {
    const [pre, post] = spec.split("...") as [string, string | undefined];
    const lab = (s: string) => [...s].map((c) => sizes[c.charCodeAt(0) - 97]!);
    return post === undefined ? lab(pre) : [...lab(pre), ...ell, ...lab(post)];
  });
  return {
    desc: `"${eq}" ${shapes.map((s) => str(s)).join(" ")}`,
    shapes,
    fn: (...xs: Tensor[]) => einsum(eq, ...xs),
  };
});

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
  {
    name: "cumsum",
    arity: 1,
    domains: ["real"],
    order: 2,
    setup: shapeArb(1).chain((s) =>
      fc.tuple(axisArb(s.length), fc.boolean()).map(([axis, reverse]) => ({
        desc: `x${str(s)} axis=${axis} reverse=${reverse}`,
        shapes: [s],
        fn: (x: Tensor) => cumsum(x, axis, { reverse }),
      }))
    ),
  },
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
  {
    name: "permute",
    arity: 1,
    domains: ["real"],
    order: 2,
    setup: shapeArb().chain((s) =>
      fc.shuffledSubarray(range(s.length), { minLength: s.length, maxLength: s.length }).map(
        (perm) => ({
          desc: `x${str(s)} perm=${str(perm)}`,
          shapes: [s],
          fn: (x: Tensor) => permute(x, perm),
        }),
      )
    ),
  },
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
  {
    name: "flip",
    arity: 1,
    domains: ["real"],
    order: 2,
    setup: shapeArb().chain((s) =>
      fc.subarray(range(s.length)).map((axes) => ({
        desc: `x${str(s)} axes=${str(axes)}`,
        shapes: [s],
        fn: (x: Tensor) => flip(x, axes),
      }))
    ),
  },
  {
    name: "pad",
    arity: 1,
    domains: ["real"],
    order: 2,
    setup: shapeArb().chain((s) =>
      fc.record({
        widths: fc.tuple(
          ...s.map(() => fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }))),
        ),
        interior: fc.tuple(...s.map(() => fc.integer({ min: 0, max: 2 }))),
        value: fc.double({ min: -1, max: 1, noNaN: true }),
      }).map(({ widths, interior, value }) => ({
        desc: `x${str(s)} widths=${str(widths)} interior=${str(interior)} value=${value}`,
        shapes: [s],
        fn: (x: Tensor) => pad(x, widths, { interior, value }),
      }))
    ),
  },
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

/** Composites: no rules of their own, so these check the primitives' rules compose. */
export const COMPOSITE_ROWS: Row[] = [
  reduction("mean", mean, "real", 2),
  {
    name: "variance",
    arity: 1,
    domains: ["real"],
    order: 2,
    setup: shapeArb().chain((s) =>
      fc.tuple(axesArb(s.length), fc.boolean(), fc.boolean()).map(([axes, keepdims, c1]) => {
        const n = size(normAxes(axes, s.length).map((a) => s[a]!));
        const correction = c1 && n > 1 ? 1 : 0;
        return {
          desc: `x${str(s)} axes=${str(axes)} keepdims=${keepdims} correction=${correction}`,
          shapes: [s],
          fn: (x: Tensor) => variance(x, axes, { keepdims, correction }),
        };
      })
    ),
  },
  reduction("logsumexp", logsumexp, "real", 2),
  alongAxis("softmax", softmax, "real", 2),
  alongAxis("logSoftmax", logSoftmax, "real", 2),
  unary("relu", relu, "distinct", 1),
  unary("gelu (exact)", (x) => gelu(x), "real"),
  unary("gelu (tanh)", (x) => gelu(x, { approximate: "tanh" }), "real"),
  unary("silu", silu, "real"),
  unary("sigmoid", sigmoid, "real"),
  {
    name: "layerNorm (weight, bias)",
    arity: 3,
    domains: ["distinct", "real", "real"],
    order: 2,
    tol: { atol: 1e-4, rtol: 1e-4 },
    setup: shapeArb(1).chain((s) =>
      fc.integer({ min: 1, max: Math.min(2, s.length) }).map((k) => {
        const norm = s.slice(s.length - k);
        const axes = k === 1 ? -1 : range(k).map((i) => s.length - k + i);
        return {
          desc: `x${str(s)} axes=${str(axes)}`,
          shapes: [s, norm, norm],
          fn: (x: Tensor, w: Tensor, b: Tensor) => layerNorm(x, w, b, { axes }),
        };
      })
    ),
  },
  { name: "einsum", arity: 3, domains: ["real", "real", "real"], order: 2, setup: einsumSetup },
  unary("clip", (x) => clip(x, -0.5, 0.5), "distinct", 1),
  {
    name: "sort",
    arity: 1,
    domains: ["distinct"],
    order: 1,
    setup: shapeArb(1).chain((s) =>
      fc.tuple(axisArb(s.length), fc.boolean()).map(([axis, descending]) => ({
        desc: `x${str(s)} axis=${axis} descending=${descending}`,
        shapes: [s],
        fn: (x: Tensor) => sort(x, axis, { descending }),
      }))
    ),
  },
  {
    name: "topk values",
    arity: 1,
    domains: ["distinct"],
    order: 1,
    setup: shapeArb(1).chain((s) =>
      fc.tuple(axisArb(s.length), fc.boolean()).chain(([axis, largest]) =>
        fc.integer({ min: 0, max: s[axis < 0 ? axis + s.length : axis]! }).map((k) => ({
          desc: `x${str(s)} k=${k} axis=${axis} largest=${largest}`,
          shapes: [s],
          fn: (x: Tensor) => topk(x, k, axis, { largest }).values,
        }))
      )
    ),
  },
  {
    name: "takeAlongAxis",
    arity: 1,
    domains: ["real"],
    order: 2,
    setup: shapeArb(1).chain((s) =>
      fc.tuple(axisArb(s.length), dim, fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }))
        .chain(([axis, len, bcast]) => {
          const a = axis < 0 ? axis + s.length : axis;
          const is = s.map((d, i) => (i === a ? len : bcast[i] ? 1 : d));
          return intsArb(is, s[a]!).map((idx) => ({
            desc: `x${str(s)} axis=${axis} indices${str(is)}=${str(idx)}`,
            shapes: [s],
            fn: (x: Tensor) => takeAlongAxis(x, i32(idx, is), axis),
          }));
        })
    ),
  },
  {
    // Cross-entropy style: the one-hot matrix is a constant multiplier.
    name: "oneHot (constant multiplier)",
    arity: 1,
    domains: ["real"],
    order: 2,
    setup: fc.tuple(shapeArb(0, 2), dim).chain(([batch, c]) =>
      intsArb(batch, c).map((labels) => ({
        desc: `logits${str([...batch, c])} labels=${str(labels)}`,
        shapes: [[...batch, c]],
        fn: (x: Tensor) =>
          sum(mul(logSoftmax(x), oneHot(i32(labels, batch), c, { dtype: "float64" })), -1),
      }))
    ),
  },
  {
    name: "stack",
    arity: 3,
    domains: ["real", "real", "real"],
    order: 2,
    setup: shapeArb().chain((s) =>
      fc.integer({ min: -s.length - 1, max: s.length }).map((axis) => ({
        desc: `3 × x${str(s)} axis=${axis}`,
        shapes: [s, s, s],
        fn: (...xs: Tensor[]) => stack(xs, axis),
      }))
    ),
  },
  {
    // Returns a list of tensors: also checks pytree outputs.
    name: "split",
    arity: 1,
    domains: ["real"],
    order: 2,
    setup: shapeArb(1).chain((s) =>
      axisArb(s.length).chain((axis) => {
        const d = s[axis < 0 ? axis + s.length : axis]!;
        const equal = fc.constantFrom(...range(d).map((i) => i + 1).filter((k) => d % k === 0));
        // Sizes between sorted cut points (zero-size parts where cuts coincide).
        const sizes = fc.array(fc.integer({ min: 0, max: d }), { minLength: 1, maxLength: 3 })
          .map((cuts) => {
            const at = [0, ...[...cuts].sort((p, q) => p - q), d];
            return at.slice(1).map((c, i) => c - at[i]!);
          });
        return fc.oneof(equal, sizes).map((sections) => ({
          desc: `x${str(s)} sections=${str(sections)} axis=${axis}`,
          shapes: [s],
          fn: (x: Tensor) => split(x, sections, axis),
        }));
      })
    ),
  },
  {
    name: "squeeze",
    arity: 1,
    domains: ["real"],
    order: 2,
    setup: fc.array(fc.constantFrom(1, 1, 2, 3), { maxLength: 3 }).chain((s) => {
      const ones = range(s.length).filter((i) => s[i] === 1);
      return fc.oneof(
        fc.constant(undefined),
        fc.subarray(ones).chain((ax) =>
          fc.tuple(...ax.map((a) => fc.constantFrom(a, a - s.length)))
        ),
      ).map((axes) => ({
        desc: `x${str(s)} axes=${str(axes)}`,
        shapes: [s],
        fn: (x: Tensor) => squeeze(x, axes),
      }));
    }),
  },
  {
    name: "expandDims",
    arity: 1,
    domains: ["real"],
    order: 2,
    setup: shapeArb().chain((s) =>
      fc.integer({ min: -s.length - 1, max: s.length }).map((axis) => ({
        desc: `x${str(s)} axis=${axis}`,
        shapes: [s],
        fn: (x: Tensor) => expandDims(x, axis),
      }))
    ),
  },
  {
    name: "transpose",
    arity: 1,
    domains: ["real"],
    order: 2,
    setup: shapeArb(2).chain((s) =>
      fc.option(fc.tuple(axisArb(s.length), axisArb(s.length)), { nil: undefined }).map((ax) => ({
        desc: `x${str(s)} axes=${str(ax)}`,
        shapes: [s],
        fn: (x: Tensor) => (ax ? transpose(x, ax[0], ax[1]) : transpose(x)),
      }))
    ),
  },
  {
    name: "flatten",
    arity: 1,
    domains: ["real"],
    order: 2,
    setup: shapeArb().chain((s) => {
      if (s.length === 0) {
        return fc.constant({ desc: "x[]", shapes: [s], fn: (x: Tensor) => flatten(x) });
      }
      return fc.tuple(fc.nat(s.length - 1), fc.nat(s.length - 1)).map(([p, q]) => {
        const [start, end] = [Math.min(p, q), Math.max(p, q)];
        return {
          desc: `x${str(s)} start=${start} end=${end}`,
          shapes: [s],
          fn: (x: Tensor) => flatten(x, start, end - s.length),
        };
      });
    }),
  },
];
