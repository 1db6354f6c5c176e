/**
 * The native BLAS fast path (tensor/cpu/blas.ts through the GEMM interface of
 * tensor/cpu/gemm.ts): detection and its fallbacks (no FFI permission, a missing library,
 * `TESSERA_BLAS=off`, all in subprocesses), and BLAS results against the WebAssembly GEMM
 * (float32) and the reference loops (float64) for matmul with transposes and broadcast or
 * folded batches, and for conv2d / convTranspose2d / the conv weight gradient. The
 * comparisons are ignored where no BLAS library is installed (the fallback tests still run).
 */
import assert from "node:assert/strict";
import {
  conv2d,
  convTranspose2d,
  cpuFastPathInfo,
  type DType,
  grad,
  matmul,
  memoryStats,
  scope,
  setCpuBlas,
  setCpuFastPath,
  sum,
  type Tensor,
  tensor,
} from "../../mod.ts";
import { rng } from "../_helpers.ts";

const HAVE_BLAS = cpuFastPathInfo().blas.active;
const MODE = cpuFastPathInfo().blas.mode;
const HELPER = new URL("./_blas_info.ts", import.meta.url).pathname;

interface HelperOut {
  info: ReturnType<typeof cpuFastPathInfo>;
  f32: number[][];
  f64: number[][];
}

async function runHelper(
  flags: string[],
  env: Record<string, string> = {},
  args: string[] = [],
): Promise<HelperOut> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...flags, HELPER, ...args],
    env: { NO_COLOR: "1", TESSERA_BLAS: "auto", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  assert.equal(out.code, 0, `helper failed:\n${dec.decode(out.stderr)}`);
  const r = JSON.parse(dec.decode(out.stdout).trim().split("\n").at(-1)!) as HelperOut;
  // Whatever the path, the products are right.
  assert.deepEqual(r.f32, [[4, 5], [10, 11]]);
  assert.deepEqual(r.f64, [[4, 5], [10, 11]]);
  return r;
}

Deno.test("blas fallback: without --allow-ffi the WebAssembly path runs, and says why", async () => {
  const { info } = await runHelper(["--allow-env=TESSERA_BLAS"]);
  assert.equal(info.blas.active, false);
  assert.equal(info.path, "wasm");
  assert.match(info.blas.reason, /FFI permission/);
});

Deno.test("blas fallback: without a Deno global (as in a browser) the WebAssembly path runs", async () => {
  const { info } = await runHelper(["--allow-ffi", "--allow-env=TESSERA_BLAS"], {}, ["--no-deno"]);
  assert.equal(info.blas.active, false);
  assert.equal(info.path, "wasm");
  assert.match(info.blas.reason, /no Deno\.dlopen/);
});

Deno.test("blas fallback: a missing library (TESSERA_BLAS=PATH) falls back to WebAssembly", async () => {
  const missing = "/nonexistent/tessera/libopenblas.so.0";
  const { info } = await runHelper(["--allow-ffi", "--allow-env=TESSERA_BLAS"], {
    TESSERA_BLAS: missing,
  });
  assert.equal(info.blas.active, false);
  assert.equal(info.blas.mode, missing);
  assert.equal(info.path, "wasm");
  assert.ok(info.blas.reason.includes(missing), info.blas.reason);
});

Deno.test("blas: TESSERA_BLAS=off forces the WebAssembly path; auto finds what this process found", async () => {
  const off = await runHelper(["--allow-ffi", "--allow-env=TESSERA_BLAS"], { TESSERA_BLAS: "off" });
  assert.equal(off.info.path, "wasm");
  assert.match(off.info.blas.reason, /^off/);
  const auto = await runHelper(["--allow-ffi", "--allow-env=TESSERA_BLAS"], {
    TESSERA_BLAS: "auto",
  });
  assert.equal(auto.info.path, auto.info.blas.active ? "blas" : "wasm");
  if (MODE === "auto") assert.equal(auto.info.blas.active, HAVE_BLAS);
});

Deno.test("blas: cpuFastPathInfo and setCpuBlas agree on the active path", () => {
  const info = cpuFastPathInfo();
  assert.equal(info.path === "blas", info.blas.active);
  assert.equal(info.blas.active, info.blas.library !== null);
  try {
    assert.equal(setCpuBlas("off").path, "wasm");
    assert.equal(cpuFastPathInfo().blas.active, false);
    setCpuFastPath(false);
    assert.equal(cpuFastPathInfo().path, "reference");
  } finally {
    setCpuFastPath(true);
    setCpuBlas(MODE);
  }
  assert.equal(cpuFastPathInfo().blas.active, HAVE_BLAS);
});

function t(shape: number[], r: () => number, dtype: DType = "float32"): Tensor {
  const a = new Float64Array(shape.reduce((x, y) => x * y, 1));
  for (let i = 0; i < a.length; i++) a[i] = r() * 2 - 1;
  return tensor(dtype === "float32" ? Float32Array.from(a) : a, { dtype, shape });
}

/** `f` without BLAS (float32: WebAssembly GEMM; float64: reference loops), then with it. */
function withAndWithout(f: () => Tensor[]): [Float64Array[], Float64Array[]] {
  const run = () =>
    scope(() => f().map((y) => Float64Array.from(y.dataSync() as Float32Array | Float64Array)));
  setCpuBlas("off");
  let off: Float64Array[];
  try {
    off = run();
  } finally {
    setCpuBlas(MODE);
  }
  assert.equal(cpuFastPathInfo().path, "blas");
  return [off, run()];
}

function assertClose(a: Float64Array[], b: Float64Array[], tol: number, label: string): void {
  assert.equal(a.length, b.length);
  for (let q = 0; q < a.length; q++) {
    assert.equal(a[q]!.length, b[q]!.length, label);
    for (let i = 0; i < a[q]!.length; i++) {
      const x = a[q]![i]!, y = b[q]![i]!;
      if (!(Math.abs(x - y) <= tol * Math.max(1, Math.abs(x)))) {
        assert.fail(`${label} output ${q} @${i}: without BLAS ${x}, with ${y} (tol ${tol})`);
      }
    }
  }
}

const TOL: Record<"float32" | "float64", (k: number) => number> = {
  float32: (k) => 4e-7 * Math.max(k, 8),
  float64: (k) => 1e-15 * Math.max(k, 8),
};

Deno.test({
  name: "blas matmul matches the WebAssembly GEMM (float32) and the loops (float64)",
  ignore: !HAVE_BLAS,
  fn() {
    const before = memoryStats().cpu?.tensors ?? 0;
    const r = rng(21);
    const cases: [number[], number[]][] = [
      [[1, 1], [1, 1]],
      [[7, 13], [13, 5]],
      [[1, 33], [33, 7]],
      [[33, 1], [1, 9]],
      [[70, 130], [130, 300]],
      [[2, 1, 9, 17], [3, 17, 13]], // broadcast batch on both sides
      [[4, 9, 17], [17, 13]], // shared weight: one folded product
      [[9, 17], [5, 17, 13]], // shared left operand
      [[2, 0, 3], [3, 4]],
      [[3, 0], [0, 4]],
    ];
    for (const dtype of ["float32", "float64"] as const) {
      for (const [as, bs] of cases) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            const sa = transA ? [...as.slice(0, -2), as.at(-1)!, as.at(-2)!] : as;
            const sb = transB ? [...bs.slice(0, -2), bs.at(-1)!, bs.at(-2)!] : bs;
            const a = t(sa, r, dtype), b = t(sb, r, dtype);
            const [off, on] = withAndWithout(() => [matmul(a, b, { transA, transB })]);
            const label = `${dtype} ${sa} @ ${sb} tA=${transA} tB=${transB}`;
            assertClose(off, on, TOL[dtype](as.at(-1)!), label);
            a.dispose();
            b.dispose();
          }
        }
      }
    }
    assert.equal(memoryStats().cpu?.tensors ?? 0, before, "tensors leaked");
  },
});

Deno.test({
  name: "blas conv2d, convTranspose2d and the conv gradients match the other paths",
  ignore: !HAVE_BLAS,
  fn() {
    const r = rng(22);
    type Case = { x: number[]; w: number[]; opts: Parameters<typeof conv2d>[3] };
    const cases: Case[] = [
      { x: [2, 3, 7, 6], w: [4, 3, 3, 3], opts: { padding: 1 } },
      { x: [1, 4, 9, 9], w: [6, 2, 3, 2], opts: { stride: 2, groups: 2, dilation: [1, 2] } },
      { x: [3, 5, 4, 4], w: [2, 5, 1, 1], opts: {} }, // 1×1: the image is the column matrix
      // ≥ 16 channels, stride 1: the tap GEMMs of vision_conv_s1.ts (no im2col).
      { x: [2, 16, 7, 6], w: [16, 16, 3, 3], opts: { padding: 1 } },
      { x: [1, 16, 8, 9], w: [20, 16, 3, 2], opts: { padding: [2, 0], dilation: [2, 1] } },
      { x: [2, 17, 6, 6], w: [16, 17, 5, 5], opts: {} },
    ];
    for (const dtype of ["float32", "float64"] as const) {
      for (const c of cases) {
        const x = t(c.x, r, dtype), w = t(c.w, r, dtype);
        const g = grad<[Tensor, Tensor], Tensor[]>(
          (x, w) => sum(conv2d(x, w, null, c.opts)),
          { argnums: [0, 1] },
        );
        const [off, on] = withAndWithout(() => [conv2d(x, w, null, c.opts), ...g(x, w)]);
        const k = (c.w[1]! * c.w[2]! * c.w[3]!) * c.x[0]! * c.x[2]! * c.x[3]!;
        assertClose(off, on, TOL[dtype](k), `${dtype} conv ${c.x} * ${c.w}`);
        const wt = t([c.w[0]!, 3, 2, 2], r, dtype), xt = t([2, c.w[0]!, 5, 4], r, dtype);
        const [toff, ton] = withAndWithout(() => [convTranspose2d(xt, wt, null, { stride: 2 })]);
        assertClose(toff, ton, TOL[dtype](c.w[0]!), `${dtype} convTranspose ${c.w[0]}`);
        for (const y of [x, w, wt, xt]) y.dispose();
      }
      // Stride 1: the flipped tap GEMMs; padding 3 > (k−1)·d takes the col2im path.
      const s1: Parameters<typeof convTranspose2d>[3][] = [
        { padding: 1 },
        { padding: [0, 2], dilation: [1, 2] },
        { padding: 3 },
      ];
      for (const opts of s1) {
        const wt = t([16, 18, 3, 3], r, dtype), xt = t([2, 16, 7, 8], r, dtype);
        const [toff, ton] = withAndWithout(() => [convTranspose2d(xt, wt, null, opts)]);
        assertClose(toff, ton, TOL[dtype](16 * 9), `${dtype} convTranspose s1 ${opts!.padding}`);
        wt.dispose();
        xt.dispose();
      }
    }
  },
});

Deno.test({
  name:
    "blas takes its thread count from setCpuThreads (in a subprocess: the count is process-wide)",
  ignore: !HAVE_BLAS || cpuFastPathInfo().blas.threads === null,
  async fn() {
    for (const n of [1, 2]) {
      const { info } = await runHelper(["-A"], {}, ["--threads", String(n)]);
      assert.equal(info.blas.active, true);
      assert.equal(info.blas.threads, n);
    }
  },
});
