/**
 * Row builders of the gradient table (_grad_rows*.ts): a row for a unary op, a broadcasting
 * binary op, a reduction over random axes, or an op along one random axis.
 * @module
 */
import fc from "fast-check";
import { type Tensor } from "../../mod.ts";
import {
  axesArb,
  axisArb,
  broadcastPair,
  type Domain,
  type Row,
  shapeArb,
  str,
} from "./_grad_gen.ts";

/** A unary op on a random shape. */
export function unary(
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

/** A binary op on a random broadcasting pair of shapes. */
export function binary(
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

/**
 * A unary op on a random shape of rank ≥ `minRank`, with parameters `p` drawn for that shape:
 * the case reads `x[shape] ${desc(p)}` and computes `f(x, p)`.
 */
export function shapedRow<P>(
  name: string,
  minRank: number,
  params: (s: number[]) => fc.Arbitrary<P>,
  desc: (p: P) => string,
  f: (x: Tensor, p: P) => Tensor,
  domain: Domain = "real",
  order: 1 | 2 = 2,
): Row {
  return {
    name,
    arity: 1,
    domains: [domain],
    order,
    setup: shapeArb(minRank).chain((s) =>
      params(s).map((p) => ({
        desc: `x${str(s)} ${desc(p)}`,
        shapes: [s],
        fn: (x: Tensor) => f(x, p),
      }))
    ),
  };
}

/** Reductions over random axes with random keepdims. */
export function reduction(
  name: string,
  f: (x: Tensor, axes: number | number[] | undefined, keep: boolean) => Tensor,
  domain: Domain,
  order: 1 | 2,
): Row {
  return shapedRow(
    name,
    0,
    (s) => fc.tuple(axesArb(s.length), fc.boolean()),
    ([axes, keep]) => `axes=${str(axes)} keepdims=${keep}`,
    (x, [axes, keep]) => f(x, axes, keep),
    domain,
    order,
  );
}

/** Ops along one axis of a rank ≥ 1 tensor. */
export function alongAxis(
  name: string,
  f: (x: Tensor, axis: number) => Tensor,
  domain: Domain,
  order: 1 | 2,
): Row {
  return shapedRow(
    name,
    1,
    (s) => axisArb(s.length),
    (axis) => `axis=${axis}`,
    f,
    domain,
    order,
  );
}
