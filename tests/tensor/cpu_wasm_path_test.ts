/**
 * The op suite, the PyTorch fixtures (ops and vision ops) and the gradient table once more
 * with the native BLAS turned off, so that both GEMM paths pass them: the other test files
 * use the BLAS where one is active (the default with -A and OpenBLAS installed); here the
 * same tests run on the WebAssembly GEMM (float32) and the reference loops (float64). Where
 * no BLAS is active the other files already cover that path and this one registers nothing
 * but an ignored placeholder.
 */
import assert from "node:assert/strict";
import { cpuFastPathInfo, setCpuBlas } from "../../mod.ts";

if (cpuFastPathInfo().blas.active) {
  setCpuBlas("off"); // for this isolate only: every test module runs in its own
  await import("./ops_test.ts");
  await import("./torch_fixtures_test.ts");
  await import("./vision_test.ts");
  await import("../autodiff/grad_table_test.ts");
  Deno.test("wasm path: the native BLAS stayed off for these tests", () => {
    assert.equal(cpuFastPathInfo().path, "wasm");
  });
} else {
  Deno.test({
    name: "wasm path: no BLAS active, the other files test this path",
    ignore: true,
    fn() {},
  });
}
