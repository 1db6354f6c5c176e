import assert from "node:assert/strict";
import { batchNorm2d, batchNormSpec, initBatchNormState } from "../../nn/mod.ts";
import { checkGrad, random, type Tensor, tensor } from "../../mod.ts";
import { assertClose, noLeak } from "./_fixture.ts";

/** Hand computation of BatchNorm2d on nested arrays [N][C][H][W]. */
function handBn(x: number[][][][], g: number[], b: number[], eps: number) {
  const n = x.length, c = x[0]!.length, hw = x[0]![0]!.length * x[0]![0]![0]!.length;
  const mu: number[] = [], v: number[] = [];
  for (let k = 0; k < c; k++) {
    const vals = x.flatMap((s) => s[k]!.flat());
    const m = vals.reduce((a, z) => a + z, 0) / vals.length;
    mu.push(m);
    v.push(vals.reduce((a, z) => a + (z - m) ** 2, 0) / vals.length);
  }
  const y = x.map((s) =>
    s.map((ch, k) =>
      ch.map((row) => row.map((z) => (z - mu[k]!) / Math.sqrt(v[k]! + eps) * g[k]! + b[k]!))
    )
  );
  return { y, mu, v, count: n * hw };
}

Deno.test("batchNorm2d train: batch statistics, running stats by momentum (unbiased var), eval uses them", async () => {
  await noLeak(async () => {
    const xs = [[[[1, 2], [3, 4]], [[0, -1], [5, 2]]], [[[2, 2], [0, 7]], [[1, 1], [-3, 4]]]];
    const g = [1.5, -0.5], b = [0.25, 2];
    const x = tensor(xs), p = { weight: tensor(g), bias: tensor(b) };
    const s0 = { running_mean: tensor([0.5, -1]), running_var: tensor([2, 0.5]) };
    const { y, state } = batchNorm2d(p, s0, x, { train: true });
    const want = handBn(xs, g, b, 1e-5);
    await assertClose(y, want.y.flat(3), { atol: 1e-5 });
    await assertClose(state.running_mean, [
      0.9 * 0.5 + 0.1 * want.mu[0]!,
      0.9 * -1 + 0.1 * want.mu[1]!,
    ]);
    const unb = want.v.map((v) => v * want.count / (want.count - 1));
    await assertClose(state.running_var, [0.9 * 2 + 0.1 * unb[0]!, 0.9 * 0.5 + 0.1 * unb[1]!]);
    const ev = batchNorm2d(p, state, x, { eps: 0.001 });
    assert.equal(ev.state, state);
    const rm = Array.from(await state.running_mean.data()),
      rv = Array.from(await state.running_var.data());
    const wantEval = xs.flatMap((s) =>
      s.flatMap((ch, k) =>
        ch.flat().map((z) => (z - rm[k]!) / Math.sqrt(rv[k]! + 0.001) * g[k]! + b[k]!)
      )
    );
    await assertClose(ev.y, wantEval, { atol: 1e-5 });
    const m0 = batchNorm2d(p, s0, x, { train: true, momentum: 0 }).state;
    await assertClose(m0.running_mean, [0.5, -1]);
  });
});

Deno.test("batchNorm2d gradients (float64, through the batch statistics) and errors", async () => {
  const x = random.normal(random.key(0), [3, 2, 2, 2], { dtype: "float64" });
  const w = tensor([1.2, 0.7], { dtype: "float64" }),
    bb = tensor([0.1, -0.3], { dtype: "float64" });
  const s = initBatchNormState(2, "float64");
  const f = (xx: Tensor, ww: Tensor, b: Tensor) =>
    batchNorm2d({ weight: ww, bias: b }, s, xx, { train: true }).y;
  await checkGrad(f, [x, w, bb]);
  await checkGrad(
    (xx: Tensor, ww: Tensor, b: Tensor) => batchNorm2d({ weight: ww, bias: b }, s, xx).y,
    [x, w, bb],
  );
  assert.throws(
    () => batchNorm2d({ weight: w, bias: bb }, s, tensor([1, 2])),
    /batchNorm2d: x must be/,
  );
  assert.throws(
    () =>
      batchNorm2d({ weight: w, bias: bb }, s, random.normal(random.key(1), [1, 2, 1, 1]), {
        train: true,
      }),
    /more than one value/,
  );
  assert.throws(() => batchNormSpec(0), /batchNormSpec: numFeatures/);
});
