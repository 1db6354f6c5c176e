/**
 * Horizontal groups of fused elementwise programs on WebGPU (`Backend.fusedElementwiseGroup`):
 * independent programs of different sizes run as one kernel, thread `t` of segment `s` doing
 * element `t − start_s` of program `s`. Used by `jit` for an optimizer's update, fused into one
 * program per parameter size: one dispatch updates every parameter. Reads are bound in place
 * while bindings remain (slabs first: the parameters and optimizer state the previous replay
 * wrote; then single buffers, the gradients) and copied into one input buffer otherwise; every
 * output is a view of one output slab (tensor/webgpu/pool.ts).
 * @module
 */
import type { Storage } from "../backend.ts";
import { type ElementwiseProgram, outputSize } from "../elementwise_program.ts";
import { segmentBody } from "./fused_codegen.ts";
import { mathFor } from "./math.ts";
import { bindInPlace, webgpuFusedElementwise } from "./fused_program.ts";
import { splitGroup } from "./fused_split.ts";
import type { GpuStorage } from "./pool.ts";
import type { Runtime } from "./runtime.ts";
import { type Binding, declare, Params, WG } from "./wgsl.ts";

/**
 * Whether `p` may join a group: float32, non-empty, without reductions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { webgpuCanGroup } from "./fused_group.ts";
 * const p = {
 *   dtype: "float32", size: 4, inputs: [{ div: 1, mod: 4 }], outputs: [0],
 *   nodes: [{ prim: "unary", op: "neg", args: [{ input: 0 }] }],
 * } as const;
 * assert.equal(webgpuCanGroup(p), true);
 * assert.equal(webgpuCanGroup({ ...p, size: 0 }), false);
 * ```
 */
export function webgpuCanGroup(p: ElementwiseProgram): boolean {
  return p.dtype === "float32" && p.size > 0 && !p.nodes.some((nd) => nd.prim === "reduce");
}

interface Segment {
  lines: string[];
  /** Input index of each read, and its element count. */
  reads: number[];
  readSizes: number[];
  /** Output index of each write, and its element count. */
  writes: number[];
  writeSizes: number[];
  start: number;
  size: number;
}

interface GroupPlan {
  segs: Segment[];
  total: number;
  /** WGSL per pattern of in-place reads. */
  sources: Map<string, string>;
}

const plans = new WeakMap<readonly ElementwiseProgram[], GroupPlan>();

type Chunk = { programs: readonly ElementwiseProgram[]; at: readonly number[] };
const chunkCache = new WeakMap<readonly ElementwiseProgram[], Chunk[] | null>();

/** The chunks to run `programs` in when they exceed the binding limit (cached per group). */
function chunksOf(programs: readonly ElementwiseProgram[], maxBytes: number): Chunk[] | null {
  if (chunkCache.has(programs)) return chunkCache.get(programs)!;
  const idx = splitGroup(programs, maxBytes);
  const chunks = idx && idx.map((at) => ({ programs: at.map((s) => programs[s]!), at }));
  chunkCache.set(programs, chunks);
  return chunks;
}

function planOf(programs: readonly ElementwiseProgram[]): GroupPlan {
  let plan = plans.get(programs);
  if (plan) return plan;
  let start = 0;
  const segs = programs.map((p, s): Segment => {
    const body = segmentBody(p)!;
    // Each segment's accessors get their own names; its `let`s are local to its block.
    const lines = body.lines.map((l) => l.replace(/\b(IN|WB)(\d+)\(/g, `S${s}$1$2(`));
    const seg = {
      lines,
      reads: body.reads,
      readSizes: body.reads.map((j) => p.inputs[j]!.mod),
      writes: body.writes,
      writeSizes: body.writes.map((j) => outputSize(p, j)),
      start,
      size: p.size,
    };
    start += p.size;
    return seg;
  });
  plan = { segs, total: start, sources: new Map() };
  plans.set(programs, plan);
  return plan;
}

/** The kernel's source for one pattern of in-place reads (`direct`: read → [binding, offset]). */
function sourceOf(
  plan: GroupPlan,
  direct: ReadonlyMap<string, readonly [number, number]>,
  nDonors: number,
  writeAt: readonly number[],
): { wgsl: string; bindings: Binding[] } {
  const bindings: Binding[] = [
    { name: "pin", ty: "f32" },
    { name: "pout", ty: "f32", rw: true },
    ...Array.from({ length: nDonors }, (_, d) => ({ name: `pdon${d}`, ty: "f32" })),
  ];
  let key = `${nDonors}|${writeAt.join(",")}|`;
  for (const [r, [d, o]] of direct) key += `${r}:${d}@${o};`;
  let src = plan.sources.get(key);
  if (!src) {
    const fns: string[] = [], arms: string[] = [];
    let pinAt = 0, w = 0;
    plan.segs.forEach((sg, s) => {
      sg.reads.forEach((j, k) => {
        const d = direct.get(`${s}.${k}`);
        const at = d ? `pdon${d[0]}[${d[1]}u + k]` : `pin[${pinAt}u + k]`;
        if (!d) pinAt += sg.readSizes[k]!;
        fns.push(`fn S${s}IN${j}(k: u32) -> f32 { return ${at}; }`);
      });
      sg.writes.forEach((j) => {
        fns.push(`fn S${s}WB${j}(k: u32, v: f32) { pout[${writeAt[w++]! / 4}u + k] = v; }`);
      });
      arms.push(`let i = t - ${sg.start}u;\n${sg.lines.join("\n")}`);
    });
    // The segments are found by a binary search over their starts (depth log2 of their
    // count): a linear chain of ~80 or more arms came out wrong on llvmpipe (later segments
    // read or wrote the wrong values), and a search is fewer comparisons on a GPU too.
    const search = (lo: number, hi: number, pad: string): string => {
      if (hi - lo === 1) return `${pad}{\n${arms[lo]}\n${pad}}`;
      const mid = (lo + hi) >> 1;
      return `${pad}if (t < ${plan.segs[mid]!.start}u) {\n${
        search(lo, mid, pad + "  ")
      }\n${pad}} else {\n${search(mid, hi, pad + "  ")}\n${pad}}`;
    };
    const main = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * ${WG}u + lid;
  if (t >= p(0u)) { return; }
${search(0, plan.segs.length, "  ")}
}
`;
    const body = main + fns.join("\n") + "\n";
    src = declare(1, bindings) + mathFor(body) + body;
    plan.sources.set(key, src);
  }
  return { wgsl: src, bindings };
}

/**
 * Runs independent fused programs as one dispatch; returns each program's output storages.
 *
 * @example
 * ```ts ignore
 * import { webgpuFusedGroup } from "./fused_group.ts";
 * import { currentRuntime } from "./state.ts";
 * const rt = currentRuntime()!; // after initWebGPU()
 * const neg = (n: number) => ({
 *   dtype: "float32", size: n, inputs: [{ div: 1, mod: n }], outputs: [0],
 *   nodes: [{ prim: "unary", op: "neg", args: [{ input: 0 }] }],
 * } as const);
 * const [[a], [b]] = webgpuFusedGroup(rt, [neg(3), neg(5)], [[rt.alloc(12, "x")], [rt.alloc(20, "y")]]);
 * ```
 */
export function webgpuFusedGroup(
  rt: Runtime,
  programs: readonly ElementwiseProgram[],
  inputs: readonly (readonly Storage[])[],
): Storage[][] {
  rt.check();
  const chunks = chunksOf(programs, rt.maxBindingBytes);
  if (chunks) {
    // Too much to bind at once: programs too large alone run (split) on their own, the rest
    // as smaller groups.
    const outs: Storage[][] = [];
    try {
      for (const c of chunks) {
        if (c.programs.length === 1) {
          outs.push(webgpuFusedElementwise(rt, c.programs[0]!, inputs[c.at[0]!]!));
        } else outs.push(...webgpuFusedGroup(rt, c.programs, c.at.map((s) => inputs[s]!)));
      }
    } catch (e) {
      for (const o of outs.flat()) rt.free(o as GpuStorage);
      throw e;
    }
    return outs;
  }
  const plan = planOf(programs);
  const srcOf = (s: number, k: number) => inputs[s]![plan.segs[s]!.reads[k]!] as GpuStorage;
  const keys = plan.segs.flatMap((sg, s) => sg.reads.map((_, k) => `${s}.${k}`));
  const bound = bindInPlace(
    plan.segs.flatMap((sg, s) => sg.reads.map((_, k) => srcOf(s, k))),
    rt.maxStorageBuffers - 2,
  );
  const donors = bound.donors;
  const direct = new Map([...bound.direct].map(([r, at]) => [keys[r]!, at] as const));
  let copied = 0;
  plan.segs.forEach((sg, s) =>
    sg.reads.forEach((_, k) => (copied += direct.has(`${s}.${k}`) ? 0 : sg.readSizes[k]!))
  );
  const pin = rt.alloc(Math.max(1, copied) * 4, "fusedGroup");
  const views = rt.allocViews(
    plan.segs.flatMap((sg) => sg.writeSizes.map((n) => n * 4)),
    "fusedGroup",
  );
  let off = 0;
  plan.segs.forEach((sg, s) =>
    sg.reads.forEach((_, k) => {
      if (direct.has(`${s}.${k}`)) return;
      const src = srcOf(s, k);
      rt.queue.copy(src.buffer, src.offset, pin.buffer, off * 4, sg.readSizes[k]! * 4);
      off += sg.readSizes[k]!;
    })
  );
  const { wgsl, bindings } = sourceOf(plan, direct, donors.length, views.map((v) => v.offset));
  try {
    rt.run("fusedGroup", {
      wgsl,
      bindings,
      params: new Params().u(plan.total).words(),
      groups: Math.ceil(plan.total / WG),
      buffers: [pin, views[0]!.buffer, ...donors],
    });
  } catch (e) {
    views.forEach((v) => rt.free(v));
    throw e;
  } finally {
    rt.free(pin);
  }
  let w = 0;
  return plan.segs.map((sg, s) => {
    const outs = new Array<Storage>(programs[s]!.outputs.length);
    for (const j of sg.writes) outs[j] = views[w++]!;
    return outs;
  });
}
