/**
 * Horizontal grouping of a `jit` schedule (after fusion and matmul epilogues): fused steps that
 * a backend can group are sunk until a step reads one of their outputs, and those deferred
 * together become one `fusedGroup` step — one kernel over segments of different sizes. An
 * optimizer's update, fused into programs per parameter size and scattered through the
 * backward pass, becomes one dispatch per dependency level (m and v, then the parameters).
 * @module
 */
import type { ElementwiseProgram } from "../tensor/elementwise_program.ts";
import type { Step } from "./jit_schedule.ts";

/**
 * Groups the fused steps that `can` accepts, each sunk to just before its first reader (or the
 * end); those sunk to one place (two or more, independent of each other) form a group.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { groupFused } from "./jit_group.ts";
 * import type { Step } from "./jit_schedule.ts";
 * const a = { shape: [2], dtype: "float32" } as const;
 * const program = {
 *   dtype: "float32", size: 2, inputs: [{ div: 1, mod: 2 }], outputs: [0],
 *   nodes: [{ prim: "unary", op: "exp", args: [{ input: 0 }] }],
 * } as const;
 * const fused = (i: number, o: number): Step => ({
 *   kind: "fused", program, inputs: [i], outs: [o], outAvals: [a], members: 1,
 * });
 * // Slot 3 reads slot 1: the first two form a group before the third.
 * const steps = groupFused([fused(0, 1), fused(0, 2), fused(1, 3)], () => true);
 * assert.deepEqual(steps.map((s) => s.kind), ["fusedGroup", "fused"]);
 * ```
 */
export function groupFused(
  steps: readonly Step[],
  can: (p: ElementwiseProgram) => boolean,
): Step[] {
  const out: Step[] = [];
  // Groupable steps are deferred (sunk) until a step reads one of their outputs, then emitted
  // together: every primitive is pure, so only data dependencies order the steps.
  let pending: Extract<Step, { kind: "fused" }>[] = [];
  let made = new Set<number>();
  const flush = () => {
    if (pending.length === 1) out.push(pending[0]!);
    else if (pending.length > 1) {
      out.push({
        kind: "fusedGroup",
        programs: pending.map((s) => s.program),
        inputsOf: pending.map((s) => s.inputs),
        outsOf: pending.map((s) => s.outs),
        inputs: pending.flatMap((s) => s.inputs),
        outs: pending.flatMap((s) => s.outs),
        outAvals: pending.flatMap((s) => s.outAvals),
        members: pending.reduce((a, s) => a + s.members, 0),
      });
    }
    pending = [];
    made = new Set();
  };
  for (const st of steps) {
    if (st.inputs.some((s) => made.has(s))) flush();
    if (st.kind === "fused" && can(st.program)) {
      pending.push(st);
      for (const o of st.outs) made.add(o);
    } else out.push(st);
  }
  flush();
  return out;
}
