/**
 * Layout ops folded into matmuls (where the backend has `Backend.matmulView`: WebGPU). A matmul
 * operand made by a chain of `permute`/`slice`/`reshape` from another value is read through the
 * chain's strided view of that value's buffer (attention's q, k, v: a permute and a split of the
 * qkv projection), and a product whose only reader is a `permute` is written straight into the
 * permute's layout (attention's head merge). The layout steps no one reads any more are dropped.
 * Exact: the same products, summed in the same order.
 * @module
 */
import type { Aval } from "../tensor/aval.ts";
import type { PrimParams } from "../tensor/primitives.ts";
import { stridesOf } from "../tensor/shape.ts";
import type { Step, View } from "./jit_schedule.ts";

const LAYOUT = new Set(["permute", "slice", "reshape", "stopGradient"]);

/**
 * The strided view of `target` over a buffer holding `shape` with `strides` (element units), or
 * null when the reshape needs a copy (numpy's no-copy reshape).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reshapeView } from "./jit_views.ts";
 * assert.deepEqual(reshapeView([2, 3, 4], [12, 4, 1], [6, 4]), [4, 1]); // merge contiguous dims
 * assert.deepEqual(reshapeView([4, 6], [1, 4], [4, 2, 3]), [1, 12, 4]); // split a strided dim
 * assert.equal(reshapeView([2, 3], [1, 2], [6]), null); // a transposed merge needs a copy
 * ```
 */
export function reshapeView(
  shape: readonly number[],
  strides: readonly number[],
  target: readonly number[],
): number[] | null {
  if (shape.some((n) => n === 0) || target.some((n) => n === 0)) return null;
  const od = shape.flatMap((n, i) => (n === 1 ? [] : [i]));
  const nd = target.flatMap((n, i) => (n === 1 ? [] : [i]));
  const out = target.map(() => 0);
  let oi = 0, ni = 0;
  while (oi < od.length && ni < nd.length) {
    let oj = oi + 1, nj = ni + 1;
    let op = shape[od[oi]!]!, np = target[nd[ni]!]!;
    while (op !== np) {
      if (np < op) {
        if (nj >= nd.length) return null;
        np *= target[nd[nj++]!]!;
      } else {
        if (oj >= od.length) return null;
        op *= shape[od[oj++]!]!;
      }
    }
    // The old dims oi..oj-1 must be one strided run.
    for (let k = oi; k < oj - 1; k++) {
      if (strides[od[k]!] !== shape[od[k + 1]!]! * strides[od[k + 1]!]!) return null;
    }
    out[nd[nj - 1]!] = strides[od[oj - 1]!]!;
    for (let k = nj - 1; k > ni; k--) out[nd[k - 1]!] = out[nd[k]!]! * target[nd[k]!]!;
    oi = oj, ni = nj;
  }
  return oi === od.length && ni === nd.length ? out : null;
}

/**
 * Folds layout chains into the matmuls that read them and permutes into the matmuls they read
 * (see the module doc); `outSlots` are the program's outputs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { foldViews } from "./jit_views.ts";
 * import type { Step } from "./jit_schedule.ts";
 * const eqn = (prim: string, params: object, inputs: number[], out: number, shape: number[]): Step => ({
 *   kind: "eqn", eqn: { prim: prim as never, params: params as never, inputs, out, aval: { shape, dtype: "float32" } },
 *   inputs, outs: [out],
 * });
 * const steps = [
 *   eqn("permute", { perm: [1, 0] }, [0], 2, [3, 2]),
 *   eqn("matmul", { transA: false, transB: false }, [2, 1], 3, [3, 4]),
 * ];
 * const avals = [{ shape: [2, 3] }, { shape: [2, 4] }, { shape: [3, 2] }, { shape: [3, 4] }];
 * const out = foldViews(steps, (s) => ({ ...avals[s]!, dtype: "float32" }), [3]);
 * assert.deepEqual(out.map((s) => s.kind), ["matmulView"]); // the transpose is read in place
 * assert.deepEqual(out[0]!.kind === "matmulView" && out[0]!.views.a, { shape: [3, 2], base: 0, strides: [1, 3] });
 * ```
 */
export function foldViews(
  steps: readonly Step[],
  avalOf: (slot: number) => Aval,
  outSlots: readonly number[],
): Step[] {
  const producer = new Map<number, Step>();
  for (const st of steps) for (const o of st.outs) producer.set(o, st);
  const isOut = new Set(outSlots);
  /** The view of slot s through its layout chain, and the slot it reads, if a permute is in it. */
  const viewOf = (s: number): { src: number; view: View } | null => {
    const chain: Extract<Step, { kind: "eqn" }>[] = [];
    let cur = s;
    for (;;) {
      const p = producer.get(cur);
      if (!p || p.kind !== "eqn" || !LAYOUT.has(p.eqn.prim)) break;
      chain.unshift(p);
      cur = p.inputs[0]!;
    }
    if (!chain.some((p) => p.eqn.prim === "permute")) return null;
    const src = avalOf(cur);
    if (src.dtype !== "float32") return null;
    let shape = [...src.shape], strides = stridesOf(shape), base = 0;
    for (const p of chain) {
      const e = p.eqn, to = e.aval.shape;
      if (e.prim === "permute") {
        const { perm } = e.params as PrimParams["permute"];
        strides = perm.map((d) => strides[d]!);
      } else if (e.prim === "slice") {
        const { starts, steps } = e.params as PrimParams["slice"];
        base += starts.reduce((a, st, d) => a + st * strides[d]!, 0);
        strides = strides.map((x, d) => x * steps[d]!);
      } else if (e.prim === "reshape") {
        const r = reshapeView(shape, strides, to);
        if (!r) return null;
        strides = r;
      }
      shape = [...to];
    }
    return { src: cur, view: { shape, base, strides } };
  };
  let out: Step[] = steps.map((st) => {
    if (st.kind !== "eqn" || st.eqn.prim !== "matmul" || st.eqn.aval.dtype !== "float32") return st;
    const a = viewOf(st.inputs[0]!), b = viewOf(st.inputs[1]!);
    if (!a && !b) return st;
    return {
      kind: "matmulView",
      eqn: st.eqn,
      inputs: [a?.src ?? st.inputs[0]!, b?.src ?? st.inputs[1]!],
      outs: st.outs,
      outAvals: [st.eqn.aval],
      views: { a: a?.view, b: b?.view },
      members: 1,
    } satisfies Step;
  });
  // A product read only by a permute is written in the permute's layout.
  const readers = readersOf(out);
  const replaced = new Set<Step>();
  out = out.map((st) => {
    const isMatmul = (st.kind === "eqn" && st.eqn.prim === "matmul") ||
      (st.kind === "matmulView" && !st.views.c);
    if (!isMatmul || st.eqn.aval.dtype !== "float32") return st;
    const y = st.outs[0]!;
    const r = readers.get(y) ?? [];
    const p = r[0];
    if (isOut.has(y) || r.length !== 1 || p!.kind !== "eqn" || p!.eqn.prim !== "permute") return st;
    const { perm } = p!.eqn.params as PrimParams["permute"];
    const zs = stridesOf(p!.eqn.aval.shape);
    const strides = perm.map(() => 0);
    perm.forEach((d, e) => (strides[d] = zs[e]!));
    replaced.add(p!);
    const views = st.kind === "matmulView" ? st.views : {};
    return {
      kind: "matmulView",
      eqn: st.eqn,
      inputs: st.inputs,
      outs: [p!.eqn.out],
      outAvals: [p!.eqn.aval],
      views: { ...views, c: { base: 0, strides } },
      members: 2, // the matmul and the permute
    } satisfies Step;
  }).filter((st) => !replaced.has(st));
  // Drop layout steps no one reads now (chains: until nothing changes).
  for (;;) {
    const rd = readersOf(out);
    const dead = out.filter((st) =>
      st.kind === "eqn" && LAYOUT.has(st.eqn.prim) && !isOut.has(st.outs[0]!) &&
      (rd.get(st.outs[0]!)?.length ?? 0) === 0
    );
    if (dead.length === 0) return out;
    out = out.filter((st) => !dead.includes(st));
  }
}

/** The steps reading each slot. */
function readersOf(steps: readonly Step[]): Map<number, Step[]> {
  const m = new Map<number, Step[]>();
  for (const st of steps) {
    for (const s of st.inputs) {
      const r = m.get(s);
      if (r) r.push(st);
      else m.set(s, [st]);
    }
  }
  return m;
}
