/**
 * Elementwise fusion of a traced `jit` graph: chains of float `unary`/`binary` equations of one
 * output shape become one {@link ElementwiseProgram}, run as one kernel by backends with
 * `fusedElementwise`. The pass keeps the schedule's order; an open group runs at the point where
 * the first equation outside it reads one of its values (or at the end), which is safe because
 * every primitive is pure: the equations it moves a group past do not read the group.
 * @module
 */
import type { Aval } from "../tensor/aval.ts";
import type {
  ElementwiseNode,
  ElementwiseProgram,
  ElementwiseRead,
  ElementwiseRef,
} from "../tensor/elementwise_program.ts";
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
    readonly outAval: Aval;
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
  readonly shape: Shape;
  readonly dtype: "float32" | "float64";
  readonly members: number[];
  /** Member output slot → node index. */
  readonly nodeOf: Map<number, number>;
}

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
  canFuse: (prim: "unary" | "binary", op: string) => boolean,
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
  const flushReaders = (e: Equation, except?: Group) => {
    for (const g of [...open.values()]) {
      if (g !== except && e.inputs.some((s) => g.nodeOf.has(s))) emit(g);
    }
  };
  eqns.forEach((e, i) => {
    if (!fusible(e, avalOf, canFuse)) {
      flushReaders(e);
      steps.push({ kind: "eqn", eqn: e, inputs: e.inputs, outs: [e.out] });
      return;
    }
    const dtype = e.aval.dtype as "float32" | "float64", k = key(e.aval.shape, dtype);
    let g = open.get(k);
    flushReaders(e, g); // a broadcast read of another group's value: that group runs first
    if (!g) open.set(k, g = { shape: e.aval.shape, dtype, members: [], nodeOf: new Map() });
    g.nodeOf.set(e.out, g.members.length);
    g.members.push(i);
  });
  for (const g of [...open.values()]) emit(g);
  return steps;
}

const key = (shape: Shape, dtype: string) => `${dtype}[${shape}]`;

/** A float unary/binary equation whose operands can all be read by a fused loop. */
function fusible(
  e: Equation,
  avalOf: (slot: number) => Aval,
  canFuse: (prim: "unary" | "binary", op: string) => boolean,
): boolean {
  if (e.prim !== "unary" && e.prim !== "binary") return false;
  if (e.aval.dtype !== "float32" && e.aval.dtype !== "float64") return false;
  if (!canFuse(e.prim, (e.params as { op: string }).op)) return false;
  return e.inputs.every((s) => {
    const a = avalOf(s);
    return a.dtype === e.aval.dtype && readPattern(a.shape, e.aval.shape) !== null;
  });
}

/** The step(s) of a closed group: one fused step, or the equation itself when it is alone. */
function groupSteps(
  g: Group,
  eqns: readonly Equation[],
  avalOf: (slot: number) => Aval,
  readers: ReadonlyMap<number, readonly number[]>,
  isOutput: ReadonlySet<number>,
): Step[] {
  if (g.members.length === 1) {
    const eqn = eqns[g.members[0]!]!;
    return [{ kind: "eqn", eqn, inputs: eqn.inputs, outs: [eqn.out] }];
  }
  const size = g.shape.reduce((a, b) => a * b, 1);
  const inputs: number[] = [], reads: ElementwiseRead[] = [], index = new Map<string, number>();
  const member = new Set(g.members);
  // A member's value is read in full by later members (they share its shape).
  const ref = (s: number): ElementwiseRef => {
    const node = g.nodeOf.get(s);
    if (node !== undefined) return { node };
    const r = readPattern(avalOf(s).shape, g.shape)!;
    const k = `${s}:${r.div}:${r.mod}`;
    if (!index.has(k)) index.set(k, inputs.push(s) - 1), reads.push(r);
    return { input: index.get(k)! };
  };
  const nodes: ElementwiseNode[] = g.members.map((i) => {
    const e = eqns[i]!, op = (e.params as { op: string }).op;
    const args = e.inputs.map(ref);
    return e.prim === "unary"
      ? { prim: "unary", op, args: [args[0]!] } as ElementwiseNode
      : { prim: "binary", op, args: [args[0]!, args[1]!] } as ElementwiseNode;
  });
  const outs = g.members.filter((i) => {
    const s = eqns[i]!.out;
    return isOutput.has(s) || (readers.get(s) ?? []).some((r) => !member.has(r));
  });
  return [{
    kind: "fused",
    program: {
      dtype: g.dtype,
      size,
      inputs: reads,
      nodes,
      outputs: outs.map((i) => g.nodeOf.get(eqns[i]!.out)!),
    },
    inputs,
    outs: outs.map((i) => eqns[i]!.out),
    outAval: { shape: g.shape, dtype: g.dtype },
    members: g.members.length,
  }];
}
