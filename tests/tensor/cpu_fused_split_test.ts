/**
 * A large fused elementwise program made of independent parts (the jitted AdamW over many
 * same-size parameters) runs one loop per part (tensor/cpu/fused_elementwise.ts): the outputs
 * must be bit-identical to each part run as its own program, in float32 and float64, with
 * shared and broadcast inputs.
 */
import assert from "node:assert/strict";
import { cpuFusedElementwise } from "../../tensor/cpu/fused_elementwise.ts";
import { cpuBackend } from "../../tensor/cpu/mod.ts";
import type { ElementwiseNode, ElementwiseProgram } from "../../tensor/elementwise_program.ts";
import { rng } from "../_helpers.ts";

/** One AdamW-like chain over inputs [p, g, m, scalar lr]: 12 nodes, outputs at 3 of them. */
function chain(base: number, p: number, g: number, m: number, lr: number) {
  const n = (k: number) => ({ node: base + k }), x = (j: number) => ({ input: j });
  const nodes: ElementwiseNode[] = [
    { prim: "binary", op: "mul", args: [x(m), x(lr)] }, // 0
    { prim: "binary", op: "add", args: [n(0), x(g)] }, // 1: m'
    { prim: "binary", op: "mul", args: [x(g), x(g)] }, // 2
    { prim: "unary", op: "sqrt", args: [n(2)] }, // 3
    { prim: "binary", op: "add", args: [n(3), x(lr)] }, // 4
    { prim: "binary", op: "div", args: [n(1), n(4)] }, // 5
    { prim: "unary", op: "exp", args: [n(5)] }, // 6
    { prim: "unary", op: "erf", args: [n(6)] }, // 7
    { prim: "binary", op: "mul", args: [n(7), x(lr)] }, // 8
    { prim: "binary", op: "sub", args: [x(p), n(8)] }, // 9: p'
    { prim: "binary", op: "maximum", args: [n(9), n(1)] }, // 10
    { prim: "unary", op: "tanh", args: [n(10)] }, // 11
  ];
  return { nodes, outputs: [base + 1, base + 9, base + 11] };
}

for (const dtype of ["float32", "float64"] as const) {
  Deno.test(`fused ${dtype}: a program of 5 independent parts (60 nodes) equals each part alone, bit for bit`, () => {
    const size = 257, r = rng(3);
    const vals = (k: number) => Array.from({ length: k }, () => (r() - 0.5) * 6);
    // inputs: lr (a broadcast scalar), then p, g, m for each of 5 parameters
    const reads = [
      { div: 1, mod: 1 },
      ...Array.from({ length: 15 }, () => ({ div: 1, mod: size })),
    ];
    const data = [vals(1), ...Array.from({ length: 15 }, () => vals(size))];
    const up = (v: number[]) =>
      cpuBackend.upload(dtype === "float32" ? Float32Array.from(v) : Float64Array.from(v), dtype);
    const chains = Array.from(
      { length: 5 },
      (_, q) => chain(12 * q, 1 + 3 * q, 2 + 3 * q, 3 + 3 * q, 0),
    );
    const big: ElementwiseProgram = {
      dtype,
      size,
      inputs: reads,
      nodes: chains.flatMap((c) => c.nodes),
      outputs: chains.flatMap((c) => c.outputs),
    };
    const got = cpuFusedElementwise(big, data.map(up));
    const read = (s: unknown, n: number) => Array.from(cpuBackend.readSync!(s as never, dtype, n));
    for (let q = 0; q < 5; q++) {
      const one = chain(0, 1, 2, 3, 0);
      const small: ElementwiseProgram = { dtype, size, inputs: reads.slice(0, 4), ...one };
      const want = cpuFusedElementwise(
        small,
        [data[0]!, ...data.slice(1 + 3 * q, 4 + 3 * q)].map(up),
      );
      for (let o = 0; o < 3; o++) {
        const a = read(got[3 * q + o], size), b = read(want[o], size);
        a.forEach((v, i) =>
          assert.ok(Object.is(v, b[i]), `part ${q} output ${o} [${i}]: ${v} vs ${b[i]}`)
        );
      }
    }
  });
}
