/**
 * jax-js (npm:@jax-js/jax, wasm device, its own Web Worker pool) side of the matmul
 * comparison. Prints JSON lines (see `_common.ts`). Exits explicitly: jax-js's workers
 * would keep Deno alive.
 */
import { blockUntilReady, defaultDevice, init, numpy as np } from "npm:@jax-js/jax@0.1.25";
import { lcg, MATMUL_SIZES, report, repsFor, timeIt } from "./_common.ts";

await init("wasm");
defaultDevice("wasm");
for (const n of MATMUL_SIZES) {
  const a = np.array(lcg(n * n, 1)).reshape([n, n]);
  const b = np.array(lcg(n * n, 2)).reshape([n, n]);
  const ms = await timeIt(async () => {
    const c = np.matmul(a.ref, b.ref);
    await blockUntilReady(c);
    c.dispose();
  }, repsFor(n));
  report("jax-js 0.1.25 (wasm)", "matmul", n, ms);
  a.dispose();
  b.dispose();
}
Deno.exit(0);
