/**
 * A fused elementwise program: a DAG of `unary`/`binary`/`broadcastTo` primitive applications
 * over one iteration shape and float dtype, optionally ending in `reduce` (sum/max/min)
 * nodes whose results come out when the loop is done, run as one kernel by a backend that
 * implements {@link Backend.fusedElementwise}. `jit` builds these from a traced graph
 * (autodiff/jit_fuse.ts); a backend that lacks the hook runs the equations one by one.
 * @module
 */
import type { BinaryOp, UnaryOp } from "./primitives.ts";

/** The reductions a fused program can end in. */
export type FusedReduceOp = "sum" | "max" | "min";

/**
 * How an operand is read at output element `i`: element `floor(i / div) % mod`. A full operand
 * has `div` 1 and `mod` = the output size, a scalar `mod` 1, a bias `[D]` on `[B, N, D]` `div` 1
 * and `mod` D, a row statistic `[B, N, 1]` on `[B, N, D]` `div` D and `mod` B·N.
 */
export interface ElementwiseRead {
  /** Consecutive elements that read the same operand element. */
  readonly div: number;
  /** Operand elements read (the pattern wraps after them). */
  readonly mod: number;
}

/**
 * A node's argument: `{ node: k }` (an earlier node's value) or `{ input: j }` (operand j). In
 * the tail loop, a reduce or epilogue node's value carries the `read` that maps the loop index
 * to its element.
 */
export type ElementwiseRef =
  | { readonly node: number; readonly read?: ElementwiseRead }
  | { readonly input: number };

/**
 * One primitive application of the program. `broadcastTo` is its argument's value (the read
 * pattern does the broadcasting). A `reduce` node folds its argument over the iteration into
 * `size` accumulators, element i into accumulator `floor(i / into.div) % into.mod`, in
 * increasing i (the eager kernel's order; float sums carried in float64); no node may read it.
 */
export type ElementwiseNode =
  | { readonly prim: "unary"; readonly op: UnaryOp; readonly args: readonly [ElementwiseRef] }
  | {
    readonly prim: "binary";
    readonly op: BinaryOp;
    readonly args: readonly [ElementwiseRef, ElementwiseRef];
  }
  | { readonly prim: "broadcastTo"; readonly args: readonly [ElementwiseRef] }
  | {
    readonly prim: "reduce";
    readonly op: FusedReduceOp;
    readonly args: readonly [ElementwiseRef];
    readonly into: ElementwiseRead;
    readonly size: number;
  };

/** The primitives a fused program is made of. */
export type FusiblePrim = ElementwiseNode["prim"];

/**
 * The program: operands read as `inputs` says, `nodes` in order for i < `size`, the values of
 * `outputs` (node indices) written out — `size` elements of `dtype` each, or a reduce node's
 * own `size`. A backend computes every
 * node exactly as its eager kernel does (float32: rounded after every node), so a fused replay
 * is bit-identical to the eager one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ElementwiseProgram } from "./elementwise_program.ts";
 * import { cpuBackend } from "./cpu/mod.ts";
 * // (x + b) * x with a scalar b, one kernel.
 * const p: ElementwiseProgram = {
 *   dtype: "float64",
 *   size: 3,
 *   inputs: [{ div: 1, mod: 3 }, { div: 1, mod: 1 }],
 *   nodes: [
 *     { prim: "binary", op: "add", args: [{ input: 0 }, { input: 1 }] },
 *     { prim: "binary", op: "mul", args: [{ node: 0 }, { input: 0 }] },
 *   ],
 *   outputs: [1],
 * };
 * const x = cpuBackend.upload(new Float64Array([1, 2, 3]), "float64");
 * const b = cpuBackend.upload(new Float64Array([1]), "float64");
 * const [out] = cpuBackend.fusedElementwise!(p, [x, b]);
 * assert.deepEqual([...cpuBackend.readSync!(out!, "float64", 3)], [2, 6, 12]);
 * ```
 */
export interface ElementwiseProgram {
  /** The float dtype of every value. */
  readonly dtype: "float32" | "float64";
  /** Iterations of the main loop (and of the tail). */
  readonly size: number;
  /** How each operand is read. */
  readonly inputs: readonly ElementwiseRead[];
  /** The nodes: main loop, then epilogue, then tail. */
  readonly nodes: readonly ElementwiseNode[];
  /** The nodes whose values are written out, in output order. */
  readonly outputs: readonly number[];
  /**
   * A second loop, run after the first, over the reductions' results: its last `reads` inputs
   * (read over `size` elements) and last `nodes` nodes (no reductions among them). Its nodes
   * read the reduce nodes at their own index (the reduced value as its dtype stores it), each
   * other and its inputs. LayerNorm's `rsqrt(sum / n + eps)` is such an epilogue.
   */
  readonly epilogue?: { readonly size: number; readonly reads: number; readonly nodes: number };
  /**
   * A last loop, again of `size` iterations, after the epilogue: the last `reads` inputs and
   * last `nodes` nodes (no reductions). Its nodes read main-loop values at i, reduce and
   * epilogue values through their ref's `read`, each other and its inputs — softmax's final
   * division, layerNorm's normalisation: the kernel is then a row kernel's phases in one.
   */
  readonly tail?: { readonly reads: number; readonly nodes: number };
}

/** Index ranges `[from, to)` of a program's nodes and inputs per loop. */
export interface ProgramPhases {
  readonly main: { readonly nodes: number; readonly inputs: number };
  readonly epilogue: { readonly nodes: number; readonly inputs: number };
}

/**
 * Which loop a node (or input) belongs to: below `main` the main loop, below `epilogue` the
 * epilogue, the rest the tail.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { phases } from "./elementwise_program.ts";
 * const p = {
 *   dtype: "float32", size: 4, inputs: [{ div: 1, mod: 4 }], outputs: [2],
 *   nodes: [
 *     { prim: "reduce", op: "sum", args: [{ input: 0 }], into: { div: 4, mod: 1 }, size: 1 },
 *     { prim: "unary", op: "exp", args: [{ node: 0 }] },
 *     { prim: "binary", op: "div", args: [{ input: 0 }, { node: 1, read: { div: 1, mod: 1 } }] },
 *   ],
 *   epilogue: { size: 1, reads: 0, nodes: 1 },
 *   tail: { reads: 0, nodes: 1 },
 * } as const;
 * assert.deepEqual(phases(p), { main: { nodes: 1, inputs: 1 }, epilogue: { nodes: 2, inputs: 1 } });
 * ```
 */
export function phases(p: ElementwiseProgram): ProgramPhases {
  const tn = p.tail?.nodes ?? 0, ti = p.tail?.reads ?? 0;
  const en = p.epilogue?.nodes ?? 0, ei = p.epilogue?.reads ?? 0;
  const n = p.nodes.length, m = p.inputs.length;
  return {
    main: { nodes: n - tn - en, inputs: m - ti - ei },
    epilogue: { nodes: n - tn, inputs: m - ti },
  };
}

/**
 * The element count of a program's output `j`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { outputSize } from "./elementwise_program.ts";
 * const p = {
 *   dtype: "float32", size: 6, inputs: [{ div: 1, mod: 6 }], outputs: [0, 1],
 *   nodes: [
 *     { prim: "unary", op: "exp", args: [{ input: 0 }] },
 *     { prim: "reduce", op: "sum", args: [{ node: 0 }], into: { div: 3, mod: 2 }, size: 2 },
 *   ],
 * } as const;
 * assert.deepEqual([outputSize(p, 0), outputSize(p, 1)], [6, 2]);
 * ```
 */
export function outputSize(p: ElementwiseProgram, j: number): number {
  const k = p.outputs[j]!, nd = p.nodes[k]!, ph = phases(p);
  if (k >= ph.main.nodes && k < ph.epilogue.nodes) return p.epilogue!.size;
  return nd.prim === "reduce" ? nd.size : p.size;
}

/**
 * The row length R when a program with reductions can run as independent parts of whole rows:
 * every reduction sums/maxes contiguous rows of R elements (`into` = i / R), the epilogue runs
 * over those rows, and the tail reads reduced or epilogue values of its own row only — so a part
 * computes each of its rows in the order one thread would (the CPU's threaded loops), and a
 * row is one workgroup's work from the reduction to the tail (WebGPU's row kernels). 0 when it
 * cannot (a column sum would change its summation order), or has no reductions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rowLength } from "./elementwise_program.ts";
 * // softmax's last kernel over [2, 3]: sum each row of exp(x - max), then divide.
 * const p = {
 *   dtype: "float32", size: 6, inputs: [{ div: 1, mod: 6 }], outputs: [2],
 *   nodes: [
 *     { prim: "unary", op: "exp", args: [{ input: 0 }] },
 *     { prim: "reduce", op: "sum", args: [{ node: 0 }], into: { div: 3, mod: 2 }, size: 2 },
 *     { prim: "binary", op: "div", args: [{ node: 0 }, { node: 1, read: { div: 3, mod: 2 } }] },
 *   ],
 *   tail: { reads: 0, nodes: 1 },
 * } as const;
 * assert.equal(rowLength(p), 3);
 * ```
 */
export function rowLength(p: ElementwiseProgram): number {
  const reduces = p.nodes.filter((nd) => nd.prim === "reduce");
  if (reduces.length === 0) return 0;
  const r0 = reduces[0]!.into, n = p.size;
  if (r0.div * r0.mod !== n || r0.div === n) return 0;
  if (reduces.some((nd) => nd.into.div !== r0.div || nd.into.mod !== r0.mod)) return 0;
  if (p.epilogue && p.epilogue.size !== r0.mod) return 0;
  const ph = phases(p);
  for (let k = ph.epilogue.nodes; k < p.nodes.length; k++) {
    for (const a of p.nodes[k]!.args) {
      if (!("node" in a) || a.node >= ph.epilogue.nodes) continue;
      const fromRow = p.nodes[a.node]!.prim === "reduce" || a.node >= ph.main.nodes;
      const r = a.read;
      if (fromRow ? !(r && r.div === r0.div && r.mod === r0.mod) : r && r.div * r.mod !== n) {
        return 0; // a row value of another row, or an element of another part
      }
    }
  }
  return r0.div;
}
