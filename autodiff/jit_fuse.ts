/**
 * Elementwise fusion of a traced `jit` graph: float `unary`/`binary`/`broadcastTo` equations of
 * one element count (any shapes: reads are patterns of the flat index), the `reduce`s
 * (sum/max/min) of their values with an epilogue over the results, and the views of their
 * values become one {@link ElementwiseProgram}, run as one kernel by backends with
 * `fusedElementwise`. The pass keeps the schedule's order; an open group runs at the point
 * where the first equation outside it reads one of its values (or at the end), which is safe
 * because every primitive is pure: the equations it moves a group past do not read the group.
 * A reduction's result exists only when the loop is done, so a main-loop equation that reads
 * it closes its group first. A closing group pulls forward the later equations of its loop
 * whose other operands already exist.
 * @module
 */
import type { Aval } from "../tensor/aval.ts";
import type { FusiblePrim } from "../tensor/elementwise_program.ts";
import { type Shape, sizeOf } from "../tensor/shape.ts";
import type { Equation } from "./jit_trace.ts";
import { type Group, groupSteps, newGroup, readPattern } from "./jit_fuse_program.ts";
import { type Step, VIEWS } from "./jit_schedule.ts";

export type { Step } from "./jit_schedule.ts";

/**
 * The steps of equations run one by one (no fusion).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unfused } from "./jit_fuse.ts";
 * const a = { shape: [1], dtype: "float32" } as const;
 * const [s] = unfused([{ prim: "unary", params: { op: "exp" }, inputs: [0], out: 1, aval: a }]);
 * assert.deepEqual([s!.kind, s!.outs], ["eqn", [1]]);
 * ```
 */
export function unfused(eqns: readonly Equation[]): Step[] {
  return eqns.map((eqn) => ({ kind: "eqn", eqn, inputs: eqn.inputs, outs: [eqn.out] }));
}

export { readPattern };

/** What the backend's fused kernel implements (see {@link Backend.canFuseElementwise}). */
export type CanFuse = (prim: FusiblePrim, op: string) => boolean;

/**
 * Fuses the elementwise chains of a schedule. `avalOf` gives every slot's aval, `outSlots` are
 * the program's outputs, `canFuse` says which ops the backend's fused kernel implements.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fuseElementwise } from "./jit_fuse.ts";
 * import type { Equation } from "./jit_trace.ts";
 * const a = { shape: [3], dtype: "float32" } as const;
 * const eqns: Equation[] = [
 *   { prim: "binary", params: { op: "mul" }, inputs: [0, 1], out: 2, aval: a },
 *   { prim: "unary", params: { op: "exp" }, inputs: [2], out: 3, aval: a },
 * ];
 * const steps = fuseElementwise(eqns, () => a, [3], () => true);
 * assert.deepEqual(steps.map((s) => s.kind), ["fused"]);
 * ```
 */
export function fuseElementwise(
  eqns: readonly Equation[],
  avalOf: (slot: number) => Aval,
  outSlots: readonly number[],
  canFuse: CanFuse,
): Step[] {
  const readers = new Map<number, number[]>();
  eqns.forEach((e, i) => {
    for (const s of e.inputs) {
      const r = readers.get(s);
      if (r) r.push(i);
      else readers.set(s, [i]);
    }
  });
  const isOutput = new Set(outSlots);
  const producer = new Map(eqns.map((e, i) => [e.out, i]));
  const steps: Step[] = [];
  const open = new Map<string, Group>();
  /** Equations whose values exist once the steps so far have run; later ones pulled forward. */
  const ran = new Set<number>(), pulled = new Set<number>();
  let pos = 0;
  const ready = (s: number) => !producer.has(s) || ran.has(producer.get(s)!);
  const emit = (g: Group) => {
    open.delete(key(g.size, g.dtype));
    pullForward(g);
    for (const i of [...g.members, ...g.epi, ...g.views.values()]) ran.add(i);
    steps.push(...groupSteps(g, eqns, avalOf, readers, isOutput));
  };
  const join = (g: Group, i: number) => {
    const e = eqns[i]!;
    g.slots.add(e.out);
    if (VIEWS.has(e.prim)) {
      g.views.set(e.out, i);
      if (g.reduced.has(e.inputs[0]!)) g.reduced.add(e.out);
      if (g.late.has(e.inputs[0]!)) g.late.add(e.out);
    } else {
      g.members.push(i);
      if (e.prim === "reduce") g.reduced.add(e.out);
    }
  };
  // Before a group runs, it takes the later equations of its loop that read its values and
  // otherwise only values that exist now (a bias gradient's sum, after the matmul that read
  // the gradient closed its group), and the later views of its values. Moving a pure equation
  // earlier, to where its operands exist, changes no value.
  const pullForward = (g: Group) => {
    const queue = [...g.slots].filter((s) => !g.reduced.has(s));
    while (queue.length > 0) {
      for (const j of readers.get(queue.pop()!) ?? []) {
        if (j <= pos || pulled.has(j)) continue;
        const e = eqns[j]!;
        if (!VIEWS.has(e.prim)) {
          const shape = fusedShape(e, avalOf, canFuse);
          if (!shape || sizeOf(shape) !== g.size || e.aval.dtype !== g.dtype) continue;
          if (!e.inputs.every((s) => g.slots.has(s) ? !g.reduced.has(s) : ready(s))) continue;
        }
        pulled.add(j);
        join(g, j);
        if (!g.reduced.has(e.out)) queue.push(e.out);
      }
    }
  };
  // The groups e reads from run first — all but `into`, unless e reads a reduction of it.
  const flushReaders = (e: Equation, into?: Group) => {
    for (const g of [...open.values()]) {
      if (!e.inputs.some((s) => g.slots.has(s))) continue;
      if (g !== into || e.inputs.some((s) => g.reduced.has(s))) emit(g);
    }
  };
  eqns.forEach((e, i) => {
    pos = i;
    if (pulled.has(i)) return;
    if (VIEWS.has(e.prim)) {
      // A view of a member's value is the same buffer: it joins, and runs after the group.
      const g = [...open.values()].find((g) => g.slots.has(e.inputs[0]!));
      if (g) return join(g, i);
    }
    const shape = fusedShape(e, avalOf, canFuse);
    if (!shape) {
      flushReaders(e);
      ran.add(i);
      steps.push({ kind: "eqn", eqn: e, inputs: e.inputs, outs: [e.out] });
      return;
    }
    let ep = e.prim === "reduce" ? undefined : epilogueOf(e, open.values(), avalOf);
    // An epilogue that also reads the main loop of another open group of e's size would cut
    // that group short (it has to run before the reduction): run the reduction instead and let
    // e join the other group, which keeps growing (an optimizer's update over many parameters
    // of one size stays one program when some of their gradients are reductions' results).
    const mainOf = ep && open.get(key(sizeOf(e.aval.shape), ep.dtype));
    if (ep && mainOf && mainOf !== ep && e.inputs.some((s) => mainOf.slots.has(s))) {
      emit(ep);
      ep = undefined;
    }
    if (ep) {
      for (const g of [...open.values()]) {
        if (g !== ep && e.inputs.some((s) => g.slots.has(s))) emit(g);
      }
      ep.epiSize = sizeOf(e.aval.shape);
      ep.epi.push(i);
      ep.slots.add(e.out);
      ep.reduced.add(e.out);
      return;
    }
    const tg = e.prim === "reduce" ? undefined : tailOf(e, open.values());
    if (tg) {
      for (const g of [...open.values()]) {
        if (g !== tg && e.inputs.some((s) => g.slots.has(s))) emit(g);
      }
      tg.tail.push(i);
      tg.slots.add(e.out);
      tg.reduced.add(e.out);
      tg.late.add(e.out);
      return;
    }
    const dtype = e.aval.dtype as "float32" | "float64", size = sizeOf(shape);
    const k = key(size, dtype);
    flushReaders(e, open.get(k));
    let g = open.get(k);
    if (!g) open.set(k, g = newGroup(size, dtype));
    join(g, i);
  });
  pos = eqns.length;
  for (const g of [...open.values()]) emit(g);
  return steps;
}

/** Groups are keyed by loop length: reads are patterns of the flat index, whatever the shape. */
const key = (size: number, dtype: string) => `${dtype}#${size}`;

/**
 * The open group whose epilogue can take elementwise `e`: e reads that group's reduced values,
 * only those of e's own size (read in full), and the epilogue has e's size.
 */
function epilogueOf(
  e: Equation,
  open: Iterable<Group>,
  avalOf: (slot: number) => Aval,
): Group | undefined {
  const n = sizeOf(e.aval.shape);
  for (const g of open) {
    if (g.dtype !== e.aval.dtype || !e.inputs.some((s) => g.reduced.has(s))) continue;
    if (g.epiSize !== null && g.epiSize !== n) return undefined;
    if (e.inputs.some((s) => g.late.has(s))) return undefined;
    const ok = e.inputs.every((s) =>
      !g.slots.has(s) || (g.reduced.has(s) && sizeOf(avalOf(s).shape) === n)
    );
    return ok ? g : undefined;
  }
  return undefined;
}

/**
 * The open group whose tail can take elementwise `e`: e reads that group's reduced values and
 * has the group's size (its operands are readable: {@link fusedShape} checked).
 */
function tailOf(e: Equation, open: Iterable<Group>): Group | undefined {
  for (const g of open) {
    if (g.dtype !== e.aval.dtype || !e.inputs.some((s) => g.reduced.has(s))) continue;
    return sizeOf(e.aval.shape) === g.size ? g : undefined;
  }
  return undefined;
}

/**
 * The iteration shape of a fusible equation (its output's, or a reduction's input's), or null:
 * float `unary`/`binary`/`broadcastTo` whose operands a fused loop can read, or a float
 * sum/max/min whose kept axes are one contiguous run.
 */
function fusedShape(e: Equation, avalOf: (slot: number) => Aval, canFuse: CanFuse): Shape | null {
  const dtype = e.aval.dtype;
  if (dtype !== "float32" && dtype !== "float64") return null;
  const readable = (shape: Shape) =>
    e.inputs.every((s) => {
      const a = avalOf(s);
      return a.dtype === dtype && readPattern(a.shape, shape) !== null;
    });
  switch (e.prim) {
    case "unary":
    case "binary": {
      const op = (e.params as { op: string }).op;
      return canFuse(e.prim, op) && readable(e.aval.shape) ? e.aval.shape : null;
    }
    case "broadcastTo":
      return canFuse("broadcastTo", "") && readable(e.aval.shape) ? e.aval.shape : null;
    case "reduce": {
      const op = (e.params as { op: string }).op, x = avalOf(e.inputs[0]!);
      if (!canFuse("reduce", op) || x.dtype !== dtype) return null;
      return readPattern(e.aval.shape, x.shape) ? x.shape : null;
    }
    default:
      return null;
  }
}
