/**
 * The static buffer plan of a `jit` program: liveness over its steps (each intermediate freed
 * right after its last reader) and the peak bytes that plan keeps alive.
 * @module
 */
import type { Aval } from "../tensor/aval.ts";
import { itemSize } from "../tensor/dtype.ts";
import { sizeOf } from "../tensor/shape.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { type Step, VIEWS } from "./jit_schedule.ts";

export { VIEWS } from "./jit_schedule.ts";

/**
 * Liveness over the schedule: each intermediate is freed right after the step that reads it
 * last (inputs, constants and outputs are never freed by the program; values internal to a
 * fused step never exist as tensors).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planFrees } from "./jit_plan.ts";
 * import { unfused } from "./jit_fuse.ts";
 * const a = { shape: [2], dtype: "float32" } as const;
 * const steps = unfused([
 *   { prim: "unary", params: { op: "exp" }, inputs: [0], out: 1, aval: a },
 *   { prim: "unary", params: { op: "neg" }, inputs: [1], out: 2, aval: a },
 * ]);
 * assert.deepEqual(planFrees(steps, new Map(), [2], 3), [[], [1]]); // slot 1 dies after step 1
 * ```
 */
export function planFrees(
  steps: readonly Step[],
  constants: ReadonlyMap<number, Tensor>,
  outSlots: readonly number[],
  nSlots: number,
): number[][] {
  const last = new Array<number>(nSlots).fill(-1);
  const produced = new Set<number>();
  steps.forEach((st, i) => {
    for (const o of st.outs) last[o] = i, produced.add(o); // unread outputs die at once
    for (const s of st.inputs) last[s] = i;
  });
  const keep = new Set(outSlots);
  const frees = steps.map((): number[] => []);
  for (let s = 0; s < nSlots; s++) {
    if (!produced.has(s) || keep.has(s) || constants.has(s)) continue;
    frees[last[s]!]!.push(s);
  }
  return frees;
}

/**
 * The most bytes of intermediates alive at once under a free plan (views add none).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { peakBytes } from "./jit_plan.ts";
 * import { unfused } from "./jit_fuse.ts";
 * const a = { shape: [2], dtype: "float32" } as const;
 * const steps = unfused([{ prim: "unary", params: { op: "exp" }, inputs: [0], out: 1, aval: a }]);
 * assert.equal(peakBytes(steps, [[]], new Map([[1, a]])), 8);
 * ```
 */
export function peakBytes(
  steps: readonly Step[],
  frees: readonly (readonly number[])[],
  avals: ReadonlyMap<number, Aval>,
): number {
  // Views share their input's storage: they add no bytes.
  const bytes = (s: number) => sizeOf(avals.get(s)!.shape) * itemSize(avals.get(s)!.dtype);
  const size = new Map<number, number>();
  for (const st of steps) {
    for (const o of st.outs) {
      size.set(o, st.kind === "eqn" && VIEWS.has(st.eqn.prim) ? 0 : bytes(o));
    }
  }
  let live = 0, peak = 0;
  steps.forEach((st, i) => {
    for (const o of st.outs) live += size.get(o)!;
    peak = Math.max(peak, live);
    for (const s of frees[i]!) live -= size.get(s)!;
  });
  return peak;
}
