/**
 * Memory management: dispose / `using`, use-after-dispose errors, `scope` (pytree results,
 * nesting, async, throwing), `memoryStats` accounting with shared storage, and leak tests
 * for training steps, grad-of-grad, vjp/jvp and checkpoint.
 */
import assert from "node:assert/strict";
import {
  add,
  checkpoint,
  dispose,
  grad,
  jvp,
  layerNorm,
  linspace,
  logsumexp,
  matmul,
  mean,
  memoryStats,
  mul,
  ones,
  reshape,
  scope,
  sin,
  softmax,
  sort,
  stopGradient,
  sub,
  sum,
  tanh,
  type Tensor,
  tensor,
  TesseraError,
  treeMap,
  valueAndGrad,
  vjp,
  zeros,
} from "../../mod.ts";

function cpu(): { tensors: number; bytes: number } {
  const s = memoryStats()["cpu"] as { tensors: number; bytes: number } | undefined;
  return { tensors: s?.tensors ?? 0, bytes: s?.bytes ?? 0 };
}

/** Asserts the live tensors/bytes changed by exactly `dt`/`db` since `before`. */
function delta(before: { tensors: number; bytes: number }, dt: number, db: number): void {
  const now = cpu();
  assert.deepEqual(
    { tensors: now.tensors - before.tensors, bytes: now.bytes - before.bytes },
    { tensors: dt, bytes: db },
  );
}

Deno.test("memory: dispose frees, is idempotent, and use-after-dispose throws", async () => {
  const s0 = cpu();
  const t = ones([2, 3]);
  delta(s0, 1, 24);
  assert.equal(t.disposed, false);
  t.dispose();
  assert.equal(t.disposed, true);
  delta(s0, 0, 0);
  t.dispose();
  t.dispose();
  delta(s0, 0, 0);
  const msg = /^Tensor: .*\[2,3\].*used after dispose/;
  const named = (e: unknown) => e instanceof TesseraError && msg.test(e.message);
  scope(() => assert.throws(() => add(t, 1), named)); // scope: add lifts 1 to a tensor first
  assert.throws(() => matmul(t, t), TesseraError);
  assert.throws(() => reshape(t, [6]), TesseraError);
  assert.throws(
    () => t.dataSync(),
    (e: unknown) => e instanceof TesseraError && msg.test(e.message),
  );
  await assert.rejects(() => t.data(), TesseraError);
  await assert.rejects(() => t.toArray(), /used after dispose/);
  assert.equal(t.toString(), "Tensor([2,3], float32, cpu, disposed)");
  delta(s0, 0, 0);
});

Deno.test("memory: `using` disposes at the end of the block", () => {
  const s0 = cpu();
  let escaped: Tensor;
  {
    using t = ones([4]);
    escaped = t;
    delta(s0, 1, 16);
  }
  assert.equal(escaped.disposed, true);
  delta(s0, 0, 0);
  {
    using a = ones([2]), b = add(a, a);
    assert.deepEqual(Array.from(b.dataSync()), [2, 2]);
  }
  delta(s0, 0, 0);
});

Deno.test("memory: dispose(pytree) disposes every tensor leaf", () => {
  const s0 = cpu();
  const tree = { w: ones([2, 2]), layers: [{ b: ones([2]) }, ones([1])], lr: 0.1, name: "x" };
  delta(s0, 3, 28);
  dispose(tree);
  assert.ok(tree.w.disposed && tree.layers.length === 2);
  delta(s0, 0, 0);
  dispose(tree); // idempotent
  delta(s0, 0, 0);
});

Deno.test("memory: memoryStats counts tensors and bytes per dtype", () => {
  const s0 = cpu();
  const ts = [
    zeros([2, 3]),
    zeros([2], { dtype: "float64" }),
    zeros([3], { dtype: "int32" }),
    zeros([5], { dtype: "uint32" }),
    zeros([5], { dtype: "bool" }),
    zeros([0, 4]),
    tensor(1),
  ];
  delta(s0, 7, 24 + 16 + 12 + 20 + 5 + 0 + 4);
  const snap = memoryStats();
  snap.cpu!.tensors = -100; // a snapshot, not live state
  delta(s0, 7, 81);
  dispose(ts);
  delta(s0, 0, 0);
});

Deno.test("memory: shared storage (reshape, stopGradient) is counted once", () => {
  const s0 = cpu();
  const x = ones([3, 4]);
  const v1 = reshape(x, [12]), v2 = reshape(v1, [2, 6]), v3 = stopGradient(v2);
  delta(s0, 4, 48);
  x.dispose();
  v1.dispose();
  delta(s0, 2, 48);
  assert.deepEqual(Array.from(v3.dataSync()), new Array(12).fill(1));
  v2.dispose();
  v3.dispose();
  delta(s0, 0, 0);
});

Deno.test("memory: scope frees everything but its (pytree) result", () => {
  const s0 = cpu();
  const outside = ones([2]);
  const r = scope(() => {
    const a = mul(outside, 3), b = add(a, 1), c = sub(b, a);
    return { keep: [c, { deep: b }], n: 3, s: "s", again: c, input: outside };
  });
  assert.equal(outside.disposed, false);
  assert.equal(r.keep[0], r.again);
  assert.deepEqual(Array.from((r.keep[1] as { deep: Tensor }).deep.dataSync()), [4, 4]);
  delta(s0, 3, 24);
  dispose(r);
  delta(s0, 0, 0);
  // a view of a temporary keeps its storage alive
  const v = scope(() => reshape(add(ones([4]), 1), [2, 2]));
  delta(s0, 1, 16);
  assert.deepEqual(Array.from(v.dataSync()), [2, 2, 2, 2]);
  v.dispose();
  // tensors disposed by hand inside the scope are not freed twice
  scope(() => {
    const t = ones([3]);
    t.dispose();
    ones([1]);
  });
  delta(s0, 0, 0);
});

Deno.test("memory: nested scopes hand kept tensors to the enclosing scope", () => {
  const s0 = cpu();
  let inner: Tensor | undefined;
  const out = scope(() => {
    inner = scope(() => add(ones([2]), 1));
    delta(s0, 1, 8);
    const kept = scope(() => mul(inner!, 2));
    return kept;
  });
  assert.equal(inner!.disposed, true, "inner result freed by the outer scope");
  assert.equal(out.disposed, false);
  delta(s0, 1, 8);
  out.dispose();
  delta(s0, 0, 0);
});

Deno.test("memory: async scope awaits the result before freeing", async () => {
  const s0 = cpu();
  const r = await scope(async () => {
    const a = ones([2]);
    await new Promise((res) => setTimeout(res, 1));
    const b = add(a, 1);
    await Promise.resolve();
    return [b, mul(b, 2)];
  });
  delta(s0, 2, 16);
  assert.deepEqual(Array.from(r[1]!.dataSync()), [4, 4]);
  dispose(r);
  delta(s0, 0, 0);
});

Deno.test("memory: a throwing scope frees everything and rethrows", async () => {
  const s0 = cpu();
  const boom = new Error("boom");
  assert.throws(() =>
    scope(() => {
      ones([10]);
      scope(() => add(ones([5]), 1));
      throw boom;
    }), (e) => e === boom);
  delta(s0, 0, 0);
  assert.throws(() => scope(() => matmul(ones([2, 3]), ones([4, 5]))), TesseraError);
  delta(s0, 0, 0);
  await assert.rejects(
    () =>
      scope(async () => {
        ones([7]);
        await Promise.resolve();
        throw boom;
      }),
    (e) => e === boom,
  );
  delta(s0, 0, 0);
});

// ---------------------------------------------------------------------------------------------
// Leak tests

interface Params {
  l1: { w: Tensor; b: Tensor };
  l2: { w: Tensor; b: Tensor };
}

function mlpLoss(p: Params, x: Tensor, y: Tensor): Tensor {
  const h = tanh(add(matmul(x, p.l1.w), p.l1.b));
  const d = sub(add(matmul(h, p.l2.w), p.l2.b), y);
  return mean(mul(d, d));
}

Deno.test("memory: 50 SGD steps of an MLP in scope leak nothing", async () => {
  const s0 = cpu();
  const x = scope(() => reshape(linspace(-1, 1, 48), [16, 3]));
  const y = scope(() => matmul(x, tensor([[0.5], [-1], [0.3]])));
  let params: Params = scope(() => ({
    l1: { w: reshape(mul(sin(linspace(0, 7, 24)), 0.5), [3, 8]), b: zeros([8]) },
    l2: { w: reshape(mul(sin(linspace(1, 9, 8)), 0.5), [8, 1]), b: zeros([1]) },
  }));
  const step = valueAndGrad(mlpLoss);
  const losses: number[] = [];
  let afterStep2: { tensors: number; bytes: number } | undefined;
  for (let i = 1; i <= 50; i++) {
    const [loss, next] = scope(() => {
      const [l, g] = step(params, x, y) as unknown as [Tensor, Params];
      return [l, treeMap((p, gp) => sub(p, mul(gp, 0.3)), params, g)] as const;
    });
    dispose(params);
    params = next;
    losses.push(await loss.item());
    loss.dispose();
    if (i === 2) afterStep2 = cpu();
  }
  assert.deepEqual(cpu(), afterStep2, "live tensors/bytes after step 50 equal those after step 2");
  assert.ok(losses[49]! < losses[0]! * 0.2, `loss should fall: ${losses[0]} -> ${losses[49]}`);
  dispose([params, x, y]);
  delta(s0, 0, 0);
});

Deno.test("memory: grad of grad, vjp and jvp inside scope leak nothing", async () => {
  const s0 = cpu();
  const x = tensor([1, 2, -0.5]);
  const f = (z: Tensor) => sum(mul(mul(z, z), tanh(z)));
  const gg = (z: Tensor) => grad((w: Tensor) => sum(grad(f)(w)))(z);
  let first: { tensors: number; bytes: number } | undefined;
  for (let i = 0; i < 5; i++) {
    const r = scope(() => [gg(x), vjp(f, x)[1](tensor(1))[0], jvp(f, [x], [ones([3])])[1]]);
    assert.equal((r[0] as Tensor).shape.length, 1);
    if (i === 0) first = cpu();
    else assert.deepEqual(cpu(), first);
    dispose(r);
  }
  delta(s0, 1, 12);
  // gradient of x^3 twice is 6x: a value check that the retained pieces are right
  const cube = (z: Tensor) => sum(mul(mul(z, z), z));
  const h = scope(() => grad((w: Tensor) => sum(grad(cube)(w)))(x));
  assert.deepEqual(Array.from(h.dataSync()), [6, 12, -3]);
  dispose([h, x]);
  delta(s0, 0, 0);
  await Promise.resolve();
});

Deno.test("memory: checkpoint inside scope and grad leak nothing", () => {
  const s0 = cpu();
  const x = tensor([0, 0.5, 1]);
  const block = checkpoint((z: Tensor) => sin(sin(z)));
  const lossOf = (z: Tensor) => sum(mul(block(z), block(add(z, 1))));
  let first: { tensors: number; bytes: number } | undefined;
  for (let i = 0; i < 5; i++) {
    const g = scope(() => grad(lossOf)(x));
    if (i === 0) first = cpu();
    else assert.deepEqual(cpu(), first);
    assert.ok(Array.from(g.dataSync()).every(Number.isFinite));
    g.dispose();
    scope(() => void grad((z: Tensor) => sum(block(z)))(x));
    scope(() => void grad((z: Tensor) => sum(grad((w: Tensor) => sum(block(w)))(z)))(x));
  }
  const want = [0, 0.5, 1].map((v) => Math.cos(Math.sin(v)) * Math.cos(v));
  const g1 = scope(() => grad((z: Tensor) => sum(block(z)))(x));
  Array.from(g1.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-6));
  dispose([g1, x]);
  delta(s0, 0, 0);
});

// BUG: outside `scope`, public ops leak their internal temporaries (lifted scalar constants
// and the intermediates of composite ops). After disposing the result, live tensors stay
// above the starting count: add(x, 1) +1, sum(x, 0) +1 (the keepdims tensor the result is a
// reshape of), mean +3, softmax +5, logsumexp +12, layerNorm +11, sort +9. An op that throws
// after lifting a scalar (add(disposedTensor, 1)) leaks the scalar too. Expected: an op
// called outside a scope leaves only its result alive.
Deno.test({
  name: "memory: ops called outside scope leave no temporaries behind",
  fn() {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    const v = tensor([1, 1, 1]);
    const ops: [string, () => unknown][] = [
      ["add(x, 1)", () => add(x, 1)],
      ["sum(x, 0)", () => sum(x, 0)],
      ["mean", () => mean(x)],
      ["matmul 1-D", () => matmul(x, v)],
      ["softmax", () => softmax(x)],
      ["layerNorm", () => layerNorm(x)],
      ["sort", () => sort(x)],
      ["logsumexp", () => logsumexp(x, 1)],
    ];
    for (const [name, op] of ops) {
      const s0 = cpu();
      dispose(op());
      assert.deepEqual(cpu(), s0, `${name} leaked`);
    }
    v.dispose();
    x.dispose();
  },
});
