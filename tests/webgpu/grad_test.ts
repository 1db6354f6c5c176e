/**
 * Gradient parity on webgpu: gradients of composite functions (attention, MLP cross-entropy,
 * layerNorm + gelu, embedding lookups, sorting, pooling, layout ops, special functions)
 * computed on webgpu match the CPU backend's within float32 tolerance, at first and second
 * order; and `checkGrad` in float32 (`dtype: "keep"`) accepts them on webgpu (the compact
 * float32 version of the property-based gradient table).
 */
import assert from "node:assert/strict";
import * as T from "../../mod.ts";
import { type Tensor } from "../../mod.ts";
import { expectClose, Gen } from "./_parity.ts";
import { gpuTest } from "./_setup.ts";

type P = Record<string, Tensor>;

/** Constant host data, identical on both backends. */
function c(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  return new Gen(seed).f(shape, lo, hi, T.getBackend().name);
}

interface Fn {
  name: string;
  /** Parameter shapes and value ranges. */
  shapes: Record<string, [number[], number, number]>;
  f: (p: P) => Tensor;
  /** Run checkGrad in float32 on webgpu too. */
  check?: boolean;
}

const FNS: Fn[] = [
  {
    name: "attention",
    shapes: { q: [[2, 4, 8], -1, 1], k: [[2, 5, 8], -1, 1], v: [[2, 5, 8], -1, 1] },
    f: ({ q, k, v }) => {
      const s = T.div(T.matmul(q!, k!, { transB: true }), Math.sqrt(8));
      return T.sum(T.mul(T.matmul(T.softmax(s, -1), v!), c([2, 4, 8], 1)));
    },
    check: true,
  },
  {
    name: "mlp cross-entropy",
    shapes: { x: [[6, 5], -2, 2], w: [[5, 4], -1, 1], b: [[4], -1, 1] },
    f: ({ x, w, b }) => {
      const labels = T.tensor([0, 3, 1, 2, 3, 0], { dtype: "int32" });
      const logits = T.add(T.matmul(T.tanh(x!), w!), b!);
      return T.mean(T.neg(T.sum(T.mul(T.oneHot(labels, 4), T.logSoftmax(logits, -1)), -1)));
    },
    check: true,
  },
  {
    name: "layerNorm + gelu + silu",
    shapes: { x: [[3, 8], -2, 2], g: [[8], 0.5, 1.5], b: [[8], -1, 1] },
    f: ({ x, g, b }) =>
      T.sum(T.mul(T.add(T.gelu(T.layerNorm(x!, g, b)), T.silu(x!)), c([3, 8], 2))),
    check: true,
  },
  {
    name: "embedding gather (scatterAdd backward) and takeAlongAxis",
    shapes: { table: [[10, 4], -1, 1] },
    f: ({ table }) => {
      const idx = T.tensor([3, 1, 3, 9, 0, 3, 1], { dtype: "int32" });
      const e = T.sin(T.gather(table!, idx));
      const t = T.takeAlongAxis(
        table!,
        T.tensor([[1], [0], [3], [2], [1], [0], [0], [3], [2], [2]], { dtype: "int32" }),
        1,
      );
      return T.add(T.sum(T.mul(e, c([7, 4], 3))), T.sum(T.exp(t)));
    },
    check: true,
  },
  {
    name: "sort, topk, max, logsumexp, cumsum",
    shapes: { x: [[3, 12], -3, 3] },
    f: ({ x }) => {
      const top = T.topk(x!, 4).values;
      const s = T.sort(x!, 0);
      return T.sum(T.stack([
        T.sum(T.mul(top, c([3, 4], 4))),
        T.sum(T.mul(s, c([3, 12], 5))),
        T.sum(T.max(T.reshape(x!, [3, 4, 3]), -1)),
        T.sum(T.logsumexp(x!, 1)),
        T.sum(T.mul(T.cumsum(x!, 1, { reverse: true }), c([3, 12], 6))),
      ]));
    },
  },
  {
    name: "pad, slice, flip, concat, permute, broadcast",
    shapes: { x: [[4, 5], -1, 1], y: [[5], -1, 1] },
    f: ({ x, y }) => {
      const p = T.pad(x!, [[1, 0], [2, 1]], { interior: [1, 0] });
      const s = T.slice(p, [[null, null, 2], [1, -2]]);
      const cat = T.concat([T.flip(s, 0), T.permute(T.add(x!, y!), [0, 1])], 0);
      return T.sum(T.mul(T.mul(cat, cat), c([8, 5], 7)));
    },
    check: true,
  },
  {
    name: "special functions",
    shapes: { x: [[9], 0.2, 2] },
    f: ({ x }) =>
      T.sum(T.stack([
        T.sum(T.pow(x!, 1.7)),
        T.sum(T.erf(x!)),
        T.sum(T.log1p(x!)),
        T.sum(T.expm1(T.neg(x!))),
        T.sum(T.sqrt(x!)),
        T.sum(T.rsqrt(x!)),
        T.sum(T.mul(T.cos(x!), T.log(x!))),
        T.sum(T.reciprocal(T.add(x!, 1))),
        T.sum(T.sigmoid(x!)),
      ])),
    check: true,
  },
  {
    name: "where, maximum, minimum, abs, clip, variance",
    shapes: { x: [[2, 7], -2, 2] },
    f: ({ x }) => {
      const r = T.where(T.greater(x!, 0.3), T.maximum(x!, 0.5), T.minimum(T.abs(x!), 1));
      return T.add(T.sum(T.mul(r, c([2, 7], 8))), T.sum(T.variance(T.clip(x!, -1.5, 1.5), 1)));
    },
  },
];

async function params(fn: Fn, seed: number, backend: string): Promise<P> {
  const out: P = {};
  let k = 0;
  for (const [name, [shape, lo, hi]] of Object.entries(fn.shapes)) {
    out[name] = await T.toBackend(new Gen(seed + 31 * k++).f(shape, lo, hi), backend);
  }
  return out;
}

async function on<R>(backend: string, body: () => R | Promise<R>): Promise<R> {
  const prev = T.getBackend().name;
  T.setBackend(backend);
  try {
    return await body();
  } finally {
    T.setBackend(prev);
  }
}

const TOL = { rtol: 2e-4, atol: 2e-5 };

for (const fn of FNS) {
  gpuTest(`gradient parity with cpu: ${fn.name}`, async () => {
    await T.scope(async () => {
      const [pc, pg] = [await params(fn, 11, "cpu"), await params(fn, 11, "webgpu")];
      const gc = await on("cpu", () => T.grad(fn.f)(pc));
      const gg = await on("webgpu", () => T.grad(fn.f)(pg));
      for (const name of Object.keys(fn.shapes)) {
        await expectClose(gg[name]!, gc[name]!, TOL, `${fn.name}: d/d${name}`);
      }
      // second order: gradient of the gradient's sum of squares
      const h = (p: P) => {
        const g = T.grad(fn.f)(p);
        return T.sum(T.stack(Object.values(g).map((t) => T.sum(T.mul(t, t)))));
      };
      const hc = await on("cpu", () => T.grad(h)(pc));
      const hg = await on("webgpu", () => T.grad(h)(pg));
      for (const name of Object.keys(fn.shapes)) {
        await expectClose(
          hg[name]!,
          hc[name]!,
          { rtol: 1e-3, atol: 1e-4 },
          `${fn.name}: 2nd order d/d${name}`,
        );
      }
    });
  });
}

gpuTest("checkGrad in float32 on webgpu accepts the composites", async () => {
  for (const fn of FNS.filter((f) => f.check)) {
    await T.scope(async () => {
      const p = await params(fn, 5, "webgpu");
      await on("webgpu", async () => {
        await T.checkGrad(fn.f, [p], { dtype: "keep", modes: ["fwd", "rev"], seed: 3 }).catch(
          (e) => {
            throw new Error(`${fn.name}: ${(e as Error).message}`);
          },
        );
      });
    });
  }
  assert.ok(true);
});
