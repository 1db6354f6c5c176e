/** The expected results of _collective_cases.ts, written out directly from the inputs. */
import { inputOf } from "./_collective_cases.ts";
import { encode } from "./_encode.ts";

/** Cases' array length. */
export const N = 7;

/** Rank-order sum of two or more values in dtype arithmetic (the expected MPI result). */
function add(dt: string, a: number, b: number): number {
  return dt === "float32" ? Math.fround(a + b) : dt === "float64" ? a + b : (a + b) | 0;
}

/** What every case of _collective_cases.ts must give on `rank` of `W`, written out directly. */
export function expected(W: number, rank: number): Record<string, ArrayLike<number>> {
  const out: Record<string, ArrayLike<number>> = {};
  for (const dt of ["float32", "float64", "int32"]) {
    const xs = Array.from({ length: W }, (_, r) => [...inputOf(dt, r, N)]);
    const sum = xs[0]!.map((_, i) => xs.slice(1).reduce((s, x) => add(dt, s, x[i]!), xs[0]![i]!));
    const gathered = xs.flat();
    const blocks = Array.from({ length: W }, (_, r) => [...inputOf(dt, r, N * W)]);
    const mine = Array.from({ length: N }, (_, i) => rank * N + i);
    const scattered = mine.map((j) =>
      blocks.slice(1).reduce((s, b) => add(dt, s, b[j]!), blocks[0]![j]!)
    );
    const T = dt === "float32" ? Float32Array : dt === "float64" ? Float64Array : Int32Array;
    out[`${dt} allReduceSum`] = new T(sum);
    out[`${dt} allReduceSum in place`] = new T(sum);
    out[`${dt} broadcast`] = new T(xs[W - 1]!);
    out[`${dt} allGather`] = new T(gathered);
    out[`${dt} allGather in place`] = new T(gathered);
    out[`${dt} reduceScatterSum`] = new T(scattered);
    out[`${dt} reduceScatterSum in place`] = new T(scattered);
  }
  return out;
}

/** The expected results of every rank of W, encoded as the replicas' results are. */
export function expectedEncoded(W: number): string[] {
  return Array.from({ length: W }, (_, r) => encode(expected(W, r)));
}
