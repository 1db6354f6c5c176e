/**
 * Elementwise fusion of a traced `jit` graph: float `unary`/`binary`/`broadcastTo` equations of
 * one shape, and the `reduce`s (sum/max/min) of their values, become one
 * {@link ElementwiseProgram}, run as one kernel by backends with `fusedElementwise`. The pass
 * keeps the schedule's order; an open group runs at the point where the first equation outside
 * it reads one of its values (or at the end), which is safe because every primitive is pure:
 * the equations it moves a group past do not read the group. A reduction's result exists only
 * when the loop is done, so an equation that reads it closes its group first.
 * @module
 */
import type { Aval } from "../tensor/aval.ts";
import type {
  ElementwiseNode,
  ElementwiseProgram,
  ElementwiseRead,
  ElementwiseRef,
  FusedReduceOp,
  FusiblePrim,
} from "../tensor/elementwise_program.ts";
import type { BinaryOp, UnaryOp } from "../tensor/primitives.ts";
import type { Shape } from "../tensor/shape.ts";
import type { Equation } from "./jit_trace.ts";

/** One step of a compiled program: a single equation, or a fused group of them. */
export type Step =
  | {
    readonly kind: "eqn";
    readonly eqn: Equation;
    readonly inputs: readonly number[];
    readonly outs: readonly number[];
  }
  | {
    readonly kind: "fused";
    readonly program: ElementwiseProgram;
    /** Operand slots, one per program input. */
    readonly inputs: readonly number[];
    /** Output slots, one per program output. */
    readonly outs: readonly number[];
    /** The aval of each output. */
    readonly outAvals: readonly Aval[];
    /** Equations it replaces. */
    readonly members: number;
  };

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

/**
 * How an operand of shape `inShape` broadcast to `out` is read at flat output index i
 * (`floor(i / div) % mod`), or null when its kept dimensions are not one contiguous run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPattern } from "./jit_fuse.ts";
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

interface Group {
  /** The iteration shape (a reduce member's input shape). */
  readonly shape: Shape;
  readonly dtype: "float32" | "float64";
  /** Equations of the main loop, in order. */
  readonly members: number[];
  /** Equations of the epilogue loop over the reductions' results (all of shape `epiShape`). */
  readonly epi: number[];
  epiShape: Shape | null;
  /** Output slots of all members. */
  readonly slots: Set<number>;
  /** Output slots of the reduce and epilogue members (main-loop members cannot read them). */
  readonly reduced: Set<number>;
}

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
  const steps: Step[] = [];
  const open = new Map<string, Group>();
  const emit = (g: Group) => {
    open.delete(key(g.shape, g.dtype));
    steps.push(...groupSteps(g, eqns, avalOf, readers, isOutput));
  };
  // The groups e reads from run first — all but `into`, unless e reads a reduction of it.
  const flushReaders = (e: Equation, into?: Group) => {
    for (const g of [...open.values()]) {
      if (!e.inputs.some((s) => g.slots.has(s))) continue;
      if (g !== into || e.inputs.some((s) => g.reduced.has(s))) emit(g);
    }
  };
  eqns.forEach((e, i) => {
    const shape = fusedShape(e, avalOf, canFuse);
    if (!shape) {
      flushReaders(e);
      steps.push({ kind: "eqn", eqn: e, inputs: e.inputs, outs: [e.out] });
      return;
    }
    const ep = e.prim === "reduce" ? undefined : epilogueOf(e, open.values(), avalOf);
    if (ep) {
      for (const g of [...open.values()]) {
        if (g !== ep && e.inputs.some((s) => g.slots.has(s))) emit(g);
      }
      ep.epiShape = e.aval.shape;
      ep.epi.push(i);
      ep.slots.add(e.out);
      ep.reduced.add(e.out);
      return;
    }
    const dtype = e.aval.dtype as "float32" | "float64", k = key(shape, dtype);
    flushReaders(e, open.get(k));
    let g = open.get(k);
    if (!g) {
      g = {
        shape,
        dtype,
        members: [],
        epi: [],
        epiShape: null,
        slots: new Set(),
        reduced: new Set(),
      };
      open.set(k, g);
    }
    if (e.prim === "reduce") g.reduced.add(e.out);
    g.slots.add(e.out);
    g.members.push(i);
  });
  for (const g of [...open.values()]) emit(g);
  return steps;
}

const key = (shape: Shape, dtype: string) => `${dtype}[${shape}]`;
const sameShape = (a: Shape, b: Shape) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * The open group whose epilogue can take elementwise `e`: e reads that group's reduced values,
 * only those of e's own shape (read in full), and the epilogue has e's shape.
 */
function epilogueOf(
  e: Equation,
  open: Iterable<Group>,
  avalOf: (slot: number) => Aval,
): Group | undefined {
  for (const g of open) {
    if (g.dtype !== e.aval.dtype || !e.inputs.some((s) => g.reduced.has(s))) continue;
    if (g.epiShape && !sameShape(g.epiShape, e.aval.shape)) return undefined;
    const ok = e.inputs.every((s) =>
      !g.slots.has(s) || (g.reduced.has(s) && sameShape(avalOf(s).shape, e.aval.shape))
    );
    return ok ? g : undefined;
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

/** The step(s) of a closed group: one fused step, or the equation itself when it is alone. */
function groupSteps(
  g: Group,
  eqns: readonly Equation[],
  avalOf: (slot: number) => Aval,
  readers: ReadonlyMap<number, readonly number[]>,
  isOutput: ReadonlySet<number>,
): Step[] {
  const all = [...g.members, ...g.epi];
  if (all.length === 1) {
    const eqn = eqns[all[0]!]!;
    return [{ kind: "eqn", eqn, inputs: eqn.inputs, outs: [eqn.out] }];
  }
  const size = g.shape.reduce((a, b) => a * b, 1);
  const inputs: number[] = [], reads: ElementwiseRead[] = [], index = new Map<string, number>();
  const member = new Set(all);
  const nodeOf = new Map(all.map((i, k) => [eqns[i]!.out, k]));
  // A member's value is read by later members of its loop in full (they share its shape).
  const ref = (s: number, epi: boolean): ElementwiseRef => {
    const node = nodeOf.get(s);
    if (node !== undefined) return { node };
    const r = readPattern(avalOf(s).shape, epi ? g.epiShape! : g.shape)!;
    const k = `${epi ? "e" : "m"}:${s}:${r.div}:${r.mod}`;
    if (!index.has(k)) index.set(k, inputs.push(s) - 1), reads.push(r);
    return { input: index.get(k)! };
  };
  const node = (i: number, epi: boolean): ElementwiseNode => {
    const e = eqns[i]!, op = (e.params as { op: string }).op;
    const args = e.inputs.map((s) => ref(s, epi));
    switch (e.prim) {
      case "unary":
        return { prim: "unary", op: op as UnaryOp, args: [args[0]!] };
      case "binary":
        return { prim: "binary", op: op as BinaryOp, args: [args[0]!, args[1]!] };
      case "broadcastTo":
        return { prim: "broadcastTo", args: [args[0]!] };
      default: {
        const into = readPattern(e.aval.shape, g.shape)!;
        const n = e.aval.shape.reduce((a, b) => a * b, 1);
        return { prim: "reduce", op: op as FusedReduceOp, args: [args[0]!], into, size: n };
      }
    }
  };
  const nodes = g.members.map((i) => node(i, false));
  const mainReads = reads.length;
  nodes.push(...g.epi.map((i) => node(i, true)));
  const outs = all.filter((i) => {
    const s = eqns[i]!.out;
    return isOutput.has(s) || (readers.get(s) ?? []).some((r) => !member.has(r));
  });
  const epilogue = g.epi.length === 0 ? undefined : {
    size: g.epiShape!.reduce((a, b) => a * b, 1),
    reads: reads.length - mainReads,
    nodes: g.epi.length,
  };
  return [{
    kind: "fused",
    program: {
      dtype: g.dtype,
      size,
      inputs: reads,
      nodes,
      outputs: outs.map((i) => nodeOf.get(eqns[i]!.out)!),
      ...(epilogue ? { epilogue } : {}),
    },
    inputs,
    outs: outs.map((i) => eqns[i]!.out),
    outAvals: outs.map((i) => eqns[i]!.aval),
    members: all.length,
  }];
}
