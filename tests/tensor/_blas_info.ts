/**
 * Subprocess helper of cpu_blas_test.ts: prints the CPU backend's fast-path state and one
 * float32 and one float64 product as a JSON line (run with the permissions under test).
 * `--no-deno` removes the `Deno` and `process` globals before tessera loads, as in a browser;
 * `--threads N` calls `setCpuThreads(N)` first (the BLAS's thread count is process-wide, so the
 * test that changes it does so here, not in the test process).
 */
const threadsAt = Deno.args.indexOf("--threads");
const threads = threadsAt >= 0 ? Number(Deno.args[threadsAt + 1]) : null;
if (Deno.args.includes("--no-deno")) {
  // As in a browser: neither `Deno` nor Node's `process` (whose lazy getter needs `Deno`).
  delete (globalThis as { process?: unknown }).process;
  delete (globalThis as { Deno?: unknown }).Deno;
}
const { cpuFastPathInfo, matmul, setCpuThreads, tensor } = await import("../../mod.ts");
if (threads !== null) setCpuThreads(threads);

const a = [[1, 2, 3], [4, 5, 6]], b = [[1, 0], [0, 1], [1, 1]];
const f32 = await matmul(tensor(a), tensor(b)).toArray();
const f64 = await matmul(tensor(a, { dtype: "float64" }), tensor(b, { dtype: "float64" }))
  .toArray();
console.log(JSON.stringify({ info: cpuFastPathInfo(), f32, f64 }));
