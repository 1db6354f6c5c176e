/**
 * Matmul epilogues (autodiff/jit_epilogue.ts) on hand-written schedules: a matmul read only by a
 * pure program (directly or through a reshape) merges into it; one read again later is merged
 * and stored; one read earlier, by a reducing program, at another index, twice by the program,
 * or refused by the backend stays apart.
 */
import assert from "node:assert/strict";
import { fuseMatmulEpilogues } from "../../autodiff/jit_epilogue.ts";
import type { Step } from "../../autodiff/jit_schedule.ts";
import type { ElementwiseProgram } from "../../tensor/elementwise_program.ts";

const A = { shape: [2, 3], dtype: "float32" } as const;
const matmul = (a: number, b: number, out: number): Step => ({
  kind: "eqn",
  eqn: { prim: "matmul", params: { transA: false, transB: false }, inputs: [a, b], out, aval: A },
  inputs: [a, b],
  outs: [out],
});
const reshape = (x: number, out: number): Step => ({
  kind: "eqn",
  eqn: { prim: "reshape", params: { shape: [6] }, inputs: [x], out, aval: A },
  inputs: [x],
  outs: [out],
});
/** A program over 6 elements: input 0 at `read0` plus input 1 (a bias), optionally summed. */
const program = (read0 = { div: 1, mod: 6 }, reduce = false): ElementwiseProgram => ({
  dtype: "float32",
  size: 6,
  inputs: [read0, { div: 1, mod: 3 }],
  nodes: [
    { prim: "binary", op: "add", args: [{ input: 0 }, { input: 1 }] },
    ...(reduce
      ? [
        {
          prim: "reduce",
          op: "sum",
          args: [{ node: 0 }],
          into: { div: 6, mod: 1 },
          size: 1,
        } as const,
      ]
      : []),
  ],
  outputs: [reduce ? 1 : 0],
});
const fused = (inputs: number[], out: number, p = program()): Step => ({
  kind: "fused",
  program: p,
  inputs,
  outs: [out],
  outAvals: [A],
  members: 1,
});
const kinds = (steps: Step[]) => steps.map((s) => s.kind);
const yes = () => true;

Deno.test("matmul epilogues: a product read once by a pure program merges, through a reshape too", () => {
  const direct = fuseMatmulEpilogues([matmul(0, 1, 2), fused([2, 3], 4)], [4], yes);
  assert.deepEqual(kinds(direct), ["matmulFused"]);
  const s = direct[0] as Extract<Step, { kind: "matmulFused" }>;
  assert.deepEqual([s.inputs, s.outs, s.fromMatmul, s.storeProduct], [[0, 1, 3], [4], 0, false]);
  const viaView = fuseMatmulEpilogues(
    [matmul(0, 1, 2), reshape(2, 5), fused([5, 3], 4)],
    [4],
    yes,
  );
  assert.deepEqual(kinds(viaView), ["matmulFused"]);
  assert.equal((viaView[0] as { members: number }).members, 3);
});

Deno.test("matmul epilogues: a product read again later is stored by the merged step", () => {
  const steps = fuseMatmulEpilogues(
    [matmul(0, 1, 2), fused([2, 3], 4), matmul(2, 1, 5)],
    [4, 5],
    yes,
  );
  assert.deepEqual(kinds(steps), ["matmulFused", "eqn"]);
  const s = steps[0] as Extract<Step, { kind: "matmulFused" }>;
  assert.deepEqual([s.storeProduct, s.outs], [true, [2, 4]]);
  assert.deepEqual(s.outAvals[0], A);
});

Deno.test("matmul epilogues: what stays apart", () => {
  const cases: [string, Step[], number[], boolean?][] = [
    ["read earlier by another step", [matmul(0, 1, 2), matmul(2, 1, 5), fused([2, 3], 4)], [4, 5]],
    ["a reducing program", [matmul(0, 1, 2), fused([2, 3], 4, program(undefined, true))], [4]],
    ["read at another index", [matmul(0, 1, 2), fused([2, 3], 4, program({ div: 2, mod: 3 }))], [
      4,
    ]],
    ["read twice by the program", [matmul(0, 1, 2), fused([2, 2], 4)], [4]],
    ["refused by the backend", [matmul(0, 1, 2), fused([2, 3], 4)], [4], false],
  ];
  for (const [why, steps, outs, can] of cases) {
    const got = fuseMatmulEpilogues(steps, outs, () => can ?? true);
    assert.ok(!kinds(got).includes("matmulFused"), why);
    assert.equal(got.length, steps.length, why);
  }
});
