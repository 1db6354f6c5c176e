/**
 * The CPU backend's fast paths: the float32 matmul (tensor/cpu/wasm/: the WASM emitter, the
 * generated GEMM against the reference kernel with odd sizes, transposes, broadcast batches
 * and blocking boundaries, single- vs multi-threaded results, clean thread shutdown), the
 * float32 elementwise loops (tensor/cpu/elementwise_loops.ts) and buffer recycling (tensor/cpu/buffers.ts).
 */
import assert from "node:assert/strict";
import {
  add,
  cast,
  cpuFastPathInfo,
  div,
  erf,
  exp,
  getCpuThreads,
  grad,
  log,
  matmul,
  mul,
  neg,
  permute,
  reciprocal,
  rsqrt,
  setCpuBlas,
  setCpuBufferPoolLimit,
  setCpuFastPath,
  setCpuThreads,
  shutdownCpuThreads,
  sqrt,
  sub,
  sum,
  tanh,
  type Tensor,
  tensor,
  zeros,
} from "../../mod.ts";
import { TesseraError } from "../../tensor/errors.ts";
import { allocArray, bufferPoolBytes, recycle } from "../../tensor/cpu/buffers.ts";
import { assembleModule, FnBuilder, I32, sleb, uleb } from "../../tensor/cpu/wasm/emitter.ts";
import { setParallelMinFlops, setThreads } from "../../tensor/cpu/wasm/gemm.ts";
import { buildGemmModule } from "../../tensor/cpu/wasm/matmul_kernel.ts";
import { rng } from "../_helpers.ts";

function rand(n: number, r: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * 2 - 1;
  return a;
}

function t32(shape: number[], r: () => number): Tensor {
  return tensor(rand(shape.reduce((x, y) => x * y, 1), r), { shape, dtype: "float32" });
}

/** matmul through the reference kernel and through the fast path. */
function both(
  a: Tensor,
  b: Tensor,
  transA: boolean,
  transB: boolean,
): [Float32Array, Float32Array] {
  setCpuFastPath(false);
  const ref = matmul(a, b, { transA, transB });
  setCpuFastPath(true);
  const fast = matmul(a, b, { transA, transB });
  assert.deepEqual(fast.shape, ref.shape);
  const out = [ref.dataSync() as Float32Array, fast.dataSync() as Float32Array] as [
    Float32Array,
    Float32Array,
  ];
  ref.dispose();
  fast.dispose();
  return out;
}

/** Agreement within float32 accumulation error for inputs in [-1, 1] and depth `k`. */
function assertAgree(ref: Float32Array, fast: Float32Array, k: number, label: string): void {
  const tol = 4e-7 * Math.max(k, 8);
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(ref[i]! - fast[i]!);
    if (!(d <= tol * Math.max(1, Math.abs(ref[i]!)))) {
      assert.fail(`${label}: element ${i}: reference ${ref[i]} vs fast ${fast[i]} (tol ${tol})`);
    }
  }
}

Deno.test("emitter: LEB128 encodings and a valid module", () => {
  const u = (n: number) => {
    const o: number[] = [];
    uleb(o, n);
    return o;
  };
  const s = (n: number) => {
    const o: number[] = [];
    sleb(o, n);
    return o;
  };
  assert.deepEqual(u(0), [0]);
  assert.deepEqual(u(127), [127]);
  assert.deepEqual(u(128), [0x80, 1]);
  assert.deepEqual(u(624485), [0xe5, 0x8e, 0x26]);
  assert.deepEqual(u(0xffffffff), [0xff, 0xff, 0xff, 0xff, 0x0f]);
  assert.deepEqual(s(-1), [0x7f]);
  assert.deepEqual(s(63), [63]);
  assert.deepEqual(s(64), [0xc0, 0]);
  assert.deepEqual(s(-123456), [0xc0, 0xbb, 0x78]);
  // add(x, y) = x + y, plus a loop summing 0..n-1 to exercise forRange.
  const add = new FnBuilder(2).get(0).get(1).i32Add();
  const tri = new FnBuilder(1);
  const i = tri.local(I32), acc = tri.local(I32), zero = tri.local(I32);
  tri.forRange(i, zero, 0, 1, () => tri.get(acc).get(i).i32Add().set(acc)).get(acc);
  const bytes = assembleModule({ initial: 1, maximum: 1, shared: false }, [
    { params: [I32, I32], results: [I32], exportName: "add", body: add },
    { params: [I32], results: [I32], exportName: "tri", body: tri },
  ]);
  assert.ok(WebAssembly.validate(bytes));
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } })
    .exports as { add(x: number, y: number): number; tri(n: number): number };
  assert.equal(ex.add(2, 40), 42);
  assert.equal(ex.tri(10), 45);
});

Deno.test("fast path is on, with relaxed-SIMD FMA where the engine has it", () => {
  const info = cpuFastPathInfo();
  assert.ok(info.simd, "WebAssembly SIMD should be available in Deno");
  assert.ok(info.threads >= 1);
});

Deno.test("fast matmul agrees with the reference: odd sizes, transposes, blocking edges", () => {
  const before = getCpuThreads();
  setThreads(1);
  const r = rng(11);
  const cases: [number, number, number][] = [
    [1, 1, 1],
    [7, 7, 7],
    [1, 33, 7],
    [33, 1, 7],
    [33, 7, 1],
    [6, 8, 5],
    [13, 17, 19],
    [1023, 7, 3],
    [5, 1023, 9],
    [7, 33, 1023], // k spans several KC blocks (accumulation across blocks)
    [250, 20, 40], // m spans several MC blocks
    [3, 2100, 4], // n spans two NC blocks
  ];
  for (const [m, n, k] of cases) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const a = t32(transA ? [k, m] : [m, k], r), b = t32(transB ? [n, k] : [k, n], r);
        const [ref, fast] = both(a, b, transA, transB);
        assertAgree(ref, fast, k, `${m}x${n}x${k} tA=${transA} tB=${transB}`);
      }
    }
  }
  setThreads(before);
});

Deno.test("fast matmul: broadcast and folded batch dims, empty operands", () => {
  const r = rng(12);
  const cases: [number[], number[]][] = [
    [[2, 1, 9, 17], [3, 17, 13]], // non-contiguous broadcast on both sides
    [[4, 9, 17], [17, 13]], // shared weight: folded into one tall product
    [[4, 9, 17], [1, 17, 13]],
    [[9, 17], [5, 17, 13]], // shared left operand
    [[3, 1, 5, 6], [1, 4, 6, 7]],
    [[2, 0, 3], [3, 4]],
    [[3, 0], [0, 4]],
  ];
  for (const [as, bs] of cases) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const sa = transA ? [...as.slice(0, -2), as.at(-1)!, as.at(-2)!] : as;
        const sb = transB ? [...bs.slice(0, -2), bs.at(-1)!, bs.at(-2)!] : bs;
        const [ref, fast] = both(t32(sa, r), t32(sb, r), transA, transB);
        assertAgree(ref, fast, as.at(-1)!, `${sa} @ ${sb} tA=${transA} tB=${transB}`);
      }
    }
  }
});

Deno.test("float64 matmul is the reference loop without BLAS; int32 always is", () => {
  const a = tensor([[0.1, 0.2, 0.3]], { dtype: "float64" });
  const b = tensor([[1], [2], [3]], { dtype: "float64" });
  const blasMode = cpuFastPathInfo().blas.mode;
  setCpuBlas("off");
  assert.equal(matmul(a, b).dataSync()[0], 0.1 * 1 + 0.2 * 2 + 0.3 * 3);
  setCpuBlas(blasMode); // with BLAS, dgemm: the same within a few ulp
  assert.ok(Math.abs(matmul(a, b).dataSync()[0]! - (0.1 * 1 + 0.2 * 2 + 0.3 * 3)) < 1e-15);
  const i = tensor([[65536, 65536]], { dtype: "int32" }),
    j = tensor([[65536], [1]], {
      dtype: "int32",
    });
  assert.equal(matmul(i, j).dataSync()[0], 65536);
});

Deno.test("gradients through the fast path match float64", () => {
  const r = rng(13);
  const a64 = rand(12 * 10, r), b64 = rand(10 * 9, r);
  const f = (a: Tensor, b: Tensor) => sum(matmul(matmul(a, b), b, { transB: true }));
  const g32 = grad<[Tensor, Tensor], [Tensor, Tensor]>(f, { argnums: [0, 1] })(
    tensor(a64, { shape: [12, 10] }),
    tensor(b64, { shape: [10, 9] }),
  );
  const g64 = grad<[Tensor, Tensor], [Tensor, Tensor]>(f, { argnums: [0, 1] })(
    tensor(Float64Array.from(a64), { shape: [12, 10], dtype: "float64" }),
    tensor(Float64Array.from(b64), { shape: [10, 9], dtype: "float64" }),
  );
  for (let q = 0; q < 2; q++) {
    const x = g32[q]!.dataSync(), y = g64[q]!.dataSync();
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i]! - y[i]!) < 1e-4, `grad ${q}`);
  }
});

async function untilWorkers(n: number): Promise<void> {
  for (let i = 0; i < 400 && cpuFastPathInfo().workersAlive < n; i++) {
    await new Promise((res) => setTimeout(res, 5));
  }
  assert.equal(cpuFastPathInfo().workersAlive, n, "workers did not start");
}

for (const kind of ["node", "web"] as const) {
  Deno.test(`multi-threaded (${kind} workers) equals single-threaded; clean shutdown`, async () => {
    const before = getCpuThreads();
    const blasMode = cpuFastPathInfo().blas.mode;
    setCpuBlas("off"); // the WebAssembly GEMM's worker pool is under test
    const r = rng(14);
    const shapes: [number[], number[], boolean, boolean][] = [
      [[300, 130], [130, 70], false, false],
      [[130, 300], [70, 130], true, true],
      [[6, 40, 33], [6, 50, 33], false, true],
      [[40, 1100], [1100, 45], false, false],
    ];
    const inputs = shapes.map(([as, bs, ta, tb]) => [t32(as, r), t32(bs, r), ta, tb] as const);
    setThreads(1);
    const single = inputs.map(([a, b, ta, tb]) =>
      matmul(a, b, { transA: ta, transB: tb }).dataSync()
    );
    setParallelMinFlops(0);
    try {
      setThreads(3, kind);
      matmul(inputs[0]![0], inputs[0]![1]).dispose(); // spawns the workers
      await untilWorkers(2);
      const w0 = cpuFastPathInfo().workerEntries;
      const multi = inputs.map(([a, b, ta, tb]) =>
        matmul(a, b, { transA: ta, transB: tb }).dataSync()
      );
      for (let q = 0; q < multi.length; q++) assert.deepEqual(multi[q], single[q], `case ${q}`);
      // Workers sleep on an atomic between jobs; on a loaded machine the calling thread may
      // finish a job before they wake, so keep submitting (bounded in time).
      const big = [t32([256, 256], r), t32([256, 256], r)] as const;
      const t0 = Date.now();
      while (cpuFastPathInfo().workerEntries === w0 && Date.now() - t0 < 5000) {
        matmul(big[0], big[1]).dispose();
      }
      assert.ok(cpuFastPathInfo().workerEntries > w0, "workers took no entries");
    } finally {
      setParallelMinFlops(1 << 22);
      assert.ok(shutdownCpuThreads(), "a worker did not exit");
      setThreads(before, "auto");
      setCpuBlas(blasMode);
    }
    assert.equal(cpuFastPathInfo().workersAlive, 0);
  });
}

Deno.test("setCpuThreads validates its argument", () => {
  for (const bad of [0, 1.5, -1, NaN, 1e9]) {
    assert.throws(
      () => setCpuThreads(bad),
      (e) =>
        e instanceof TesseraError && e.op === "setCpuThreads" &&
        e.message.startsWith(`setCpuThreads: expected an integer in 1..`) &&
        e.message.endsWith(`, got ${bad}`),
    );
  }
  const n = getCpuThreads();
  setCpuThreads(1);
  assert.equal(getCpuThreads(), 1);
  setCpuThreads(n);
});

Deno.test("float32 elementwise fast loops equal the float64 result rounded to float32", () => {
  const r = rng(15);
  const shapes: [number[], number[]][] = [
    [[5, 7], [5, 7]],
    [[5, 7], [7]],
    [[5, 7], [5, 1]],
    [[5, 7], []],
    [[], [5, 7]],
    [[1, 7], [5, 1]],
    [[3, 1, 4], [1, 5, 4]],
  ];
  const ops = { add, sub, mul, div } as const;
  for (const [as, bs] of shapes) {
    const a = t32(as, r), b = t32(bs, r);
    const a64 = cast(a, "float64"), b64 = cast(b, "float64");
    for (const [name, op] of Object.entries(ops)) {
      const got = op(a, b).dataSync(), want = op(a64, b64).dataSync();
      for (let i = 0; i < got.length; i++) {
        assert.equal(got[i], Math.fround(want[i]!), `${name} ${as} ${bs} @${i}`);
      }
    }
  }
  const x = t32([4, 6], r), x64 = cast(x, "float64");
  for (const op of [neg, exp, tanh, erf, sqrt, rsqrt, reciprocal, log] as const) {
    const got = op(x).dataSync(), want = op(x64).dataSync();
    for (let i = 0; i < got.length; i++) {
      assert.ok(Object.is(got[i], Math.fround(want[i]!)), `${op.name} @${i}`);
    }
  }
  // Strided copies (permute / broadcast / slice) of float32 are exact.
  const p = permute(x, [1, 0]).dataSync(), xs = x.dataSync();
  for (let i = 0; i < 4; i++) for (let j = 0; j < 6; j++) assert.equal(p[j * 4 + i], xs[i * 6 + j]);
});

Deno.test("recycled CPU buffers come back zero-filled and only when safe", () => {
  const before = bufferPoolBytes();
  const a = allocArray("float32", 1 << 15); // 128 KiB: poolable
  a.fill(7);
  recycle(a);
  assert.equal(bufferPoolBytes(), before + a.byteLength);
  const b = allocArray("float32", 1 << 15);
  assert.equal(b.buffer, a.buffer, "the freed buffer is reused");
  assert.ok(b.every((v) => v === 0), "reused buffers are zeroed");
  assert.equal(bufferPoolBytes(), before);
  recycle(new Float32Array(8)); // small: left to the GC
  recycle(new Float32Array(new ArrayBuffer(1 << 18), 4, 1 << 15)); // a view: never pooled
  recycle(new Float32Array(new SharedArrayBuffer(1 << 17)));
  assert.equal(bufferPoolBytes(), before);
  // Tensors give their storage back on dispose.
  const t = zeros([1 << 15]);
  const held = bufferPoolBytes();
  t.dispose();
  assert.equal(bufferPoolBytes(), held + (1 << 17));
  setCpuBufferPoolLimit(0);
  assert.equal(bufferPoolBytes(), 0);
  for (const bad of [-1, NaN]) {
    assert.throws(
      () => setCpuBufferPoolLimit(bad),
      (e) =>
        e instanceof TesseraError &&
        e.message === `setCpuBufferPoolLimit: expected bytes >= 0, got ${bad}`,
    );
  }
  assert.equal(bufferPoolBytes(), 0); // a rejected limit leaves the pool as it was
  setCpuBufferPoolLimit(4 * 2 ** 30);
});

Deno.test("the plain-SIMD (no relaxed FMA) kernel variant computes the same product", () => {
  const r = rng(16);
  const cfg = { mr: 6, nr: 8, mc: 12, kc: 16, nc: 16, ku: 4 }; // tiny blocks: every edge path
  const [m, n, k] = [23, 29, 37];
  const a = rand(m * k, r), b = rand(k * n, r);
  for (const fma of [false, true]) {
    const bytes = buildGemmModule({ ...cfg, fma }, { initial: 4, maximum: 4, shared: false });
    const memory = new WebAssembly.Memory({ initial: 4, maximum: 4 });
    const { gemm } = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } })
      .exports as { gemm(e: number, pa: number, pb: number, t: number): void };
    const f = new Float32Array(memory.buffer), i32 = new Int32Array(memory.buffer);
    const A = 4096, B = A + 4 * m * k, C = B + 4 * k * n, pa = C + 4 * m * n, pb = pa + 4096;
    f.set(a, A / 4);
    f.set(b, B / 4);
    i32.set([A, B, C, m, n, k, 4 * k, 4, 4 * n, 4, 4 * n], 0);
    gemm(0, pa, pb, pb + 4096);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!;
        assert.ok(Math.abs(f[C / 4 + i * n + j]! - s) < 1e-5, `fma=${fma} (${i}, ${j})`);
      }
    }
  }
});
