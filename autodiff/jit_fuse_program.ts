/**
 * The fused-kernel side of `jit`'s elementwise fusion (autodiff/jit_fuse.ts): a group of
 * equations and how a closed group becomes one {@link ElementwiseProgram} step — operand read
 * patterns, node numbering across the main loop and the epilogue, which values leave the
 * kernel, and the views of its values that run after it.
 * @module
 */
import type { Aval } from "../tensor/aval.ts";
import type {
  ElementwiseNode,
  ElementwiseRead,
  ElementwiseRef,
  FusedReduceOp,
} from "../tensor/elementwise_program.ts";
import type { BinaryOp, UnaryOp } from "../tensor/primitives.ts";
import { type Shape, sizeOf } from "../tensor/shape.ts";
import type { Step } from "./jit_schedule.ts";
import type { Equation } from "./jit_trace.ts";

/**
 * Equations being fused into one kernel: a main loop of `size` iterations (members of any
 * shape of that size: reads are patterns of the flat index), an epilogue over the reductions'
 * results, and deferred views (reshape, stopGradient) of member values.
 */
export interface Group {
  readonly size: number;
  readonly dtype: "float32" | "float64";
  /** Equations of the main loop, in order. */
  readonly members: number[];
  /** Equations of the epilogue loop over the reductions' results (all of `epiSize`). */
  readonly epi: number[];
  epiSize: number | null;
  /** Output slots of all members and views. */
  readonly slots: Set<number>;
  /** Equations of the tail loop (again of `size`), after the epilogue. */
  readonly tail: number[];
  /** Slots of the reduce, epilogue and tail members and their views (the main loop cannot read them). */
  readonly reduced: Set<number>;
  /** Slots of the tail members and their views (the epilogue cannot read them either). */
  readonly late: Set<number>;
  /** View output slot → its equation, in the order they joined. */
  readonly views: Map<number, number>;
}

/**
 * An empty group.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { newGroup } from "./jit_fuse_program.ts";
 * assert.equal(newGroup(6, "float32").members.length, 0);
 * ```
 */
export function newGroup(size: number, dtype: "float32" | "float64"): Group {
  return {
    size,
    dtype,
    members: [],
    epi: [],
    epiSize: null,
    tail: [],
    slots: new Set(),
    reduced: new Set(),
    late: new Set(),
    views: new Map(),
  };
}

/**
 * How an operand of shape `inShape` broadcast to `out` is read at flat output index i
 * (`floor(i / div) % mod`), or null when its kept dimensions are not one contiguous run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPattern } from "./jit_fuse_program.ts";
 * assert.deepEqual(readPattern([4], [2, 3, 4]), { div: 1, mod: 4 });
 * assert.deepEqual(readPattern([2, 3, 1], [2, 3, 4]), { div: 4, mod: 6 });
 * assert.equal(readPattern([2, 1, 4], [2, 3, 4]), null);
 * ```
 */
export function readPattern(inShape: Shape, out: Shape): ElementwiseRead | null {
  const pad = out.length - inShape.length;
  let div = 1, mod = 1, state: "after" | "run" | "before" = "after";
  for (let d = out.length - 1; d >= 0; d--) {
    if (out[d] === 1) continue;
    const kept = d >= pad && inShape[d - pad] === out[d];
    if (kept) {
      if (state === "before") return null;
      state = "run";
      mod *= out[d]!;
    } else if (state === "after") div *= out[d]!;
    else state = "before";
  }
  return mod === 1 ? { div: 1, mod: 1 } : { div, mod };
}

/**
 * The steps of a closed group: one fused step (or the equation itself when it is alone), then
 * the views of its values that something outside the group reads.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { groupSteps, newGroup } from "./jit_fuse_program.ts";
 * import type { Equation } from "./jit_trace.ts";
 * const a = { shape: [2], dtype: "float32" } as const;
 * const eqns: Equation[] = [
 *   { prim: "unary", params: { op: "exp" }, inputs: [0], out: 1, aval: a },
 *   { prim: "unary", params: { op: "neg" }, inputs: [1], out: 2, aval: a },
 * ];
 * const g = newGroup(2, "float32");
 * g.members.push(0, 1);
 * g.slots.add(1).add(2);
 * const [s] = groupSteps(g, eqns, () => a, new Map([[1, [1]]]), new Set([2]));
 * assert.deepEqual([s!.kind, s!.outs], ["fused", [2]]);
 * ```
 */
export function groupSteps(
  g: Group,
  eqns: readonly Equation[],
  avalOf: (slot: number) => Aval,
  readers: ReadonlyMap<number, readonly number[]>,
  isOutput: ReadonlySet<number>,
): Step[] {
  const all = [...g.members, ...g.epi, ...g.tail];
  const inside = new Set([...all, ...g.views.values()]);
  const viewsOf = new Map<number, number[]>();
  for (const [out, i] of g.views) {
    const src = eqns[i]!.inputs[0]!;
    viewsOf.set(src, [...(viewsOf.get(src) ?? []), out]);
  }
  // A value leaves the kernel when the program returns it or an equation outside reads it,
  // itself or through a view.
  const leaves = (s: number): boolean =>
    isOutput.has(s) || (readers.get(s) ?? []).some((r) => !inside.has(r)) ||
    (viewsOf.get(s) ?? []).some(leaves);
  const viewSteps: Step[] = [...g.views].filter(([out]) => leaves(out)).map(([, i]) => {
    const eqn = eqns[i]!;
    return { kind: "eqn", eqn, inputs: eqn.inputs, outs: [eqn.out] };
  });
  if (all.length === 1) {
    const eqn = eqns[all[0]!]!;
    return [{ kind: "eqn", eqn, inputs: eqn.inputs, outs: [eqn.out] }, ...viewSteps];
  }
  const inputs: number[] = [], reads: ElementwiseRead[] = [], index = new Map<string, number>();
  const nodeOf = new Map(all.map((i, k) => [eqns[i]!.out, k]));
  for (const [out, i] of g.views) nodeOf.set(out, nodeOf.get(eqns[i]!.inputs[0]!)!);
  // A member's value is read in full by later members of its loop (they have its size).
  const ref = (s: number, loop: Shape, phase: string): ElementwiseRef => {
    const node = nodeOf.get(s);
    if (node !== undefined) {
      // The tail reads a reduced value at its own element, broadcast over the loop.
      const early = phase === "t" && g.reduced.has(s) && !g.late.has(s);
      return early ? { node, read: readPattern(avalOf(s).shape, loop)! } : { node };
    }
    const r = readPattern(avalOf(s).shape, loop)!;
    const k = `${phase}:${s}:${r.div}:${r.mod}`;
    if (!index.has(k)) index.set(k, inputs.push(s) - 1), reads.push(r);
    return { input: index.get(k)! };
  };
  const node = (i: number, phase: string): ElementwiseNode => {
    const e = eqns[i]!, op = (e.params as { op: string }).op;
    const loop = e.prim === "reduce" ? avalOf(e.inputs[0]!).shape : e.aval.shape;
    const args = e.inputs.map((s) => ref(s, loop, phase));
    switch (e.prim) {
      case "unary":
        return { prim: "unary", op: op as UnaryOp, args: [args[0]!] };
      case "binary":
        return { prim: "binary", op: op as BinaryOp, args: [args[0]!, args[1]!] };
      case "broadcastTo":
        return { prim: "broadcastTo", args: [args[0]!] };
      default: {
        const into = readPattern(e.aval.shape, loop)!, size = sizeOf(e.aval.shape);
        return { prim: "reduce", op: op as FusedReduceOp, args: [args[0]!], into, size };
      }
    }
  };
  const nodes = g.members.map((i) => node(i, "m"));
  const mainReads = reads.length;
  nodes.push(...g.epi.map((i) => node(i, "e")));
  const epiReads = reads.length;
  nodes.push(...g.tail.map((i) => node(i, "t")));
  const outs = all.filter((i) => leaves(eqns[i]!.out));
  const epilogue = g.epi.length === 0
    ? undefined
    : { size: g.epiSize!, reads: epiReads - mainReads, nodes: g.epi.length };
  const tail = g.tail.length === 0
    ? undefined
    : { reads: reads.length - epiReads, nodes: g.tail.length };
  return [{
    kind: "fused",
    program: {
      dtype: g.dtype,
      size: g.size,
      inputs: reads,
      nodes,
      outputs: outs.map((i) => nodeOf.get(eqns[i]!.out)!),
      ...(epilogue ? { epilogue } : {}),
      ...(tail ? { tail } : {}),
    },
    inputs,
    outs: outs.map((i) => eqns[i]!.out),
    outAvals: outs.map((i) => eqns[i]!.aval),
    members: all.length,
  }, ...viewSteps];
}
