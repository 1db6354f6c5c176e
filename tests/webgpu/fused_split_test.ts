/**
 * Fused programs and groups larger than the device's largest storage binding run split: a jitted
 * AdamW-shaped update whose packed outputs (~200 MB) exceed `maxStorageBufferBindingSize` (128 MiB on
 * llvmpipe; a ViT-B's update reads ~450 MB per size class) replays and matches eager, where it
 * failed with "exceeds the WebGPU device's largest storage binding" before.
 */
import assert from "node:assert/strict";
import {
  abs,
  add,
  dispose,
  div,
  jit,
  max,
  mul,
  random,
  sqrt,
  sub,
  type Tensor,
  toBackend,
} from "../../mod.ts";
import { gpu, gpuTest } from "./_setup.ts";

for (const sizes of ["one", "two"] as const) {
  gpuTest(
    `a jitted update larger than one storage binding runs split and matches eager (${sizes} size${
      sizes === "two" ? "s: a group" : ""
    })`,
    async () => {
      // 8 parameters: 32 reads and 24 writes, more than the device binds, so the kernel is packed
      // and its 24 outputs (~200 MB) would be one slab; of two sizes, two programs in one group
      // whose outputs would be one slab.
      const n = 8, size = Math.ceil(gpu!.limits.maxStorageBufferBindingSize / 4 / 16) + 5;
      const f = (ps: Tensor[], ms: Tensor[], vs: Tensor[], gs: Tensor[]) => {
        const m = ms.map((mi, i) => add(mul(mi, 0.9), mul(gs[i]!, 0.1)));
        const v = vs.map((vi, i) => add(mul(vi, 0.999), mul(mul(gs[i]!, gs[i]!), 0.001)));
        const p = ps.map((pi, i) =>
          sub(mul(pi, 0.99), div(mul(m[i]!, 0.01), add(sqrt(v[i]!), 1e-8)))
        );
        return { p, m, v };
      };
      const make = (k: number) =>
        Promise.all(
          Array.from(
            { length: n },
            (_, i) =>
              toBackend(
                random.normal(random.key(10 * k + i), [size + (sizes === "two" ? i % 2 : 0)]),
                "webgpu",
              ),
          ),
        );
      let ps = await make(1), ms = await make(2);
      let vs = (await make(3)).map((t) => mul(t, t));
      const gs = await make(4);
      const step = jit(f);
      for (let k = 0; k < 2; k++) {
        const r = step(ps, ms, vs, gs), want = f(ps, ms, vs, gs);
        for (const key of ["p", "m", "v"] as const) {
          for (let i = 0; i < n; i++) {
            const d = max(abs(sub(r[key][i]!, want[key][i]!)));
            const worst = (await d.data())[0]!;
            assert.ok(worst <= 1e-6, `step ${k} ${key}[${i}]: max |jit − eager| = ${worst}`);
            d.dispose();
          }
        }
        dispose([want, ps, ms, vs]);
        ({ p: ps, m: ms, v: vs } = r);
      }
      step.dispose();
      dispose([ps, ms, vs, gs]);
    },
  );
}
