/**
 * A short, prepared check of the webgpu backend on whatever adapter this machine has:
 * adapter info and limits, a parity spot check against the CPU backend, matmul GFLOP/s at
 * 1024/2048/4096, elementwise GB/s, and the time of one training step of a small MLP.
 * Finishes in about a minute on a real GPU (sizes are cut down on software adapters).
 *
 *   deno task gpu:check            # or: deno run -A bench/gpu_check.ts [--full]
 *   bash bench/gpu_check.sh        # finds or fetches Deno first
 *
 * Prints plain text; the last line is a JSON summary for scripts.
 * @module
 */
import * as T from "../mod.ts";
import type { Tensor } from "../mod.ts";
import { initWebGPU, syncWebGPU, webgpuStats } from "../tensor/webgpu/mod.ts";
import { fmt, timeOp } from "./_gpu_timing.ts";
import { lcg } from "./peers/_common.ts";

const started = performance.now();
const full = Deno.args.includes("--full");
const budgetMs = 110_000;
const summary: Record<string, unknown> = { deno: Deno.version.deno };
const over = () => performance.now() - started > budgetMs;

/** Where a missing or software adapter usually comes from: the driver stack seen here. */
function diagnostics(): void {
  const env = (k: string) => {
    try {
      return Deno.env.get(k) ?? "(unset)";
    } catch {
      return "(no env permission)";
    }
  };
  const icds: string[] = [];
  for (
    const dir of ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d", "/usr/local/share/vulkan/icd.d"]
  ) {
    try {
      for (const e of Deno.readDirSync(dir)) icds.push(`${dir}/${e.name}`);
    } catch { /* absent */ }
  }
  console.log(`diagnostics: Vulkan ICDs: ${icds.join(", ") || "none"}`);
  console.log(
    `  DENO_WEBGPU_BACKEND=${env("DENO_WEBGPU_BACKEND")} ` +
      `NVIDIA_DRIVER_CAPABILITIES=${env("NVIDIA_DRIVER_CAPABILITIES")} ` +
      `NVIDIA_VISIBLE_DEVICES=${env("NVIDIA_VISIBLE_DEVICES")}`,
  );
  console.log(
    "  hints: WebGPU in Deno needs a Vulkan (or EGL) driver, not just CUDA. In NVIDIA " +
      "containers the Vulkan ICD (nvidia_icd.json, libGLX_nvidia) is only mounted with " +
      "NVIDIA_DRIVER_CAPABILITIES including 'graphics' (or 'all'); try DENO_WEBGPU_BACKEND=vulkan " +
      "or =gl to force a backend.",
  );
}

let info;
try {
  info = await initWebGPU({ powerPreference: "high-performance" });
} catch (e) {
  console.log(`no WebGPU: ${(e as Error).message}`);
  diagnostics();
  console.log(JSON.stringify({ ...summary, error: (e as Error).message }));
  Deno.exit(1);
}
const soft = info.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader/i.test(info.description);
console.log(`tessera gpu_check — Deno ${Deno.version.deno}`);
console.log(
  `adapter: ${info.description || "(no description)"}  vendor: ${info.vendor}  ` +
    `arch: ${info.architecture || "-"}  fallback: ${info.isFallbackAdapter}`,
);
console.log(`limits: ${JSON.stringify(info.limits)}`);
if (soft) {
  console.log("software adapter: sizes reduced; these figures say nothing about a GPU");
  diagnostics();
}
summary.adapter = info.description;
summary.fallback = info.isFallbackAdapter;
T.setBackend("webgpu");

// Parity spot check.
{
  const n = 192;
  const [ha, hb] = [lcg(n * n, 1), lcg(n * n, 2)];
  const cpu = T.matmul(
    T.tensor(ha, { shape: [n, n], backend: "cpu" }),
    T.tensor(hb, { shape: [n, n], backend: "cpu" }),
  );
  const gpu = T.scope(() =>
    T.matmul(T.tensor(ha, { shape: [n, n] }), T.tensor(hb, { shape: [n, n] }))
  );
  const [c, g] = await Promise.all([cpu.data(), gpu.data()]);
  let worst = 0;
  for (let i = 0; i < c.length; i++) worst = Math.max(worst, Math.abs(c[i]! - g[i]!));
  const key = T.random.key(1701);
  const drawn = T.random.bits(key, [3]);
  const bits = Array.from(await drawn.data());
  const prngOk = bits.join() === "56197195,4200222568,961309823";
  console.log(
    `parity: matmul ${n} max |gpu-cpu| = ${worst.toExponential(2)}; threefry ${
      prngOk ? "ok" : `WRONG ${bits}`
    }`,
  );
  summary.parity = { matmulMaxAbs: worst, prng: prngOk };
  T.dispose([cpu, gpu, key, drawn]);
}

// Matmul GFLOP/s.
const sizes = soft && !full ? [256, 512, 1024] : [1024, 2048, 4096];
const mm: Record<number, number> = {};
console.log("\nmatmul (float32, square)      ms      GFLOP/s   reps");
for (const n of sizes) {
  if (over()) break;
  const a = T.tensor(lcg(n * n, 3), { shape: [n, n] });
  const b = T.tensor(lcg(n * n, 4), { shape: [n, n] });
  const t = await timeOp(() => T.matmul(a, b), { minMs: soft ? 200 : 500 });
  mm[n] = (2 * n ** 3) / (t.ms * 1e6);
  console.log(
    `  ${String(n).padStart(5)}                  ${fmt(t.ms, 8, 2)} ${fmt(mm[n]!, 10)}  ${
      String(t.reps).padStart(5)
    }`,
  );
  T.dispose([a, b]);
}
summary.matmulGflops = mm;

// Elementwise GB/s (add: two reads and one write per element).
if (!over()) {
  const n = Math.min(
    soft ? 1 << 22 : 1 << 26,
    Math.floor(info.limits.maxStorageBufferBindingSize / 4),
  );
  const x = T.tensor(lcg(n, 5)), y = T.tensor(lcg(n, 6));
  const t = await timeOp(() => T.add(x, y), { minMs: 300 });
  const t2 = await timeOp(() => T.scope(() => T.mul(T.exp(x), 0.5)), { minMs: 300 }); // two kernels
  const gbs = (12 * n) / (t.ms * 1e6);
  console.log(
    `\nelementwise add, ${n} floats: ${fmt(t.ms, 0, 3)} ms, ${fmt(gbs, 0)} GB/s` +
      `;  mul(exp(x), 0.5): ${fmt(t2.ms, 0, 3)} ms`,
  );
  summary.elementwiseGBs = gbs;
  T.dispose([x, y]);
}

// One SGD step of a 784-512-512-10 MLP, batch 256 (forward, backward, update, inside scope).
if (!over()) {
  const batch = soft ? 64 : 256;
  const dims = [784, 512, 512, 10];
  let p: Tensor[] = T.scope(() => {
    const keys = T.random.splitKeys(T.random.key(0), 3);
    return dims.slice(1).flatMap((d, i) => [
      T.mul(T.random.normal(keys[i]!, [dims[i]!, d]), Math.sqrt(2 / dims[i]!)),
      T.zeros([d]),
    ]);
  });
  const x = T.tensor(lcg(batch * 784, 7), { shape: [batch, 784] });
  const y = T.scope(() =>
    T.oneHot(T.tensor(Int32Array.from({ length: batch }, (_, i) => i % 10)), 10)
  );
  const loss = (ps: Tensor[]) => {
    let h = x;
    for (let i = 0; i < ps.length; i += 2) {
      h = T.add(T.matmul(h, ps[i]!), ps[i + 1]!);
      if (i + 2 < ps.length) h = T.relu(h);
    }
    return T.mean(T.neg(T.sum(T.mul(y, T.logSoftmax(h, -1)), -1)));
  };
  const step = () => {
    const next = T.scope(() => {
      const [l, g] = T.valueAndGrad(loss)(p);
      return { p: p.map((w, i) => T.sub(w, T.mul(g[i]!, 0.01))), l };
    });
    T.dispose(p);
    p = next.p;
    return next.l;
  };
  const t = await timeOp(step, { minMs: 500, maxReps: 200 });
  const l = step();
  const lossNow = await l.item();
  l.dispose();
  console.log(
    `\nMLP 784-512-512-10, batch ${batch}: ${fmt(t.ms, 0, 2)} ms per training step` +
      ` (loss ${lossNow.toFixed(4)})`,
  );
  summary.mlpStepMs = t.ms;
  summary.mlpBatch = batch;
  T.dispose([...p, x, y]);
}

await syncWebGPU();
const s = webgpuStats();
console.log(
  `\npool: ${s.liveBuffers} live / ${s.pooledBuffers} pooled buffers, ${s.hits} hits, ` +
    `${s.misses} misses; ${s.pipelines} pipelines; ${s.submits} submits`,
);
summary.seconds = Math.round((performance.now() - started) / 100) / 10;
console.log(`done in ${summary.seconds} s`);
console.log(JSON.stringify(summary));
