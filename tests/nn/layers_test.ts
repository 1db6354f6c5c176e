/**
 * nn layers: a timm Block's forward and gradients against PyTorch (tools/make_vit_fixture.py),
 * masked/biased attention, numerical gradient checks in float64, dropout and drop path,
 * position embeddings (MAE sin-cos, F.interpolate bilinear/bicubic) and parameter specs.
 */
import assert from "node:assert/strict";
import {
  add,
  checkGrad,
  concat,
  mean,
  mul,
  ones,
  random,
  reshape,
  scope,
  sum,
  type Tensor,
  tensor,
  treeMapWithPath,
  treeUnflatten,
  valueAndGrad,
  zeros,
} from "../../mod.ts";
import {
  attention,
  block,
  type BlockParams,
  blockSpec,
  countParams,
  dropout,
  dropPath,
  dropPathRates,
  initAttention,
  initBlock,
  initLinear,
  initMlp,
  initPatchEmbed,
  interpolatePosEmbed,
  linear,
  mlp,
  patchEmbed,
  resizeAxes,
  sincos2dPosEmbed,
  specEntries,
} from "../../nn/mod.ts";
import { expectError } from "../_helpers.ts";
import { assertClose, fx, noLeak, torchFixture } from "./_fixture.ts";

async function fixtureBlock(): Promise<BlockParams> {
  const all = await torchFixture();
  const flat: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(all)) {
    if (k.startsWith("block/param/")) flat[k.slice("block/param/".length)] = v;
  }
  return treeUnflatten(flat) as BlockParams;
}

Deno.test("nn: timm Block forward and gradients match PyTorch", async () => {
  const p = await fixtureBlock();
  const x = await fx("block/x"), r = await fx("block/r");
  assert.deepEqual(Object.keys(p).sort(), ["attn", "ls1", "ls2", "mlp", "norm1", "norm2"]);
  await noLeak(async () => {
    const loss = (bp: BlockParams, xx: Tensor) => sum(mul(block(bp, xx, { numHeads: 2 }), r));
    await assertClose(block(p, x, { numHeads: 2 }), await fx("block/y"), { what: "y", atol: 2e-6 });
    const [value, [gp, gx]] = valueAndGrad<[BlockParams, Tensor], Tensor, [BlockParams, Tensor]>(
      loss,
      { argnums: [0, 1] },
    )(p, x);
    await assertClose(value, await fx("block/loss"), { what: "loss", atol: 1e-4 });
    await assertClose(gx, await fx("block/grad_x"), { what: "grad x", atol: 1e-5, rtol: 1e-4 });
    const checks: Promise<void>[] = [];
    treeMapWithPath((path, g) => {
      checks.push(
        fx(`block/grad/${path}`).then((want) =>
          assertClose(g, want, { what: `grad ${path}`, atol: 2e-5, rtol: 1e-4 })
        ),
      );
      return g;
    }, gp);
    await Promise.all(checks);
    assert.equal(checks.length, 14);
  });
});

Deno.test("nn: attention with additive bias and key-padding mask matches PyTorch", async () => {
  const p = await fixtureBlock();
  const out = attention(p.attn, await fx("block/x"), {
    numHeads: 2,
    attnBias: await fx("block/attn_bias"),
    keyPaddingMask: await fx("block/key_padding_mask"),
  });
  await assertClose(out, await fx("block/attn_masked_out"), { atol: 2e-6 });
  out.dispose();
});

Deno.test("nn: a k-bias does not change attention (softmax cancels it)", async () => {
  await noLeak(async () => {
    const p = initAttention(random.key(0), { dim: 8, numHeads: 2 });
    const x = random.normal(random.key(1), [2, 4, 8]);
    const kb = random.normal(random.key(2), [8]);
    const withK = {
      ...p,
      qkv: { weight: p.qkv.weight, bias: concat([zeros([8]), kb, zeros([8])]) },
    };
    const noK = { ...p, qkv: { weight: p.qkv.weight, bias: zeros([24]) } };
    await assertClose(attention(withK, x, { numHeads: 2 }), attention(noK, x, { numHeads: 2 }), {
      atol: 1e-6,
    });
    // BEiT-style q/v bias equals a full bias with a zero k part
    const qb = random.normal(random.key(3), [8]), vb = random.normal(random.key(4), [8]);
    const beit = { qkv: { weight: p.qkv.weight }, proj: p.proj, q_bias: qb, v_bias: vb };
    const full = { ...p, qkv: { weight: p.qkv.weight, bias: concat([qb, kb, vb]) } };
    await assertClose(attention(beit, x, { numHeads: 2 }), attention(full, x, { numHeads: 2 }), {
      atol: 1e-6,
    });
  });
});

Deno.test("nn: a fully padded row stays finite", async () => {
  await noLeak(async () => {
    const p = initAttention(random.key(0), { dim: 4, numHeads: 1 });
    const y = attention(p, ones([1, 2, 4]), {
      numHeads: 1,
      keyPaddingMask: tensor([[true, true]]),
    });
    assert.ok((await y.data()).every(Number.isFinite));
  });
});

Deno.test("nn: checkGrad on a tiny block, an MLP, attention with bias, and patch embedding (float64)", async () => {
  await noLeak(async () => {
    const bp = initBlock(random.key(0), { dim: 4, numHeads: 2, layerScaleInit: 0.5 });
    const x = random.normal(random.key(1), [2, 3, 4]);
    await checkGrad((p: BlockParams, xx: Tensor) => block(p, xx, { numHeads: 2 }), [bp, x]);
    const mp = initMlp(random.key(2), { inFeatures: 4, hiddenFeatures: 6 });
    await checkGrad((p: typeof mp, xx: Tensor) => mlp(p, xx), [mp, x], { order: 2 });
    const bias = random.normal(random.key(3), [1, 2, 3, 3]);
    await checkGrad(
      (p: typeof bp.attn, xx: Tensor, b: Tensor) => attention(p, xx, { numHeads: 2, attnBias: b }),
      [bp.attn, x, bias],
    );
    const pe = initPatchEmbed(random.key(4), { patchSize: 2, inChans: 2, embedDim: 3 });
    await checkGrad(
      (p: typeof pe, im: Tensor) => patchEmbed(p, im),
      [pe, random.normal(random.key(5), [1, 2, 4, 2])],
    );
  });
});

Deno.test("nn: linear over leading dims equals the 2-D product", async () => {
  await noLeak(async () => {
    const p = initLinear(random.key(0), { inFeatures: 3, outFeatures: 5 });
    const x = random.normal(random.key(1), [2, 4, 3]);
    const flat = linear(p, reshape(x, [8, 3]));
    await assertClose(linear(p, x), reshape(flat, [2, 4, 5]));
    const nb = initLinear(random.key(0), { inFeatures: 3, outFeatures: 5, bias: false });
    assert.equal(nb.bias, undefined);
    expectError(() => linear(p, ones([2, 4])), "linear", "[2, 4]");
  });
});

Deno.test("nn: dropout and dropPath", async () => {
  await noLeak(async () => {
    const x = ones([400, 3]);
    assert.equal(dropout(x, { rate: 0.5 }), x, "eval mode is the identity");
    assert.equal(dropPath(x, { rate: 0.5, train: true, key: random.key(0) }).shape.length, 2);
    assert.equal(dropPath(x, { rate: 0, train: true }), x, "rate 0 needs no key");
    expectError(() => dropout(x, { rate: 0.1, train: true }), "dropout", "key");
    expectError(() => dropPath(x, { rate: 1.5 }), "dropPath", "[0, 1]");
    const d = await dropout(x, { rate: 0.25, train: true, key: random.key(1) }).data();
    assert.ok(d.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6));
    const kept = d.filter((v) => v !== 0).length / d.length;
    assert.ok(Math.abs(kept - 0.75) < 0.05, `kept fraction ${kept}`);
    const y = await dropPath(x, { rate: 0.25, train: true, key: random.key(2) })
      .toArray() as number[][];
    assert.ok(
      y.every((row) =>
        row.every((v) => v === row[0]) && (row[0] === 0 || Math.abs(row[0]! - 4 / 3) < 1e-6)
      ),
    );
    // residual form x + dropPath(f(x)): per sample x or x + f(x)/(1−r); mean ≈ x + f(x)
    const f = mul(x, 2);
    const res = add(x, dropPath(f, { rate: 0.25, train: true, key: random.key(3) }));
    const m = await mean(res).item();
    assert.ok(Math.abs(m - 3) < 0.15, `mean ${m}`);
    const rates = dropPathRates(0.1, 5);
    [0, 0.025, 0.05, 0.075, 0.1].forEach((r, i) => assert.ok(Math.abs(rates[i]! - r) < 1e-15));
    assert.deepEqual(dropPathRates(0.1, 1), [0]);
  });
});

Deno.test("nn: block in training mode needs a key and is stochastic; eval is deterministic", async () => {
  await noLeak(async () => {
    const p = initBlock(random.key(0), { dim: 8, numHeads: 2 });
    const x = random.normal(random.key(1), [6, 3, 8]);
    expectError(() => block(p, x, { numHeads: 2, dropPath: 0.5, train: true }), "block", "key");
    const a = block(p, x, { numHeads: 2, dropPath: 0.5, train: true, key: random.key(2) });
    const b = block(p, x, { numHeads: 2, dropPath: 0.5, train: true, key: random.key(3) });
    const e1 = block(p, x, { numHeads: 2, dropPath: 0.5 });
    const e2 = block(p, x, { numHeads: 2, dropPath: 0.5 });
    assert.notDeepEqual(await a.toArray(), await b.toArray());
    assert.deepEqual(await e1.toArray(), await e2.toArray());
  });
});

Deno.test("nn: 2-D sin-cos table equals MAE's get_2d_sincos_pos_embed", async () => {
  await noLeak(async () => {
    const pe = sincos2dPosEmbed(16, 4, 4, { clsToken: true, dtype: "float64" });
    assert.deepEqual(pe.shape, [1, 17, 16]);
    await assertClose(reshape(pe, [17, 16]), await fx("sincos/mae_16_4_cls"), {
      atol: 1e-12,
      rtol: 0,
    });
    assert.deepEqual(sincos2dPosEmbed(8, 2, 3).shape, [1, 6, 8]);
    expectError(() => sincos2dPosEmbed(6, 2), "sincos2dPosEmbed", "multiple of 4");
  });
});

Deno.test("nn: bilinear and bicubic resizing match F.interpolate", async () => {
  const x = await fx("interp/x");
  await noLeak(async () => {
    for (const mode of ["bilinear", "bicubic"] as const) {
      for (const ac of [0, 1]) {
        for (const [h, w] of [[7, 3], [2, 9]] as const) {
          const want = await fx(`interp/${mode}/${ac}/${h}x${w}`);
          const got = resizeAxes(x, [h, w], { mode, alignCorners: ac === 1 });
          await assertClose(got, want, { atol: 2e-6, what: `${mode} ac=${ac} ${h}x${w}` });
        }
      }
    }
    // differentiable (gather-based): checkGrad through a bicubic resize
    await checkGrad((t: Tensor) => resizeAxes(t, [3, 5], { mode: "bicubic" }), [
      random.normal(random.key(0), [1, 2, 2, 3]),
    ]);
  });
});

Deno.test("nn: interpolatePosEmbed keeps the prefix and resamples the grid", async () => {
  await noLeak(async () => {
    const pe = sincos2dPosEmbed(8, 4, 4, { clsToken: true });
    assert.equal(interpolatePosEmbed(pe, [4, 4], [4, 4]), pe);
    const up = interpolatePosEmbed(pe, [4, 4], [6, 5], { mode: "bilinear" });
    assert.deepEqual(up.shape, [1, 31, 8]);
    const cls = (t: Tensor) =>
      reshape(t, [t.shape[1]!, 8]).toArray().then((a) => (a as number[][])[0]);
    assert.deepEqual(await cls(up), await cls(pe));
    // a constant grid stays constant under both modes (weights sum to 1)
    const c = concat([zeros([1, 1, 8]), ones([1, 9, 8])], 1);
    for (const mode of ["bilinear", "bicubic"] as const) {
      const r = await interpolatePosEmbed(c, [3, 3], [5, 4], { mode }).data();
      assert.ok(r.slice(8).every((v) => Math.abs(v - 1) < 1e-6));
    }
    expectError(() => interpolatePosEmbed(pe, [3, 3], [4, 4]), "interpolatePosEmbed", "[1, 17, 8]");
  });
});

Deno.test("nn: specs count parameters without allocating; init follows the spec", () => {
  scope(() => {
    const spec = blockSpec({ dim: 384, numHeads: 6 });
    assert.equal(countParams(spec), 1_774_464);
    const beit = blockSpec({
      dim: 8,
      numHeads: 2,
      qkvBias: "qv",
      layerScaleInit: 0.1,
      layerScaleNames: "beit",
    });
    assert.deepEqual(specEntries(beit).map(([p]) => p).sort(), [
      "attn.proj.bias",
      "attn.proj.weight",
      "attn.q_bias",
      "attn.qkv.weight",
      "attn.v_bias",
      "gamma_1",
      "gamma_2",
      "mlp.fc1.bias",
      "mlp.fc1.weight",
      "mlp.fc2.bias",
      "mlp.fc2.weight",
      "norm1.bias",
      "norm1.weight",
      "norm2.bias",
      "norm2.weight",
    ]);
    const p = initBlock(random.key(0), {
      dim: 8,
      numHeads: 2,
      qkvBias: "qv",
      layerScaleInit: 0.1,
      layerScaleNames: "beit",
    });
    assert.equal(countParams(p), countParams(beit));
    assert.deepEqual(p.gamma_1!.shape, [8]);
  });
});
