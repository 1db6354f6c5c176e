/**
 * `jit`'s fused elementwise programs on WebGPU (tensor/webgpu/fused_program.ts): random chains
 * of every fusible op with broadcasts, reductions and several outputs agree with the eager WebGPU
 * kernels; the composites (softmax, layerNorm and its gradient, GELU, bias gradients, a long
 * total sum) agree with the CPU and issue fewer dispatches than eager, in both reduce-pass
 * shapes (a thread per accumulator, a workgroup per accumulator); a program binding more
 * buffers than the device allows runs packed; a linear layer's bias and GELU run in the matmul's
 * stores (autodiff/jit_epilogue.ts), with the product stored too when a later matmul reads it.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  add,
  dispose,
  exp,
  gelu,
  grad,
  jit,
  jitStats,
  layerNorm,
  matmul,
  mul,
  random,
  reshape,
  scope,
  softmax,
  sum,
  type Tensor,
  tensor,
  toBackend,
} from "../../mod.ts";
import { chain, type Op } from "../autodiff/_chains.ts";
import { BINARY_OPS, UNARY_OPS } from "../../tensor/primitives.ts";
import { webgpuStats } from "../../tensor/webgpu/mod.ts";
import type { GpuStorage } from "../../tensor/webgpu/pool.ts";
import { gpu, gpuTest } from "./_setup.ts";

const OUT = [2, 3, 4];
const SHAPES = [[2, 3, 4], [], [4], [3, 4], [2, 3, 1]];
const AXES = [[2], [0], [0, 1], [0, 1, 2]];
/** Ops whose f32 result is well conditioned on inputs in [-2, 2] (no blow-ups to compare). */
const UNARY = UNARY_OPS.filter((o) =>
  ![
    "logicalNot",
    "log",
    "log1p",
    "sqrt",
    "rsqrt",
    "reciprocal",
    "acos",
    "asin",
    "atanh",
    "acosh",
    "tan",
  ].includes(o)
);
const BINARY = BINARY_OPS.filter((o) => o !== "div" && o !== "pow");

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("unary" as const), op: fc.constantFrom(...UNARY), a: fc.nat() }),
  fc.record({
    kind: fc.constant("binary" as const),
    op: fc.constantFrom(...BINARY),
    a: fc.nat(),
    b: fc.nat(),
  }),
  fc.record({
    kind: fc.constant("external" as const),
    op: fc.constantFrom(...BINARY),
    a: fc.nat(),
    shape: fc.nat({ max: SHAPES.length - 1 }),
  }),
  fc.record({
    kind: fc.constant("reduce" as const),
    op: fc.constantFrom("sum" as const, "max" as const, "min" as const),
    axes: fc.nat({ max: AXES.length - 1 }),
    a: fc.nat(),
  }),
);

/** Asserts a and b agree: the same non-finite values, finite ones within f32 tolerance. */
function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol = 1e-4) {
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    if (Number.isFinite(a[i]!)) scale = Math.max(scale, Math.abs(a[i]!));
  }
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      assert.ok(
        Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)),
        `${what}[${i}]: ${x} vs ${y}`,
      );
    } else {assert.ok(
        Math.abs(x - y) <= tol * scale,
        `${what}[${i}]: ${x} vs ${y} (scale ${scale})`,
      );}
  }
}

const onGpu = (t: Tensor) => toBackend(t, "webgpu");

gpuTest(
  "fused programs: random chains (broadcasts, reductions, outputs) agree with eager",
  async () => {
    let fusedReductions = 0, fusedKernels = 0;
    const cases = fc.sample(
      fc.tuple(
        fc.array(opArb, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 3 }),
        fc.nat({ max: 1000 }),
      ),
      { numRuns: 60, seed: 7 },
    );
    for (const [ops, outs, seed] of cases) {
      const key = random.key(seed);
      const mk = (shape: number[], k: number) =>
        onGpu(scope(() => random.uniform(random.foldIn(key, k), shape, { minval: -2, maxval: 2 })));
      const x = await mk(OUT, 0), r = await mk([2, 3, 1], 1);
      const ext = await Promise.all(
        ops.map((o, i) => o.kind === "external" ? mk(SHAPES[o.shape]!, 2 + i) : x),
      );
      const f = chain(ops, outs, AXES, OUT);
      const jitted = jit(f);
      const eager = scope(() => f(x, r, ext));
      const fused = jitted(x, r, ext);
      const st = jitStats(jitted);
      fusedKernels += st.fusedKernels;
      if (
        ops.some((o) => o.kind === "reduce") && st.dispatchesByKind.reduce === undefined
      ) fusedReductions++;
      for (let k = 0; k < eager.length; k++) {
        assert.deepEqual(fused[k]!.shape, eager[k]!.shape);
        assertClose(await eager[k]!.data(), await fused[k]!.data(), `case ${seed} output ${k}`);
      }
      jitted.dispose();
      dispose([eager, fused, x, r, ext.filter((e) => e !== x)]);
    }
    assert.ok(fusedKernels > 40 && fusedReductions > 5, `${fusedKernels} ${fusedReductions}`);
  },
);

/** The composites, each as a jitted function of x [rows, d], w [d], b [d]. */
const COMPOSITES: Record<string, (x: Tensor, w: Tensor, b: Tensor) => Tensor> = {
  "softmax": (x) => softmax(x, -1),
  "layerNorm": (x, w, b) => layerNorm(x, w, b),
  "layerNorm gradient": (x, w, b) =>
    grad((xx: Tensor) => sum(mul(layerNorm(xx, w, b), layerNorm(xx, w, b))))(x),
  "GELU": (x) => gelu(x),
  "bias gradient (column sum)": (x, w) => sum(mul(x, w), [0]),
  "total sum": (x, w, b) => sum(add(mul(x, w), b)),
};

for (
  const [rows, d, mode] of [[4096, 24, "a thread per accumulator"], [
    12,
    700,
    "a workgroup per accumulator",
  ]] as const
) {
  gpuTest(`fused programs: composites match the CPU with fewer dispatches (${mode})`, async () => {
    const key = random.key(3);
    const x = random.normal(random.foldIn(key, 0), [rows, d]);
    const w = random.normal(random.foldIn(key, 1), [d]),
      b = random.normal(random.foldIn(key, 2), [d]);
    const [xg, wg, bg] = (await Promise.all([x, w, b].map(onGpu))) as [Tensor, Tensor, Tensor];
    for (const [name, f] of Object.entries(COMPOSITES)) {
      const want = f(x, w, b), jitted = jit(f);
      jitted(xg, wg, bg).dispose(); // compile
      const d0 = webgpuStats().dispatches;
      const got = jitted(xg, wg, bg);
      const d1 = webgpuStats().dispatches;
      const eager = f(xg, wg, bg);
      const d2 = webgpuStats().dispatches;
      assert.ok(jitStats(jitted).fusedKernels > 0, name);
      assert.ok(d1 - d0 < d2 - d1, `${name}: ${d1 - d0} fused dispatches vs ${d2 - d1} eager`);
      assertClose(await want.data(), await got.data(), name, 2e-5 * Math.sqrt(d));
      dispose([want, got, eager]);
      jitted.dispose();
    }
    dispose([x, w, b, xg, wg, bg]);
  });
}

gpuTest("fused programs: more operands than the device binds run packed", async () => {
  const n = gpu!.limits.maxStorageBuffersPerShaderStage + 3;
  const xs = Array.from({ length: n }, (_, i) => tensor([i, -i, 0.5 * i], { dtype: "float32" }));
  // Every operand scaled and summed, plus two outputs: one kernel with n inputs; a matmul
  // then reads both outputs.
  const f = (ts: Tensor[]) => {
    const s = ts.reduce((acc, t, i) => add(acc, mul(t, i + 1)));
    const q = mul(s, s);
    return [s, q, matmul(reshape(s, [3, 1]), reshape(q, [1, 3]))];
  };
  const want = f(xs);
  const xg = await Promise.all(xs.map(onGpu));
  const jitted = jit(f);
  dispose(jitted(xg));
  const s0 = webgpuStats();
  const got = jitted(xg);
  const s1 = webgpuStats();
  assert.equal(jitStats(jitted).fusedKernels, 1);
  for (let k = 0; k < 3; k++) {
    assertClose(await want[k]!.data(), await got[k]!.data(), `output ${k}`);
  }
  // The packed kernel's outputs are views of one buffer at aligned offsets (no copies out), so
  // the matmul after it records into the same compute pass.
  const [a, b] = [got[0]!.storage as GpuStorage, got[1]!.storage as GpuStorage];
  const align = gpu!.limits.minStorageBufferOffsetAlignment;
  assert.equal(a.buffer, b.buffer);
  assert.ok(a.offset !== b.offset && a.offset % align === 0 && b.offset % align === 0);
  assert.equal(s1.passes - s0.passes, 1, "one compute pass per replay");
  const live = webgpuStats().liveBuffers;
  dispose(got);
  // The slab returns to the pool with its last view.
  assert.equal(webgpuStats().liveBuffers, live - 2);
  jitted.dispose();
  dispose([xs, xg, want]);
});

gpuTest("packed programs read the previous replay's outputs in place (no copies in)", async () => {
  // An optimizer-shaped update: n states and n gradients in, n states out, one packed kernel.
  const n = gpu!.limits.maxStorageBuffersPerShaderStage + 4;
  const host = Array.from({ length: n }, (_, i) => [i, 1 - i, 0.25 * i, 2]);
  let ws = await Promise.all(host.map((w) => onGpu(tensor(w, { dtype: "float32" }))));
  const gs = await Promise.all(host.map((w) => onGpu(tensor(w.map((x) => x / 8)))));
  const half = await onGpu(tensor(0.5));
  const step = jit((ws: Tensor[], gs: Tensor[], h: Tensor) =>
    ws.map((w, i) => add(mul(w, h), gs[i]!))
  );
  const copies: number[] = [];
  let want = host;
  for (let k = 0; k < 3; k++) {
    const s0 = webgpuStats();
    const next = step(ws, gs, half);
    copies.push(webgpuStats().copies - s0.copies);
    dispose(ws);
    ws = next;
    want = want.map((w, i) => w.map((x, j) => x * 0.5 + host[i]![j]! / 8));
  }
  assert.equal(jitStats(step).fusedKernels, 1);
  for (let i = 0; i < n; i++) assertClose(new Float32Array(want[i]!), await ws[i]!.data(), `w${i}`);
  // Reads are bound in place while bindings remain (pin, pout, then one per slab or buffer):
  // the first call binds max − 2 of its 2n + 1 separate buffers and copies the rest; later
  // calls bind the previous outputs' slab once, so only n + 1 − (max − 3) reads are copied.
  const max = gpu!.limits.maxStorageBuffersPerShaderStage;
  assert.ok(copies[0]! >= 2 * n + 1 - (max - 2), `copies ${copies}`);
  assert.deepEqual(copies.slice(1), [n + 1 - (max - 3), n + 1 - (max - 3)]);
  step.dispose();
  dispose([ws, gs, half]);
});

gpuTest("independent programs of different sizes run as one grouped dispatch", async () => {
  const sizes = [3, 70, 1, 300, 5];
  const host = sizes.map((n, s) => Array.from({ length: n }, (_, i) => (i % 7) * 0.25 - s));
  let ws = await Promise.all(host.map((h) => onGpu(tensor(h))));
  const gs = await Promise.all(host.map((h) => onGpu(tensor(h.map((x) => x * 2)))));
  const h = await onGpu(tensor(0.5));
  // Per "parameter": a new state and a second output, one fused program per size.
  const f = (ws: Tensor[], gs: Tensor[], h: Tensor) =>
    ws.map((w, i) => [add(mul(w, h), exp(mul(gs[i]!, 0.1))), mul(w, gs[i]!)]);
  const step = jit(f);
  const counts: { dispatches: number; copies: number }[] = [];
  for (let k = 0; k < 3; k++) {
    const s0 = webgpuStats();
    const r = step(ws, gs, h);
    const s1 = webgpuStats();
    counts.push({ dispatches: s1.dispatches - s0.dispatches, copies: s1.copies - s0.copies });
    const want = f(ws, gs, h);
    for (let i = 0; i < sizes.length; i++) {
      for (let o = 0; o < 2; o++) {
        assertClose(await want[i]![o]!.data(), await r[i]![o]!.data(), `step ${k} ${i}.${o}`, 0);
      }
    }
    dispose([want, ws, r.map((x) => x[1]!)]);
    ws = r.map((x) => x[0]!);
  }
  assert.deepEqual(jitStats(step).dispatchesByKind, { fusedGroup: 1 });
  assert.equal(jitStats(step).dispatches, 1);
  // Every replay: one dispatch; its 11 reads fit the bindings, so none is copied.
  assert.deepEqual(counts.slice(1), [{ dispatches: 1, copies: 0 }, { dispatches: 1, copies: 0 }]);
  step.dispose();
  dispose([ws, gs, h]);
});

gpuTest(
  "matmul epilogues: bias + GELU in the stores, the product stored when read later",
  async () => {
    const key = random.key(9);
    const [x, w, b, w2] = [[37, 20], [20, 70], [70], [37, 5]].map((sh, i) =>
      random.normal(random.foldIn(key, i), sh)
    ) as [Tensor, Tensor, Tensor, Tensor];
    // y = gelu(x·w + b); z = y·yᵀ reads y; q = hᵀ·w2 reads the product h after y's kernel.
    const f = (x: Tensor, w: Tensor, b: Tensor, w2: Tensor) => {
      const h = matmul(x, w), y = gelu(add(h, b));
      const z = matmul(y, y, { transB: true });
      return [y, z, matmul(h, w2, { transA: true })];
    };
    const want = f(x, w, b, w2);
    const gpuArgs = (await Promise.all([x, w, b, w2].map(onGpu))) as [
      Tensor,
      Tensor,
      Tensor,
      Tensor,
    ];
    const jitted = jit(f);
    const got = jitted(...gpuArgs);
    const st = jitStats(jitted);
    assert.equal(st.dispatchesByKind.matmulFused, 1, JSON.stringify(st.dispatchesByKind));
    assert.equal(st.dispatchesByKind.matmul, 2);
    for (let k = 0; k < 3; k++) {
      assertClose(await want[k]!.data(), await got[k]!.data(), `output ${k}`, 1e-5);
    }
    jitted.dispose();
    dispose([x, w, b, w2, gpuArgs, want, got]);
  },
);
