/**
 * nn/conv_stem.ts: the convolutional ViT stem (Xiao et al. 2021) behind `stem: "conv"`. The stem
 * is a composition of checked primitives, so these tests pin what it adds: the stage widths, the
 * exact composition (stride-2 3×3 conv → channel LayerNorm → ReLU, then the 1×1 `proj`), its
 * gradient through the whole ViT, parameter names and count, and the errors.
 */
import assert from "node:assert/strict";
import {
  channelLayerNorm,
  convStem,
  convStemSpec,
  convStemWidths,
  countParams,
  initFromSpec,
  initPatchEmbed,
  patchEmbed,
  patchEmbedSpec,
} from "../../nn/mod.ts";
import { checkGrad, treeFlatten } from "../../autodiff/mod.ts";
import {
  add,
  conv2d,
  dispose,
  matmul,
  permute,
  random,
  relu,
  reshape,
  type Tensor,
} from "../../mod.ts";
import { initVit, vitForwardFeatures } from "../../models/vit.ts";
import { noLeak } from "./_fixture.ts";

Deno.test("convStemWidths: one stage per halving, doubling up to the width (at least 8)", () => {
  assert.deepEqual(convStemWidths(2, 64), [64]);
  assert.deepEqual(convStemWidths(8, 128), [32, 64, 128]);
  assert.deepEqual(convStemWidths(16, 768), [96, 192, 384, 768]);
  assert.deepEqual(convStemWidths(16, 16), [8, 8, 8, 16]);
  for (const p of [1, 3, 7, 12]) assert.throws(() => convStemWidths(p, 64), /power of 2/);
  assert.throws(() => convStemWidths(4, 0), /embedDim must be a positive integer, got 0/);
});

Deno.test("patchEmbed with a conv stem = conv(s2) → channel LN → ReLU per stage, then the 1×1 proj", async () => {
  await noLeak(async () => {
    const p = initPatchEmbed(random.key(0), {
      patchSize: 4,
      inChans: 3,
      embedDim: 8,
      stem: "conv",
    });
    assert.deepEqual(p.stem!.map((s) => s.conv.weight.shape), [[8, 3, 3, 3], [8, 8, 3, 3]]);
    assert.deepEqual(p.stem!.map((s) => s.conv.bias), [undefined, undefined]);
    assert.deepEqual(p.proj.weight.shape, [8, 8, 1, 1]);
    const x = random.normal(random.key(1), [2, 3, 8, 12]);
    let h: Tensor = x;
    for (const s of p.stem!) {
      h = relu(channelLayerNorm(s.norm, conv2d(h, s.conv.weight, null, { stride: 2, padding: 1 })));
    }
    const tokens = reshape(permute(h, [0, 2, 3, 1]), [2 * 2 * 3, 8]);
    const want = reshape(
      matmul(tokens, reshape(p.proj.weight, [8, 8]), { transB: true }),
      [2, 6, 8],
    );
    const got = patchEmbed(p, x);
    assert.deepEqual(got.shape, [2, 6, 8]);
    const [g, w] = [await got.data(), await add(want, p.proj.bias!).data()];
    g.forEach((v, i) => assert.ok(Math.abs(v - w[i]!) < 1e-5, `${i}: ${v} vs ${w[i]}`));
    assert.deepEqual(await convStem(p.stem!, x).data(), await h.data());
  });
});

Deno.test("conv stem: parameter names and count, a ViT's gradient through it (float64)", async () => {
  const spec = patchEmbedSpec({ patchSize: 4, inChans: 1, embedDim: 8, stem: "conv" });
  const stemCount = countParams(convStemSpec({ patchSize: 4, inChans: 1, embedDim: 8 }));
  assert.equal(stemCount, 8 * 9 + 16 + 8 * 8 * 9 + 16); // widths [8, 8]: at least 8
  assert.equal(countParams(spec), stemCount + 8 * 8 + 8);
  const cfg = {
    imgSize: 8,
    patchSize: 4,
    inChans: 1,
    numClasses: 0,
    embedDim: 8,
    depth: 1,
    numHeads: 2,
    stem: "conv" as const,
    dtype: "float64" as const,
  };
  const params = initVit(random.key(2), cfg);
  const names = Object.keys(treeFlatten(params)).filter((n) => n.startsWith("patch_embed"));
  assert.deepEqual(names, [
    "patch_embed.proj.weight",
    "patch_embed.proj.bias",
    "patch_embed.stem.0.conv.weight",
    "patch_embed.stem.0.norm.weight",
    "patch_embed.stem.0.norm.bias",
    "patch_embed.stem.1.conv.weight",
    "patch_embed.stem.1.norm.weight",
    "patch_embed.stem.1.norm.bias",
  ]);
  const x = random.normal(random.key(3), [2, 1, 8, 8], { dtype: "float64" });
  // First order only (ReLU); a small step keeps the finite differences off the ReLU kinks.
  await checkGrad(
    (pe: typeof params.patch_embed, xx: Tensor) =>
      vitForwardFeatures({ ...params, patch_embed: pe }, xx, cfg).tokens,
    [params.patch_embed, x],
    { eps: 1e-6 },
  );
  dispose([params, x]);
});

Deno.test("conv stem: clear errors for a patch that is not a power of 2 and for image sizes", () => {
  assert.throws(
    () => patchEmbedSpec({ patchSize: 7, inChans: 1, embedDim: 8, stem: "conv" }),
    /convStem: the patch size must be a power of 2 .* got 7/,
  );
  const stem = initFromSpec(random.key(0), convStemSpec({ patchSize: 8, inChans: 1, embedDim: 8 }));
  assert.throws(
    () => convStem(stem, random.normal(random.key(1), [1, 1, 12, 16])),
    /convStem: images must be \[B, C, H, W\] with H, W multiples of 8 \(3 stride-2 convs\), got \[1, 1, 12, 16\]/,
  );
  dispose(stem);
});
