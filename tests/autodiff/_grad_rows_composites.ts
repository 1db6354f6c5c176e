/**
 * The composite half of the gradient table: ops with no rules of their own, so these rows check
 * that the primitives' rules compose. Re-exported by _grad_rows.ts.
 * @module
 */
import fc from "fast-check";
import {
  clip,
  einsum,
  expandDims,
  flatten,
  gelu,
  layerNorm,
  logSoftmax,
  logsumexp,
  mean,
  mul,
  oneHot,
  relu,
  sigmoid,
  silu,
  softmax,
  sort,
  split,
  squeeze,
  stack,
  sum,
  takeAlongAxis,
  type Tensor,
  topk,
  transpose,
  variance,
} from "../../mod.ts";
import {
  axesArb,
  axisArb,
  dim,
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
import { alongAxis, reduction, shapedRow, unary } from "./_grad_row_builders.ts";

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

/** Composites: no rules of their own, so these check the primitives' rules compose. */
export const COMPOSITE_ROWS: Row[] = [
  reduction("mean", mean, "real", 2),
  shapedRow(
    "variance",
    0,
    (s) =>
      fc.tuple(axesArb(s.length), fc.boolean(), fc.boolean()).map(([axes, keepdims, c1]) => {
        const n = size(normAxes(axes, s.length).map((a) => s[a]!));
        return { axes, keepdims, correction: c1 && n > 1 ? 1 : 0 };
      }),
    (p) => `axes=${str(p.axes)} keepdims=${p.keepdims} correction=${p.correction}`,
    (x, { axes, ...opts }) => variance(x, axes, opts),
  ),
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
  shapedRow(
    "sort",
    1,
    (s) => fc.tuple(axisArb(s.length), fc.boolean()),
    ([axis, descending]) => `axis=${axis} descending=${descending}`,
    (x, [axis, descending]) => sort(x, axis, { descending }),
    "distinct",
    1,
  ),
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
  shapedRow(
    "expandDims",
    0,
    (s) => fc.integer({ min: -s.length - 1, max: s.length }),
    (axis) => `axis=${axis}`,
    expandDims,
  ),
  shapedRow(
    "transpose",
    2,
    (s) => fc.option(fc.tuple(axisArb(s.length), axisArb(s.length)), { nil: undefined }),
    (ax) => `axes=${str(ax)}`,
    (x, ax) => (ax ? transpose(x, ax[0], ax[1]) : transpose(x)),
  ),
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
