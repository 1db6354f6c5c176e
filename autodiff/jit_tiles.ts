/**
 * A graph rewrite of `jit` for backends that allow rewrites exact up to signed zeros
 * (`Backend.jitRewrites`: WebGPU): a sum of zero-padded values that tile one axis — the gradient
 * of `split`, whose every slice pulls back to a `pad`, summed by the accumulation of cotangents —
 * becomes one `concat` of the unpadded values. In a ViT block the q/k/v split's backward is three
 * pads and two adds; as a concat it is one kernel. (`x + 0` turns −0 into +0, which the concat
 * keeps, so the CPU, bit-identical to eager, does not take it.)
 * @module
 */
import type { PrimParams } from "../tensor/primitives.ts";
import type { Equation } from "./jit_trace.ts";

/** Values laid side by side along `axis`: each `src` slot starting at `start`. */
interface Tiles {
  readonly axis: number;
  readonly parts: readonly { readonly start: number; readonly len: number; readonly src: number }[];
}

/**
 * Rewrites every `add` tree of single-use zero `pad`s that tile one axis into a `concat` (the
 * pads and inner adds it no longer reads are left for dead-code elimination). `outSlots` are
 * the program's outputs (never rewritten away).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tilePads } from "./jit_tiles.ts";
 * import type { Equation } from "./jit_trace.ts";
 * const all = { shape: [2, 2], dtype: "float32" } as const;
 * const pad = (src: number, out: number, lo: number): Equation => ({
 *   prim: "pad", params: { lo: [lo, 0], hi: [1 - lo, 0], interior: [0, 0], value: 0 },
 *   inputs: [src], out, aval: all,
 * });
 * const eqns: Equation[] = [
 *   pad(0, 2, 0), pad(1, 3, 1),
 *   { prim: "binary", params: { op: "add" }, inputs: [3, 2], out: 4, aval: all },
 * ];
 * const out = tilePads(eqns, [4]);
 * assert.deepEqual([out[2]!.prim, out[2]!.inputs, out[2]!.params], ["concat", [0, 1], { axis: 0 }]);
 * ```
 */
export function tilePads(eqns: readonly Equation[], outSlots: readonly number[]): Equation[] {
  const readers = new Map<number, number>();
  for (const e of eqns) for (const s of e.inputs) readers.set(s, (readers.get(s) ?? 0) + 1);
  for (const s of outSlots) readers.set(s, (readers.get(s) ?? 0) + 1);
  const producer = new Map(eqns.map((e) => [e.out, e]));
  const tiles = new Map<number, Tiles>();
  /** The tiles of slot s, when s is read once (by the add asking) and is a pad or tiled add. */
  const tilesOf = (s: number): Tiles | null => {
    if (readers.get(s) !== 1) return null;
    const t = tiles.get(s);
    if (t) return t;
    const p = producer.get(s);
    if (!p || p.prim !== "pad") return null;
    const q = p.params as PrimParams["pad"];
    if (q.value !== 0 || q.interior.some((n) => n !== 0)) return null;
    const axes = q.lo.flatMap((lo, a) => (lo !== 0 || q.hi[a] !== 0 ? [a] : []));
    if (axes.length !== 1) return null;
    const a = axes[0]!, len = p.aval.shape[a]! - q.lo[a]! - q.hi[a]!;
    return len > 0 ? { axis: a, parts: [{ start: q.lo[a]!, len, src: p.inputs[0]! }] } : null;
  };
  const out = eqns.slice();
  eqns.forEach((e, i) => {
    if (e.prim !== "binary" || (e.params as { op: string }).op !== "add") return;
    const [x, y] = e.inputs as [number, number];
    const same = (s: number) => {
      const a = producer.get(s)?.aval;
      return a !== undefined && a.dtype === e.aval.dtype && `${a.shape}` === `${e.aval.shape}`;
    };
    if (x === y || !same(x) || !same(y)) return;
    const tx = tilesOf(x), ty = tilesOf(y);
    if (!tx || !ty || tx.axis !== ty.axis) return;
    const parts = [...tx.parts, ...ty.parts].sort((a, b) => a.start - b.start);
    if (parts.some((p, k) => k > 0 && parts[k - 1]!.start + parts[k - 1]!.len > p.start)) return;
    const t = { axis: tx.axis, parts };
    tiles.set(e.out, t);
    const covered = parts.reduce((n, p) => n + p.len, 0) === e.aval.shape[t.axis];
    if (covered && parts[0]!.start === 0) {
      out[i] = { ...e, prim: "concat", params: { axis: t.axis }, inputs: parts.map((p) => p.src) };
    }
  });
  return out;
}
