/**
 * Data movement: `permute`, `broadcastTo`, `slice`, `flip` and plain copies are one generic
 * strided-copy kernel (the output is written contiguously; the source is read at
 * `base + Σ coord·stride` with strides that may be 0 or negative); `pad` maps each output
 * element back to its source (or the fill value); `concat` copies groups of inputs per
 * dispatch, as many as the device's storage-buffer limit allows. Every kernel moves 32-bit
 * words, so one pipeline serves float32, int32, uint32 and bool.
 * @module
 */
import type { Operand } from "../backend.ts";
import type { Prim } from "../primitives.ts";
import type { Aval } from "../aval.ts";
import { broadcastStrides, coalesce, sizeOf, stridesOf } from "../shape.ts";
import type { GpuKernel } from "./elementwise.ts";
import type { GpuStorage } from "./pool.ts";
import type { Runtime } from "./runtime.ts";
import { type Binding, declare, linearMain, Params, unravel, WG } from "./wgsl.ts";

const COPY_BINDINGS: Binding[] = [{ name: "src", ty: "u32" }, { name: "dst", ty: "u32", rw: true }];

/**
 * Copies `shape` elements of `x` read at `base + Σ coord_d · strides_d` into a new contiguous
 * storage (row-major over `shape`).
 */
export function stridedCopy(
  rt: Runtime,
  op: string,
  x: Operand,
  base: number,
  strides: readonly number[],
  shape: readonly number[],
): GpuStorage {
  const n = sizeOf(shape);
  const c = coalesce(shape, [strides, stridesOf(shape)]);
  const src = c.strides[0]!;
  const contiguous = n > 0 && c.shape.length <= 1 && (c.shape.length === 0 || src[0] === 1);
  const xs = x.storage as GpuStorage;
  // A contiguous run at an aligned offset is a view (no copy), unless it would keep a buffer
  // more than four times its size alive.
  if (
    contiguous && (xs.offset + base * 4) % rt.storageAlign === 0 && n * 16 >= xs.buffer.size
  ) return rt.viewOf(xs, base * 4, n * 4);
  const st = rt.alloc(n * 4, op);
  if (n === 0) return st;
  // A buffer copy ends the compute pass: inside one (a `jit` replay's pass), the kernel copies.
  if (contiguous && (!rt.queue.inPass || xs.buffer === st.buffer)) {
    rt.queue.copy(xs.buffer, xs.offset + base * 4, st.buffer, st.offset, n * 4);
    return st;
  }
  const r = c.shape.length;
  const params = new Params().u(n).i(base).u(...c.shape).i(...src);
  const body = unravel("i", r, 2, ["o"], [2 + r], ["pi(1u)"]) + "\n  dst[i] = src[o];";
  const main = linearMain(body);
  rt.run(op, {
    wgsl: declare(params.length, COPY_BINDINGS) + main,
    bindings: COPY_BINDINGS,
    buffers: [x.storage as GpuStorage, st],
    params: params.words(),
    groups: Math.ceil(n / WG),
  });
  return st;
}

/** A copy of the only input (`reshape`, `stopGradient`; dispatch normally shares storage). */
export function copyKernel<P extends Prim>(): GpuKernel<P> {
  return (rt, inputs, _params, out) =>
    stridedCopy(rt, "copy", inputs[0]!, 0, stridesOf(out.shape), out.shape);
}

/** `permute(perm)`. */
export const permuteKernel: GpuKernel<"permute"> = (rt, inputs, params, out) => {
  const st = stridesOf(inputs[0]!.shape);
  return stridedCopy(rt, "permute", inputs[0]!, 0, params.perm.map((p) => st[p]!), out.shape);
};

/** `broadcastTo(shape)`: materialises the broadcast (stride-0 reads). */
export const broadcastToKernel: GpuKernel<"broadcastTo"> = (rt, inputs, _params, out) =>
  stridedCopy(
    rt,
    "broadcastTo",
    inputs[0]!,
    0,
    broadcastStrides(inputs[0]!.shape, out.shape),
    out.shape,
  );

/** `slice(starts, stops, steps)`. */
export const sliceKernel: GpuKernel<"slice"> = (rt, inputs, params, out) => {
  const st = stridesOf(inputs[0]!.shape);
  let base = 0;
  st.forEach((s, d) => (base += params.starts[d]! * s));
  return stridedCopy(
    rt,
    "slice",
    inputs[0]!,
    base,
    st.map((s, d) => s * params.steps[d]!),
    out.shape,
  );
};

/** `flip(axes)`: negative source strides. */
export const flipKernel: GpuKernel<"flip"> = (rt, inputs, params, out) => {
  const shape = inputs[0]!.shape;
  const st = stridesOf(shape);
  let base = 0;
  const src = st.slice();
  for (const d of params.axes) {
    if (shape[d]! > 0) base += (shape[d]! - 1) * st[d]!;
    src[d] = -st[d]!;
  }
  return stridedCopy(rt, "flip", inputs[0]!, base, src, out.shape);
};

/** Bit pattern of the pad value in the output dtype. */
function fillBits(value: number, out: Aval): number {
  if (out.dtype === "bool") return value !== 0 ? 1 : 0;
  if (out.dtype === "float32") return new Uint32Array(Float32Array.of(value).buffer)[0]!;
  if (out.dtype === "int32") return Int32Array.of(value)[0]! >>> 0;
  return Uint32Array.of(value)[0]!;
}

/**
 * `pad(lo, hi, interior, value)`: output coordinate c of axis d holds input element
 * `(c - lo)/(interior + 1)` when that is a whole number inside the input, else the value.
 */
export const padKernel: GpuKernel<"pad"> = (rt, inputs, params, out) => {
  const x = inputs[0]!;
  const n = sizeOf(out.shape);
  const st = rt.alloc(n * 4, "pad");
  if (n === 0) return st;
  const r = out.shape.length;
  const xs = stridesOf(x.shape);
  // words: n, fill, then per axis: out dim, lo, interior+1, in dim, in stride
  const pr = new Params().u(n, fillBits(params.value, out));
  for (let d = 0; d < r; d++) {
    pr.u(out.shape[d]!).i(params.lo[d]!).u(params.interior[d]! + 1, x.shape[d]!, xs[d]!);
  }
  const lines = ["  var rem = i;", "  var o = 0u;", "  var inside = true;"];
  for (let d = r - 1; d >= 0; d--) {
    const w = 2 + d * 5;
    lines.push(
      `  { let c = i32(rem % p(${w}u)); rem = rem / p(${w}u);`,
      `    let t = c - pi(${w + 1}u); let q = p(${w + 2}u);`,
      `    if (t < 0 || u32(t) % q != 0u || u32(t) / q >= p(${w + 3}u)) { inside = false; }`,
      `    else { o += (u32(t) / q) * p(${w + 4}u); } }`,
    );
  }
  lines.push("  dst[i] = select(p(1u), src[o], inside);");
  const bindings = COPY_BINDINGS;
  rt.run("pad", {
    wgsl: declare(pr.length, bindings) + linearMain(lines.join("\n")),
    bindings,
    buffers: [x.storage as GpuStorage, st],
    params: pr.words(),
    groups: Math.ceil(n / WG),
  });
  return st;
};

/**
 * `concat(axis)`: inputs are copied in groups of up to (storage-buffer limit − 1) per
 * dispatch; each dispatch fills the output slab its group covers along `axis`.
 */
export const concatKernel: GpuKernel<"concat"> = (rt, inputs, params, out) => {
  const n = sizeOf(out.shape);
  const st = rt.alloc(n * 4, "concat");
  if (n === 0) return st;
  const axis = params.axis;
  const outer = sizeOf(out.shape.slice(0, axis));
  const inner = sizeOf(out.shape.slice(axis + 1));
  const total = out.shape[axis]!;
  const per = Math.max(1, Math.min(rt.maxStorageBuffers - 1, 7));
  const live = inputs.filter((t) => t.shape[axis]! > 0);
  let at = 0;
  for (let g0 = 0; g0 < live.length; g0 += per) {
    const group = live.slice(g0, g0 + per);
    const lens = group.map((t) => t.shape[axis]!);
    const slab = lens.reduce((a, b) => a + b, 0);
    const count = outer * slab * inner;
    // words: count, slab, inner, total, at, then per input: start within slab, length
    const pr = new Params().u(count, slab, inner, total, at);
    let s = 0;
    for (const l of lens) {
      pr.u(s, l);
      s += l;
    }
    const bindings: Binding[] = group.map((_, k) => ({ name: `in${k}`, ty: "u32" }));
    bindings.push({ name: "dst", ty: "u32", rw: true });
    const pick = group.map((_, k) => {
      const w = 5 + 2 * k;
      return `  if (c >= p(${w}u) && c < p(${w}u) + p(${w + 1}u)) {
    v = in${k}[(q * p(${w + 1}u) + (c - p(${w}u))) * p(2u) + e];
  }`;
    }).join("\n");
    const body = `  let e = i % p(2u);
  let qc = i / p(2u);
  let c = qc % p(1u);
  let q = qc / p(1u);
  var v = 0u;
${pick}
  dst[(q * p(3u) + p(4u) + c) * p(2u) + e] = v;`;
    rt.run("concat", {
      wgsl: declare(pr.length, bindings) + linearMain(body),
      bindings,
      buffers: [...group.map((t) => t.storage as GpuStorage), st],
      params: pr.words(),
      groups: Math.ceil(count / WG),
    });
    at += slab;
  }
  return st;
};
