/**
 * Matmul epilogues: after elementwise fusion, a matmul whose result (or a reshape of it) is read
 * by a pure fused program at the program's own index becomes one step with it — the program runs
 * in the matmul's stores (a linear layer's bias add, GELU, a residual add), and the product is
 * written out only if something later reads it too (the backward pass's pre-activation). Only for backends with `Backend.matmulEpilogue` (WebGPU); the
 * CPU keeps BLAS stores, whose bits eager has. The merged step runs where the program ran, which
 * is safe because primitives are pure and nothing between them reads the product.
 * @module
 */
import type { ElementwiseProgram } from "../tensor/elementwise_program.ts";
import { sizeOf } from "../tensor/shape.ts";
import { type Step, VIEWS } from "./jit_schedule.ts";

/**
 * The steps with each fusable matmul merged into the program that consumes it. `canFuse(p, j,
 * store)` says whether the backend can run program `p` with input `j` from a matmul (bindings,
 * ops), also storing the product when `store`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fuseMatmulEpilogues } from "./jit_epilogue.ts";
 * import type { Step } from "./jit_schedule.ts";
 * const a = { shape: [2, 2], dtype: "float32" } as const;
 * const mm = { prim: "matmul", params: { transA: false, transB: false }, inputs: [0, 1], out: 2, aval: a } as const;
 * const steps: Step[] = [
 *   { kind: "eqn", eqn: mm, inputs: [0, 1], outs: [2] },
 *   {
 *     kind: "fused", inputs: [2, 3], outs: [4], outAvals: [a], members: 1,
 *     program: {
 *       dtype: "float32", size: 4, inputs: [{ div: 1, mod: 4 }, { div: 1, mod: 2 }], outputs: [0],
 *       nodes: [{ prim: "binary", op: "add", args: [{ input: 0 }, { input: 1 }] }],
 *     },
 *   },
 * ];
 * const [s] = fuseMatmulEpilogues(steps, [4], () => true);
 * assert.deepEqual([s!.kind, s!.inputs], ["matmulFused", [0, 1, 3]]);
 * ```
 */
export function fuseMatmulEpilogues(
  steps: readonly Step[],
  outSlots: readonly number[],
  canFuse: (program: ElementwiseProgram, fromMatmul: number, storeProduct: boolean) => boolean,
): Step[] {
  const readers = new Map<number, number>(), producer = new Map<number, number>();
  const readAt = new Map<number, number[]>();
  steps.forEach((st, i) => {
    for (const s of st.inputs) {
      readers.set(s, (readers.get(s) ?? 0) + 1);
      readAt.set(s, [...(readAt.get(s) ?? []), i]);
    }
    for (const o of st.outs) producer.set(o, i);
  });
  const isOut = new Set(outSlots), drop = new Set<number>();
  /** Read once, not returned. */
  const private1 = (s: number) => readers.get(s) === 1 && !isOut.has(s);
  const merged = steps.map((st, i): Step => {
    if (st.kind !== "fused") return st;
    const p = st.program;
    if (p.dtype !== "float32" || p.epilogue || p.tail) return st;
    if (p.nodes.some((nd) => nd.prim === "reduce")) return st;
    for (let j = 0; j < st.inputs.length; j++) {
      const r = p.inputs[j]!;
      if (r.div !== 1 || r.mod !== p.size) continue;
      if (st.inputs.indexOf(st.inputs[j]!) !== st.inputs.lastIndexOf(st.inputs[j]!)) continue;
      // Through views of the product (same storage, same flat order) to the matmul.
      let s = st.inputs[j]!, at = producer.get(s);
      const views: number[] = [];
      while (at !== undefined && private1(s)) {
        const prev = steps[at]!;
        if (prev.kind !== "eqn" || !VIEWS.has(prev.eqn.prim) || drop.has(at)) break;
        views.push(at);
        s = prev.inputs[0]!, at = producer.get(s);
      }
      if (at === undefined || drop.has(at)) continue;
      const mm = steps[at]!;
      if (mm.kind !== "eqn" || mm.eqn.prim !== "matmul") continue;
      if (mm.eqn.aval.dtype !== "float32" || sizeOf(mm.eqn.aval.shape) !== p.size) continue;
      // A product read elsewhere too (a pre-activation the backward pass reads) is also
      // stored — when its other readers all come after this step, where it now exists.
      const store = !private1(s);
      if (store && (readAt.get(s) ?? []).some((k) => k <= i && k !== (views.at(-1) ?? i))) continue;
      if (!canFuse(p, j, store)) continue;
      drop.add(at);
      views.forEach((v) => drop.add(v));
      return {
        kind: "matmulFused",
        eqn: mm.eqn,
        program: p,
        fromMatmul: j,
        storeProduct: store,
        inputs: [...mm.inputs, ...st.inputs.filter((_, k) => k !== j)],
        outs: store ? [s, ...st.outs] : st.outs,
        outAvals: store ? [mm.eqn.aval, ...st.outAvals] : st.outAvals,
        members: st.members + 1 + views.length,
      };
    }
    return st;
  });
  return merged.filter((_, i) => !drop.has(i));
}
