/**
 * Property-based gradient table (JAX's `LAX_GRAD_OPS` in lax_autodiff_test.py): every row of
 * _grad_rows.ts is checked with `checkGrad` (JVP vs central differences, VJP vs JVP, up to
 * the row's order) in float64 on random shapes, parameters and values. Replay a failure with
 * `TESSERA_SEED=<printed seed> deno test -A tests/autodiff/`; `FC_RUNS` sets runs per row and
 * `TESSERA_RUN_IGNORED=1` also runs the rows marked as known bugs.
 * Ops with zero derivative (floor/ceil/round/sign, stopGradient) are tested directly.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  abs,
  add,
  ceil,
  checkGrad,
  floor,
  grad,
  jvp,
  max,
  maximum,
  memoryStats,
  min,
  minimum,
  mul,
  onesLike,
  relu,
  round,
  scope,
  sign,
  sin,
  stopGradient,
  sum,
  type Tensor,
  tensor,
  valueAndGrad,
  vjp,
} from "../../mod.ts";
import { caseArb, COMPOSITE_ROWS, PRIMITIVE_ROWS, type Row } from "./_grad_rows.ts";
import { announceSeed, fcRuns, RUN_IGNORED, seedFor } from "./_seed.ts";

announceSeed("grad_table_test.ts");

const RUNS = fcRuns(20);

async function checkRow(row: Row): Promise<void> {
  const seed = seedFor(row.name);
  await fc.assert(
    fc.asyncProperty(caseArb(row), fc.nat(), async ({ setup, values }, dirSeed) => {
      await scope(async () => {
        const dtype = row.dtype ?? "float64";
        const args = values.map((v, i) =>
          tensor(dtype === "float64" ? Float64Array.from(v) : Float32Array.from(v), {
            shape: setup.shapes[i]!,
          })
        );
        await checkGrad(setup.fn, args, {
          order: row.order,
          modes: ["fwd", "rev"],
          seed: dirSeed,
          dtype: dtype === "float64" ? "float64" : "keep",
          ...row.tol,
        });
      });
    }),
    { numRuns: RUNS, seed },
  );
}

for (const row of [...PRIMITIVE_ROWS, ...COMPOSITE_ROWS]) {
  Deno.test({
    name: `grad table: ${row.name} (order ${row.order})`,
    ignore: (row.ignore ?? false) && !RUN_IGNORED,
    fn: () => checkRow(row),
  });
}

Deno.test("grad table: every row is well-formed", () => {
  const names = new Set<string>();
  for (const row of [...PRIMITIVE_ROWS, ...COMPOSITE_ROWS]) {
    assert.ok(!names.has(row.name), `duplicate row ${row.name}`);
    names.add(row.name);
    assert.equal(row.domains.length, row.arity, `${row.name}: one domain per input`);
    for (const c of fc.sample(caseArb(row), { numRuns: 5, seed: seedFor(row.name) })) {
      assert.ok(c.setup.shapes.length <= row.arity, `${row.name}: ${c.setup.desc}`);
    }
  }
});

// ---------------------------------------------------------------------------------------
// Zero-derivative ops: checked directly (finite differences are 0 or infinite at steps).
// ---------------------------------------------------------------------------------------

const f64 = (v: number[], shape = [v.length]) => tensor(Float64Array.from(v), { shape });
const arr = async (t: Tensor) => Array.from(await t.data());

/** Values away from integers and half-integers, so floor/ceil/round are locally constant. */
const offGrid = fc.array(
  fc.tuple(fc.integer({ min: -5, max: 5 }), fc.double({ min: 0.1, max: 0.4, noNaN: true }))
    .map(([k, u]) => k + u * (k % 2 === 0 ? 1 : -1)),
  { minLength: 1, maxLength: 8 },
);

for (
  const [name, op] of [["floor", floor], ["ceil", ceil], ["round", round], ["sign", sign]] as const
) {
  Deno.test(`grad table: ${name} has zero gradient (direct)`, async () => {
    await fc.assert(
      fc.asyncProperty(offGrid, async (v) => {
        await scope(async () => {
          const x = f64(v);
          const zeros = v.map(() => 0);
          assert.deepEqual(await arr(grad((t: Tensor) => sum(op(t)))(x)), zeros);
          const [, tan] = jvp((t: Tensor) => op(t), [x], [onesLike(x)]);
          assert.deepEqual(await arr(tan), zeros);
          // Product rule with a zero factor: d/dx Σ op(x)·x = op(x).
          const [val, g] = valueAndGrad((t: Tensor) => sum(mul(op(t), t)))(x);
          assert.deepEqual(await arr(g), await arr(op(x)));
          assert.equal(typeof (await val.item()), "number");
          // And the second derivative of Σ op(x)·sin(x) has no op'(x) term.
          const g2 = grad((t: Tensor) => sum(grad((s: Tensor) => sum(mul(op(s), sin(s))))(t)))(x);
          const want = await arr(mul(op(x), mul(sin(x), -1)));
          (await arr(g2)).forEach((a, i) => assert.ok(Math.abs(a - want[i]!) < 1e-12));
        });
      }),
      { numRuns: RUNS, seed: seedFor(name) },
    );
  });
}

Deno.test("grad table: stopGradient has zero gradient at every order (direct)", async () => {
  await scope(async () => {
    const x = f64([0.5, -1.25, 2]);
    const sg = (t: Tensor) => stopGradient(t);
    assert.deepEqual(await arr(grad((t: Tensor) => sum(sg(t)))(x)), [0, 0, 0]);
    // d/dx Σ x·sg(x) = sg(x) = x, and sg stops the outer level too: its derivative is 0.
    const h = (t: Tensor) => sum(mul(t, sg(t)));
    assert.deepEqual(await arr(grad(h)(x)), [0.5, -1.25, 2]);
    assert.deepEqual(await arr(grad((t: Tensor) => sum(grad(h)(t)))(x)), [0, 0, 0]);
    // Σ x²·sg(x): gradient 2x·sg(x), second derivative 2·sg(x) = 2x (6x without sg).
    const h2 = (t: Tensor) => sum(mul(mul(t, t), sg(t)));
    assert.deepEqual(await arr(grad((t: Tensor) => sum(grad(h2)(t)))(x)), [1, -2.5, 4]);
    const [y, tan] = jvp(sg, [x], [onesLike(x)]);
    assert.deepEqual(await arr(y), [0.5, -1.25, 2]);
    assert.deepEqual(await arr(tan), [0, 0, 0]);
    const [, pull] = vjp((t: Tensor) => add(sg(t), sin(sg(t))), x);
    assert.deepEqual(await arr(pull(onesLike(x))[0]), [0, 0, 0]);
    // checkGrad agrees: the numeric derivative of stopGradient is the identity's, so a
    // function whose value depends on x only through stopGradient must be reported.
    await assert.rejects(
      checkGrad(sg, [x]),
      (e: Error) => e.message.startsWith("checkGrad"),
    );
  });
});

Deno.test("grad table: ties and kinks follow the documented conventions (direct)", async () => {
  await scope(async () => {
    // max/min reductions share the gradient equally among tied extremes (rev and fwd).
    const x = f64([1, 3, 3, 0], [2, 2]);
    assert.deepEqual(await arr(grad((t: Tensor) => max(t))(x)), [0, 0.5, 0.5, 0]);
    assert.deepEqual(await arr(grad((t: Tensor) => sum(max(t, 1)))(x)), [0, 1, 1, 0]);
    const y = f64([2, 5, 2, 1], [2, 2]);
    assert.deepEqual(await arr(grad((t: Tensor) => sum(min(t, 0)))(y)), [0.5, 0, 0.5, 1]);
    const [, tMax] = jvp((t: Tensor) => max(t), [x], [f64([10, 2, 4, 10], [2, 2])]);
    assert.equal(await tMax.item(), 3);
    // maximum/minimum split the gradient ½/½ where the operands are equal.
    const a = f64([1, 2, 3]), b = f64([1, 5, 0]);
    const both = { argnums: [0, 1] } as const;
    for (
      const [op, wa, wb] of [[maximum, [0.5, 0, 1], [0.5, 1, 0]], [minimum, [0.5, 1, 0], [
        0.5,
        0,
        1,
      ]]] as const
    ) {
      const [ga, gb] = grad<[Tensor, Tensor], Tensor[]>((p, q) => sum(op(p, q)), both)(a, b);
      assert.deepEqual(await arr(ga!), wa);
      assert.deepEqual(await arr(gb!), wb);
      const [, tan] = jvp(op, [a, b], [f64([2, 2, 2]), f64([4, 4, 4])]);
      assert.deepEqual(await arr(tan), [3, ...[wa[1] * 2 + wb[1] * 4, wa[2] * 2 + wb[2] * 4]]);
    }
    // relu and abs have gradient 0 at 0.
    const z = f64([0, -1, 2]);
    assert.deepEqual(await arr(grad((t: Tensor) => sum(relu(t)))(z)), [0, 0, 1]);
    assert.deepEqual(await arr(grad((t: Tensor) => sum(abs(t)))(z)), [0, -1, 1]);
  });
});

Deno.test("grad table: checkGrad leaves no live tensors behind", async () => {
  const live = () => memoryStats().cpu?.tensors ?? 0;
  for (const row of [...PRIMITIVE_ROWS, ...COMPOSITE_ROWS]) {
    if (row.ignore) continue;
    const { setup, values } = fc.sample(caseArb(row), { numRuns: 1, seed: seedFor(row.name) })[0]!;
    const args = values.map((v, i) => tensor(Float64Array.from(v), { shape: setup.shapes[i]! }));
    const before = live();
    await checkGrad(setup.fn, args, { order: row.order, ...row.tol, atol: 1e-3, rtol: 1e-3 });
    assert.equal(live(), before, `${row.name}: ${setup.desc}`);
    args.forEach((a) => a.dispose());
  }
});
