/**
 * Data-movement kernels: copies, `permute`, `broadcastTo`, `slice`, `flip`, `pad`, `concat`.
 * Each one is a strided copy (see {@link copyStrided}) with suitable offsets and strides.
 * @module
 */
import type { Kernel, Storage } from "../backend.ts";
import type { Prim } from "../primitives.ts";
import { broadcastStrides, stridesOf } from "../shape.ts";
import { alloc, copyStrided, input, wrap } from "./iter.ts";

/** Kernel that returns a copy of its only input (`reshape`, `stopGradient`). */
export function copyKernel<P extends Prim>(): Kernel<P> {
  return (inputs) => wrap(input(inputs, 0).slice());
}

/** `permute(perm)`: `out.shape[i] = in.shape[perm[i]]`. */
export const permuteKernel: Kernel<"permute"> = (inputs, params, out): Storage => {
  const st = stridesOf(inputs[0]!.shape);
  const o = alloc(out);
  const src = params.perm.map((p) => st[p]!);
  copyStrided(input(inputs, 0), 0, src, o, 0, stridesOf(out.shape), out.shape);
  return wrap(o);
};

/** `broadcastTo(shape)`: materialises the broadcast view. */
export const broadcastToKernel: Kernel<"broadcastTo"> = (inputs, _params, out): Storage => {
  const o = alloc(out);
  const src = broadcastStrides(inputs[0]!.shape, out.shape);
  copyStrided(input(inputs, 0), 0, src, o, 0, stridesOf(out.shape), out.shape);
  return wrap(o);
};

/** `slice(starts, stops, steps)`: the elements `starts[i] + j*steps[i]` along every axis. */
export const sliceKernel: Kernel<"slice"> = (inputs, params, out): Storage => {
  const st = stridesOf(inputs[0]!.shape);
  const o = alloc(out);
  let base = 0;
  for (let d = 0; d < st.length; d++) base += params.starts[d]! * st[d]!;
  const src = st.map((s, d) => s * params.steps[d]!);
  copyStrided(input(inputs, 0), base, src, o, 0, stridesOf(out.shape), out.shape);
  return wrap(o);
};

/** `flip(axes)`: reverses the listed axes (a copy with negative source strides). */
export const flipKernel: Kernel<"flip"> = (inputs, params, out): Storage => {
  const shape = inputs[0]!.shape;
  const st = stridesOf(shape);
  const o = alloc(out);
  let base = 0;
  const src = st.slice();
  for (const d of params.axes) {
    if (shape[d]! > 0) base += (shape[d]! - 1) * st[d]!;
    src[d] = -st[d]!;
  }
  copyStrided(input(inputs, 0), base, src, o, 0, stridesOf(out.shape), out.shape);
  return wrap(o);
};

/**
 * `pad(lo, hi, interior, value)`: fills with `value` (bool: `value != 0`), then writes input
 * element i of each axis at `lo + i*(interior + 1)`.
 */
export const padKernel: Kernel<"pad"> = (inputs, params, out): Storage => {
  const x = inputs[0]!;
  const o = alloc(out);
  const v = params.value;
  o.fill(out.dtype === "bool" ? (v !== 0 ? 1 : 0) : v);
  const ost = stridesOf(out.shape);
  let base = 0;
  for (let d = 0; d < ost.length; d++) base += params.lo[d]! * ost[d]!;
  const dst = ost.map((s, d) => s * (params.interior[d]! + 1));
  copyStrided(input(inputs, 0), 0, stridesOf(x.shape), o, base, dst, x.shape);
  return wrap(o);
};

/** `concat(axis)`: the inputs one after another along `axis`. */
export const concatKernel: Kernel<"concat"> = (inputs, params, out): Storage => {
  const o = alloc(out);
  const ost = stridesOf(out.shape);
  let at = 0;
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i]!;
    copyStrided(input(inputs, i), 0, stridesOf(t.shape), o, at * ost[params.axis]!, ost, t.shape);
    at += t.shape[params.axis]!;
  }
  return wrap(o);
};
