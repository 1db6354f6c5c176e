/**
 * Differentiable collectives: gradients under sim(2) with asymmetric per-rank losses
 * (_grad_cases.ts) against F = Σ_r loss_r written in one process without collectives, which
 * checkGrad verifies numerically; plus the fused tree collectives and the mode errors.
 */
import assert from "node:assert/strict";
import { checkGrad, grad, jvp } from "../../autodiff/mod.ts";
import { allGather, allReduceSum, local, simulate } from "../../distributed/mod.ts";
import {
  add,
  concat,
  memoryStats,
  scope,
  sin,
  slice,
  sum,
  type Tensor,
  tensor,
} from "../../tensor/mod.ts";
import { inputOf, type Kind, KINDS, lossOf, rowsOf } from "./_grad_cases.ts";
import { SIM_TIMEOUT_MS } from "./_mpirun.ts";

const W = 2;

/** F(x_0, …, x_{W−1}) = Σ_r loss_r(the collective's value on rank r), with no collectives. */
function total(kind: Kind, ...xs: Tensor[]): Tensor {
  const n = rowsOf(kind, W) / W;
  const value = (r: number) =>
    kind === "allReduceSum"
      ? xs.reduce((a, b) => add(a, b))
      : kind === "allGather"
      ? concat(xs, 0)
      : slice(xs.reduce((a, b) => add(a, b)), [[r * n, (r + 1) * n]]);
  return xs.map((_, r) => lossOf(r, value(r))).reduce((a, b) => add(a, b));
}

type GradResults = Record<Kind, { grad: Float64Array; analytic: number; numeric: number }>[];
let simRun: Promise<GradResults> | undefined;
/** The replicas' results, computed once (inside the first test, for the sanitizers). */
const simResults = () =>
  simRun ??= simulate(W, new URL("./_grad_cases.ts", import.meta.url), {
    timeoutMs: SIM_TIMEOUT_MS,
  }) as Promise<GradResults>;

for (const kind of KINDS) {
  Deno.test(`distributed grad: ${kind} under sim(2) is ∇ of Σ_r loss_r (asymmetric losses)`, async () => {
    const res = await simResults();
    const xs = Array.from({ length: W }, (_, r) => inputOf(kind, r, W));
    const argnums = xs.map((_, r) => r);
    await checkGrad((...a: Tensor[]) => total(kind, ...a), xs);
    const ref = grad((...a: Tensor[]) => total(kind, ...a), { argnums })(
      ...xs,
    ) as unknown as Tensor[];
    for (let r = 0; r < W; r++) {
      const got = [...res[r]![kind].grad], want = [...await ref[r]!.data()];
      got.forEach((g, i) =>
        assert.ok(Math.abs(g - want[i]!) < 1e-12, `rank ${r} [${i}]: ${g} vs ${want[i]}`)
      );
      // The numerical check the ranks ran together: ⟨∇F, v⟩ against a central difference.
      const { analytic, numeric } = res[r]![kind];
      assert.ok(
        Math.abs(analytic - numeric) < 1e-6 * Math.abs(analytic),
        `${analytic} vs ${numeric}`,
      );
    }
    if (kind === "allGather") {
      // "Return my slice" of the cotangent would give rank r only ∂loss_r/∂x_r: wrong here.
      const mine = grad((x: Tensor) => lossOf(0, concat([x, xs[1]!], 0)))(xs[0]!);
      const wrong = [...await mine.data()], right = [...res[0]!.allGather.grad];
      assert.ok(wrong.some((v, i) => Math.abs(v - right[i]!) > 1e-3), "asymmetry not exercised");
      mine.dispose();
    }
    for (const t of [...xs, ...ref]) t.dispose();
  });
}

Deno.test("distributed grad: second order through a collective; jvp is refused", () => {
  const c = local();
  const before = memoryStats().cpu?.tensors ?? 0;
  scope(() => {
    const x = tensor([0.5, -1]);
    const d2 = grad((x: Tensor) => sum(grad((y: Tensor) => sum(sin(allReduceSum(c, y))))(x)))(x);
    // d²/dx² Σ sin(x) = −sin(x), summed: the outer grad of Σ cos(x)
    assert.deepEqual(
      [...d2.dataSync()].map((v) => v.toFixed(6)),
      [-Math.sin(0.5), Math.sin(1)].map((v) => v.toFixed(6)),
    );
    assert.throws(
      () => jvp((y: Tensor) => allGather(c, y), [x], [x]),
      /allGather: forward mode \(jvp\) through a collective is not supported/,
    );
  });
  assert.equal(memoryStats().cpu?.tensors ?? 0, before);
});

Deno.test("distributed: tree allreduce / broadcast / replica checksum under sim(2)", async () => {
  const res = await simulate(2, new URL("./_tree_replica.ts", import.meta.url), {
    timeoutMs: SIM_TIMEOUT_MS,
  });
  const rows = res as Record<string, unknown>[];
  for (const r of rows) {
    assert.deepEqual(r.summed, { w: [[2, 4], [6, 1]], b: [1 / 3], n: [3, 20] });
    assert.deepEqual(r.bcast, { w: [[1.5, 2], [3, 1]], b: [1 / 3], n: [2, 10] });
    assert.equal(typeof r.agree, "number");
    assert.match(String(r.drift), /replicaChecksum: replicas differ from rank 0 on rank\(s\) 1/);
  }
  assert.equal(rows[0]!.agree, rows[1]!.agree);
});

Deno.test("distributed grad: sim(2) reports a rank whose loss skips a collective's backward", async () => {
  await assert.rejects(
    simulate(2, new URL("./_unused_gather.ts", import.meta.url), { timeoutMs: SIM_TIMEOUT_MS }),
    /rank 0 of 2 failed: .*reduceScatterSum: rank 0 waits in reduceScatterSum, but 1 replica\(s\) already finished/s,
  );
});
