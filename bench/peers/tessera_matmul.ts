/**
 * tessera's side of the matmul comparison: square float32 matmul on the CPU backend (fast
 * path — native BLAS or WebAssembly, see `TESSERA_BLAS` — default thread count or
 * `--threads N`). Prints JSON lines (see `_common.ts`).
 */
import { cpuFastPathInfo, matmul, setCpuThreads, tensor } from "../../mod.ts";
import { lcg, MATMUL_SIZES, report, repsFor, tesseraLabel, timeIt } from "./_common.ts";

const ti = Deno.args.indexOf("--threads");
if (ti >= 0) setCpuThreads(Number(Deno.args[ti + 1]));
const label = tesseraLabel(cpuFastPathInfo());
for (const n of MATMUL_SIZES) {
  const a = tensor(lcg(n * n, 1), { shape: [n, n] }), b = tensor(lcg(n * n, 2), { shape: [n, n] });
  const ms = await timeIt(() => matmul(a, b).dispose(), repsFor(n));
  report(label, "matmul", n, ms);
}
