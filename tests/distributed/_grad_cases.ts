/**
 * Gradients through the differentiable collectives under sim(W), with asymmetric per-rank
 * losses: rank r's loss is `lossOf(r, collective(x_r))`, and the total is F = Σ_r loss_r.
 * The replica returns its gradient and a numerical check of ⟨∇F, v⟩ done across the ranks;
 * the test compares the gradients with F written in one process without collectives.
 */
import { grad } from "../../autodiff/mod.ts";
import {
  allGather,
  allReduceSum,
  type Collectives,
  reduceScatterSum,
} from "../../distributed/mod.ts";
import { add, mul, sin, sum, type Tensor, tensor } from "../../tensor/mod.ts";

/** The collectives under test. */
export const KINDS = ["allReduceSum", "allGather", "reduceScatterSum"] as const;
/** One of {@link KINDS}. */
export type Kind = (typeof KINDS)[number];

const ROWS = 2, COLS = 3;

/** Rows of rank r's input: ROWS for allReduceSum/allGather, W·ROWS for reduceScatterSum. */
export function rowsOf(kind: Kind, size: number): number {
  return kind === "reduceScatterSum" ? size * ROWS : ROWS;
}

/** Rank r's input (float64), deterministic. */
export function inputOf(kind: Kind, rank: number, size: number, salt = 0): Tensor {
  const n = rowsOf(kind, size) * COLS;
  const v = Array.from({ length: n }, (_, i) => Math.sin(1.7 * i + 2.3 * rank + salt) * 0.9);
  return tensor(new Float64Array(v), { shape: [rowsOf(kind, size), COLS] });
}

/** Rank r's loss of the collective's output: sin-weighted on even ranks, square on odd. */
export function lossOf(rank: number, v: Tensor): Tensor {
  const c = tensor(
    new Float64Array(Array.from({ length: v.size }, (_, i) => 0.3 + ((i * 7 + rank * 5) % 11) / 4)),
    { shape: v.shape },
  );
  return rank % 2 === 0 ? sum(mul(sin(v), c)) : sum(mul(mul(v, v), c));
}

function apply(coll: Collectives, kind: Kind, x: Tensor): Tensor {
  return kind === "allReduceSum"
    ? allReduceSum(coll, x)
    : kind === "allGather"
    ? allGather(coll, x)
    : reduceScatterSum(coll, x);
}

/** Per kind: this rank's gradient, and ⟨∇F, v⟩ analytic vs central difference. */
export default async function gradCases(coll: Collectives) {
  const r = coll.rank, W = coll.size;
  const out: Record<string, { grad: Float64Array; analytic: number; numeric: number }> = {};
  const total = (kind: Kind, x: Tensor) =>
    coll.allReduceSum(lossOf(r, apply(coll, kind, x)).dataSync() as Float64Array)[0]!;
  for (const kind of KINDS) {
    const x = inputOf(kind, r, W);
    const g = grad((t: Tensor) => lossOf(r, apply(coll, kind, t)))(x);
    const v = inputOf(kind, r, W, 0.5);
    const eps = 1e-5;
    const numeric = (total(kind, add(x, mul(v, eps))) - total(kind, add(x, mul(v, -eps)))) /
      (2 * eps);
    const analytic = coll.allReduceSum(new Float64Array([await sum(mul(g, v)).item()]))[0]!;
    out[kind] = { grad: await g.data() as Float64Array, analytic, numeric };
  }
  return out;
}
