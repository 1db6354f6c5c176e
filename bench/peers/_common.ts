/**
 * Shared pieces of the peer benchmarks: deterministic inputs, timing, and the JSON line
 * each peer prints (`{"peer","bench","n","ms","gflops"}`) for `run.ts` to collect.
 * @module
 */

/** Sizes of the square float32 matmul benchmark. */
export const MATMUL_SIZES = [256, 512, 1024, 2048];

/** Uniform values in [-0.5, 0.5) from a 32-bit LCG (same in every peer). */
export function lcg(n: number, seed: number): Float32Array<ArrayBuffer> {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return a;
}

/** Repetitions for size `n`: enough for ≥ ~0.5 s of work at ~50 GFLOP/s. */
export function repsFor(n: number): number {
  return n <= 256 ? 200 : n <= 512 ? 40 : n <= 1024 ? 10 : 3;
}

/**
 * Times `run` (sync or async): `warm` untimed calls, then the best of 3 rounds of `reps`
 * calls; returns milliseconds per call.
 */
export async function timeIt(
  run: () => unknown,
  reps: number,
  warm = 3,
): Promise<number> {
  for (let i = 0; i < warm; i++) await run();
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) await run();
    best = Math.min(best, (performance.now() - t0) / reps);
  }
  return best;
}

/** The fields of `cpuFastPathInfo()` that name tessera's GEMM path. */
export interface PathInfo {
  path: string;
  relaxedSimd: boolean;
  threads: number;
  blas: { library: string | null; config: string | null };
}

/** tessera's peer label: the GEMM path (native BLAS or WebAssembly) and thread count. */
export function tesseraLabel(info: PathInfo): string {
  const path = info.path === "blas"
    ? `blas ${(info.blas.config ?? info.blas.library ?? "").split(" ").slice(0, 2).join(" ")}`
    : info.path === "wasm"
    ? `wasm${info.relaxedSimd ? " relaxed-simd" : " simd"}`
    : "reference";
  return `tessera (${path}, ${info.threads}T)`;
}

/** Prints one result line. */
export function report(peer: string, bench: string, n: number, ms: number, extra = {}): void {
  const gflops = bench === "matmul" ? (2 * n ** 3) / (ms * 1e6) : undefined;
  console.log(JSON.stringify({ peer, bench, n, ms, gflops, ...extra }));
}
