/**
 * Five steps of SGD on a tiny linear embedding with a coupled loss (InfoNCE-like: each row's
 * similarities to the whole gathered global batch) plus a per-row squared error. Rank r takes
 * rows [rB, (r+1)B) of the same global batch; the gradient is summed with allReduceSum.
 * Runs unchanged under local() (1 rank × 2B), sim(W) and mpirun.
 */
import { valueAndGrad } from "../../autodiff/mod.ts";
import { allGather, allReduceSum, type Collectives } from "../../distributed/mod.ts";
import {
  add,
  div,
  logsumexp,
  matmul,
  mul,
  scope,
  sub,
  sum,
  type Tensor,
  tensor,
  transpose,
} from "../../tensor/mod.ts";

const D = 4, K = 3;

function rowsOf(f: (i: number, j: number) => number, from: number, to: number, cols: number) {
  const v: number[] = [];
  for (let i = from; i < to; i++) for (let j = 0; j < cols; j++) v.push(f(i, j));
  return tensor(new Float32Array(v), { shape: [to - from, cols] });
}

/** The replica: `{ w, losses }` after `steps` SGD steps on a global batch of `batch` rows. */
export default async function sgd(
  coll: Collectives,
  input: { batch?: number; steps?: number } | null,
): Promise<{ w: Float32Array; losses: number[] }> {
  const batch = input?.batch ?? 8, steps = input?.steps ?? 5;
  const B = batch / coll.size, from = coll.rank * B;
  const x = rowsOf((i, j) => Math.sin(1.3 * i + 0.7 * j + 0.1), from, from + B, D);
  const y = rowsOf((i, j) => Math.cos(0.5 * i - j), from, from + B, K);
  let w = rowsOf((i, j) => 0.3 * Math.sin(3 * i + j), 0, D, K);
  const loss = (w: Tensor) => {
    const z = matmul(x, w); // [B, K]
    const all = allGather(coll, z); // [batch, K]
    const sims = matmul(z, transpose(all)); // [B, batch]
    const self = sum(mul(z, z)); // each row's similarity to itself: the positive
    const nce = sub(sum(logsumexp(sims, 1)), self);
    const mse = sum(mul(sub(z, y), sub(z, y)));
    return div(add(nce, mse), batch); // this rank's share of the global mean
  };
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const [l, g] = valueAndGrad(loss)(w);
    const total = allReduceSum(coll, g);
    losses.push(coll.allReduceSum(new Float32Array([await l.item()]))[0]!);
    const next = scope(() => sub(w, mul(total, 0.1)));
    for (const t of [l, g, total, w]) t.dispose();
    w = next;
  }
  const out = { w: await w.data() as Float32Array, losses };
  for (const t of [w, x, y]) t.dispose();
  return out;
}
