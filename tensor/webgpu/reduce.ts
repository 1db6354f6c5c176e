/**
 * Reductions. `sum`/`max`/`min` reduce any set of axes: the kept and the reduced dimensions
 * are coalesced separately and the kernel reads the input through both stride sets, so no
 * transpose is ever materialised. Two kernel shapes:
 *  - one thread per output, looping over the reduced elements (many outputs, or short
 *    reductions along a non-contiguous axis, where neighbouring threads read neighbouring
 *    words);
 *  - one workgroup per (output, chunk): 256 threads stride over the chunk, then a
 *    shared-memory tree combines them. Long reductions with few outputs are split into chunks
 *    whose partial results a second pass reduces.
 * `argmax`/`argmin` use the same shapes with (value, index) pairs; ties keep the lowest index
 * and the first NaN wins, as on the CPU.
 * @module
 */
import type { Operand } from "../backend.ts";
import { TesseraError } from "../errors.ts";
import type { ReduceOp } from "../primitives.ts";
import { coalesce, sizeOf, stridesOf } from "../shape.ts";
import type { GpuKernel } from "./elementwise.ts";
import { mathFor } from "./math.ts";
import type { GpuStorage } from "./pool.ts";
import type { Runtime } from "./runtime.ts";
import {
  type Binding,
  declare,
  FLAT_GROUP,
  GROUP_MAIN_ARGS,
  linearMain,
  Params,
  unravel,
  WG,
  type WgslType,
  wgslType,
} from "./wgsl.ts";

const RWG = 256;

/** The identity of each reduction per WGSL type (shared with the fused kernels). */
export const IDENTITY: Record<ReduceOp, Record<WgslType, string>> = {
  sum: { f32: "0.0", i32: "0i", u32: "0u" },
  max: { f32: "-tm_inf()", i32: "(-2147483647i - 1i)", u32: "0u" },
  min: { f32: "tm_inf()", i32: "2147483647i", u32: "4294967295u" },
};

/** The WGSL expression folding `b` into `a` (max/min: the first NaN wins, as on the CPU). */
export function combine(op: ReduceOp, ty: WgslType, a: string, b: string): string {
  if (op === "sum") return `${a} + ${b}`;
  const fn = op === "max" ? "max" : "min";
  if (ty !== "f32") return `${fn}(${a}, ${b})`;
  const cmp = op === "max" ? ">" : "<";
  return `select(${a}, ${b}, ${b} ${cmp} ${a} || tm_isnan(${b}))`;
}

/** Fills a new storage of `n` words with the bit pattern `bits`. */
export function fill(rt: Runtime, op: string, n: number, bits: number): GpuStorage {
  const st = rt.alloc(n * 4, op);
  if (n === 0) return st;
  const b: Binding[] = [{ name: "dst", ty: "u32", rw: true }];
  const pr = new Params().u(n, bits);
  rt.run(op, {
    wgsl: declare(pr.length, b) + linearMain("  dst[i] = p(1u);"),
    bindings: b,
    buffers: [st],
    params: pr.words(),
    groups: Math.ceil(n / WG),
  });
  return st;
}

/**
 * Reduces `src` (contiguous, shape `shape`) over `axes` with `op` into a new storage holding
 * the kept dimensions in order.
 */
function reduceRaw(
  rt: Runtime,
  op: ReduceOp,
  ty: WgslType,
  src: GpuStorage,
  shape: readonly number[],
  axes: readonly number[],
): GpuStorage {
  const st = stridesOf(shape);
  const keep = shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const k = coalesce(keep.map((d) => shape[d]!), [keep.map((d) => st[d]!)]);
  const r = coalesce(axes.map((d) => shape[d]!), [axes.map((d) => st[d]!)]);
  const nOut = sizeOf(k.shape), nRed = sizeOf(r.shape);
  if (nOut === 0) return rt.alloc(0, op);
  if (nRed === 0) return fill(rt, op, nOut, 0); // only sum reaches here (shape rule)
  const kr = k.shape.length, rr = r.shape.length;
  const contiguousRows = rr === 1 && r.strides[0]![0] === 1;
  const threadMode = !(contiguousRows && nRed >= 64) && (nOut >= 2048 || nRed <= 64);
  const C = threadMode || nOut >= 1024 ? 1 : Math.min(Math.ceil(nRed / 4096), 4096);
  const L = Math.ceil(nRed / C);
  const count = threadMode ? nOut : nOut * C;
  const out = rt.alloc(count * 4, op);
  const pr = new Params().u(count, C, L, nRed).u(...k.shape).i(...k.strides[0]!)
    .u(...r.shape).i(...r.strides[0]!);
  const kAt = 4, rAt = 4 + 2 * kr;
  const id = IDENTITY[op][ty];
  const bindings: Binding[] = [{ name: "x", ty }, { name: "out", ty, rw: true }];
  const inner = (idx: string) =>
    `    {\n  ${unravel(idx, rr, rAt, ["off"], [rAt + rr]).replaceAll("\n", "\n  ")}\n` +
    `      acc = ${combine(op, ty, "acc", "x[base + off]")};\n    }`;
  let main: string;
  if (threadMode) {
    main = linearMain(`${unravel("i", kr, kAt, ["base"], [kAt + kr])}
  var acc: ${ty} = ${id};
  for (var j = 0u; j < p(3u); j++) {
${inner("j")}
  }
  out[i] = acc;`);
  } else {
    main = `var<workgroup> sh: array<${ty}, ${RWG}>;
@compute @workgroup_size(${RWG})
fn main(${GROUP_MAIN_ARGS}) {
  ${FLAT_GROUP}
  if (g >= p(0u)) { return; }
  let o = g / p(1u);
  let start = (g % p(1u)) * p(2u);
  let end = min(start + p(2u), p(3u));
${unravel("o", kr, kAt, ["base"], [kAt + kr])}
  var acc: ${ty} = ${id};
  for (var j = start + lid; j < end; j += ${RWG}u) {
${inner("j")}
  }
  sh[lid] = acc;
  workgroupBarrier();
  for (var s = ${RWG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { sh[lid] = ${combine(op, ty, "sh[lid]", "sh[lid + s]")}; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[g] = sh[0]; }
}
`;
  }
  rt.run(op, {
    wgsl: declare(pr.length, bindings) + mathFor(main) + main,
    bindings,
    buffers: [src, out],
    params: pr.words(),
    groups: threadMode ? Math.ceil(count / WG) : count,
  });
  if (C === 1) return out;
  const final = reduceRaw(rt, op, ty, out, [nOut, C], [1]);
  rt.free(out);
  return final;
}

/** Kernel of `reduce`: `sum`, `max` or `min` (reduced axes kept as size 1 in the output). */
export const reduceKernel: GpuKernel<"reduce"> = (rt, inputs, params) => {
  const x = inputs[0]!, op = params.op;
  return reduceRaw(rt, op, wgslType(x.dtype, op), x.storage as GpuStorage, x.shape, params.axes);
};

/** Kernel of `argReduce`: `argmax` or `argmin` along `params.axis`; int32 indices. */
export const argReduceKernel: GpuKernel<"argReduce"> = (rt, inputs, params) => {
  const op = params.op, max = op === "argmax";
  const x: Operand = inputs[0]!;
  const ty = wgslType(x.dtype, op);
  const axis = params.axis;
  const outer = sizeOf(x.shape.slice(0, axis)), len = x.shape[axis]!;
  const inner = sizeOf(x.shape.slice(axis + 1));
  const nOut = outer * inner;
  const out = rt.alloc(nOut * 4, op);
  if (nOut === 0) return out;
  if (len === 0) throw new TesseraError(op, "cannot reduce an empty axis");
  const cmp = max ? ">" : "<";
  const nan = ty === "f32";
  // beats(v2, i2, v1, i1): candidate 2 replaces 1 (index 0xffffffff = empty).
  const beats = `fn beats(v2: ${ty}, i2: u32, v1: ${ty}, i1: u32) -> bool {
  if (i2 == 0xffffffffu) { return false; }
  if (i1 == 0xffffffffu) { return true; }
  ${
    nan
      ? `let n1 = tm_isnan(v1); let n2 = tm_isnan(v2);
  if (n1 && n2) { return i2 < i1; }
  if (n2) { return true; }
  if (n1) { return false; }`
      : ""
  }
  return v2 ${cmp} v1 || (v2 == v1 && i2 < i1);
}
`;
  const threadMode = inner >= 64 || len <= 64 || nOut >= 2048;
  const pr = new Params().u(nOut, len, inner);
  const bindings: Binding[] = [{ name: "x", ty }, { name: "out", ty: "i32", rw: true }];
  let main: string;
  if (threadMode) {
    main = linearMain(`  let base = (i / p(2u)) * p(1u) * p(2u) + i % p(2u);
  var bv = x[base];
  var bi = 0u;
  for (var k = 1u; k < p(1u); k++) {
    let v = x[base + k * p(2u)];
    if (beats(v, k, bv, bi)) { bv = v; bi = k; }
  }
  out[i] = i32(bi);`);
  } else {
    main = `var<workgroup> shv: array<${ty}, ${RWG}>;
var<workgroup> shi: array<u32, ${RWG}>;
@compute @workgroup_size(${RWG})
fn main(${GROUP_MAIN_ARGS}) {
  ${FLAT_GROUP}
  if (g >= p(0u)) { return; }
  let base = (g / p(2u)) * p(1u) * p(2u) + g % p(2u);
  var bv = x[base];
  var bi = 0xffffffffu;
  for (var k = lid; k < p(1u); k += ${RWG}u) {
    let v = x[base + k * p(2u)];
    if (beats(v, k, bv, bi)) { bv = v; bi = k; }
  }
  shv[lid] = bv;
  shi[lid] = bi;
  workgroupBarrier();
  for (var s = ${RWG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s && beats(shv[lid + s], shi[lid + s], shv[lid], shi[lid])) {
      shv[lid] = shv[lid + s];
      shi[lid] = shi[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) { out[g] = i32(shi[0]); }
}
`;
  }
  const src = beats + main;
  rt.run(op, {
    wgsl: declare(pr.length, bindings) + mathFor(src) + src,
    bindings,
    buffers: [x.storage as GpuStorage, out],
    params: pr.words(),
    groups: threadMode ? Math.ceil(nOut / WG) : nOut,
  });
  return out;
};
