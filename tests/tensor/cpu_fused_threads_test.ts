/**
 * Large fused elementwise loops split over the CPU threads (tensor/cpu/fused_threads.ts): the
 * same bits as one thread, outputs in the shared arena, no growth over replays, and programs with
 * reductions left on one thread.
 */
import assert from "node:assert/strict";
import {
  add,
  exp,
  gelu,
  getCpuThreads,
  grad,
  jit,
  mul,
  setCpuThreads,
  shutdownCpuThreads,
  sum,
  type Tensor,
  tensor,
} from "../../mod.ts";
import { cpuFusedElementwise } from "../../tensor/cpu/fused_elementwise.ts";
import { arenaBytes, inArena } from "../../tensor/cpu/shared_arena.ts";
import { workerParts } from "../../tensor/cpu/fused_threads.ts";
import { cpuBackend } from "../../tensor/cpu/mod.ts";
import { arr } from "../../tensor/cpu/storage.ts";
import type { ElementwiseProgram } from "../../tensor/elementwise_program.ts";

const N = 1 << 19; // above the split threshold (2^18)
const values = (n: number, seed: number) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 2);

/** x·b + exp(-x) with b broadcast over rows of 1000 (a `% 1000` read), two outputs. */
const program: ElementwiseProgram = {
  dtype: "float32",
  size: N,
  inputs: [{ div: 1, mod: N }, { div: 1, mod: 1000 }, { div: 7, mod: 3 }],
  outputs: [1, 4],
  nodes: [
    { prim: "binary", op: "mul", args: [{ input: 0 }, { input: 1 }] }, // 0
    { prim: "binary", op: "add", args: [{ node: 0 }, { input: 2 }] }, // 1
    { prim: "unary", op: "neg", args: [{ input: 0 }] }, // 2
    { prim: "unary", op: "exp", args: [{ node: 2 }] }, // 3
    { prim: "binary", op: "add", args: [{ node: 3 }, { node: 1 }] }, // 4
  ],
};

/**
 * A row kernel: per row of 512, s = Σ x² (main loop), r = rsqrt(s / 512) (epilogue), x·r (tail):
 * outputs the row sums and the normalised rows (the epilogue values stay inside the kernel, so a
 * part's tail must read its own rows' values).
 */
const rowProgram: ElementwiseProgram = {
  dtype: "float32",
  size: N,
  inputs: [{ div: 1, mod: N }, { div: 1, mod: 1 }, { div: 1, mod: N }],
  outputs: [1, 4],
  nodes: [
    { prim: "binary", op: "mul", args: [{ input: 0 }, { input: 0 }] }, // 0
    {
      prim: "reduce",
      op: "sum",
      args: [{ node: 0 }],
      into: { div: 512, mod: N / 512 },
      size: N / 512,
    }, // 1
    { prim: "binary", op: "mul", args: [{ node: 1 }, { input: 1 }] }, // 2 (epilogue)
    { prim: "unary", op: "rsqrt", args: [{ node: 2 }] }, // 3 (epilogue)
    {
      prim: "binary",
      op: "mul",
      args: [{ input: 2 }, { node: 3, read: { div: 512, mod: N / 512 } }],
    }, // 4 (tail)
  ],
  epilogue: { size: N / 512, reads: 1, nodes: 2 },
  tail: { reads: 1, nodes: 1 },
};
const rowInputs = () => [values(N, 5), Float32Array.of(1 / 512), values(N, 5)];
const mainInputs = () => [values(N, 0), values(1000, 1), values(3, 2)];

function runProgram(
  threads: number,
  p = program,
  inputs = mainInputs,
): { outs: Float32Array[]; shared: boolean[] } {
  const before = getCpuThreads();
  setCpuThreads(threads);
  try {
    const ins = inputs().map((a) => cpuBackend.upload(a, "float32"));
    // The workers take parts once started: run until one has (or give up).
    let outs: Float32Array[] = [], shared: boolean[] = [];
    for (let k = 0; k < 400; k++) {
      const st = cpuFusedElementwise(p, ins);
      outs = st.map((s) => (arr(s) as Float32Array).slice());
      shared = st.map((s) => inArena(arr(s)));
      st.forEach((s) => cpuBackend.free!(s));
      if (threads === 1 || (shared.every((x) => x) && workerParts() > 0)) break;
    }
    ins.forEach((s) => cpuBackend.free!(s));
    return { outs, shared };
  } finally {
    setCpuThreads(before);
  }
}

Deno.test("fused threads: a split loop gives one thread's bits, its outputs in the arena", () => {
  const one = runProgram(1), two = runProgram(2);
  assert.deepEqual(one.shared, [false, false]);
  assert.deepEqual(two.shared, [true, true], "no split happened");
  assert.ok(workerParts() > 0, "no worker thread ran a part");
  for (let j = 0; j < 2; j++) assert.deepEqual(two.outs[j], one.outs[j]);
  // Spot-check the values themselves (the broadcast reads in particular).
  const x = values(N, 0), b = values(1000, 1), c = values(3, 2), f = Math.fround;
  for (const i of [0, 999, 1000, 123457, N - 1]) {
    const want = f(f(f(x[i]! * b[i % 1000]!) + c[Math.floor(i / 7) % 3]!));
    assert.equal(two.outs[0]![i], want, `output 0 at ${i}`);
  }
  shutdownCpuThreads();
});

Deno.test("fused threads: a row kernel (sum, epilogue, tail) split by whole rows, same bits", () => {
  const one = runProgram(1, rowProgram, rowInputs), two = runProgram(2, rowProgram, rowInputs);
  assert.deepEqual(two.shared, [true, true], "no split happened");
  assert.ok(workerParts() > 0, "no worker thread ran a part");
  for (let j = 0; j < 2; j++) assert.deepEqual(two.outs[j], one.outs[j], `output ${j}`);
  const x = values(N, 5), f = Math.fround;
  let s = 0;
  for (let i = N - 512; i < N; i++) s += f(x[i]! * x[i]!);
  assert.equal(two.outs[0]![N / 512 - 1], f(s));
  shutdownCpuThreads();
});

Deno.test("fused threads: a jitted GELU gradient, 2 threads vs 1, bit-identical; the arena stays flat", async () => {
  const x = mul(tensor(values(N, 3), { shape: [N / 512, 512] }), 0.4), b = tensor(values(512, 4));
  const step = (x: Tensor, b: Tensor) =>
    grad((x: Tensor) => sum(exp(mul(gelu(add(x, b)), -0.1))))(x);
  const run = async (threads: number, reps: number) => {
    const before = getCpuThreads();
    setCpuThreads(threads);
    const f = jit(step);
    let last: Float32Array = new Float32Array();
    const sizes: number[] = [];
    for (let r = 0; r < reps; r++) {
      const y = f(x, b);
      last = (await y.data()) as Float32Array;
      y.dispose();
      sizes.push(arenaBytes());
    }
    f.dispose?.();
    setCpuThreads(before);
    return { last, sizes };
  };
  const one = await run(1, 1);
  const two = await run(2, 30);
  assert.deepEqual(two.last, one.last);
  assert.equal(two.sizes.at(-1), two.sizes[10], `arena grew over replays: ${two.sizes.join(", ")}`);
  x.dispose();
  b.dispose();
  shutdownCpuThreads();
});
