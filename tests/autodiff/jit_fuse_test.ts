/**
 * Elementwise fusion in `jit` (autodiff/jit_fuse.ts, tensor/cpu/fused_elementwise.ts): random
 * chains of every fusible unary and binary op, float32 and float64, every broadcast read
 * (scalar, trailing bias, row statistic, a non-contiguous one that must stay unfused),
 * explicit broadcasts, sum/max/min reductions over trailing, leading and all axes (fused into
 * the loop of their input) and over a middle axis (unfused), values read after a reduction,
 * and several outputs, replay bit-identically to eager; and the grouping rules on hand-written
 * graphs.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { dispose, jit, jitStats, scope, sum, type Tensor, tensor } from "../../mod.ts";
import { bind } from "../../tensor/dispatch.ts";
import { chain, type Op } from "./_chains.ts";
import { BINARY_OPS, UNARY_OPS } from "../../tensor/primitives.ts";
import { fuseElementwise, readPattern } from "../../autodiff/jit_fuse.ts";
import type { Equation } from "../../autodiff/jit_trace.ts";
import type { Aval } from "../../tensor/aval.ts";

const FUSIBLE_UNARY = UNARY_OPS.filter((o) => o !== "logicalNot");
const OUT = [2, 3, 4];
/** External operand shapes: full, scalar, bias, trailing block, row statistic, middle (unfusible). */
const SHAPES = [[2, 3, 4], [], [4], [3, 4], [2, 3, 1], [1, 3, 1], [1]];
const SPECIAL = [0, -0, 0.5, 2.5, -1.5, 1, -1, NaN, Infinity, -Infinity, 1e-30, 3e38];

/** Reduced axes: trailing, leading, leading two, all, middle (a non-contiguous result). */
const AXES = [[2], [0], [0, 1], [0, 1, 2], [1]];

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("unary" as const),
    op: fc.constantFrom(...FUSIBLE_UNARY),
    a: fc.nat(),
  }),
  fc.record({
    kind: fc.constant("binary" as const),
    op: fc.constantFrom(...BINARY_OPS),
    a: fc.nat(),
    b: fc.nat(),
  }),
  fc.record({
    kind: fc.constant("external" as const),
    op: fc.constantFrom(...BINARY_OPS),
    a: fc.nat(),
    shape: fc.nat({ max: SHAPES.length - 1 }),
    swap: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("reduce" as const),
    op: fc.constantFrom("sum" as const, "max" as const, "min" as const),
    axes: fc.nat({ max: AXES.length - 1 }),
    a: fc.nat(),
  }),
  fc.record({ kind: fc.constant("broadcast" as const), a: fc.nat() }),
);

const values = (n: number, seed: number) =>
  Array.from({ length: n }, (_, i) => {
    const r = Math.sin(seed * 7919 + i * 104729) * 4;
    return i % 5 === 0 ? SPECIAL[(seed + i) % SPECIAL.length]! : r;
  });

Deno.test("jit fusion: random elementwise chains replay bit-identically to eager (f32, f64)", () => {
  let fusedEquations = 0, unfusedBroadcasts = 0, fusedReductions = 0;
  fc.assert(
    fc.property(
      fc.array(opArb, { minLength: 1, maxLength: 14 }),
      fc.array(fc.nat(), { maxLength: 3 }),
      fc.constantFrom("float32" as const, "float64" as const),
      fc.nat({ max: 1000 }),
      (ops, outs, dtype, seed) => {
        const mk = (shape: number[], s: number) =>
          tensor(values(shape.reduce((a, b) => a * b, 1), s), { dtype, shape });
        const x = mk(OUT, seed), r = mk([2, 3, 1], seed + 1);
        const ext = ops.map((o, i) =>
          o.kind === "external" ? mk(SHAPES[o.shape]!, seed + 2 + i) : x
        );
        const f = chain(ops, outs, AXES, OUT);
        const jitted = jit(f);
        const eager = scope(() => f(x, r, ext));
        const fused = jitted(x, r, ext);
        fusedEquations += jitStats(jitted).fusedEquations;
        unfusedBroadcasts += ops.some((o) => o.kind === "external" && o.shape === 5) ? 1 : 0;
        fusedReductions += jitStats(jitted).dispatchesByKind.reduce === undefined &&
            ops.some((o) => o.kind === "reduce")
          ? 1
          : 0;
        for (let k = 0; k < eager.length; k++) {
          const a = eager[k]!.dataSync(), b = fused[k]!.dataSync();
          assert.deepEqual(fused[k]!.shape, eager[k]!.shape);
          for (let i = 0; i < a.length; i++) {
            assert.ok(Object.is(a[i], b[i]), `output ${k}[${i}]: eager ${a[i]}, jit ${b[i]}`);
          }
        }
        jitted.dispose();
        dispose([eager, fused, x, r, ext.filter((e) => e !== x)]);
      },
    ),
    { numRuns: 150, seed: 16 },
  );
  // The property exercised fusion (and the middle broadcast that must stay unfused).
  assert.ok(
    fusedEquations > 150 && unfusedBroadcasts > 10 && fusedReductions > 10,
    `${fusedEquations} ${unfusedBroadcasts} ${fusedReductions}`,
  );
});

Deno.test("jit fusion: AdamW-like chain, its sum and the sum's readers are one kernel (main loop + tail)", () => {
  const f = (p: Tensor, g: Tensor, m: Tensor) => {
    const m2 = bind("binary", [bind("binary", [m, tensor(0.9)], { op: "mul" }), g], { op: "add" });
    const upd = bind("binary", [m2, bind("unary", [m2], { op: "sqrt" })], { op: "div" });
    const p2 = bind("binary", [p, upd], { op: "sub" });
    const s = sum(p2);
    return {
      p: p2,
      m: m2,
      s,
      q: bind("unary", [bind("binary", [p2, s], { op: "sub" })], { op: "exp" }),
    };
  };
  const jitted = jit(f);
  const p = tensor([1, 2, 3]), g = tensor([0.5, 0.5, 0.5]), m = tensor([1, 4, 9]);
  const out = jitted(p, g, m), eager = scope(() => f(p, g, m));
  const s = jitStats(jitted);
  // mul, add, sqrt, div, sub, sum → the main loop, with outputs m2, p2 and the sum; sub, exp
  // (they read the finished sum) → the tail loop of the same kernel.
  assert.deepEqual([s.fusedKernels, s.fusedEquations, s.dispatches], [1, 8, 1]);
  for (const k of ["p", "m", "s", "q"] as const) {
    assert.deepEqual([...out[k].dataSync()], [...eager[k].dataSync()], k);
  }
  jitted.dispose();
  dispose([out, eager, p, g, m]);
});

Deno.test("jit fusion: layerNorm is two kernels (statistics, epilogues, normalising tail), bit-identical", () => {
  for (const dtype of ["float32", "float64"] as const) {
    const ln = (x: Tensor) => {
      const n = tensor(x.shape.at(-1)!, { dtype });
      const mu = bind("binary", [sum(x, -1, true), n], { op: "div" });
      const xc = bind("binary", [x, mu], { op: "sub" });
      const sq = bind("binary", [xc, xc], { op: "mul" });
      const v = bind("binary", [sum(sq, -1, true), n], { op: "div" });
      const r = bind("unary", [bind("binary", [v, tensor(1e-5, { dtype })], { op: "add" })], {
        op: "rsqrt",
      });
      return bind("binary", [xc, r], { op: "mul" });
    };
    const x = tensor(Array.from({ length: 24 }, (_, i) => Math.sin(i * 1.7) * 3), {
      dtype,
      shape: [2, 3, 4],
    });
    const jitted = jit(ln);
    const y = jitted(x), e = scope(() => ln(x));
    // sum + div (epilogue); sub, mul, sum + div, add, rsqrt (epilogue), the last mul (tail).
    const s = jitStats(jitted);
    assert.deepEqual([s.dispatches, s.fusedKernels, s.fusedEquations], [2, 2, 9]);
    const a = e.dataSync(), b = y.dataSync();
    for (let i = 0; i < a.length; i++) assert.ok(Object.is(a[i], b[i]), `${dtype} [${i}]`);
    jitted.dispose();
    dispose([x, y, e]);
  }
});

Deno.test("jit fusion: read patterns and grouping on hand-written graphs", () => {
  assert.deepEqual(readPattern([], [2, 3]), { div: 1, mod: 1 });
  assert.deepEqual(readPattern([2, 3], [2, 3]), { div: 1, mod: 6 });
  assert.deepEqual(readPattern([3, 1], [2, 3, 4]), { div: 4, mod: 3 });
  assert.deepEqual(readPattern([1, 1, 4], [2, 3, 4]), { div: 1, mod: 4 });
  assert.equal(readPattern([2, 1, 4], [2, 3, 4]), null);
  const full: Aval = { shape: [2, 4], dtype: "float32" };
  const row: Aval = { shape: [2, 1], dtype: "float32" };
  const avals = new Map<number, Aval>([[0, full], [1, row]]);
  const eq = (prim: Equation["prim"], op: string, inputs: number[], out: number, aval = full) => {
    avals.set(out, aval);
    return { prim, params: { op } as never, inputs, out, aval } as Equation;
  };
  // Two interleaved shapes: the row group (3, 4) is flushed when the full group reads it.
  const eqns = [
    eq("unary", "exp", [0], 2),
    eq("unary", "neg", [1], 3, row),
    eq("unary", "exp", [3], 4, row),
    eq("binary", "mul", [2, 4], 5),
    eq("binary", "add", [5, 0], 6),
  ];
  const steps = fuseElementwise(eqns, (s) => avals.get(s)!, [6], () => true);
  assert.deepEqual(steps.map((s) => [s.kind, s.outs]), [["fused", [4]], ["fused", [6]]]);
  // Unfusible ops and int dtypes stay single equations.
  const noFuse = fuseElementwise(eqns, (s) => avals.get(s)!, [6], (_, op) => op !== "exp");
  assert.ok(noFuse.filter((s) => s.kind === "eqn").length >= 3);
});

Deno.test("jit fusion: an update that reads a reduction's result joins the main loop of its size", () => {
  // The m-update of AdamW over two parameters of size 3: a's gradient is a column sum (a
  // reduction's result), b's an input. `add(mul(m_a, 0.9), mul(r, 0.1))` could be the sum's
  // epilogue, but that would cut the size-3 loop holding `mul(m_a, 0.9)` short; instead the
  // sum runs first and both updates are one size-3 program (the earlier rule gave three).
  const x: Aval = { shape: [4, 3], dtype: "float32" }, v: Aval = { shape: [3], dtype: "float32" };
  const s: Aval = { shape: [], dtype: "float32" };
  const avals = new Map<number, Aval>([[0, x], [1, v], [2, v], [3, v], [4, s], [5, s]]);
  const eq = (prim: Equation["prim"], params: object, inputs: number[], out: number, aval = v) => {
    avals.set(out, aval);
    return { prim, params: params as never, inputs, out, aval } as Equation;
  };
  const mul = { op: "mul" }, add = { op: "add" };
  const eqns = [
    eq("reduce", { op: "sum", axes: [0] }, [0], 10),
    eq("binary", mul, [1, 4], 11),
    eq("binary", mul, [10, 5], 12),
    eq("binary", add, [11, 12], 13),
    eq("binary", mul, [2, 4], 14),
    eq("binary", mul, [3, 5], 15),
    eq("binary", add, [14, 15], 16),
  ];
  const steps = fuseElementwise(eqns, (k) => avals.get(k)!, [13, 16], () => true);
  assert.deepEqual(steps.map((st) => [st.kind, st.outs]), [["fused", [12]], ["fused", [13, 16]]]);
});
