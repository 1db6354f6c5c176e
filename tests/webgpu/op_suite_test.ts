/**
 * The shared op suite (tests/tensor/_op_suite.ts) on the webgpu backend, with JAX's float32
 * default tolerances. Skipped (one ignored placeholder) when there is no WebGPU adapter.
 */
import { opSuite } from "../tensor/_op_suite.ts";
import { noGpu } from "./_setup.ts";

if (noGpu) {
  Deno.test({ name: "ops[webgpu]: no WebGPU adapter", ignore: true, fn() {} });
} else {
  opSuite("webgpu", { rtol: 1e-6, atol: 1e-6 });
}
