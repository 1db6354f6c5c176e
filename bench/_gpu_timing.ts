/**
 * Timing helpers for WebGPU benchmarks. Deno resolves GPU completion (map/onSubmittedWorkDone)
 * by polling roughly every 10 ms, so a single op's wall time says little; these helpers queue
 * `reps` runs back to back and wait once, choosing `reps` so the measured span is long enough
 * (≥ `minMs`) that the polling granularity is a small fraction of it.
 * @module
 */
import { type Tensor } from "../mod.ts";
import { syncWebGPU } from "../tensor/webgpu/mod.ts";

/** Result of {@link timeOp}: milliseconds per run and the repetitions measured. */
export interface Timing {
  ms: number;
  reps: number;
}

/**
 * Times `run` (which returns tensors to dispose) on webgpu: one warm-up, one probe, then
 * enough back-to-back repetitions to fill `minMs` (at most `maxReps`).
 */
export async function timeOp(
  run: () => Tensor | Tensor[] | void,
  opts: { minMs?: number; maxReps?: number; sync?: () => Promise<void> } = {},
): Promise<Timing> {
  const sync = opts.sync ?? syncWebGPU;
  const minMs = opts.minMs ?? 300, maxReps = opts.maxReps ?? 1000;
  const once = () => {
    const r = run();
    if (r) { for (const t of Array.isArray(r) ? r : [r]) t.dispose(); }
  };
  const measure = async (reps: number) => {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) once();
    await sync();
    return performance.now() - t0;
  };
  await measure(1); // warm-up: pipelines compile, the pool fills
  let reps = 1;
  let total = await measure(reps);
  // Grow the batch until it spans minMs: a short span is dominated by the ~10 ms poll.
  for (let round = 0; round < 4 && total < minMs && reps < maxReps; round++) {
    reps = Math.min(maxReps, Math.ceil((reps * minMs * 1.3) / Math.max(total, 0.05)));
    total = await measure(reps);
  }
  return { ms: total / reps, reps };
}

/** `x.toFixed(d)` padded to `w` characters. */
export function fmt(x: number, w = 9, d = 1): string {
  return (Number.isFinite(x) ? x.toFixed(d) : "-").padStart(w);
}
