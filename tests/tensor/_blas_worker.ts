/**
 * Worker for cpu_blas_workers_test.ts: repeats batched small and single large float32 matmuls
 * with the thread count it is given and posts how many repeats differed in any bit from the first result of the same product.
 */
import { setCpuThreads } from "../../tensor/cpu/mod.ts";
import { dispose } from "../../tensor/memory.ts";
import { matmul } from "../../tensor/ops/linalg.ts";
import * as random from "../../tensor/random.ts";

self.onmessage = (e: MessageEvent<{ seed: number; repeats: number; threads: number }>) => {
  const { seed, repeats, threads } = e.data;
  setCpuThreads(threads);
  const [k1, k2] = random.splitKeys(random.key(seed));
  // Batched small items (attention-head sized) and single products above the BLAS's
  // multithreading threshold, interleaved as in a ViT step.
  const shapes = [[8, 64, 32, 48], [300, 200, 250], [4, 30, 60, 20], [128, 512, 64]];
  let differing = 0, products = 0;
  for (const s of shapes) {
    const a = random.normal(k1, s.length === 4 ? [s[0]!, s[1]!, s[2]!] : [s[0]!, s[1]!]);
    const b = random.normal(k2, s.length === 4 ? [s[0]!, s[2]!, s[3]!] : [s[1]!, s[2]!]);
    const first = matmul(a, b);
    const want = first.dataSync();
    for (let r = 0; r < repeats; r++) {
      const c = matmul(a, b);
      const got = c.dataSync();
      products++;
      if (got.some((v, i) => v !== want[i])) differing++;
      c.dispose();
    }
    dispose([a, b, first]);
  }
  dispose([k1, k2]);
  self.postMessage({ differing, products });
};
