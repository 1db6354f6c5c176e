/**
 * The CPU kernel of a fused elementwise program (tensor/elementwise_program.ts): one generated
 * JavaScript loop per distinct program, compiled once and cached. Every node computes what its
 * eager kernel computes — the same float64 expression, then `Math.fround` for float32 where the
 * eager kernel's Float32Array store would round — so a fused replay is bit-identical to eager.
 * @module
 */
import type { Storage } from "../backend.ts";
import {
  type ElementwiseNode,
  type ElementwiseProgram,
  type ElementwiseRead,
  type ElementwiseRef,
  type FusiblePrim,
  outputSize,
  phases,
  rowLength,
} from "../elementwise_program.ts";
import type { UnaryOp } from "../primitives.ts";
import { allocArray } from "./buffers.ts";
import { runSplit, splitAvailable } from "./fused_threads.ts";
import { arenaAlloc, arenaFree, inArena } from "./shared_arena.ts";
import { getThreads } from "./wasm/gemm.ts";
import { wrap } from "./iter.ts";
import { arr } from "./storage.ts";
import { binaryExpr, SCALAR_HELPERS, unaryExpr } from "./op_exprs.ts";

/**
 * Whether the CPU can fuse this op: every float `unary` op but `logicalNot`, every `binary`,
 * `broadcastTo`, and `reduce` sum/max/min.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cpuCanFuse } from "./fused_elementwise.ts";
 * assert.deepEqual([cpuCanFuse("unary", "erf"), cpuCanFuse("unary", "logicalNot")], [true, false]);
 * assert.deepEqual([cpuCanFuse("reduce", "sum"), cpuCanFuse("reduce", "prod")], [true, false]);
 * ```
 */
export function cpuCanFuse(prim: FusiblePrim, op: string): boolean {
  if (prim === "binary" || prim === "broadcastTo") return true;
  if (prim === "reduce") return op === "sum" || op === "max" || op === "min";
  try {
    unaryExpr(op as UnaryOp, "a");
    return true;
  } catch {
    return false;
  }
}

type Loop = (
  F: typeof SCALAR_HELPERS,
  ins: readonly Float32Array[] | readonly Float64Array[],
  outs: readonly Float32Array[] | readonly Float64Array[],
  lo: number,
  hi: number,
) => void;

/** A compiled program: its loop over elements `lo ≤ i < hi`, and the source (for workers). */
interface Compiled {
  loop: Loop;
  id: number;
  src: string;
  /** Whether ranges may run on their own (no reduction, or row reductions: see rowLength). */
  splittable: boolean;
  /** What a part's bounds must be multiples of (the row length of a row-split program). */
  align: number;
}
const compiled = new Map<string, Compiled>();
/** Per program object, so a replay does not rebuild the structural key. */
const byProgram = new WeakMap<ElementwiseProgram, Compiled>();

/** The generated loop of a program (cached by object, then by structure). */
function loopOf(p: ElementwiseProgram): Compiled {
  let c = byProgram.get(p);
  if (c) return c;
  const key = JSON.stringify([p.dtype, p.size, p.inputs, p.nodes, p.outputs, p.epilogue, p.tail]);
  c = compiled.get(key);
  if (!c) {
    const src = loopSource(p);
    const pure = !p.epilogue && !p.tail && !p.nodes.some((nd) => nd.prim === "reduce");
    const rows = rowLength(p), splittable = pure || rows > 0;
    c = {
      loop: new Function("F", "ins", "outs", "lo", "hi", src) as Loop,
      id: compiled.size,
      src,
      splittable,
      align: rows || 1,
    };
    compiled.set(key, c);
  }
  byProgram.set(p, c);
  return c;
}

/** The body of a program's loop function `(F, ins, outs, lo, hi)`. */
function loopSource(p: ElementwiseProgram): string {
  const round = p.dtype === "float32" ? (e: string) => `Math.fround(${e})` : (e: string) => e;
  // A broadcast read `(i / div | 0) % mod` as wrapping counters of the loop being generated:
  // an integer division per element and read cost more than the rest of a small loop body.
  let counters = new Map<string, { v: string; decl: string; step: string }>();
  let named = 0; // counters are named across all the loops of the program
  const at = ({ div, mod }: ElementwiseRead, size = p.size) => {
    if (mod === 1) return "0";
    if (div === 1 && mod === size) return "i";
    const key = `${div},${mod}`;
    let c = counters.get(key);
    if (!c) {
      const n = named++;
      c = div === 1
        ? {
          v: `c${n}`,
          decl: `let c${n} = START % ${mod};`,
          step: `if (++c${n} === ${mod}) c${n} = 0;`,
        }
        : {
          v: `q${n}`,
          decl: `let c${n} = START % ${div}, q${n} = ((START / ${div}) | 0) % ${mod};`,
          step: `if (++c${n} === ${div}) { c${n} = 0; if (++q${n} === ${mod}) q${n} = 0; }`,
        };
      counters.set(key, c);
    }
    return c.v;
  };
  /** A loop over `start ≤ i < end` around `body` (generated first, so its counters are known). */
  const forLoop = (start: string, end: number | string, body: string[]) => {
    const cs = [...counters.values()];
    counters = new Map();
    return [
      ...cs.map((c) => c.decl.replaceAll("START", start)),
      `for (let i = ${start}; i < ${end}; i++) {`,
      ...body,
      ...cs.map((c) => `  ${c.step}`),
      `}`,
    ];
  };
  const ph = phases(p);
  const phaseOf = (k: number) => (k < ph.main.nodes ? 0 : k < ph.epilogue.nodes ? 1 : 2);
  const inPhase = (j: number) => (j < ph.main.inputs ? 0 : j < ph.epilogue.inputs ? 1 : 2);
  const isReduce = (k: number) => p.nodes[k]!.prim === "reduce";
  const outOf = new Map(p.outputs.map((k, j) => [k, j]));
  // Values of the first two loops that the tail reads: kept in arrays (an output's own).
  const kept = new Set<number>();
  p.nodes.forEach((nd, k) => {
    if (phaseOf(k) < 2) return;
    for (const a of nd.args) {
      if ("node" in a && phaseOf(a.node) < 2 && !isReduce(a.node)) kept.add(a.node);
    }
  });
  const arrOf = (k: number) => (outOf.has(k) ? `o${outOf.get(k)}` : `m${k}`);
  const epiSize = p.epilogue?.size ?? 0;
  const ref = (r: ElementwiseRef, phase: number) => {
    if (!("node" in r)) return `x${r.input}`;
    const k = r.node;
    if (phase < 2 || phaseOf(k) === 2) return `t${k}`;
    const j = r.read ? at(r.read) : "i";
    return isReduce(k) ? round(`r${k}[${j}]`) : `${arrOf(k)}[${j}]`;
  };
  const node = (nd: ElementwiseNode, k: number, phase: number): string => {
    const arg = (m: number) => ref(nd.args[m as 0]!, phase);
    switch (nd.prim) {
      case "unary":
        return `const t${k} = ${round(unaryExpr(nd.op, arg(0), p.dtype))};`;
      case "binary":
        return `const t${k} = ${round(binaryExpr(nd.op, arg(0), arg(1)))};`;
      case "broadcastTo":
        return `const t${k} = ${arg(0)};`;
      case "reduce": {
        const v = arg(0), j = at(nd.into);
        // As reduce.ts folds: sums in float64 in increasing i; max/min keep the first NaN.
        return nd.op === "sum"
          ? `r${k}[${j}] += ${v};`
          : `{ const j = ${j}; if (${v} ${
            nd.op === "max" ? ">" : "<"
          } r${k}[j] || ${v} !== ${v}) r${k}[j] = ${v}; }`;
      }
    }
  };
  const reduces = p.nodes.flatMap((nd, k) => (nd.prim === "reduce" ? [[nd, k] as const] : []));
  const rows = rowLength(p);
  /** The body of loop `phase` over `size` elements. */
  const body = (phase: number, size: number) => [
    ...p.inputs.flatMap((
      r,
      j,
    ) => (inPhase(j) === phase ? [`  const x${j} = in${j}[${at(r, size)}];`] : [])),
    ...p.nodes.flatMap((nd, k) => (phaseOf(k) === phase ? [`  ${node(nd, k, phase)}`] : [])),
    ...p.nodes.flatMap((_, k) =>
      phaseOf(k) === phase && !isReduce(k) && (outOf.has(k) || kept.has(k))
        ? [`  ${arrOf(k)}[i] = t${k};`]
        : []
    ),
  ];
  const array = p.dtype === "float32" ? "Float32Array" : "Float64Array";
  const parts = independentParts(p);
  if (parts) {
    // A horizontal program (e.g. AdamW over many same-size parameters): one loop per
    // independent part, so each loop body stays small enough for V8 to keep in registers.
    return [
      ...p.inputs.map((_, j) => `const in${j} = ins[${j}];`),
      ...p.outputs.map((_, j) => `const o${j} = outs[${j}];`),
      ...parts.flatMap(({ nodes, inputs }) =>
        forLoop("lo", "hi", [
          ...inputs.map((j) => `  const x${j} = in${j}[${at(p.inputs[j]!)}];`),
          ...nodes.map((k) => `  ${node(p.nodes[k]!, k, 0)}`),
          ...nodes.flatMap((k) => (outOf.has(k) ? [`  o${outOf.get(k)}[i] = t${k};`] : [])),
        ])
      ),
    ].join("\n");
  }
  return [
    ...p.inputs.map((_, j) => `const in${j} = ins[${j}];`),
    ...p.outputs.map((_, j) => `const o${j} = outs[${j}];`),
    ...[...kept].filter((k) => !outOf.has(k)).map((k) =>
      `const m${k} = new ${array}(${phaseOf(k) === 0 ? "hi" : epiSize});`
    ),
    ...reduces.map(([nd, k]) =>
      `const r${k} = new Float64Array(${nd.size}).fill(${
        nd.op === "sum" ? 0 : nd.op === "max" ? "-Infinity" : "Infinity"
      });`
    ),
    ...forLoop("lo", "hi", body(0, p.size)),
    // A row-split part (see rowLength) owns the rows of its elements only.
    ...(rows ? [`const rlo = (lo / ${rows}) | 0, rhi = (hi / ${rows}) | 0;`] : []),
    ...p.outputs.flatMap((k, j) =>
      isReduce(k) ? [rows ? `o${j}.set(r${k}.subarray(rlo, rhi), rlo);` : `o${j}.set(r${k});`] : []
    ),
    ...(!p.epilogue ? [] : [
      ...forLoop(rows ? "rlo" : "0", rows ? "rhi" : epiSize, [
        // The reduced values as the eager kernel stores them (rounded for float32).
        ...reduces.map(([, k]) => `  const t${k} = ${round(`r${k}[i]`)};`),
        ...body(1, epiSize),
      ]),
    ]),
    ...(!p.tail ? [] : forLoop("lo", "hi", body(2, p.size))),
  ].join("\n");
}

/** Programs with fewer nodes run as one loop. */
const SPLIT_NODES = 48;

/**
 * The independent parts of a large single-loop program (no reduction, epilogue or tail): its
 * nodes grouped by data dependence (in order), each with the inputs it reads; null when the
 * program is small or has one part.
 */
function independentParts(
  p: ElementwiseProgram,
): { nodes: number[]; inputs: number[] }[] | null {
  if (p.nodes.length < SPLIT_NODES || p.epilogue || p.tail) return null;
  if (p.nodes.some((nd) => nd.prim === "reduce")) return null;
  const root = p.nodes.map((_, k) => k);
  const find = (k: number): number => (root[k] === k ? k : (root[k] = find(root[k]!)));
  p.nodes.forEach((nd, k) => {
    for (const a of nd.args) if ("node" in a) root[find(a.node)] = find(k);
  });
  const parts = new Map<number, { nodes: number[]; inputs: Set<number> }>();
  p.nodes.forEach((nd, k) => {
    const r = find(k);
    let part = parts.get(r);
    if (!part) parts.set(r, part = { nodes: [], inputs: new Set() });
    part.nodes.push(k);
    for (const a of nd.args) if ("input" in a) part.inputs.add(a.input);
  });
  if (parts.size < 2) return null;
  return [...parts.values()].map(({ nodes, inputs }) => ({
    nodes,
    inputs: [...inputs].sort((a, b) => a - b),
  }));
}

/**
 * Runs a fused elementwise program on CPU storages; returns one new storage per output.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cpuFusedElementwise } from "./fused_elementwise.ts";
 * import { cpuBackend } from "./mod.ts";
 * const x = cpuBackend.upload(new Float32Array([0.1, 4]), "float32");
 * const [y] = cpuFusedElementwise({
 *   dtype: "float32", size: 2, inputs: [{ div: 1, mod: 2 }], outputs: [1],
 *   nodes: [
 *     { prim: "unary", op: "sqrt", args: [{ input: 0 }] },
 *     { prim: "binary", op: "mul", args: [{ node: 0 }, { input: 0 }] },
 *   ],
 * }, [x]);
 * const f = Math.fround;
 * assert.deepEqual([...cpuBackend.readSync!(y!, "float32", 2)], [f(f(Math.sqrt(f(0.1))) * f(0.1)), 8]);
 * ```
 */
export function cpuFusedElementwise(
  program: ElementwiseProgram,
  inputs: readonly Storage[],
): Storage[] {
  const c = loopOf(program), n = program.size, threads = getThreads();
  const ins = inputs.map((s) => arr(s)) as Float32Array[];
  if (c.splittable && n >= SPLIT_MIN && splitAvailable(threads)) {
    const outs = splitOutputs(program);
    if (outs) {
      // Inputs not in the shared arena yet (the outputs of earlier split loops are) are copied in.
      const copies: Float32Array[] = [];
      const shared = ins.map((a) => {
        if (inArena(a)) return a;
        const b = arenaAlloc(program.dtype, a.length) as Float32Array | undefined;
        if (b) b.set(a), copies.push(b);
        return b;
      });
      try {
        if (
          shared.every((a) => a) &&
          runSplit(c, program.dtype, shared as Float32Array[], outs, n, threads)
        ) {
          return outs.map(wrap);
        }
      } finally {
        copies.forEach(arenaFree);
      }
      c.loop(SCALAR_HELPERS, ins, outs, 0, n); // the arena is full or the job too large
      return outs.map(wrap);
    }
  }
  const outs = program.outputs.map((_, j) =>
    allocArray(program.dtype, outputSize(program, j))
  ) as Float32Array[];
  c.loop(SCALAR_HELPERS, ins, outs, 0, n);
  return outs.map(wrap);
}

/** A split loop's outputs, in the shared arena (undefined if it is full). */
function splitOutputs(p: ElementwiseProgram): Float32Array[] | undefined {
  const outs: Float32Array[] = [];
  for (let j = 0; j < p.outputs.length; j++) {
    const a = arenaAlloc(p.dtype, outputSize(p, j)) as Float32Array | undefined;
    if (!a) {
      outs.forEach(arenaFree);
      return undefined;
    }
    outs.push(a);
  }
  return outs;
}

/** Loops of at least this many elements run on the CPU threads (see ./fused_threads.ts). */
const SPLIT_MIN = 1 << 18;
