/**
 * Companion of the gradient table: checkGrad must reject wrong custom rules, higher-order
 * gradients must match analytic derivatives, non-float inputs must be refused by name,
 * checkpoint must not change gradients, and the transforms' argument handling (argnums,
 * hasAux, jvp tangent structure) must behave. Seeded like grad_table_test.ts.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  add,
  checkGrad,
  checkpoint,
  cos,
  exp,
  gather,
  grad,
  jvp,
  log,
  matmul,
  mul,
  onesLike,
  scope,
  sigmoid,
  sin,
  stopGradient,
  sum,
  tanh,
  type Tensor,
  tensor,
  TesseraError,
  valueAndGrad,
  vjp,
} from "../../mod.ts";
import { customVjp } from "../../autodiff/custom.ts";
import { announceSeed, fcRuns, seedFor } from "./_seed.ts";

announceSeed("grad_checks_test.ts");

const RUNS = fcRuns(20);
const f64 = (v: readonly number[], shape = [v.length]) => tensor(Float64Array.from(v), { shape });
const arr = async (t: Tensor) => Array.from(await t.data());
const vec = (min: number, max: number) =>
  fc.array(fc.double({ min, max, noNaN: true }), { minLength: 1, maxLength: 6 });

function assertClose(got: number[], want: number[], tol = 1e-10, what = ""): void {
  assert.equal(got.length, want.length, what);
  got.forEach((g, i) => {
    const w = want[i]!;
    assert.ok(Math.abs(g - w) <= tol * (1 + Math.abs(w)), `${what}[${i}]: got ${g}, want ${w}`);
  });
}

const isCheckGradError = (e: unknown) =>
  e instanceof TesseraError && e.message.startsWith("checkGrad");

// ---------------------------------------------------------------------------------------
// checkGrad catches wrong customVjp rules
// ---------------------------------------------------------------------------------------

/** sin with a hand-written backward pass `bwd(x, g)`. */
const sinWith = (bwd: (x: Tensor, g: Tensor) => Tensor) =>
  customVjp(
    (x: Tensor) => sin(x),
    (x: Tensor): [Tensor, Tensor] => [sin(x), x],
    (x: Tensor, g: Tensor) => [bwd(x, g)],
  );

const X = [0.3, -1.2, 0.8, 2.1, -0.4];

Deno.test("checkGrad rejects a wrong customVjp (g·sin x instead of g·cos x)", async () => {
  await scope(async () => {
    const wrong = sinWith((x, g) => mul(g, sin(x)));
    await assert.rejects(checkGrad(wrong, [f64(X)], { modes: ["fwd", "rev"] }), (e: unknown) => {
      assert.ok(isCheckGradError(e), String(e));
      assert.match((e as Error).message, /VJP/);
      return true;
    });
    // Reverse mode alone sees it against finite differences; forward mode goes through f.
    await assert.rejects(checkGrad(wrong, [f64(X)], { modes: ["rev"] }), isCheckGradError);
    await checkGrad(wrong, [f64(X)], { modes: ["fwd"] });
  });
});

Deno.test("checkGrad rejects a subtly wrong customVjp (correct × 1.01)", async () => {
  await scope(async () => {
    const subtle = sinWith((x, g) => mul(mul(g, cos(x)), 1.01));
    for (const seed of [0, 1, 2, 3]) {
      await assert.rejects(
        checkGrad(subtle, [f64(X)], { modes: ["fwd", "rev"], seed }),
        isCheckGradError,
      );
    }
  });
});

Deno.test("checkGrad order 2 rejects a bwd that is right only to first order", async () => {
  await scope(async () => {
    // stopGradient(cos x) has the right value but no derivative: the Hessian comes out 0.
    const firstOnly = sinWith((x, g) => mul(g, stopGradient(cos(x))));
    await checkGrad(firstOnly, [f64(X)], { order: 1 });
    await assert.rejects(checkGrad(firstOnly, [f64(X)], { order: 2 }), isCheckGradError);
  });
});

Deno.test("checkGrad accepts a correct customVjp (order 2)", async () => {
  const right = sinWith((x, g) => mul(g, cos(x)));
  await fc.assert(
    fc.asyncProperty(vec(-3, 3), fc.nat(), async (v, seed) => {
      await scope(() => checkGrad(right, [f64(v)], { order: 2, modes: ["fwd", "rev"], seed }));
    }),
    { numRuns: RUNS, seed: seedFor("customVjp correct") },
  );
});

// ---------------------------------------------------------------------------------------
// Higher-order derivatives against closed forms
// ---------------------------------------------------------------------------------------

const ANALYTIC: {
  name: string;
  f: (x: Tensor) => Tensor;
  d2: (x: number) => number;
  lo: number;
  hi: number;
}[] = [
  { name: "Σ sin x", f: (x) => sum(sin(x)), d2: (x) => -Math.sin(x), lo: -3, hi: 3 },
  { name: "Σ x³", f: (x) => sum(mul(mul(x, x), x)), d2: (x) => 6 * x, lo: -2, hi: 2 },
  {
    name: "Σ eˣ sin x",
    f: (x) => sum(mul(exp(x), sin(x))),
    d2: (x) => 2 * Math.exp(x) * Math.cos(x),
    lo: -2,
    hi: 2,
  },
  {
    name: "Σ tanh x",
    f: (x) => sum(tanh(x)),
    d2: (x) => -2 * Math.tanh(x) * (1 - Math.tanh(x) ** 2),
    lo: -2,
    hi: 2,
  },
  { name: "Σ log x", f: (x) => sum(log(x)), d2: (x) => -1 / (x * x), lo: 0.2, hi: 3 },
  {
    name: "Σ sigmoid x",
    f: (x) => sum(sigmoid(x)),
    d2: (x) => {
      const s = 1 / (1 + Math.exp(-x));
      return s * (1 - s) * (1 - 2 * s);
    },
    lo: -4,
    hi: 4,
  },
];

for (const { name, f, d2, lo, hi } of ANALYTIC) {
  Deno.test(`grad of grad matches the analytic second derivative: ${name}`, async () => {
    await fc.assert(
      fc.asyncProperty(vec(lo, hi), async (v) => {
        await scope(async () => {
          const x = f64(v);
          const want = v.map(d2);
          // reverse over reverse (f is separable: the Hessian is diagonal)
          const rr = grad((t: Tensor) => sum(grad(f)(t)))(x);
          assertClose(await arr(rr), want, 1e-10, "rev∘rev");
          // forward over reverse: Hessian-vector product with the ones vector
          const [, fr] = jvp((t: Tensor) => grad(f)(t), [x], [onesLike(x)]);
          assertClose(await arr(fr), want, 1e-10, "fwd∘rev");
          // reverse over forward
          const rf = grad((t: Tensor) => sum(jvp(f, [t], [onesLike(t)])[1]))(x);
          assertClose(await arr(rf), want, 1e-10, "rev∘fwd");
        });
      }),
      { numRuns: RUNS, seed: seedFor(name) },
    );
  });
}

Deno.test("grad of grad of grad: d³/dx³ Σ sin x = -cos x", async () => {
  await scope(async () => {
    const v = [0.1, -2, 1.3];
    const d1 = (t: Tensor) => grad((s: Tensor) => sum(sin(s)))(t);
    const d2 = (t: Tensor) => grad((s: Tensor) => sum(d1(s)))(t);
    const d3 = grad((t: Tensor) => sum(d2(t)))(f64(v));
    assertClose(await arr(d3), v.map((x) => -Math.cos(x)), 1e-12);
  });
});

Deno.test("mixed second derivative across argnums: ∂²/∂y∂x Σ x²y = 2x", async () => {
  await scope(async () => {
    const f = (x: Tensor, y: Tensor) => sum(mul(mul(x, x), y));
    const x = f64([0.5, -1, 2]), y = f64([1.5, 0.25, -3]);
    const dxdy = grad((yy: Tensor) => sum(grad(f)(x, yy)), { argnums: 0 })(y);
    assert.deepEqual(await arr(dxdy), [1, -2, 4]);
    const [gx, gy] = grad<[Tensor, Tensor], [Tensor, Tensor]>(f, { argnums: [0, 1] })(x, y);
    assert.deepEqual(await arr(gx), [1.5, -0.5, -12]);
    assert.deepEqual(await arr(gy), [0.25, 1, 4]);
  });
});

// ---------------------------------------------------------------------------------------
// Non-float inputs are refused by name
// ---------------------------------------------------------------------------------------

Deno.test("differentiating with respect to int32 or bool inputs throws naming the dtype", async () => {
  await scope(async () => {
    const ints = tensor(Int32Array.from([1, 2, 3]));
    const bools = tensor([true, false, true]);
    const f = (x: Tensor) => sum(x);
    for (const [t, dtype] of [[ints, "int32"], [bools, "bool"]] as const) {
      const names = (op: string) => (e: unknown) =>
        e instanceof TesseraError && e.message.startsWith(op) && e.message.includes(dtype);
      assert.throws(() => grad(f)(t), names("grad"));
      assert.throws(() => valueAndGrad(f)(t), names("valueAndGrad"));
      assert.throws(() => vjp(f, t), names("vjp"));
      assert.throws(() => jvp(f, [t], [t]), names("jvp"));
      assert.throws(
        () => grad((p: { w: Tensor; n: Tensor }) => sum(p.w))({ w: f64([1]), n: t }),
        names("grad"),
      );
      await assert.rejects(checkGrad(f, [t]), names("checkGrad"));
    }
    // A non-differentiated integer argument is fine.
    const g = grad((x: Tensor, idx: Tensor) => sum(gather(x, idx)), { argnums: 0 })(
      f64([1, 2, 3, 4]),
      tensor(Int32Array.from([3, 0, 3])),
    );
    assert.deepEqual(await arr(g), [1, 0, 0, 2]);
  });
});

// ---------------------------------------------------------------------------------------
// checkpoint
// ---------------------------------------------------------------------------------------

Deno.test("checkpoint gives the plain function's gradients; its order-2 check passes", async () => {
  // Rows of x picked by idx, times w, plus a term using all of x; idx is an int argument
  // that checkpoint must pass through undifferentiated.
  const block = (x: Tensor, w: Tensor, idx: Tensor) =>
    tanh(add(matmul(gather(x, idx, 0), w), sum(sin(x))));
  const plain = (x: Tensor, w: Tensor, idx: Tensor) =>
    sum(mul(block(x, w, idx), cos(block(x, w, idx))));
  const remat = checkpoint(block);
  const viaCkpt = (x: Tensor, w: Tensor, idx: Tensor) =>
    sum(mul(remat(x, w, idx), cos(remat(x, w, idx))));
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 6, maxLength: 6 }),
      fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 6, maxLength: 6 }),
      fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 1, maxLength: 4 }),
      fc.nat(),
      async (xv, wv, iv, seed) => {
        await scope(async () => {
          const x = f64(xv, [2, 3]), w = f64(wv, [3, 2]);
          const idx = tensor(Int32Array.from(iv));
          const opts = { argnums: [0, 1] } as const;
          const [p0, p1] = grad<[Tensor, Tensor, Tensor], Tensor[]>(plain, opts)(x, w, idx);
          const [c0, c1] = grad<[Tensor, Tensor, Tensor], Tensor[]>(viaCkpt, opts)(x, w, idx);
          assertClose(await arr(c0!), await arr(p0!), 1e-12, "dx");
          assertClose(await arr(c1!), await arr(p1!), 1e-12, "dw");
          await checkGrad((a: Tensor, b: Tensor) => remat(a, b, idx), [x, w], { order: 2, seed });
        });
      },
    ),
    { numRuns: RUNS, seed: seedFor("checkpoint") },
  );
});

// ---------------------------------------------------------------------------------------
// valueAndGrad: hasAux and argnums
// ---------------------------------------------------------------------------------------

Deno.test("valueAndGrad with hasAux and argnums arrays", async () => {
  await scope(async () => {
    const x = f64([1, 2]), y = f64([3, -1]), z = f64([0.5]);
    const f = (a: Tensor, b: Tensor, c: Tensor) =>
      [add(sum(mul(a, b)), sum(mul(c, c))), { twice: mul(a, 2), label: "aux" }] as const;
    type Aux = { twice: Tensor; label: string };
    const [[value, aux], [ga, gc]] = valueAndGrad<
      [Tensor, Tensor, Tensor],
      [Tensor, Aux],
      [Tensor, Tensor]
    >(f, { hasAux: true, argnums: [0, 2] })(x, y, z);
    assert.equal(await value.item(), 1.25);
    assert.deepEqual(await arr(aux.twice), [2, 4]);
    assert.equal(aux.label, "aux");
    assert.deepEqual(await arr(ga), [3, -1]);
    assert.deepEqual(await arr(gc), [1]);
    // A one-element argnums array still returns a tuple; a number returns the bare gradient.
    const [gb] = grad<[Tensor, Tensor, Tensor], [Tensor]>((a, b, c) => f(a, b, c)[0] as Tensor, {
      argnums: [1],
    })(x, y, z);
    assert.deepEqual(await arr(gb), [1, 2]);
    const gb2 = grad((a: Tensor, b: Tensor) => sum(mul(a, b)), { argnums: 1 })(x, y);
    assert.deepEqual(await arr(gb2), [1, 2]);
    // Pytree arguments keep their structure.
    const gp = grad((p: { w: Tensor; b: Tensor[] }) => sum(mul(p.w, p.b[0]!)))({ w: x, b: [y] });
    assert.deepEqual(await arr(gp.w), [3, -1]);
    assert.deepEqual(await arr(gp.b[0]!), [1, 2]);
    // Misuse is reported.
    const isVg = (e: unknown) => e instanceof TesseraError && e.message.startsWith("valueAndGrad");
    assert.throws(() => valueAndGrad(f, { argnums: [0, 3] })(x, y, z), isVg);
    assert.throws(() => valueAndGrad((a: Tensor) => sum(a), { hasAux: true })(x), isVg);
    assert.throws(() => valueAndGrad((a: Tensor) => mul(a, 2))(x), isVg);
  });
});

// ---------------------------------------------------------------------------------------
// jvp / vjp structure checks
// ---------------------------------------------------------------------------------------

Deno.test("jvp rejects tangents that do not match the primals", async () => {
  await scope(() => {
    const x = f64([1, 2, 3]);
    const f = (a: Tensor) => sin(a);
    const isJvp = (e: unknown) => e instanceof TesseraError && e.message.startsWith("jvp");
    assert.throws(() => jvp(f, [x], [f64([1, 2])]), isJvp); // shape
    assert.throws(() => jvp(f, [x], [f64([1, 2, 3], [3, 1])]), isJvp); // rank
    assert.throws(() => jvp(f, [x], [tensor([1, 2, 3])]), isJvp); // float32 vs float64
    assert.throws(() => jvp(f, [x], [] as unknown as [Tensor]), isJvp); // count
    assert.throws(() => jvp((a: Tensor, b: Tensor) => add(a, b), [x, x], [x] as never), isJvp);
    // Pytree structure: a missing tangent leaf.
    const g = (p: { a: Tensor; b: Tensor }) => add(p.a, p.b);
    assert.throws(
      () => jvp(g, [{ a: x, b: x }], [{ a: x } as unknown as { a: Tensor; b: Tensor }]),
      (e: unknown) => e instanceof TesseraError,
    );
  });
});

Deno.test({
  name: "jvp rejects tangents with extra leaves",
  // Regression: like JAX, primal and tangent trees must have the same structure.
  fn: () => {
    scope(() => {
      const x = f64([1, 2, 3]);
      const g = (p: Tensor[]) => p[0]!;
      assert.throws(() => jvp(g, [[x]], [[x, x]]), (e: unknown) => e instanceof TesseraError);
      assert.throws(
        () => jvp((p: { a: Tensor }) => p.a, [{ a: x }], [{ a: x, b: x } as { a: Tensor }]),
        (e: unknown) => e instanceof TesseraError,
      );
    });
  },
});

Deno.test("vjp pullback rejects cotangents that do not match the output", async () => {
  await scope(() => {
    const x = f64([1, 2, 3]);
    const [, pull] = vjp((a: Tensor) => sin(a), x);
    const isVjp = (e: unknown) => e instanceof TesseraError && e.message.startsWith("vjp");
    assert.throws(() => pull(f64([1, 2])), isVjp);
    assert.throws(() => pull(tensor([1, 2, 3])), isVjp);
    const [, pull2] = vjp((a: Tensor) => [sin(a), cos(a)], x);
    assert.throws(() => pull2([f64([1, 2, 3])]), isVjp);
  });
});

// ---------------------------------------------------------------------------------------
// Nesting and pytrees
// ---------------------------------------------------------------------------------------

Deno.test("nested transforms do not confuse perturbations (d/dx x·∂/∂y(x+y) = 1)", async () => {
  await scope(async () => {
    const one = f64([1], []);
    const inner = (x: Tensor) => (y: Tensor) => add(x, y);
    const rr = grad((x: Tensor) => mul(x, grad(inner(x))(one)))(one);
    const [, ff] = jvp((x: Tensor) => mul(x, jvp(inner(x), [one], [one])[1]), [one], [one]);
    const rf = grad((x: Tensor) => mul(x, jvp(inner(x), [one], [one])[1]))(one);
    const [, fr] = jvp((x: Tensor) => mul(x, grad(inner(x))(one)), [one], [one]);
    for (const [name, t] of [["rev∘rev", rr], ["fwd∘fwd", ff], ["rev∘fwd", rf], ["fwd∘rev", fr]]) {
      assert.equal(await (t as Tensor).item(), 1, name as string);
    }
    // The same tensor passed as two differentiated arguments gets two gradients.
    const x = f64([3], []);
    const [ga, gb] = grad<[Tensor, Tensor], Tensor[]>((a, b) => mul(a, b), { argnums: [0, 1] })(
      x,
      x,
    );
    assert.deepEqual([await ga!.item(), await gb!.item()], [3, 3]);
    // Outputs that do not depend on the input have zero derivatives.
    const c = () => f64([1, 2]);
    assert.deepEqual(await arr(grad((_t: Tensor) => sum(c()))(f64([1, 2, 3]))), [0, 0, 0]);
    assert.deepEqual(await arr(jvp((_t: Tensor) => c(), [x], [one])[1]), [0, 0]);
  });
});

Deno.test("checkGrad handles pytree inputs and outputs", async () => {
  const f = (p: { w: Tensor; b: Tensor[] }, x: Tensor) => {
    const h = tanh(add(matmul(x, p.w), p.b[0]!));
    return { h, s: [sum(mul(h, h))] };
  };
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 15, maxLength: 15 }),
      fc.nat(),
      async (v, seed) => {
        await scope(async () => {
          const p = { w: f64(v.slice(0, 6), [3, 2]), b: [f64(v.slice(6, 8))] };
          await checkGrad(f, [p, f64(v.slice(8, 14), [2, 3])], { order: 2, seed });
        });
      },
    ),
    { numRuns: RUNS, seed: seedFor("pytree") },
  );
});

Deno.test("a primitive without a derivative throws 'not differentiable' (bitcast), not zero", async () => {
  const { bind } = await import("../../tensor/dispatch.ts");
  const { grad, jvp, sum, tensor } = await import("../../mod.ts");
  const same = (t: Tensor) => bind("bitcast", [t], { dtype: "float32" });
  const x = tensor([1, 2]);
  assert.throws(() => grad((t: Tensor) => sum(same(t)))(x), /bitcast: not differentiable/);
  assert.throws(() => jvp(same, [x], [tensor([1, 1])]), /bitcast: not differentiable/);
  // Integer in or out: no rule runs, so bitcast stays usable next to differentiated code.
  assert.deepEqual(await bind("bitcast", [x], { dtype: "uint32" }).toArray(), [
    1065353216,
    1073741824,
  ]);
});
