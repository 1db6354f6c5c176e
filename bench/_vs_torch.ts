/**
 * What the tessera-vs-PyTorch training-step benchmarks (bench/mask_rcnn_bench.ts,
 * bench/upernet_bench.ts) share: flag lookup, the backbone configuration, the timing loop
 * (2 warm-up steps, best of 3 rounds of 3 steps) and running the matching torch script.
 * @module
 */
import { blasInfo } from "../tensor/cpu/blas.ts";
import type { VitConfig } from "../models/mod.ts";

/**
 * The value after flag `name` in `args`, or `def` when the flag is absent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { arg } from "./_vs_torch.ts";
 * assert.equal(arg("--threads", "1", ["--threads", "4"]), "4");
 * assert.equal(arg("--python", "py", []), "py");
 * ```
 */
export function arg(name: string, def: string, args: readonly string[] = Deno.args): string {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : def;
}

/** The backbone fields of a benchmark configuration, as {@link backboneOf} reads them. */
export interface BenchVit {
  size: number;
  patchSize: number;
  inChans: number;
  embedDim: number;
  depth: number;
  numHeads: number;
  numClasses: number;
  outIndices: number[];
}

/** The part of a dense-task model configuration that {@link backboneOf} fills in. */
export interface BenchBackbone {
  vit: VitConfig;
  numClasses: number;
  outIndices: number[];
  posEmbed: "sincos";
}

/**
 * The backbone part of a dense model's configuration (headless ViT with sin-cos positions,
 * the classes, the blocks fed to the neck) from a benchmark configuration.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { backboneOf } from "./_vs_torch.ts";
 * const b = {
 *   size: 128, patchSize: 16, inChans: 3, embedDim: 64, depth: 4, numHeads: 4,
 *   numClasses: 11, outIndices: [0, 1, 2, 3],
 * };
 * assert.deepEqual(backboneOf(b), {
 *   vit: { imgSize: 128, patchSize: 16, inChans: 3, numClasses: 0, embedDim: 64, depth: 4, numHeads: 4 },
 *   numClasses: 11,
 *   outIndices: [0, 1, 2, 3],
 *   posEmbed: "sincos",
 * });
 * ```
 */
export function backboneOf(b: BenchVit): BenchBackbone {
  return {
    vit: {
      imgSize: b.size,
      patchSize: b.patchSize,
      inChans: b.inChans,
      numClasses: 0,
      embedDim: b.embedDim,
      depth: b.depth,
      numHeads: b.numHeads,
    },
    numClasses: b.numClasses,
    outIndices: b.outIndices,
    posEmbed: "sincos",
  };
}

/**
 * Milliseconds per `step`: 2 warm-up steps, then the best of 3 rounds of 3 steps.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bestStepMs } from "./_vs_torch.ts";
 * let n = 0;
 * const ms = await bestStepMs(async () => void n++);
 * assert.equal(n, 11);
 * assert.ok(ms >= 0);
 * ```
 */
export async function bestStepMs(step: () => Promise<void>): Promise<number> {
  for (let i = 0; i < 2; i++) await step();
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) await step();
    best = Math.min(best, (performance.now() - t0) / 3);
  }
  return best;
}

/**
 * Runs the torch side, `bench/<script>` with `{ ...config, threads }` as its JSON argument, and
 * returns the milliseconds per step it prints (logging the BLAS libraries torch mapped).
 *
 * @example
 * ```ts ignore
 * import { torchMs } from "./_vs_torch.ts";
 * const ms = await torchMs("upernet_torch.py", { batch: 4 }, 1);
 * ```
 */
export async function torchMs(
  script: string,
  config: Record<string, unknown>,
  threads: number,
): Promise<number> {
  const file = new URL(`./${script}`, import.meta.url).pathname;
  const out = await new Deno.Command(arg("--python", "/usr/bin/python3"), {
    args: [file, JSON.stringify({ ...config, threads })],
    // The pthread OpenBLAS keeps its own pool beside torch's OpenMP one: pin both to `threads`.
    env: { OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) },
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`${script} failed`);
  const r = JSON.parse(new TextDecoder().decode(out.stdout).trim()) as {
    ms: number;
    blas: string[];
  };
  console.error(`torch BLAS libraries mapped: ${r.blas.join(", ") || "none"}`);
  return r.ms;
}

/**
 * Logs on stderr which BLAS tessera's CPU backend uses (or why none).
 *
 * @example
 * ```ts
 * import { logTesseraBlas } from "./_vs_torch.ts";
 * logTesseraBlas();
 * ```
 */
export function logTesseraBlas(): void {
  const blas = blasInfo();
  console.error(
    `tessera BLAS: ${blas.active ? `${blas.library} (${blas.config ?? "?"})` : blas.reason}`,
  );
}
