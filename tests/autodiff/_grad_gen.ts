/**
 * Generators for the gradient table: shapes (rank 0–3, dims 1–4), broadcast-compatible
 * shape pairs/triples, axes, fixed integer operands, and input values per domain. Also the
 * `Row`/`Setup`/`Case` types of _grad_rows.ts.
 * @module
 */
import fc from "fast-check";
import { type Tensor, tensor } from "../../mod.ts";

/**
 * Where an input's values are drawn. `distinct` values (shared by every `distinct` input of
 * a row) are pairwise ≥ 0.1 apart and ≥ 0.05 away from every multiple of 0.25: no ties for
 * max/min/sort, no kinks of abs/relu at 0, nothing near clip's ±0.5 bounds.
 */
export type Domain =
  | "real"
  | "positive"
  | "nonzero"
  | "unit"
  | "bounded"
  | "gtMinus1"
  | "distinct"
  | "zero";

/** One drawn case: the differentiated inputs' shapes and the function of them. */
export interface Setup {
  /** Human-readable parameters, shown in counterexamples. */
  desc: string;
  /** One shape per differentiated input. */
  shapes: number[][];
  /** The function under test (fixed operands are built inside, so nothing leaks). */
  fn: (...xs: Tensor[]) => unknown;
}

/** A row of the table. */
export interface Row {
  name: string;
  /** Number of differentiated inputs. */
  arity: number;
  /** Value domain of each differentiated input. */
  domains: Domain[];
  /** Draws shapes, static parameters and the function. */
  setup: fc.Arbitrary<Setup>;
  /** 2 where the function is smooth, else 1. */
  order: 1 | 2;
  /** Tolerance / step overrides for `checkGrad`. */
  tol?: { atol?: number; rtol?: number; eps?: number };
  /** Input dtype (default float64); float32 rows run with `dtype: "keep"`. */
  dtype?: "float32" | "float64";
  /** Skip the row (each one carries a `// BUG:` comment). */
  ignore?: boolean;
}

// ---------------------------------------------------------------------------------------
// Shape and parameter generators
// ---------------------------------------------------------------------------------------

/** A dimension size, 1–4. */
export const dim = fc.integer({ min: 1, max: 4 });
/** Number of elements of a shape. */
export const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
/** `[0, 1, …, n-1]`. */
export const range = (n: number) => Array.from({ length: n }, (_, i) => i);
/** JSON for counterexample descriptions. */
export const str = (x: unknown) => JSON.stringify(x);

/** Shapes of rank `minRank..maxRank` with dims 1–4 (size-1 dims included). */
export function shapeArb(minRank = 0, maxRank = 3): fc.Arbitrary<number[]> {
  return fc.array(dim, { minLength: minRank, maxLength: maxRank });
}

/** A shape that broadcasts to `out`: leading dims dropped, some dims set to 1. */
export function broadcastsTo(out: readonly number[]): fc.Arbitrary<number[]> {
  return fc.tuple(
    fc.integer({ min: 0, max: out.length }),
    fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
  ).map(([drop, ones]) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));
}

const CLASSIC_PAIRS: [number[], number[]][] = [
  [[3, 1], [1, 4]],
  [[], [2, 3]],
  [[2, 3], []],
  [[4], [3, 1]],
  [[2, 1, 4], [3, 1]],
  [[1], [2, 2]],
];

/** Pairs of broadcast-compatible shapes (classic cases plus random ones). */
export function broadcastPair(maxRank = 3): fc.Arbitrary<[number[], number[]]> {
  return fc.oneof(
    fc.constantFrom(...CLASSIC_PAIRS.filter(([a, b]) => Math.max(a.length, b.length) <= maxRank)),
    shapeArb(0, maxRank).chain((out) => fc.tuple(broadcastsTo(out), broadcastsTo(out))),
  );
}

/** Triples of broadcast-compatible shapes. */
export function broadcastTriple(): fc.Arbitrary<[number[], number[], number[]]> {
  return shapeArb().chain((out) =>
    fc.tuple(broadcastsTo(out), broadcastsTo(out), broadcastsTo(out))
  );
}

/** An axis of a rank-`r` tensor (r ≥ 1), possibly negative. */
export const axisArb = (r: number) => fc.integer({ min: -r, max: r - 1 });

/** Reduction axes: all (undefined), one (maybe negative) or any subset (maybe empty). */
export function axesArb(r: number): fc.Arbitrary<number | number[] | undefined> {
  const opts: fc.Arbitrary<number | number[] | undefined>[] = [
    fc.constant(undefined),
    fc.subarray(range(r)),
  ];
  if (r > 0) opts.push(axisArb(r));
  return fc.oneof(...opts);
}

/** Axes normalised to non-negative indices. */
export function normAxes(axes: number | number[] | undefined, r: number): number[] {
  if (axes === undefined) return range(r);
  return (typeof axes === "number" ? [axes] : axes).map((a) => (a < 0 ? a + r : a));
}

/** Fixed int32 operand data: values in [0, n) for a given shape. */
export function intsArb(shape: readonly number[], n: number): fc.Arbitrary<number[]> {
  const k = size(shape);
  return fc.array(fc.integer({ min: 0, max: n - 1 }), { minLength: k, maxLength: k });
}

/** An int32 tensor (built inside the checked function so nothing leaks). */
export const i32 = (data: readonly number[], shape: readonly number[]) =>
  tensor(Int32Array.from(data), { shape: [...shape] });

// ---------------------------------------------------------------------------------------
// Input values
// ---------------------------------------------------------------------------------------

const dbl = (min: number, max: number) =>
  fc.double({ min, max, noNaN: true, noDefaultInfinity: true });

function valueArb(d: Exclude<Domain, "distinct">): fc.Arbitrary<number> {
  switch (d) {
    case "real":
    case "bounded":
      return dbl(-2, 2);
    case "positive":
      return dbl(0.5, 3);
    case "nonzero":
      return fc.tuple(fc.boolean(), dbl(0.7, 2)).map(([neg, v]) => (neg ? -v : v));
    case "unit":
      return dbl(-0.9, 0.9);
    case "gtMinus1":
      return dbl(-0.5, 2);
    case "zero":
      return fc.constant(0);
  }
}

/** `n` values on a 0.25 grid (distinct slots) plus a jitter in [0.05, 0.2]. */
function distinctArb(n: number): fc.Arbitrary<number[]> {
  const k = Math.max(12, n);
  return fc.tuple(
    fc.uniqueArray(fc.integer({ min: -k, max: k - 1 }), { minLength: n, maxLength: n }),
    fc.array(dbl(0.05, 0.2), { minLength: n, maxLength: n }),
  ).map(([slots, jitter]) => slots.map((s, i) => s * 0.25 + jitter[i]!));
}

/** A full case: setup plus one flat value array per differentiated input. */
export interface Case {
  setup: Setup;
  values: number[][];
}

/** Draws a setup and values for its inputs from the row's domains. */
export function caseArb(row: Row): fc.Arbitrary<Case> {
  return row.setup.chain((setup) => {
    const sizes = setup.shapes.map(size);
    const nDistinct = sizes.reduce((a, n, i) => a + (row.domains[i] === "distinct" ? n : 0), 0);
    const plain = sizes.map((n, i) => {
      const d = row.domains[i]!;
      return d === "distinct"
        ? fc.constant([] as number[])
        : fc.array(valueArb(d), { minLength: n, maxLength: n });
    });
    return fc.tuple(distinctArb(nDistinct), fc.tuple(...plain)).map(([pool, vals]) => {
      let off = 0;
      const values = vals.map((v, i) => {
        if (row.domains[i] !== "distinct") return v;
        const out = pool.slice(off, off + sizes[i]!);
        off += sizes[i]!;
        return out;
      });
      return { setup, values };
    });
  });
}
