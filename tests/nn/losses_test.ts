/**
 * Losses against PyTorch values and gradients (tools/make_vit_fixture.py), closed forms,
 * methods.md §5's InfoNCE properties, and float64 gradient checks of every loss.
 */
import assert from "node:assert/strict";
import {
  checkGrad,
  eye,
  grad,
  mul,
  ones,
  random,
  type Tensor,
  tensor,
  valueAndGrad,
  zeros,
} from "../../mod.ts";
import {
  binaryCrossEntropyWithLogits,
  crossEntropy,
  infoNCE,
  l1Loss,
  l2Normalize,
  mseLoss,
  smoothL1Loss,
} from "../../nn/mod.ts";
import { expectError } from "../_helpers.ts";
import { assertClose, fx, noLeak } from "./_fixture.ts";

Deno.test("losses: cross-entropy matches F.cross_entropy (smoothing, ignore index, soft targets)", async () => {
  const logits = await fx("loss/logits"), labels = await fx("loss/labels");
  const soft = await fx("loss/soft");
  await noLeak(async () => {
    const ceInt = (z: Tensor) =>
      crossEntropy(z, labels, { labelSmoothing: 0.1, ignoreIndex: -100 });
    const [v1, g1] = valueAndGrad(ceInt)(logits);
    await assertClose(v1, await fx("loss/ce_int"), { what: "ce int" });
    await assertClose(g1, await fx("loss/ce_int_grad"), { what: "ce int grad", atol: 1e-7 });
    const [v2, g2] = valueAndGrad((z: Tensor) => crossEntropy(z, soft, { labelSmoothing: 0.1 }))(
      logits,
    );
    await assertClose(v2, await fx("loss/ce_soft"), { what: "ce soft" });
    await assertClose(g2, await fx("loss/ce_soft_grad"), { what: "ce soft grad", atol: 1e-7 });
  });
});

Deno.test("losses: cross-entropy closed forms and reductions", async () => {
  await noLeak(async () => {
    const z = tensor([[0, 0, 0, 0], [1, 2, 3, 4]]);
    const y = tensor([2, -1], { dtype: "int32" });
    // uniform logits: −log(1/4); the second row is ignored (ignoreIndex −1)
    await assertClose(crossEntropy(z, y, { ignoreIndex: -1 }), [Math.log(4)]);
    await assertClose(crossEntropy(z, y, { ignoreIndex: -1, reduction: "none" }), [Math.log(4), 0]);
    await assertClose(crossEntropy(z, y, { ignoreIndex: -1, reduction: "sum" }), [Math.log(4)]);
    // all ignored → 0 (not NaN) and a zero gradient
    const allIgnored = tensor([-100, -100], { dtype: "int32" });
    await assertClose(crossEntropy(z, allIgnored), [0]);
    await assertClose(grad((t: Tensor) => crossEntropy(t, allIgnored))(z), zeros([2, 4]));
    // one-hot soft targets equal integer labels
    const lab = tensor([3, 0], { dtype: "int32" });
    const oh = tensor([[0, 0, 0, 1], [1, 0, 0, 0]]);
    await assertClose(
      crossEntropy(z, oh, { labelSmoothing: 0.2 }),
      crossEntropy(z, lab, { labelSmoothing: 0.2 }),
    );
    // leading dims: [2, 3, C] logits with [2, 3] labels
    const z3 = random.normal(random.key(0), [2, 3, 5]);
    const l3 = tensor([[0, 1, 2], [3, 4, 0]], { dtype: "int32" });
    assert.deepEqual(crossEntropy(z3, l3, { reduction: "none" }).shape, [2, 3]);
    expectError(
      () => crossEntropy(z, tensor([1], { dtype: "int32" })),
      "crossEntropy",
      "labels [1]",
    );
  });
});

Deno.test("losses: BCE with logits, MSE, L1, smooth-L1 match PyTorch", async () => {
  const z = await fx("loss/z"), y = await fx("loss/y"), t = await fx("loss/t");
  const pw = await fx("loss/pos_weight");
  await noLeak(async () => {
    await assertClose(binaryCrossEntropyWithLogits(z, y), await fx("loss/bce"));
    const [v, g] = valueAndGrad((x: Tensor) =>
      binaryCrossEntropyWithLogits(x, y, { posWeight: pw })
    )(z);
    await assertClose(v, await fx("loss/bce_pw"));
    await assertClose(g, await fx("loss/bce_pw_grad"), { atol: 1e-7 });
    await assertClose(mseLoss(z, t), await fx("loss/mse"));
    await assertClose(l1Loss(z, t), await fx("loss/l1"));
    await assertClose(smoothL1Loss(z, t, { beta: 0.5 }), await fx("loss/smooth_l1_b05"));
    await assertClose(smoothL1Loss(z, t), await fx("loss/smooth_l1_b1"));
    await assertClose(smoothL1Loss(z, t, { beta: 0 }), l1Loss(z, t));
  });
});

Deno.test("losses: BCE is stable for huge logits and has gradient σ(x) − y at x = 0", async () => {
  await noLeak(async () => {
    const x = tensor([-1000, 1000, 0]);
    const y = tensor([0, 1, 1]);
    await assertClose(binaryCrossEntropyWithLogits(x, y, { reduction: "none" }), [0, 0, Math.LN2]);
    await assertClose(
      grad((t: Tensor) => binaryCrossEntropyWithLogits(t, y, { reduction: "sum" }))(x),
      [0, 0, -0.5],
    );
  });
});

Deno.test("losses: InfoNCE properties from methods.md §5", async () => {
  await noLeak(async () => {
    // orthonormal rows, τ = 0.2: diag 5, off-diag 0 → ln(1 + (B−1)e^−5)
    const b = 4;
    const o = eye(b, 16);
    await assertClose(infoNCE(o, o), [Math.log(1 + (b - 1) * Math.exp(-5))], { rtol: 1e-5 });
    // collapse: identical rows → ln B
    const c = ones([b, 8]);
    await assertClose(infoNCE(c, c), [Math.log(b)], { rtol: 1e-5 });
    // invariant to positive scaling; symmetric under swapping a and b
    const xa = random.normal(random.key(0), [5, 8]), xb = random.normal(random.key(1), [5, 8]);
    const base = infoNCE(xa, xb);
    await assertClose(infoNCE(mul(xa, 3), mul(xb, 0.5)), base, { rtol: 1e-5 });
    await assertClose(infoNCE(xb, xa), base, { rtol: 1e-6 });
    await assertClose(
      infoNCE(xa, xb, { scaleBy2Tau: true }),
      await base.data().then((d) => [d[0]! * 0.4]),
      {
        rtol: 1e-6,
      },
    );
    await assertClose(l2Normalize(tensor([[3, 4], [0, 0]])), [0.6, 0.8, 0, 0]);
  });
});

Deno.test("losses: checkGrad of every loss in float64", async () => {
  await noLeak(async () => {
    const z = random.normal(random.key(0), [3, 5]);
    const lab = tensor([1, -100, 4], { dtype: "int32" });
    const soft = random.uniform(random.key(1), [3, 5]);
    const y01 = random.uniform(random.key(2), [3, 5]);
    const t = random.normal(random.key(3), [3, 5]);
    await checkGrad((x: Tensor) => crossEntropy(x, lab, { labelSmoothing: 0.1 }), [z], {
      order: 2,
    });
    await checkGrad((x: Tensor, s: Tensor) => crossEntropy(x, s, { labelSmoothing: 0.1 }), [
      z,
      soft,
    ]);
    await checkGrad(
      (x: Tensor, y: Tensor) => binaryCrossEntropyWithLogits(x, y, { posWeight: 2 }),
      [z, y01],
    );
    await checkGrad((x: Tensor, y: Tensor) => mseLoss(x, y), [z, t], { order: 2 });
    await checkGrad((x: Tensor, y: Tensor) => l1Loss(x, y), [z, t]);
    await checkGrad((x: Tensor, y: Tensor) => smoothL1Loss(x, y, { beta: 0.7 }), [z, t]);
    // the spec's 4×8 InfoNCE example
    const a = random.normal(random.key(4), [4, 8]), b = random.normal(random.key(5), [4, 8]);
    await checkGrad((p: Tensor, q: Tensor) => infoNCE(p, q), [a, b]);
  });
});
