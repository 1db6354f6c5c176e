/**
 * Subprocess helper of cpu_blas_test.ts: prints the CPU backend's fast-path state and one
 * float32 and one float64 product as a JSON line (run with the permissions under test).
 * `--no-deno` removes the `Deno` and `process` globals before tessera loads, as in a browser.
 */
if (Deno.args.includes("--no-deno")) {
  // As in a browser: neither `Deno` nor Node's `process` (whose lazy getter needs `Deno`).
  delete (globalThis as { process?: unknown }).process;
  delete (globalThis as { Deno?: unknown }).Deno;
}
const { cpuFastPathInfo, matmul, tensor } = await import("../../mod.ts");

const a = [[1, 2, 3], [4, 5, 6]], b = [[1, 0], [0, 1], [1, 1]];
const f32 = await matmul(tensor(a), tensor(b)).toArray();
const f64 = await matmul(tensor(a, { dtype: "float64" }), tensor(b, { dtype: "float64" }))
  .toArray();
console.log(JSON.stringify({ info: cpuFastPathInfo(), f32, f64 }));
