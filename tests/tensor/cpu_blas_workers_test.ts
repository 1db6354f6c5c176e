/**
 * The native BLAS under concurrency: Workers of one process share the library (and its
 * process-wide thread count), as test modules do under `deno test --parallel`. Products
 * computed while other Workers compute must be bit-identical to themselves. Before the BLAS's
 * thread count was left alone per call, batched products switched it to one thread and back,
 * and about one repeat in ten came out with different bits in some Worker; while each isolate
 * still applied its own configured count, Workers configured with 1 and 2 threads (as test
 * modules and trainer runs are) corrupted about 40 of 600 products. The Workers here are
 * configured differently on purpose: the process's first matmul fixes the BLAS's count.
 */
import assert from "node:assert/strict";
import { cpuFastPathInfo } from "../../mod.ts";

const HAVE_BLAS = cpuFastPathInfo().blas.active;

Deno.test({
  name:
    "blas: float32 matmuls in concurrent Workers configured with different thread counts are bit-identical to themselves",
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
            w.postMessage({ seed: i + 1, repeats: 150, threads: [2, 1, 2][i] });
          })
        ),
      );
      for (const [i, r] of results.entries()) {
        console.log(JSON.stringify(r));
        assert.equal(r.products, 600);
        assert.equal(r.differing, 0, `worker ${i}: ${r.differing} of ${r.products} differed`);
      }
    } finally {
      for (const w of workers) w.terminate();
    }
  },
});
