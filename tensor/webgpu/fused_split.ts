/**
 * Fused programs too large to bind: a packed kernel reads its copied inputs from one buffer and
 * writes its outputs into one slab, and neither may exceed the device's largest storage binding
 * (`maxStorageBufferBindingSize`, 128 MiB by default). A jitted optimizer update of a ViT-B
 * (twelve 768 × 3072 weights per size class: 450 MB of reads) passes it. Such a program runs as
 * several smaller ones, each computing some of its outputs from only the nodes and inputs those
 * need; a horizontal group runs as several groups.
 * @module
 */
import { type ElementwiseProgram, outputSize } from "../elementwise_program.ts";
import type { ElementwiseNode, ElementwiseRef } from "../elementwise_program.ts";

/** A part of a split program: the program, its inputs' and outputs' indices in the original. */
export interface ProgramPart {
  readonly program: ElementwiseProgram;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
}

const parts = new WeakMap<ElementwiseProgram, { max: number; parts: ProgramPart[] | null }>();

/**
 * The parts to run instead of `p` when its reads or writes exceed `maxBytes`, or null when it
 * fits (or cannot be split: reductions, epilogues and tails are not; a single output too large
 * for one binding is its own part and fails where it is allocated, naming the limit).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitOversized } from "./fused_split.ts";
 * const p = {
 *   dtype: "float32", size: 4, inputs: [{ div: 1, mod: 4 }, { div: 1, mod: 4 }], outputs: [0, 1],
 *   nodes: [
 *     { prim: "unary", op: "exp", args: [{ input: 0 }] },
 *     { prim: "unary", op: "neg", args: [{ input: 1 }] },
 *   ],
 * } as const;
 * assert.equal(splitOversized(p, 1 << 20), null);
 * const split = splitOversized(p, 400)!; // 2 writes of 16 + 256 bytes do not fit in 400
 * assert.deepEqual(split.map((q) => [q.inputs, q.outputs]), [[[0], [0]], [[1], [1]]]);
 * ```
 */
export function splitOversized(p: ElementwiseProgram, maxBytes: number): ProgramPart[] | null {
  const hit = parts.get(p);
  if (hit && hit.max === maxBytes) return hit.parts;
  const made = split(p, maxBytes);
  parts.set(p, { max: maxBytes, parts: made });
  return made;
}

function split(p: ElementwiseProgram, maxBytes: number): ProgramPart[] | null {
  // Each write is counted with 256 bytes of alignment.
  const limit = maxBytes;
  const readBytes = (inputs: Iterable<number>) => {
    let n = 0;
    for (const j of inputs) n += p.inputs[j]!.mod * 4;
    return n;
  };
  const writeBytes = (outs: readonly number[]) =>
    outs.reduce((a, o) => a + outputSize(p, o) * 4 + 256, 0);
  const all = p.outputs.map((_, o) => o);
  if (readBytes(p.inputs.keys()) <= limit && writeBytes(all) <= limit) return null;
  if (p.epilogue || p.tail || p.nodes.some((nd) => nd.prim === "reduce")) return null;
  if (p.outputs.length < 2) return null;
  // Greedy chunks of outputs, in order, while the inputs they need and their writes fit.
  const chunks: number[][] = [];
  let cur: number[] = [], curIns = new Set<number>();
  for (const o of all) {
    const ins = new Set([...curIns, ...inputsOf(p, [p.outputs[o]!])]);
    if (cur.length > 0 && (readBytes(ins) > limit || writeBytes([...cur, o]) > limit)) {
      chunks.push(cur);
      cur = [o], curIns = inputsOf(p, [p.outputs[o]!]);
    } else {
      cur.push(o), curIns = ins;
    }
  }
  chunks.push(cur);
  return chunks.length < 2 ? null : chunks.map((outs) => prune(p, outs));
}

/** The inputs the nodes `roots` depend on. */
function inputsOf(p: ElementwiseProgram, roots: readonly number[]): Set<number> {
  const seen = new Set<number>(), ins = new Set<number>();
  const stack = [...roots];
  while (stack.length > 0) {
    const k = stack.pop()!;
    if (seen.has(k)) continue;
    seen.add(k);
    for (const a of p.nodes[k]!.args) {
      if ("input" in a) ins.add(a.input);
      else stack.push(a.node);
    }
  }
  return ins;
}

/** The program computing only outputs `outs` of `p` (nodes and inputs renumbered in order). */
function prune(p: ElementwiseProgram, outs: readonly number[]): ProgramPart {
  const keep = new Set<number>();
  const stack = outs.map((o) => p.outputs[o]!);
  while (stack.length > 0) {
    const k = stack.pop()!;
    if (keep.has(k)) continue;
    keep.add(k);
    for (const a of p.nodes[k]!.args) if ("node" in a) stack.push(a.node);
  }
  const nodeAt = new Map<number, number>(), inputAt = new Map<number, number>();
  const inputs: number[] = [];
  const nodes: ElementwiseNode[] = [];
  p.nodes.forEach((nd, k) => {
    if (!keep.has(k)) return;
    const ref = (a: ElementwiseRef): ElementwiseRef => {
      if ("node" in a) return { ...a, node: nodeAt.get(a.node)! };
      if (!inputAt.has(a.input)) inputAt.set(a.input, inputs.push(a.input) - 1);
      return { input: inputAt.get(a.input)! };
    };
    nodeAt.set(k, nodes.push({ ...nd, args: nd.args.map(ref) } as unknown as ElementwiseNode) - 1);
  });
  const program: ElementwiseProgram = {
    dtype: p.dtype,
    size: p.size,
    inputs: inputs.map((j) => p.inputs[j]!),
    nodes,
    outputs: outs.map((o) => nodeAt.get(p.outputs[o]!)!),
  };
  return { program, inputs, outputs: outs };
}

/**
 * Chunks of a horizontal group's programs whose reads and writes together fit `maxBytes`
 * (in order; a program alone over the limit is its own chunk), or null when all fit at once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitGroup } from "./fused_split.ts";
 * const neg = (n: number) => ({
 *   dtype: "float32", size: n, inputs: [{ div: 1, mod: n }], outputs: [0],
 *   nodes: [{ prim: "unary", op: "neg", args: [{ input: 0 }] }],
 * } as const);
 * assert.equal(splitGroup([neg(4), neg(4)], 1 << 20), null);
 * assert.deepEqual(splitGroup([neg(100), neg(100), neg(100)], 1000), [[0], [1], [2]]);
 * ```
 */
export function splitGroup(
  programs: readonly ElementwiseProgram[],
  maxBytes: number,
): number[][] | null {
  // Each write is counted with 256 bytes of alignment.
  const limit = maxBytes;
  const bytes = (p: ElementwiseProgram) => {
    const reads = p.inputs.reduce((a, r) => a + r.mod * 4, 0);
    const writes = p.outputs.reduce((a, _, o) => a + outputSize(p, o) * 4 + 256, 0);
    return Math.max(reads, writes);
  };
  const sizes = programs.map(bytes);
  if (sizes.reduce((a, b) => a + b, 0) <= limit) return null;
  const chunks: number[][] = [];
  let cur: number[] = [], total = 0;
  sizes.forEach((b, s) => {
    if (cur.length > 0 && total + b > limit) chunks.push(cur), cur = [], total = 0;
    cur.push(s), total += b;
  });
  chunks.push(cur);
  return chunks;
}
