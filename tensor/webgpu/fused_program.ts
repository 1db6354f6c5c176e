/**
 * The WebGPU kernel of `jit`'s fused elementwise programs (tensor/elementwise_program.ts): each
 * program is compiled once (./fused_codegen.ts: a row kernel, or a reduce pass and an element
 * pass) and replayed as one or two dispatches. A pass that binds more storage buffers than the
 * device allows runs packed: its reads are copied into one buffer (buffer copies, not
 * dispatches) and its writes go to one slab whose aligned ranges are the outputs (views, no
 * copies out), so any program runs. Float32 only (WebGPU has no f64); sums
 * run in f32 in another order than the CPU's float64 ones, so results agree to float32
 * tolerance, as the eager WebGPU kernels do.
 * @module
 */
import type { Storage } from "../backend.ts";
import type { ElementwiseProgram, FusiblePrim } from "../elementwise_program.ts";
import type { EwOp } from "./elementwise.ts";
import { floatExpr } from "./elementwise.ts";
import { type Pass, type Plan, planOf, type Src } from "./fused_codegen.ts";
import type { GpuStorage } from "./pool.ts";
import type { Runtime } from "./runtime.ts";
import { type ProgramPart, splitOversized } from "./fused_split.ts";
import { Params } from "./wgsl.ts";

/**
 * Which ops the fused WebGPU kernel implements: `unary`/`binary` ops with an f32 expression,
 * `broadcastTo`, and `reduce` sum/max/min.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { webgpuCanFuse } from "./fused_program.ts";
 * assert.deepEqual([webgpuCanFuse("unary", "erf"), webgpuCanFuse("unary", "logicalNot")], [true, false]);
 * assert.equal(webgpuCanFuse("reduce", "prod"), false);
 * ```
 */
export function webgpuCanFuse(prim: FusiblePrim, op: string): boolean {
  if (prim === "broadcastTo") return true;
  if (prim === "reduce") return op === "sum" || op === "max" || op === "min";
  return floatExpr(op as EwOp) !== undefined;
}

const plans = new WeakMap<ElementwiseProgram, Plan>();
const byKey = new Map<string, Plan>();

/**
 * Runs a fused elementwise program on WebGPU storages (the backend's `fusedElementwise`);
 * returns one new storage per output. Compiled once per program (and per structure).
 *
 * @example
 * ```ts ignore
 * import { webgpuFusedElementwise } from "./fused_program.ts";
 * import { currentRuntime } from "./state.ts";
 * const rt = currentRuntime()!; // after initWebGPU()
 * const x = rt.alloc(12, "x");
 * const [y] = webgpuFusedElementwise(rt, {
 *   dtype: "float32", size: 3, inputs: [{ div: 1, mod: 3 }], outputs: [0],
 *   nodes: [{ prim: "unary", op: "exp", args: [{ input: 0 }] }],
 * }, [x]);
 * ```
 */
export function webgpuFusedElementwise(
  rt: Runtime,
  p: ElementwiseProgram,
  inputs: readonly Storage[],
): Storage[] {
  rt.check();
  const split = splitOversized(p, rt.maxBindingBytes);
  if (split) {
    return runParts(
      split,
      p.outputs.length,
      inputs,
      (q, ins) => webgpuFusedElementwise(rt, q, ins),
      rt,
    );
  }
  const plan = cachedPlan(rt, p);
  const ins = inputs as readonly GpuStorage[];
  // A buffer a packed pass writes is a view of that pass's output slab (made when it runs).
  const inSlab = new Set(plan.passes.flatMap((ps) => (ps.packed && ps.count > 0 ? ps.writes : [])));
  const bufs: (GpuStorage | undefined)[] = plan.bufSizes.map((s, b) =>
    inSlab.has(b) ? undefined : rt.alloc(s * 4, "fused")
  );
  const nOut = plan.outputs;
  try {
    for (const pass of plan.passes) {
      if (pass.count > 0) runPass(rt, pass, ins, bufs);
    }
  } catch (e) {
    bufs.forEach((b) => b && rt.free(b));
    throw e;
  }
  const done = bufs as GpuStorage[];
  done.slice(nOut).forEach((b) => rt.free(b));
  return done.slice(0, nOut);
}

/** The plan of `p` on `rt`'s device (built once per program object and per structure). */
function cachedPlan(rt: Runtime, p: ElementwiseProgram): Plan {
  let plan = plans.get(p);
  if (!plan) {
    const key =
      JSON.stringify([rt.maxStorageBuffers, rt.storageAlign, p.dtype, p.size, p.inputs, p.nodes]) +
      JSON.stringify([p.outputs, p.epilogue, p.tail]);
    plan = byKey.get(key) ?? planOf(p, rt.maxStorageBuffers, rt.storageAlign);
    byKey.set(key, plan);
    plans.set(p, plan);
  }
  return plan;
}

/**
 * The dispatches a replay of `p` records (1 or 2: the reduce pass, the element pass; buffer
 * copies of a packed pass are not dispatches). `jit`'s dispatch counts on WebGPU use it.
 *
 * @example
 * ```ts ignore
 * import { webgpuFusedPasses } from "./fused_program.ts";
 * import { currentRuntime } from "./state.ts";
 * const n = webgpuFusedPasses(currentRuntime()!, {
 *   dtype: "float32", size: 3, inputs: [{ div: 1, mod: 3 }], outputs: [0],
 *   nodes: [{ prim: "unary", op: "exp", args: [{ input: 0 }] }],
 * }); // 1
 * ```
 */
export function webgpuFusedPasses(rt: Runtime, p: ElementwiseProgram): number {
  const split = splitOversized(p, rt.maxBindingBytes);
  if (split) return split.reduce((a, q) => a + webgpuFusedPasses(rt, q.program), 0);
  return cachedPlan(rt, p).passes.filter((ps) => ps.count > 0).length;
}

/**
 * Runs the parts of a split program (see {@link splitOversized}) and puts their outputs in the
 * original's order; frees what the earlier parts made if a later one throws.
 */
export function runParts(
  split: readonly ProgramPart[],
  nOut: number,
  inputs: readonly Storage[],
  run: (p: ElementwiseProgram, inputs: readonly Storage[]) => Storage[],
  rt: Runtime,
): Storage[] {
  const outs = new Array<Storage>(nOut);
  const made: Storage[] = [];
  try {
    for (const part of split) {
      const r = run(part.program, part.inputs.map((j) => inputs[j]!));
      made.push(...r);
      part.outputs.forEach((o, k) => (outs[o] = r[k]!));
    }
  } catch (e) {
    for (const s of made) rt.free(s as GpuStorage);
    throw e;
  }
  return outs;
}

/**
 * Records one pass. A pass that binds more storages than the device allows reads its inputs
 * copied into one buffer and writes one slab, whose ranges become the written buffers (views:
 * no copies out, so the compute pass goes on).
 */
function runPass(
  rt: Runtime,
  pass: Pass,
  ins: readonly GpuStorage[],
  bufs: (GpuStorage | undefined)[],
) {
  const srcOf = (s: Src) => ("input" in s ? ins[s.input]! : bufs[s.buf]!);
  const params = new Params().u(pass.count).words();
  const launch = { wgsl: pass.wgsl, bindings: pass.bindings, params, groups: pass.groups };
  if (!pass.packed) {
    const buffers = [...pass.reads.map(srcOf), ...pass.writes.map((b) => bufs[b]!)];
    rt.run("fused", { ...launch, buffers });
    return;
  }
  // Reads are bound in place while bindings remain — first those that are views of slabs (the
  // parameters and optimizer state the previous replay's packed updates wrote; one binding per
  // slab), then single buffers (gradients) — and the rest are copied into `pin`.
  const { donors, direct } = bindInPlace(pass.reads.map(srcOf), rt.maxStorageBuffers - 2);
  const readBytes = Math.max(1, pass.readSizes.reduce((a, b) => a + b, 0)) * 4;
  const pin = rt.alloc(readBytes, "fused");
  const views = rt.allocViews(pass.writeSizes.map((n) => n * 4), "fused");
  pass.writes.forEach((b, k) => (bufs[b] = views[k]!));
  let off = 0;
  pass.reads.forEach((s, k) => {
    const src = srcOf(s);
    if (!direct.has(k)) {
      rt.queue.copy(src.buffer, src.offset, pin.buffer, off * 4, pass.readSizes[k]! * 4);
    }
    off += pass.readSizes[k]!;
  });
  // The kernel writes the slab from its start: bind the whole buffer.
  const buffers = [pin, views[0]!.buffer];
  if (donors.length === 0) rt.run("fused", { ...launch, buffers });
  else {
    const v = variantOf(pass, direct);
    rt.run("fused", { ...launch, ...v, buffers: [...buffers, ...donors] });
  }
  rt.free(pin);
}

const variants = new WeakMap<Pass, Map<string, { wgsl: string; bindings: Pass["bindings"] }>>();

/** A packed pass's source for one pattern of in-place reads (built once per pattern). */
function variantOf(pass: Pass, direct: ReadonlyMap<number, readonly [number, number]>) {
  let m = variants.get(pass);
  if (!m) variants.set(pass, m = new Map());
  let key = "";
  for (const [k, [d, o]] of direct) key += `${k}:${d}@${o};`;
  let v = m.get(key);
  if (!v) m.set(key, v = pass.variant!(direct));
  return v;
}

/**
 * Which of a packed kernel's reads are bound in place, within `room` bindings: first those that
 * are views of slabs (one binding per slab), then single buffers; returns the buffers to bind
 * and, per read index bound, [binding, word offset]. The others are copied into `pin`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bindInPlace } from "./fused_program.ts";
 * import { GpuStorage, Slab } from "./pool.ts";
 * const [a, b] = [{}, {}] as GPUBuffer[];
 * const slab = new Slab(b!, 2);
 * const reads = [new GpuStorage(a!, 4), new GpuStorage(b!, 4, 0, slab), new GpuStorage(b!, 4, 256, slab)];
 * const { donors, direct } = bindInPlace(reads, 1);
 * assert.deepEqual([donors, [...direct]], [[b], [[1, [0, 0]], [2, [0, 64]]]]);
 * ```
 */
export function bindInPlace(
  reads: readonly GpuStorage[],
  room: number,
): { donors: GPUBuffer[]; direct: Map<number, readonly [number, number]> } {
  const donors: GPUBuffer[] = [];
  const direct = new Map<number, readonly [number, number]>();
  for (const slabs of [true, false]) {
    reads.forEach((src, k) => {
      if (!src.slab !== !slabs || direct.has(k)) return;
      let d = donors.indexOf(src.buffer);
      if (d < 0 && donors.length < room) d = donors.push(src.buffer) - 1;
      if (d >= 0) direct.set(k, [d, src.offset / 4]);
    });
  }
  return { donors, direct };
}
