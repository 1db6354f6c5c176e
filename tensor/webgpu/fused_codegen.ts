/**
 * WGSL generation for `jit`'s fused elementwise programs (run by ./fused_program.ts). A
 * program becomes one or two passes:
 *
 *  - **Row kernel**, one dispatch, when every reduction folds contiguous rows and the tail
 *    reads its own row's results ({@link rowLength}): softmax, logSoftmax, layerNorm and their
 *    backwards. A row is one thread's work when there are many rows (≥ 2048) or they are short
 *    (≤ 64), else one workgroup's: its 256 threads stride over the row, combine in a
 *    shared-memory tree, compute the epilogue and stride over the row again for the tail.
 *  - Otherwise a **reduce pass** (a thread or a workgroup per accumulator, as above; the
 *    epilogue at its end) and an **element pass** (one thread per element: main-loop outputs
 *    and the tail, reading reduced values from the first pass's buffers).
 *
 * Reductions with the same `into` pattern share one loop; the main-loop values they read are
 * computed inside it and never stored, and the element pass recomputes the ones it needs.
 * Sizes and read patterns are baked into the source. Storages are reached through accessor
 * functions, so a pass that binds more buffers than the device allows reads one packed input
 * buffer and writes one packed output buffer instead.
 * @module
 */
import { type ElementwiseProgram, outputSize, phases, rowLength } from "../elementwise_program.ts";
import { TesseraError } from "../errors.ts";
import { accessors, at, type Ctx, Gen, type Reduce, type Src } from "./fused_gen.ts";
import { mathFor } from "./math.ts";
import { combine, IDENTITY } from "./reduce.ts";
import { type Binding, declare, FLAT_GROUP, GROUP_MAIN_ARGS, linearMain, WG } from "./wgsl.ts";

export type { Src };

/** One generated pass: its source, storages (reads, then writes) and launch size. */
export interface Pass {
  wgsl: string;
  bindings: Binding[];
  reads: Src[];
  writes: number[];
  /** Element counts of `reads` and `writes` (what packing copies). */
  readSizes: number[];
  writeSizes: number[];
  packed: boolean;
  /**
   * A packed pass's source and bindings when the reads in `direct` (read index → [slab d, word
   * offset]) come in place from slabs (bound after `pout`) instead of being copied into `pin`.
   */
  variant?: (
    direct: ReadonlyMap<number, readonly [number, number]>,
  ) => { wgsl: string; bindings: Binding[] };
  /** Threads (or workgroups) that do work: `p(0)`. */
  count: number;
  groups: number;
}

/** A compiled program: its passes and its buffers (outputs first, then temporaries). */
export interface Plan {
  passes: Pass[];
  bufSizes: number[];
  outputs: number;
}

/**
 * The reductions' loops and the epilogue at accumulator `a` (`threadMode`: a thread per
 * accumulator, else a workgroup); returns the names of the reduced and epilogue values, which
 * every thread of the accumulator holds.
 */
function reduceBody(
  g: Gen,
  a: string,
  threadMode: boolean,
  storeMain = false,
): Map<number, string> {
  const p = g.p, nd = (k: number) => p.nodes[k] as unknown as Reduce;
  const loops = new Map<string, number[]>();
  p.nodes.forEach((n, k) => {
    if (n.prim !== "reduce") return;
    const key = `${nd(k).into.div},${nd(k).into.mod},${nd(k).size}`;
    loops.set(key, [...(loops.get(key) ?? []), k]);
  });
  const vals = new Map<number, string>(), lead = threadMode ? "" : "lid == 0u";
  for (const ks of loops.values()) {
    const { into, size } = nd(ks[0]!), count = Math.ceil(p.size / into.mod);
    for (const k of ks) g.lines.push(`  var acc${k}: f32 = ${IDENTITY[nd(k).op].f32};`);
    g.lines.push(`  if (${a} < ${size}u) {`);
    const [t0, step] = threadMode ? ["0u", "1u"] : ["lid", `${WG}u`];
    g.lines.push(`   for (var t = ${t0}; t < ${count}u; t += ${step}) {`);
    const q = into.div === 1 ? `t * ${into.mod}u` : `(t / ${into.div}u) * ${into.mod}u`;
    const ii = into.div === 1 ? `${q} + ${a}` : `(${q} + ${a}) * ${into.div}u + t % ${into.div}u`;
    g.lines.push(`    let ii = ${ii};`);
    const c = g.ctx("ii"), pad = "    ";
    for (const k of ks) {
      const r = nd(k).args[0];
      const v = "input" in r ? g.input(r.input, c, p.size, pad) : g.main(r.node, c, pad);
      g.lines.push(`    acc${k} = ${combine(nd(k).op, "f32", `acc${k}`, v)};`);
    }
    // One loop visits every element once: the main-loop outputs are written as it goes.
    if (storeMain) {
      p.outputs.forEach((k) => {
        if (g.phaseOf(k) === 0 && p.nodes[k]!.prim !== "reduce") {
          g.store(k, "ii", g.main(k, c, pad), pad);
        }
      });
    }
    g.lines.push("   }");
    for (const k of ks) {
      if (!threadMode) {
        const comb = combine(nd(k).op, "f32", "sh[lid]", "sh[lid + s]");
        g.lines.push(
          `   sh[lid] = acc${k};`,
          "   workgroupBarrier();",
          `   for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {`,
          `    if (lid < s) { sh[lid] = ${comb}; }`,
          "    workgroupBarrier();",
          "   }",
          `   acc${k} = sh[0];`,
          "   workgroupBarrier();",
        );
      }
      vals.set(k, `acc${k}`);
      g.store(k, a, `acc${k}`, "   ", lead);
    }
    g.lines.push("  }");
  }
  if (!p.epilogue) return vals;
  // Every thread of the accumulator computes the epilogue (the tail of a row kernel reads it).
  const c = g.ctx(a), pad = "  ";
  const guard = [`${a} < ${p.epilogue.size}u`, lead].filter((s) => s).join(" && ");
  for (let k = g.ph.main.nodes; k < g.ph.epilogue.nodes; k++) {
    const args = p.nodes[k]!.args.map((r) => {
      if ("input" in r) return g.input(r.input, c, p.epilogue!.size, pad);
      const v = vals.get(r.node);
      if (!v) throw new TesseraError("jit", "internal: an epilogue reads a main-loop value");
      return v;
    });
    g.lines.push(`${pad}let e_${k} = ${g.expr(k, args)};`);
    vals.set(k, `e_${k}`);
    g.store(k, a, `e_${k}`, pad, guard);
  }
  return vals;
}

/**
 * Main-loop outputs and the tail at element `i`; `reduced(m, idx)` is the expression of a
 * reduced or epilogue value m read at `idx`.
 */
function elementBody(
  g: Gen,
  i: string,
  pad: string,
  reduced: (m: number, idx: string) => string,
  seed?: ReadonlyMap<number, string>,
) {
  const p = g.p, n = p.size, base = g.ctx(i), others = new Map<string, Ctx>();
  for (const [k, v] of seed ?? []) base.memo.set(k, v);
  p.outputs.forEach((k) => {
    if (g.phaseOf(k) === 0 && p.nodes[k]!.prim !== "reduce") {
      g.store(k, i, g.main(k, base, pad), pad);
    }
  });
  for (let k = g.ph.epilogue.nodes; k < p.nodes.length; k++) {
    const args = p.nodes[k]!.args.map((r) => {
      if ("input" in r) return g.input(r.input, base, n, pad);
      const m = r.node, idx = r.read ? at(r.read, i, n) : i;
      if (g.phaseOf(m) === 2) return `t_${m}`;
      if (g.phaseOf(m) === 1 || p.nodes[m]!.prim === "reduce") return reduced(m, idx);
      if (idx === i) return g.main(m, base, pad);
      let c = others.get(idx); // a main-loop value of another element: recomputed there
      if (!c) others.set(idx, c = g.ctx(idx));
      return g.main(m, c, pad);
    });
    g.lines.push(`${pad}let t_${k} = ${g.expr(k, args)};`);
    g.store(k, i, `t_${k}`, pad);
  }
}

/** A workgroup-per-item entry point around `body` (`g`: the item). */
const groupMain = (body: string) =>
  `var<workgroup> sh: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(${GROUP_MAIN_ARGS}) {
  ${FLAT_GROUP}
  if (g >= p(0u)) { return; }
${body}
}
`;

/**
 * The element-loop body of a program without reductions, at index `i` (for a horizontal group
 * kernel, ./fused_group.ts): its lines, the inputs it reads (in order) and the outputs it
 * writes (in order); null when `p` reduces.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { segmentBody } from "./fused_codegen.ts";
 * const seg = segmentBody({
 *   dtype: "float32", size: 4, inputs: [{ div: 1, mod: 4 }], outputs: [0],
 *   nodes: [{ prim: "unary", op: "neg", args: [{ input: 0 }] }],
 * })!;
 * assert.deepEqual([seg.reads, seg.writes], [[0], [0]]);
 * ```
 */
export function segmentBody(
  p: ElementwiseProgram,
): { lines: string[]; reads: number[]; writes: number[] } | null {
  if (p.nodes.some((nd) => nd.prim === "reduce")) return null;
  const bufsOf = new Map<number, number[]>();
  p.outputs.forEach((k, j) => bufsOf.set(k, [...(bufsOf.get(k) ?? []), j]));
  const g = new Gen(p, bufsOf);
  elementBody(g, "i", "    ", () => "");
  const reads = [...g.reads.values()].map((s) => {
    if (!("input" in s)) {
      throw new TesseraError("jit", "internal: a buffer read without reductions");
    }
    return s.input;
  });
  return { lines: g.lines, reads, writes: [...g.writes] };
}

/**
 * Builds the passes of `p` for a device binding at most `maxBuffers` storage buffers, whose
 * storage offsets align to `align` bytes.
 */
export function planOf(p: ElementwiseProgram, maxBuffers: number, align = 4): Plan {
  if (p.dtype !== "float32") {
    throw new TesseraError("jit", `a fused ${p.dtype} program cannot run on webgpu (float32 only)`);
  }
  const bufSizes = p.outputs.map((_, j) => outputSize(p, j));
  const bufsOf = new Map<number, number[]>();
  p.outputs.forEach((k, j) => bufsOf.set(k, [...(bufsOf.get(k) ?? []), j]));
  const reduces = p.nodes.filter((nd) => nd.prim === "reduce") as unknown as Reduce[];
  const finishOf = (g: Gen, main: string, count: number, groups: number) =>
    finish(g, main, bufSizes, maxBuffers, align, count, groups);
  if (reduces.length === 0) {
    const g = new Gen(p, bufsOf);
    elementBody(g, "i", "  ", () => "");
    return {
      passes: [finishOf(g, linearMain(g.lines.join("\n")), p.size, Math.ceil(p.size / WG))],
      bufSizes,
      outputs: p.outputs.length,
    };
  }
  const nAcc = Math.max(p.epilogue?.size ?? 0, ...reduces.map((r) => r.size));
  const longest = Math.max(...reduces.map((r) => p.size / r.into.mod));
  const threadMode = nAcc >= 2048 || longest <= 64;
  const a = threadMode ? "i" : "g";
  const launch = (g: Gen) =>
    threadMode
      ? finishOf(g, linearMain(g.lines.join("\n")), nAcc, Math.ceil(nAcc / WG))
      : finishOf(g, groupMain(g.lines.join("\n")), nAcc, nAcc);
  const rows = rowLength(p);
  const mainOuts = p.outputs.some((k, j) =>
    p.nodes[k]!.prim !== "reduce" && bufSizes[j] === p.size && k < phases(p).main.nodes
  );
  if (rows > 0) {
    // The row kernel: reductions, epilogue and tail of row `a` in one dispatch.
    const g = new Gen(p, bufsOf);
    const vals = reduceBody(g, a, threadMode);
    if (mainOuts || p.tail) {
      const [t0, step] = threadMode ? ["0u", "1u"] : ["lid", `${WG}u`];
      g.lines.push(
        `  if (${a} < ${nAcc}u) {`,
        `   for (var t = ${t0}; t < ${rows}u; t += ${step}) {`,
      );
      g.lines.push(`    let e = ${a} * ${rows}u + t;`);
      elementBody(g, "e", "    ", (m) => vals.get(m)!);
      g.lines.push("   }", "  }");
    }
    return { passes: [launch(g)], bufSizes, outputs: p.outputs.length };
  }
  // A temporary per reduced or epilogue value the tail reads that is not an output.
  const ph = phases(p);
  for (let k = ph.epilogue.nodes; k < p.nodes.length; k++) {
    for (const r of p.nodes[k]!.args) {
      if (!("node" in r) || r.node >= ph.epilogue.nodes || bufsOf.has(r.node)) continue;
      const nd = p.nodes[r.node]!;
      if (r.node < ph.main.nodes && nd.prim !== "reduce") continue;
      bufsOf.set(r.node, [bufSizes.length]);
      bufSizes.push(nd.prim === "reduce" ? nd.size : p.epilogue!.size);
    }
  }
  const g1 = new Gen(p, bufsOf);
  const oneLoop = !p.tail && new Set(reduces.map((r) => `${r.into.div},${r.into.mod}`)).size === 1;
  reduceBody(g1, a, threadMode, oneLoop);
  const passes = [launch(g1)];
  if (!oneLoop && (mainOuts || p.tail)) {
    const g2 = new Gen(p, bufsOf);
    elementBody(g2, "i", "  ", (m, idx) => g2.readBuf(bufsOf.get(m)![0]!, idx));
    passes.push(finishOf(g2, linearMain(g2.lines.join("\n")), p.size, Math.ceil(p.size / WG)));
  }
  return { passes, bufSizes, outputs: p.outputs.length };
}

/**
 * A matmul epilogue: WGSL `fn EPI(o: u32, mmv: f32)` running pure program `p` at output element
 * `o` with input `fromMatmul` = `mmv` (the product; stored as buffer `outputs.length` too when
 * `storeProduct`), with its accessors and the storages it binds after the matmul's operands
 * (tensor/webgpu/matmul.ts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { epilogueSource } from "./fused_codegen.ts";
 * const e = epilogueSource({
 *   dtype: "float32", size: 4, inputs: [{ div: 1, mod: 4 }, { div: 1, mod: 2 }], outputs: [0],
 *   nodes: [{ prim: "binary", op: "add", args: [{ input: 0 }, { input: 1 }] }],
 * }, 0);
 * assert.deepEqual([e.reads, e.writes], [[{ input: 1 }], [0]]);
 * ```
 */
export function epilogueSource(
  p: ElementwiseProgram,
  fromMatmul: number,
  storeProduct = false,
): Epilogue {
  const key = `${fromMatmul},${storeProduct}`;
  let byKey = epilogues.get(p);
  if (!byKey) epilogues.set(p, byKey = new Map());
  let e = byKey.get(key);
  if (!e) byKey.set(key, e = buildEpilogue(p, fromMatmul, storeProduct));
  return e;
}

/** A matmul epilogue's source and storages. */
type Epilogue = { src: string; bindings: Binding[]; reads: Src[]; writes: number[] };
/** Built once per program (a replay asks for it on every call). */
const epilogues = new WeakMap<ElementwiseProgram, Map<string, Epilogue>>();

function buildEpilogue(p: ElementwiseProgram, fromMatmul: number, storeProduct: boolean): Epilogue {
  const bufsOf = new Map<number, number[]>();
  p.outputs.forEach((k, j) => bufsOf.set(k, [...(bufsOf.get(k) ?? []), j]));
  const g = new Gen(p, bufsOf), sizes = p.outputs.map((_, j) => outputSize(p, j));
  if (storeProduct) {
    // The product itself, as buffer `outputs.length`.
    g.writes.add(sizes.length);
    g.lines.push(`  WB${sizes.length}(o, mmv);`);
    sizes.push(p.size);
  }
  elementBody(g, "o", "  ", () => "", new Map([[-1 - fromMatmul, "mmv"]]));
  const acc = accessors(g, sizes, false);
  const src = `fn EPI(o: u32, mmv: f32) {\n${g.lines.join("\n")}\n}\n${acc.fns}`;
  return { src, bindings: acc.bindings, reads: acc.reads, writes: acc.writes };
}

/** Declarations and accessors of a pass's storages (packed beyond the binding limit). */
function finish(
  g: Gen,
  main: string,
  bufSizes: number[],
  maxBuffers: number,
  align: number,
  count: number,
  groups: number,
): Pass {
  const packed = g.reads.size + g.writes.size > maxBuffers;
  const build = (direct?: ReadonlyMap<number, readonly [number, number]>) => {
    const { fns, bindings, ...rest } = accessors(g, bufSizes, packed, align, direct);
    const src = main + fns;
    return { wgsl: declare(1, bindings) + mathFor(src) + src, bindings, ...rest };
  };
  const variant = packed
    ? (direct: ReadonlyMap<number, readonly [number, number]>) => {
      const { wgsl, bindings } = build(direct);
      return { wgsl, bindings };
    }
    : undefined;
  return { ...build(), packed, variant, count, groups };
}
