/**
 * WebGPU backend benchmarks against the CPU backend and TensorFlow.js's WebGPU backend, on the
 * same adapter, in the same run.
 *
 *   deno task bench:webgpu [--sizes 256,512,1024,2048] [--skip-tfjs]
 *
 * prints matmul GFLOP/s (float32, square n = 256…2048) and elementwise GB/s for tessera-cpu,
 * tessera-webgpu and tfjs-webgpu (npm:@tensorflow/tfjs-backend-webgpu 4.22, a bench-only
 * dependency), plus webgpu/cpu and tessera/tfjs ratios, as a markdown table. Under
 * `deno bench` (deno task bench) the file registers smaller cpu-vs-webgpu benches instead.
 * GPU timings queue many runs and wait once (see _gpu_timing.ts); a software adapter's
 * (llvmpipe) figures say nothing about a GPU.
 * @module
 */
import * as T from "../mod.ts";
import { initWebGPU, syncWebGPU, type WebGPUInfo } from "../tensor/webgpu/mod.ts";
import { fmt, timeOp, type Timing } from "./_gpu_timing.ts";
import { lcg } from "./peers/_common.ts";

let info: WebGPUInfo | null = null;
try {
  info = await initWebGPU();
} catch (e) {
  console.error(`webgpu_bench: ${(e as Error).message}`);
}

const cpuSync = () => Promise.resolve();

function arg(name: string, def: string): string {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1]! : def;
}

type Tf = typeof import("npm:@tensorflow/tfjs-core@4.22.0");

async function loadTfjs(): Promise<Tf | null> {
  try {
    const tf = await import("npm:@tensorflow/tfjs-core@4.22.0");
    await import("npm:@tensorflow/tfjs-backend-webgpu@4.22.0");
    if (!(await tf.setBackend("webgpu"))) return null;
    await tf.ready();
    return tf;
  } catch (e) {
    console.error(`tfjs-webgpu unavailable: ${(e as Error).message}`);
    return null;
  }
}

/** Times a tfjs op: queue `reps` runs, then wait for the last result's data. */
async function timeTf(
  run: () => import("npm:@tensorflow/tfjs-core@4.22.0").Tensor,
  minMs = 300,
): Promise<Timing> {
  const once = async (reps: number) => {
    const t0 = performance.now();
    let last = run();
    for (let i = 1; i < reps; i++) {
      last.dispose();
      last = run();
    }
    await last.data();
    last.dispose();
    return performance.now() - t0;
  };
  await once(1);
  const probe = await once(1);
  const reps = Math.max(1, Math.min(200, Math.ceil(minMs / Math.max(probe, 0.05))));
  return { ms: (await once(reps)) / reps, reps };
}

async function main(): Promise<void> {
  if (!info) Deno.exit(1);
  const soft = info.isFallbackAdapter;
  const sizes = arg("--sizes", "256,512,1024,2048").split(",").map(Number);
  const tf = Deno.args.includes("--skip-tfjs") ? null : await loadTfjs();
  console.log(
    `adapter: ${info.description} (fallback: ${info.isFallbackAdapter})` +
      (soft ? " — software adapter: these figures say nothing about a GPU" : ""),
  );
  console.log(
    `\n| matmul n | cpu GFLOP/s | webgpu GFLOP/s | tfjs-webgpu GFLOP/s | webgpu/cpu | webgpu/tfjs |`,
  );
  console.log(`| ---: | ---: | ---: | ---: | ---: | ---: |`);
  for (const n of sizes) {
    const [ha, hb] = [lcg(n * n, 1), lcg(n * n, 2)];
    const flop = 2 * n ** 3;
    const ca = T.tensor(ha, { shape: [n, n], backend: "cpu" }),
      cb = T.tensor(hb, { shape: [n, n], backend: "cpu" });
    const cpu = await timeOp(() => T.matmul(ca, cb), { sync: cpuSync, minMs: 300, maxReps: 20 });
    const ga = T.tensor(ha, { shape: [n, n], backend: "webgpu" }),
      gb = T.tensor(hb, { shape: [n, n], backend: "webgpu" });
    const gpu = await timeOp(() => T.matmul(ga, gb), { minMs: 300 });
    let tfg = NaN;
    if (tf) {
      const ta = tf.tensor2d(ha, [n, n]), tb = tf.tensor2d(hb, [n, n]);
      tfg = flop / ((await timeTf(() => tf.matMul(ta, tb))).ms * 1e6);
      ta.dispose();
      tb.dispose();
    }
    const g = (t: Timing) => flop / (t.ms * 1e6);
    console.log(
      `| ${n} | ${fmt(g(cpu), 0)} | ${fmt(g(gpu), 0)} | ${fmt(tfg, 0)} | ${
        fmt(g(gpu) / g(cpu), 0, 2)
      } | ${fmt(g(gpu) / tfg, 0, 2)} |`,
    );
    T.dispose([ca, cb, ga, gb]);
  }
  console.log(
    `\n| elementwise (float32) | n | cpu GB/s | webgpu GB/s | tfjs-webgpu GB/s | webgpu/cpu | webgpu/tfjs |`,
  );
  console.log(`| --- | ---: | ---: | ---: | ---: | ---: | ---: |`);
  const n = Math.min(
    soft ? 1 << 22 : 1 << 25,
    Math.floor(info.limits.maxStorageBufferBindingSize / 4),
  );
  const [hx, hy] = [lcg(n, 3), lcg(n, 4)];
  const cases: [
    string,
    number,
    (x: T.Tensor, y: T.Tensor) => T.Tensor,
    ((
      tf: Tf,
      x: import("npm:@tensorflow/tfjs-core@4.22.0").Tensor,
      y: import("npm:@tensorflow/tfjs-core@4.22.0").Tensor,
    ) => import("npm:@tensorflow/tfjs-core@4.22.0").Tensor),
  ][] = [
    ["add", 12, T.add, (tf, x, y) => tf.add(x, y)],
    ["exp", 8, (x) => T.exp(x), (tf, x) => tf.exp(x)],
    [
      "add, broadcast row",
      8,
      (x, _y) =>
        T.add(T.reshape(x, [n / 1024, 1024]), T.reshape(T.slice(x, [[0, 1024]]), [1, 1024])),
      (tf, x) =>
        tf.add(tf.reshape(x, [n / 1024, 1024]), tf.reshape(tf.slice(x, [0], [1024]), [1, 1024])),
    ],
  ];
  const cx = T.tensor(hx, { backend: "cpu" }), cy = T.tensor(hy, { backend: "cpu" });
  const gx = T.tensor(hx, { backend: "webgpu" }), gy = T.tensor(hy, { backend: "webgpu" });
  const tx = tf?.tensor1d(hx), ty = tf?.tensor1d(hy);
  for (const [name, bytesPer, f, tff] of cases) {
    const cpu = await timeOp(() => T.scope(() => f(cx, cy)), {
      sync: cpuSync,
      minMs: 300,
      maxReps: 20,
    });
    const gpu = await timeOp(() => T.scope(() => f(gx, gy)), { minMs: 300 });
    const tfs = tf ? await timeTf(() => tf.tidy(() => tff(tf, tx!, ty!))) : { ms: NaN, reps: 0 };
    const gb = (t: Timing) => (bytesPer * n) / (t.ms * 1e6);
    console.log(
      `| ${name} | ${n} | ${fmt(gb(cpu), 0)} | ${fmt(gb(gpu), 0)} | ${fmt(gb(tfs), 0)} | ${
        fmt(gb(gpu) / gb(cpu), 0, 2)
      } | ${fmt(gb(gpu) / gb(tfs), 0, 2)} |`,
    );
  }
  T.dispose([cx, cy, gx, gy]);
  tx?.dispose();
  ty?.dispose();
  await syncWebGPU();
}

if (import.meta.main) {
  await main();
} else if (info) {
  // `deno bench`: small cpu-vs-webgpu comparisons (each webgpu iteration waits for the GPU,
  // which in Deno costs up to one ~10 ms device poll).
  for (const n of [256, 512]) {
    const [ha, hb] = [lcg(n * n, 1), lcg(n * n, 2)];
    const ca = T.tensor(ha, { shape: [n, n], backend: "cpu" }),
      cb = T.tensor(hb, { shape: [n, n], backend: "cpu" });
    const ga = T.tensor(ha, { shape: [n, n], backend: "webgpu" }),
      gb = T.tensor(hb, { shape: [n, n], backend: "webgpu" });
    Deno.bench(`matmul ${n} cpu`, { group: `webgpu matmul ${n}`, baseline: true }, () => {
      T.matmul(ca, cb).dispose();
    });
    Deno.bench(`matmul ${n} webgpu`, { group: `webgpu matmul ${n}` }, async () => {
      T.matmul(ga, gb).dispose();
      await syncWebGPU();
    });
  }
  const n = 1 << 20;
  const cx = T.tensor(lcg(n, 3), { backend: "cpu" }),
    gx = T.tensor(lcg(n, 3), { backend: "webgpu" });
  Deno.bench(`add ${n} cpu`, { group: "webgpu elementwise", baseline: true }, () => {
    T.add(cx, cx).dispose();
  });
  Deno.bench(`add ${n} webgpu`, { group: "webgpu elementwise" }, async () => {
    T.add(gx, gx).dispose();
    await syncWebGPU();
  });
}
