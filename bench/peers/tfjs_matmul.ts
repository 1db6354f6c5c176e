/**
 * TensorFlow.js 4.22 wasm backend (XNNPACK, SIMD; single-threaded under Deno) side of the
 * matmul comparison. Prints JSON lines (see `_common.ts`).
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import { setWasmPaths } from "npm:@tensorflow/tfjs-backend-wasm@4.22.0";
import { lcg, MATMUL_SIZES, report, repsFor, timeIt } from "./_common.ts";
import { tfjsWasmDir } from "./_tfjs.ts";

setWasmPaths(tfjsWasmDir());
await tf.setBackend("wasm");
await tf.ready();
for (const n of MATMUL_SIZES) {
  const a = tf.tensor2d(lcg(n * n, 1), [n, n]), b = tf.tensor2d(lcg(n * n, 2), [n, n]);
  const ms = await timeIt(() => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  }, repsFor(n));
  report("tfjs 4.22 (wasm)", "matmul", n, ms);
  a.dispose();
  b.dispose();
}
