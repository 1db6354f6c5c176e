/**
 * tessera's side of the matmul comparison: square float32 matmul on the CPU backend (fast
 * path, default thread count or `--threads N`). Prints JSON lines (see `_common.ts`).
 */
import { cpuFastPathInfo, matmul, setCpuThreads, tensor } from "../../mod.ts";
import { lcg, MATMUL_SIZES, report, repsFor, timeIt } from "./_common.ts";

const ti = Deno.args.indexOf("--threads");
if (ti >= 0) setCpuThreads(Number(Deno.args[ti + 1]));
const info = cpuFastPathInfo();
const label = `tessera (wasm${info.relaxedSimd ? " relaxed-simd" : " simd"}, ${info.threads}T)`;
for (const n of MATMUL_SIZES) {
  const a = tensor(lcg(n * n, 1), { shape: [n, n] }), b = tensor(lcg(n * n, 2), { shape: [n, n] });
  const ms = await timeIt(() => matmul(a, b).dispose(), repsFor(n));
  report(label, "matmul", n, ms);
}
