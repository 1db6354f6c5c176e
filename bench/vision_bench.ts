/**
 * Vision op benchmarks: conv2d 3×3 (padding 1) on [8, 64, 56, 56] → 64 channels, and RoIAlign
 * of 512 boxes (7×7, spatial scale 1/16, adaptive sampling, aligned — detectron2's box head
 * setting) on a [2, 256, 50, 50] feature map; forward and forward+backward, float32, on
 * tessera's CPU and WebGPU backends and PyTorch/torchvision on the CPU, in the same run.
 *
 *   deno run -A bench/vision_bench.ts [--skip-torch] [--skip-webgpu] [--threads 2]
 *     [--python /usr/bin/python3] [--torch-cuda]
 *
 * prints a markdown table (ms per run, best of two rounds per side; tessera/torch ratios: > 1
 * means tessera is slower) for bench/RESULTS.md. PyTorch runs in a child process (`/usr/bin/python3 bench/vision_torch.py`,
 * Debian's python3-torch/torchvision) with the same thread count. Under `deno bench` the file
 * registers small CPU benches instead.
 * @module
 */
import * as T from "../mod.ts";
import { initWebGPU, syncWebGPU, type WebGPUInfo } from "../tensor/webgpu/mod.ts";
import { timeOp } from "./_gpu_timing.ts";
import { lcg } from "./peers/_common.ts";

function arg(name: string, def: string): string {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1]! : def;
}

/** The closed-form boxes of vision_torch.py: (batch, x1, y1, x2, y2) in an 800² image. */
function boxes(k: number, backend: string): T.Tensor {
  const rows: number[] = [];
  for (let i = 0; i < k; i++) {
    const x1 = (i * 37) % 640, y1 = (i * 91) % 640;
    rows.push(i % 2, x1, y1, x1 + 8 + (i * 53) % 400, y1 + 8 + (i * 29) % 400);
  }
  return T.tensor(rows, { shape: [k, 5], backend });
}

interface Inputs {
  x: T.Tensor;
  w: T.Tensor;
  feat: T.Tensor;
  bx: T.Tensor;
}

function inputs(backend: string): Inputs {
  const w = lcg(64 * 64 * 9, 2).map((v) => v * 0.1);
  return {
    x: T.tensor(lcg(8 * 64 * 56 * 56, 1), { shape: [8, 64, 56, 56], backend }),
    w: T.tensor(w, { shape: [64, 64, 3, 3], backend }),
    feat: T.tensor(lcg(2 * 256 * 50 * 50, 3), { shape: [2, 256, 50, 50], backend }),
    bx: boxes(512, backend),
  };
}

const ROI = { outputSize: 7, spatialScale: 1 / 16, samplingRatio: 0, aligned: true } as const;

/** The benches: name → function returning tensors to dispose. */
function benches(i: Inputs): [string, () => T.Tensor[]][] {
  const convGrad = T.grad<[T.Tensor, T.Tensor], T.Tensor[]>(
    (x, w) => T.sum(T.conv2d(x, w, null, { padding: 1 })),
    { argnums: [0, 1] },
  );
  const roiGrad = T.grad((f: T.Tensor) => T.sum(T.roiAlign(f, i.bx, ROI)));
  return [
    ["conv2d fwd", () => [T.conv2d(i.x, i.w, null, { padding: 1 })]],
    ["conv2d fwd+bwd", () => convGrad(i.x, i.w)],
    ["roiAlign fwd", () => [T.roiAlign(i.feat, i.bx, ROI)]],
    ["roiAlign fwd+bwd", () => [roiGrad(i.feat)]],
  ];
}

async function torchTimes(
  threads: number,
): Promise<{ ms: Map<string, number>; label: string; cuda: string | null }> {
  const script = new URL("./vision_torch.py", import.meta.url).pathname;
  const cudaArg = Deno.args.includes("--torch-cuda") ? ["--cuda"] : [];
  const out = await new Deno.Command(arg("--python", "/usr/bin/python3"), {
    args: [script, "--threads", String(threads), ...cudaArg],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error("vision_torch.py failed");
  const ms = new Map<string, number>();
  let label = "pytorch", cuda: string | null = null;
  for (const line of new TextDecoder().decode(out.stdout).trim().split("\n")) {
    const r = JSON.parse(line) as { bench: string; ms: number; label: string };
    ms.set(r.bench, r.ms);
    if (r.bench.endsWith(" cuda")) cuda = r.label;
    else label = r.label;
  }
  return { ms, label, cuda };
}

async function main(): Promise<void> {
  const threads = Number(arg("--threads", "2"));
  T.setCpuThreads(threads);
  let info: WebGPUInfo | null = null;
  if (!Deno.args.includes("--skip-webgpu")) {
    try {
      info = await initWebGPU();
    } catch (e) {
      console.error(`vision_bench: no webgpu (${(e as Error).message})`);
    }
  }
  // The machine may be shared: PyTorch runs before and after tessera's CPU benches (two
  // rounds), and each side reports its best round.
  const skipTorch = Deno.args.includes("--skip-torch");
  const torch = skipTorch ? null : await torchTimes(threads);
  const rows: [string, number, number | null][] = [];
  const cpuIn = inputs("cpu");
  const cpu = new Map<string, number>();
  for (let round = 0; round < 2; round++) {
    for (const [name, run] of benches(cpuIn)) {
      const ms = (await timeOp(run, { sync: () => Promise.resolve(), minMs: 500 })).ms;
      cpu.set(name, Math.min(ms, cpu.get(name) ?? Infinity));
    }
  }
  if (torch) {
    for (const [k, v] of (await torchTimes(threads)).ms) {
      torch.ms.set(k, Math.min(v, torch.ms.get(k) ?? Infinity));
    }
  }
  const gpu = new Map<string, number>();
  if (info) {
    const gIn = inputs("webgpu");
    for (const [name, run] of benches(gIn)) {
      gpu.set(name, (await timeOp(run, { minMs: 300, maxReps: 500 })).ms);
    }
    T.dispose(Object.values(gIn));
    await syncWebGPU();
  }
  T.dispose(Object.values(cpuIn));
  for (const [name] of benches(cpuIn)) rows.push([name, cpu.get(name)!, gpu.get(name) ?? null]);
  console.log(
    `tessera cpu: ${threads} thread(s), fast path ${JSON.stringify(T.cpuFastPathInfo())}` +
      (torch ? `; ${torch.label}` : "") +
      (info ? `; webgpu: ${info.description}${info.isFallbackAdapter ? " (software)" : ""}` : ""),
  );
  const cudaCol = torch?.cuda ? " pytorch cuda ms | webgpu/cuda |" : "";
  if (torch?.cuda) console.log(torch.cuda);
  console.log(
    "\n| bench | tessera cpu ms | tessera webgpu ms | pytorch cpu ms | cpu/torch | webgpu/torch |" +
      cudaCol,
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |" + (cudaCol ? " ---: | ---: |" : ""));
  const f = (v: number | null | undefined, d = 1) =>
    v == null ? "-" : v < 0.1 && d === 2 ? v.toPrecision(2) : v.toFixed(d);
  for (const [name, c, g] of rows) {
    const t = torch?.ms.get(name) ?? null;
    const tc = torch?.ms.get(`${name} cuda`) ?? null;
    const cu = cudaCol ? ` ${f(tc, 3)} | ${f(tc && g ? g / tc : null, 2)} |` : "";
    console.log(
      `| ${name} | ${f(c)} | ${f(g, g !== null && g < 10 ? 3 : 1)} | ${f(t)} | ${
        f(t ? c / t : null, 2)
      } | ${f(t && g ? g / t : null, 2)} |${cu}`,
    );
  }
}

if (import.meta.main) {
  await main();
} else {
  // `deno bench`: the CPU side only, at a smaller size.
  const x = T.tensor(lcg(2 * 32 * 28 * 28, 1), { shape: [2, 32, 28, 28] });
  const w = T.tensor(lcg(32 * 32 * 9, 2), { shape: [32, 32, 3, 3] });
  const feat = T.tensor(lcg(1 * 64 * 50 * 50, 3), { shape: [1, 64, 50, 50] });
  const bx = T.mul(boxes(128, "cpu"), T.tensor([0, 1, 1, 1, 1]));
  Deno.bench("conv2d 3x3 [2,32,28,28] cpu", () => {
    T.conv2d(x, w, null, { padding: 1 }).dispose();
  });
  Deno.bench("roiAlign 128 boxes [1,64,50,50] cpu", () => {
    T.roiAlign(feat, bx, ROI).dispose();
  });
}
