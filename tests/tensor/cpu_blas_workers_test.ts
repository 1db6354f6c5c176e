/**
 * The native BLAS under concurrency: Workers of one process share the library (and its
 * process-wide thread count), as test modules do under `deno test --parallel`. Products
 * computed while other Workers compute must be bit-identical to themselves. Before the BLAS's
 * thread count was left alone per call, batched products switched it to one thread and back,
 * and about one repeat in ten came out with different bits in some Worker.
 */
import assert from "node:assert/strict";
import { cpuFastPathInfo } from "../../mod.ts";

const HAVE_BLAS = cpuFastPathInfo().blas.active;

Deno.test({
  name: "blas: float32 matmuls in concurrent Workers are bit-identical to themselves",
  ignore: !HAVE_BLAS,
  async fn() {
    const workers = [1, 2, 3].map(() =>
      new Worker(new URL("./_blas_worker.ts", import.meta.url), { type: "module" })
    );
    try {
      const results = await Promise.all(
        workers.map((w, i) =>
          new Promise<{ differing: number; products: number }>((resolve, reject) => {
            w.onmessage = (e) => resolve(e.data);
            w.onerror = (e) => {
              e.preventDefault();
              reject(new Error(`worker ${i}: ${e.message}`));
            };
            w.postMessage({ seed: i + 1, repeats: 150 });
          })
        ),
      );
      for (const [i, r] of results.entries()) {
        assert.equal(r.products, 600);
        assert.equal(r.differing, 0, `worker ${i}: ${r.differing} of ${r.products} differed`);
      }
    } finally {
      for (const w of workers) w.terminate();
    }
  },
});
