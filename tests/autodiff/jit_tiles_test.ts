/**
 * The pad-sum → concat rewrite of `jit` (autodiff/jit_tiles.ts): rewritten only when single-use
 * zero pads of one axis tile it exactly; never on a gap, an overlap, a second reader, a nonzero
 * fill or padding on two axes.
 */
import assert from "node:assert/strict";
import { tilePads } from "../../autodiff/jit_tiles.ts";
import type { Equation } from "../../autodiff/jit_trace.ts";

const all = { shape: [3, 2], dtype: "float32" } as const;
const pad = (src: number, out: number, lo: number, len = 1, value = 0, lo1 = 0): Equation => ({
  prim: "pad",
  params: { lo: [lo, lo1], hi: [3 - lo - len, 0], interior: [0, 0], value },
  inputs: [src],
  out,
  aval: { shape: [3, 2 + lo1], dtype: "float32" },
});
const add = (x: number, y: number, out: number): Equation => ({
  prim: "binary",
  params: { op: "add" },
  inputs: [x, y],
  out,
  aval: all,
});
const prims = (eqns: Equation[], outs: number[]) => tilePads(eqns, outs).map((e) => e.prim);

Deno.test("jit tiles: three pads summed in any order become one concat in start order", () => {
  const eqns = [pad(0, 3, 2), pad(1, 4, 0), pad(2, 5, 1), add(3, 4, 6), add(6, 5, 7)];
  const out = tilePads(eqns, [7]);
  assert.deepEqual(out.map((e) => e.prim), ["pad", "pad", "pad", "binary", "concat"]);
  assert.deepEqual([out[4]!.inputs, out[4]!.params], [[1, 2, 0], { axis: 0 }]);
});

Deno.test("jit tiles: gaps, overlaps, second readers, nonzero fills, two axes stay as they are", () => {
  // A gap: rows 0 and 2 only.
  assert.deepEqual(prims([pad(0, 3, 0), pad(1, 4, 2), add(3, 4, 5)], [5]), [
    "pad",
    "pad",
    "binary",
  ]);
  // An overlap: rows 0–1 and 1–2.
  const overlap = [pad(0, 3, 0, 2), pad(1, 4, 1, 2), add(3, 4, 5)];
  assert.deepEqual(prims(overlap, [5]), ["pad", "pad", "binary"]);
  // A pad read twice (also a program output).
  const twice = [pad(0, 3, 0), pad(1, 4, 1, 2), add(3, 4, 5)];
  assert.deepEqual(prims(twice, [5, 3]), ["pad", "pad", "binary"]);
  assert.deepEqual(prims(twice, [5]), ["pad", "pad", "concat"]);
  // A nonzero fill.
  assert.deepEqual(prims([pad(0, 3, 0, 1, 1), pad(1, 4, 1, 2), add(3, 4, 5)], [5]), [
    "pad",
    "pad",
    "binary",
  ]);
  // Padding on two axes (shapes differ from the add's, so not even considered).
  assert.deepEqual(prims([pad(0, 3, 0, 1, 0, 1), pad(1, 4, 1, 2), add(3, 4, 5)], [5]), [
    "pad",
    "pad",
    "binary",
  ]);
});
