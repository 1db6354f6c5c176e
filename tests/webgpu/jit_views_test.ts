/**
 * Layout ops folded into matmuls on WebGPU (autodiff/jit_views.ts): attention's head split
 * (permute + split of the qkv projection) is read in place by the matmuls and its head merge
 * (a permute of the product) written in place, so the forward pass records no permute; random
 * permute/slice/reshape chains into a matmul and permutes of its product match eager.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  dispose,
  jit,
  jitStats,
  matmul,
  permute,
  random,
  reshape,
  slice,
  softmax,
  split,
  squeeze,
  sum,
  type Tensor,
  toBackend,
  valueAndGrad,
} from "../../mod.ts";
import { gpuTest } from "./_setup.ts";

async function close(want: Tensor, got: Tensor, what: string, tol = 1e-5): Promise<void> {
  const [a, b] = [await want.data(), await got.data()];
  assert.deepEqual(got.shape, want.shape, what);
  for (let i = 0; i < a.length; i++) {
    assert.ok(
      Math.abs(a[i]! - b[i]!) <= tol * (1 + Math.abs(a[i]!)),
      `${what} [${i}]: ${a[i]} vs ${b[i]}`,
    );
  }
}

const B = 2, T = 5, H = 2, hd = 4, D = H * hd;

function attention(x: Tensor, w: Tensor, wo: Tensor): Tensor {
  const qkv = permute(reshape(matmul(x, w), [B, T, 3, H, hd]), [2, 0, 3, 1, 4]);
  const [q, k, v] = split(qkv, 3, 0).map((t) => squeeze(t, 0)) as [Tensor, Tensor, Tensor];
  const att = softmax(matmul(q, k, { transB: true }), -1);
  return matmul(reshape(permute(matmul(att, v), [0, 2, 1, 3]), [B, T, D]), wo);
}

gpuTest(
  "jit folds attention's head split and merge into its matmuls (forward and gradient)",
  async () => {
    const key = random.key(5);
    const [x, w, wo] = await Promise.all([
      toBackend(random.normal(random.foldIn(key, 0), [B, T, D]), "webgpu"),
      toBackend(random.normal(random.foldIn(key, 1), [D, 3 * D]), "webgpu"),
      toBackend(random.normal(random.foldIn(key, 2), [D, D]), "webgpu"),
    ]);
    const fwd = jit(attention);
    const y = fwd(x, w, wo), want = attention(x, w, wo);
    await close(want, y, "forward");
    const kinds = jitStats(fwd).dispatchesByKind;
    assert.equal(kinds.permute, undefined, JSON.stringify(kinds));
    // q·kᵀ reads q and k in place; att·v reads v in place and writes the merged heads.
    assert.equal(kinds.matmulView, 2, JSON.stringify(kinds));
    const vg = valueAndGrad((w: Tensor, wo: Tensor) => sum(attention(x, w, wo)), {
      argnums: [0, 1],
    });
    const step = jit(vg);
    const [l, [gw, gwo]] = step(w, wo) as unknown as [Tensor, [Tensor, Tensor]];
    const [le, [gwe, gwoe]] = vg(w, wo) as unknown as [Tensor, [Tensor, Tensor]];
    await close(le, l, "loss");
    await close(gwe, gw, "grad w", 1e-4);
    await close(gwoe, gwo, "grad wo", 1e-4);
    assert.ok(
      (jitStats(step).dispatchesByKind.matmulView ?? 0) >= 6,
      JSON.stringify(jitStats(step)),
    );
    fwd.dispose();
    step.dispose();
    dispose([x, w, wo, y, want, l, gw, gwo, le, gwe, gwoe]);
  },
);

gpuTest(
  "jit matmul views: random permute/slice/reshape chains and permuted products match eager",
  async () => {
    const perms = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...perms),
        fc.constantFrom(...perms),
        fc.boolean(),
        fc.boolean(),
        fc.nat({ max: 1000 }),
        async (pa, pc, sliced, transB, seed) => {
          // x: a [2, 3, 4] tensor permuted by pa (optionally sliced on its first axis) is the
          // batched left operand; the product is permuted by pc.
          const key = random.key(seed);
          const x = await toBackend(random.normal(random.foldIn(key, 0), [2, 3, 4]), "webgpu");
          const f = (x: Tensor, b: Tensor) => {
            let a = permute(x, pa);
            if (sliced) a = slice(a, [[0, 1]]);
            return permute(matmul(a, b, { transB }), pc);
          };
          const xa = permute(x, pa);
          const [, , K] = xa.shape as [number, number, number];
          const b = await toBackend(
            random.normal(random.foldIn(key, 1), transB ? [3, K] : [K, 3]),
            "webgpu",
          );
          const g = jit(f);
          const got = g(x, b), want = f(x, b);
          await close(want, got, `pa ${pa} pc ${pc} sliced ${sliced} transB ${transB}`);
          assert.equal(
            jitStats(g).dispatchesByKind.permute,
            undefined,
            JSON.stringify(jitStats(g)),
          );
          g.dispose();
          dispose([x, b, xa, got, want]);
        },
      ),
      { numRuns: 25 },
    );
  },
);
