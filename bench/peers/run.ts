/**
 * Runs tessera's CPU backend against its peers back to back and prints tables of ratios
 * (markdown, ready for bench/RESULTS.md):
 *
 * - float32 matmul 256/512/1024/2048 GFLOP/s: tessera, PyTorch CPU (Debian python3-torch,
 *   `/usr/bin/python3`, 2 threads), jax-js 0.1.25 (wasm device), TensorFlow.js 4.22 (wasm);
 * - ViT-Tiny training step and forward pass (bench/vit_step.ts vs bench/peers/vit_torch.py and
 *   bench/peers/vit_jaxjs.ts on the same weights and batch): ms/step, img/s, peak RSS, first
 *   loss as a cross-check;
 * - vision ops (bench/vision_bench.ts: conv2d and roiAlign, fwd and fwd+bwd, CPU only) against
 *   PyTorch/torchvision, its table passed through.
 *
 * `deno task bench:peers [--only matmul,vit,vision] [--rounds N] [--steps N]
 *   [--skip jax,tfjs,torch] [--paths auto,off]`
 *
 * `--paths` lists the `TESSERA_BLAS` values tessera runs under (default `auto`: the native BLAS
 * where FFI and a library are available; `off`: the WebAssembly GEMM), each as its own peer.
 *
 * Each peer runs in its own process; with `--rounds N` the whole sequence repeats N times
 * (interleaved, so a noisy neighbour hurts every peer alike) and the best time per peer and
 * size is kept. Before each peer it waits (`--quiet-wait S`, default 90) for the machine to be
 * idle, since shared CI/developer machines run other jobs.
 * @module
 */

interface Result {
  peer: string;
  bench: string;
  n: number;
  ms: number;
  gflops?: number;
  imgPerS?: number;
  peakRssMiB?: number;
  loss0?: number;
}

function arg(name: string, def: string): string {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1]! : def;
}

const here = new URL(".", import.meta.url).pathname;
const only = arg("--only", "matmul,vit,vision").split(",");
const paths = arg("--paths", "auto").split(",");
const skip = arg("--skip", "").split(",");
const rounds = Number(arg("--rounds", "1"));
const steps = arg("--steps", "3");
const PY = "/usr/bin/python3";

/** CPU busy fraction of the whole machine over `ms` (Linux /proc/stat; 0 elsewhere). */
async function busy(ms: number): Promise<number> {
  const read = () => {
    try {
      const f = Deno.readTextFileSync("/proc/stat").split("\n")[0]!.trim().split(/\s+/).slice(1)
        .map(Number);
      return { total: f.reduce((a, b) => a + b, 0), idle: f[3]! + (f[4] ?? 0) };
    } catch {
      return { total: 0, idle: 0 };
    }
  };
  const a = read();
  await new Promise((r) => setTimeout(r, ms));
  const b = read();
  const dt = b.total - a.total;
  return dt > 0 ? 1 - (b.idle - a.idle) / dt : 0;
}

/**
 * Waits (up to `--quiet-wait` seconds, default 90) until other processes leave the CPUs
 * idle, so that a neighbour's burst does not land on one peer only.
 */
async function waitQuiet(): Promise<void> {
  const limit = Number(arg("--quiet-wait", "90")) * 1000, t0 = performance.now();
  let b = await busy(1000);
  while (b > 0.15 && performance.now() - t0 < limit) b = await busy(2000);
  if (b > 0.15) console.error(`  (machine still ${(100 * b).toFixed(0)}% busy; running anyway)`);
}

async function runText(cmd: string, args: string[], env: Record<string, string> = {}) {
  await waitQuiet();
  const t0 = performance.now();
  const p = new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "inherit" });
  const out = await p.output();
  const text = new TextDecoder().decode(out.stdout);
  const secs = ((performance.now() - t0) / 1000).toFixed(0);
  const envs = Object.entries(env).map(([k, v]) => `${k}=${v} `).join("");
  console.error(`  ${envs}${cmd} ${args.join(" ")}: ${secs} s`);
  if (!out.success) console.error(`  (exited with ${out.code})`);
  return text;
}

async function runPeer(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Result[]> {
  const text = await runText(cmd, args, env);
  return text.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Result);
}

/** Runs a tessera script once per `--paths` entry. */
async function tessera(args: string[]): Promise<Result[]> {
  const rs: Result[] = [];
  for (const p of paths) {
    rs.push(...await runPeer(deno, ["run", "-A", ...args], { TESSERA_BLAS: p }));
  }
  return rs;
}

const best = new Map<string, Result>();
function keep(rs: Result[]): void {
  for (const r of rs) {
    const k = `${r.bench}|${r.peer}|${r.n}`;
    const b = best.get(k);
    if (!b || r.ms < b.ms) best.set(k, r);
  }
}

const deno = Deno.execPath();
const vision: string[] = [];
for (let round = 1; round <= rounds; round++) {
  console.error(`round ${round}/${rounds}`);
  if (only.includes("matmul")) {
    keep(await tessera([`${here}tessera_matmul.ts`]));
    if (!skip.includes("torch")) keep(await runPeer(PY, [`${here}torch_matmul.py`]));
    if (!skip.includes("jax")) keep(await runPeer(deno, ["run", "-A", `${here}jaxjs_matmul.ts`]));
    if (!skip.includes("tfjs")) keep(await runPeer(deno, ["run", "-A", `${here}tfjs_matmul.ts`]));
  }
  if (only.includes("vit")) {
    const w = `${Deno.makeTempDirSync()}/vit_tiny.safetensors`; // written by the first run
    for (const mode of ["step", "forward"]) {
      const common = ["--mode", mode, "--steps", steps, "--weights", w];
      keep(await tessera([`${here}../vit_step.ts`, ...common]));
      if (mode === "step") keep(await tessera([`${here}../vit_step.ts`, ...common, "--jit"]));
      if (!skip.includes("torch")) keep(await runPeer(PY, [`${here}vit_torch.py`, ...common]));
      if (!skip.includes("jax")) {
        keep(await runPeer(deno, ["run", "-A", `${here}vit_jaxjs.ts`, ...common]));
      }
    }
    Deno.removeSync(w.slice(0, w.lastIndexOf("/")), { recursive: true });
  }
  if (only.includes("vision")) {
    // vision_bench.ts times PyTorch itself (before and after tessera) and prints a table.
    const extra = skip.includes("torch") ? ["--skip-torch"] : [];
    for (const p of paths) {
      const text = await runText(deno, [
        "run",
        "-A",
        `${here}../vision_bench.ts`,
        "--skip-webgpu",
        ...extra,
      ], { TESSERA_BLAS: p });
      vision.push(`Round ${round}, TESSERA_BLAS=${p}:\n\n${text.trim()}\n`);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Report

function sh(cmd: string, args: string[]): string {
  try {
    const o = new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).outputSync();
    return new TextDecoder().decode(o.stdout).trim();
  } catch {
    return "?";
  }
}
const cpu = (sh("sh", ["-c", "grep -m1 'model name' /proc/cpuinfo"]).split(":")[1] ?? "?").trim();
console.log(
  `Machine: ${cpu}, ${navigator.hardwareConcurrency} cores; Deno ${Deno.version.deno} ` +
    `(V8 ${Deno.version.v8}); ${new Date().toISOString().slice(0, 10)}; commit ` +
    `${sh("git", ["-C", here, "rev-parse", "--short", "HEAD"])}; best of ${rounds} round(s).\n`,
);

const all = [...best.values()];
const isTessera = (r: Result) => r.peer.startsWith("tessera");
const f1 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? "–" : x.toFixed(1));

if (only.includes("matmul")) {
  const mm = all.filter((r) => r.bench === "matmul");
  const peers = [...new Set(mm.map((r) => r.peer))].sort((a, b) =>
    Number(b.startsWith("tessera")) - Number(a.startsWith("tessera"))
  );
  const others = peers.filter((p) => !p.startsWith("tessera"));
  const mine = peers.filter((p) => p.startsWith("tessera"));
  const pairs = mine.flatMap((t) => others.map((o) => [t, o] as const));
  const short = (p: string) => p.replace(/^tessera \((\S+).*$/, "$1").split(" ")[0];
  const sizes = [...new Set(mm.map((r) => r.n))].sort((a, b) => a - b);
  console.log(
    `| n | ${peers.join(" | ")} | ${
      pairs.map(([t, o]) => `tessera ${short(t)} / ${o.split(" ")[0]}`).join(" | ")
    } |`,
  );
  console.log(`|${"---|".repeat(1 + peers.length + pairs.length)}`);
  for (const n of sizes) {
    const g = (p: string) => mm.find((r) => r.peer === p && r.n === n)?.gflops;
    const ratios = pairs.map(([t, o]) => (g(t) && g(o) ? (g(t)! / g(o)!).toFixed(2) + "×" : "–"));
    console.log(`| ${n} | ${peers.map((p) => f1(g(p))).join(" | ")} | ${ratios.join(" | ")} |`);
  }
  console.log("\n(float32 GFLOP/s = 2n³ / time; higher is better)\n");
}

if (only.includes("vit")) {
  for (const bench of ["vit-step", "vit-forward"]) {
    const rs = all.filter((r) => r.bench === bench).sort((a, b) =>
      Number(isTessera(b)) - Number(isTessera(a))
    );
    if (rs.length === 0) continue;
    const ts = rs.filter(isTessera);
    console.log(
      `${bench === "vit-step" ? "ViT-Tiny training step" : "ViT-Tiny forward"} ` +
        `(batch ${rs[0]!.n}):\n`,
    );
    console.log("| peer | ms | img/s | peak RSS MiB | first loss | tessera img/s ÷ this |");
    console.log("|---|---|---|---|---|---|");
    for (const r of rs) {
      const ratio = isTessera(r)
        ? ""
        : ts.map((t) => `${(t.imgPerS! / r.imgPerS!).toFixed(2)}×`).join(" / ");
      console.log(
        `| ${r.peer} | ${r.ms.toFixed(0)} | ${f1(r.imgPerS)} | ${
          r.peakRssMiB?.toFixed(0) ?? "–"
        } | ` +
          `${r.loss0?.toFixed(6) ?? "–"} | ${ratio} |`,
      );
    }
    console.log("");
  }
}

if (vision.length > 0) {
  console.log("Vision ops (bench/vision_bench.ts; ratios > 1: tessera slower):\n");
  console.log(vision.join("\n"));
}
