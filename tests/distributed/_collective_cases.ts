/**
 * A replica that runs every host collective on float32, float64 and int32 data, out of place
 * and in place; the same module runs under sim(W) and mpirun (tests/distributed/).
 */
import type { Collectives, HostArray } from "../../distributed/mod.ts";

/** Rank r's input of `dtype` with n elements (awkward floats; int32 values that overflow). */
export function inputOf(dtype: string, rank: number, n: number): HostArray {
  const xs = Array.from({ length: n }, (_, i) => (i + 1) / 3 + rank * 0.7 + (i % 2 ? 1e7 : 0));
  if (dtype === "float32") return new Float32Array(xs);
  if (dtype === "float64") return new Float64Array(xs);
  return new Int32Array(xs.map((x, i) => (i === 0 ? 2 ** 31 - 1 - rank : Math.round(x * 1000))));
}

/** Every collective's result on this rank, keyed by case name. */
export default function cases(
  coll: Collectives,
  input: { n?: number } | null,
): Record<string, HostArray> {
  const n = input?.n ?? 7;
  const out: Record<string, HostArray> = {};
  const W = coll.size, r = coll.rank;
  for (const dt of ["float32", "float64", "int32"]) {
    const x = inputOf(dt, r, n);
    out[`${dt} allReduceSum`] = coll.allReduceSum(x);
    out[`${dt} allReduceSum in place`] = coll.allReduceSum(x.slice(), { inPlace: true });
    out[`${dt} broadcast`] = coll.broadcast(x.slice(), W - 1);
    out[`${dt} allGather`] = coll.allGather(x);
    const room = new (x.constructor as Float32ArrayConstructor)(n * W) as HostArray;
    room.set(x, r * n);
    out[`${dt} allGather in place`] = coll.allGather(room, { inPlace: true });
    const blocks = inputOf(dt, r, n * W);
    out[`${dt} reduceScatterSum`] = coll.reduceScatterSum(blocks);
    out[`${dt} reduceScatterSum in place`] = coll.reduceScatterSum(blocks.slice(), {
      inPlace: true,
    }).slice();
  }
  coll.barrier();
  return out;
}
