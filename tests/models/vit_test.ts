/**
 * ViT: timm/BEiT-style PyTorch checkpoints (tools/make_vit_fixture.py) load by name and give
 * PyTorch's logits; parameter counts equal timm's; init schemes, intermediates, mask tokens,
 * fixed sin-cos positions and resolution changes.
 */
import assert from "node:assert/strict";
import {
  abs,
  max,
  mean,
  ones,
  random,
  sqrt,
  type Tensor,
  tensor,
  variance,
  where,
} from "../../mod.ts";
import { applyLayerNorm, countParams, loadCheckpoint, specEntries } from "../../nn/mod.ts";
import {
  countVitParams,
  initVit,
  VIT_PRESETS,
  type VitConfig,
  vitForward,
  vitForwardFeatures,
  vitHead,
  type VitParams,
  vitPreset,
  vitSpec,
} from "../../models/mod.ts";
import { expectError } from "../_helpers.ts";
import { assertClose, fx, noLeak } from "../nn/_fixture.ts";
import { TINY_VIT } from "./_tiny.ts";

const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url);

const TIMM: VitConfig = {
  imgSize: 28,
  patchSize: 7,
  inChans: 1,
  numClasses: 10,
  embedDim: 32,
  depth: 2,
  numHeads: 2,
};
const BEIT: VitConfig = {
  imgSize: 16,
  patchSize: 4,
  inChans: 3,
  numClasses: 5,
  embedDim: 24,
  depth: 2,
  numHeads: 3,
  globalPool: "avg",
  qkvBias: "qv",
  layerScaleInit: 0.1,
  layerScaleNames: "beit",
};

Deno.test("vit: a timm-named PyTorch checkpoint loads and gives PyTorch's logits", async () => {
  const x = await fx("vit_timm/input"), want = await fx("vit_timm/logits");
  await noLeak(async () => {
    const ck = await loadCheckpoint(fixture("vit_timm_tiny.safetensors"), {
      params: vitSpec(TIMM),
    });
    assert.equal(ck.format, "pt", "a foreign (PyTorch) file");
    assert.equal(ck.step, 0);
    await assertClose(vitForward(ck.params as VitParams, x, TIMM), want, { atol: 3e-6 });
  });
});

Deno.test("vit: a BEiT-style checkpoint (q/v bias, gamma_1, mean pool + fc_norm) matches", async () => {
  const x = await fx("vit_beit/input"), want = await fx("vit_beit/logits");
  await noLeak(async () => {
    const ck = await loadCheckpoint(fixture("vit_beit_tiny.safetensors"), {
      params: vitSpec(BEIT),
    });
    await assertClose(vitForward(ck.params as VitParams, x, BEIT), want, { atol: 3e-6 });
    // the timm config does not fit this file: the error names the differences
    await assert.rejects(
      () =>
        loadCheckpoint(fixture("vit_beit_tiny.safetensors"), {
          params: vitSpec({ ...BEIT, globalPool: "token", qkvBias: "full" }),
        }),
      (e: Error) =>
        e.message.includes(`missing tensor "norm.weight"`) &&
        e.message.includes(`unexpected tensor "fc_norm.weight"`) &&
        e.message.includes(`missing tensor "blocks.1.attn.qkv.bias"`) &&
        e.message.includes(`unexpected tensor "blocks.0.attn.q_bias"`),
    );
  });
});

Deno.test("vit: parameter counts equal timm's", () => {
  assert.equal(countVitParams(VIT_PRESETS.vit_small_patch16_224!), 22_050_664);
  assert.equal(countVitParams(VIT_PRESETS.vit_base_patch16_224!), 86_567_656);
  assert.equal(countVitParams(VIT_PRESETS.vit_tiny_patch16_224!), 5_717_416);
  // closed form for any config: patch conv + cls + pos + L·block + norm + head
  for (const [d, l, p, c, img, k] of [[48, 3, 8, 3, 32, 7], [64, 1, 4, 1, 28, 0]]) {
    const n = (img! / p!) ** 2;
    const blockN = 4 * d! + (3 * d! * d! + 3 * d!) + (d! * d! + d!) + (4 * d! * d! + 4 * d!) +
      (4 * d! * d! + d!);
    const want = d! * c! * p! * p! + d! + d! + (n + 1) * d! + l! * blockN + 2 * d! +
      (k! > 0 ? k! * d! + k! : 0);
    const cfg = {
      imgSize: img!,
      patchSize: p!,
      inChans: c!,
      numClasses: k!,
      embedDim: d!,
      depth: l!,
      numHeads: 4,
    };
    assert.equal(countVitParams(cfg), want);
  }
});

Deno.test("vit: ViT-S/16 initialises with timm's 22,050,664 parameters (≈5 s)", async () => {
  await noLeak(() => {
    const p = initVit(random.key(0), VIT_PRESETS.vit_small_patch16_224!);
    assert.equal(countParams(p), 22_050_664);
    assert.deepEqual(p.blocks[11]!.mlp.fc2.weight.shape, [384, 1536]);
  });
});

Deno.test("vit: init allocates exactly the spec; deterministic in the key", async () => {
  await noLeak(async () => {
    const cfg = vitPreset("vit_tiny_patch16_224", { depth: 2, imgSize: 32, numClasses: 10 });
    const p = initVit(random.key(0), cfg);
    assert.equal(countParams(p), countVitParams(cfg));
    const spec = specEntries(vitSpec(cfg));
    assert.equal(spec.length, 4 + 2 * 12 + 2 + 2);
    const q = initVit(random.key(0), cfg);
    assert.deepEqual(
      await p.blocks[1]!.attn.qkv.weight.data(),
      await q.blocks[1]!.attn.qkv.weight.data(),
    );
    const r = initVit(random.key(1), cfg);
    assert.notDeepEqual(await p.pos_embed!.data(), await r.pos_embed!.data());
  });
});

Deno.test("vit: init schemes (timm, beit-pretrain, mae) and BEiT's fix_init rescale", async () => {
  await noLeak(async () => {
    const cfg = vitPreset("vit_base_patch16_224", { numClasses: 0 });
    // fix_init: std of block-l proj weights ≈ 0.02/√(2l) within 5% at D = 768
    const beit = vitSpec({ ...cfg, init: "beit" });
    for (const l of [1, 4]) {
      const s = beit.blocks[l - 1]!.attn.proj.weight;
      const w = s.init(random.key(l), s.shape, s.dtype);
      const std = await sqrt(variance(w)).item();
      const want = 0.02 / Math.sqrt(2 * l);
      assert.ok(Math.abs(std / want - 1) < 0.05, `block ${l}: std ${std} vs ${want}`);
    }
    const small = {
      imgSize: 16,
      patchSize: 8,
      inChans: 3,
      numClasses: 4,
      embedDim: 64,
      depth: 1,
      numHeads: 2,
    };
    const timm = initVit(random.key(0), small);
    assert.ok((await max(abs(timm.cls_token!)).item()) < 1e-5, "timm cls_token ~ N(0, 1e-6²)");
    const bp = initVit(random.key(0), { ...small, init: "beit-pretrain" });
    assert.ok((await max(abs(bp.blocks[0]!.mlp.fc1.weight)).item()) <= 0.02, "truncated at ±std");
    const mae = initVit(random.key(0), { ...small, init: "mae", posEmbed: "sincos" });
    assert.equal(mae.pos_embed, undefined, "fixed sin-cos is not a parameter");
    const bound = Math.sqrt(6 / (64 + 192));
    const qkv = await max(abs(mae.blocks[0]!.attn.qkv.weight)).item();
    assert.ok(qkv <= bound && qkv > 0.9 * bound, `xavier bound ${bound}, max ${qkv}`);
  });
});

Deno.test("vit: head init ×0.001 gives |logits| < 1e-2 on unit-scale features", async () => {
  await noLeak(async () => {
    const cfg: VitConfig = {
      imgSize: 16,
      patchSize: 8,
      inChans: 3,
      numClasses: 100,
      embedDim: 192,
      depth: 0,
      numHeads: 3,
      globalPool: "avg",
      init: "beit",
      headInitScale: 0.001,
    };
    const p = initVit(random.key(0), cfg);
    const z = vitHead(p, random.normal(random.key(1), [8, 5, 192]), cfg);
    assert.deepEqual(z.shape, [8, 100]);
    assert.ok((await max(abs(z)).item()) < 1e-2);
  });
});

Deno.test("vit: intermediates, mask tokens, sin-cos positions and another resolution", async () => {
  await noLeak(async () => {
    const cfg: VitConfig = {
      ...TINY_VIT,
      depth: 3,
      maskToken: true,
    };
    const p = initVit(random.key(0), cfg);
    const x = random.normal(random.key(1), [2, 1, 8, 8]);
    const f = vitForwardFeatures(p, x, cfg, { returnLayers: [2, 0] });
    assert.equal(f.intermediates.length, 2);
    await assertClose(applyLayerNorm(p.norm!, f.intermediates[0]!), f.tokens);
    expectError(
      () => vitForwardFeatures(p, x, cfg, { returnLayers: [3] }),
      "vitForwardFeatures",
      "no block 3",
    );
    // masked patches: their pixels cannot reach the output
    const m0 = tensor([[true, false, false, false], [true, false, false, false]]);
    const clean = vitForward(p, x, cfg, { mask: m0 });
    await assertClose(vitForward(p, where(patch0(), 7, x), cfg, { mask: m0 }), clean, {
      atol: 1e-6,
    });
    assert.notDeepEqual(await clean.data(), await vitForward(p, x, cfg).data());
    // another resolution: learned positions are resampled (bicubic) to the 3×3 grid
    const big = vitForwardFeatures(p, random.normal(random.key(2), [1, 1, 12, 12]), cfg);
    assert.deepEqual(big.tokens.shape, [1, 10, 8]);
    assert.deepEqual(big.grid, [3, 3]);
    // fixed sin-cos, no CLS, mean pooling
    const sc: VitConfig = {
      ...cfg,
      posEmbed: "sincos",
      classToken: false,
      globalPool: "avg",
      maskToken: false,
    };
    const ps = initVit(random.key(0), sc);
    assert.deepEqual(Object.keys(ps).sort(), ["blocks", "fc_norm", "head", "patch_embed"]);
    assert.deepEqual(vitForward(ps, x, sc).shape, [2, 3]);
    expectError(
      () => vitHead(ps, ones([2, 4, 8]), { ...sc, globalPool: "token" }),
      "vitHead",
      "CLS",
    );
  });
});

/** bool [1, 1, 8, 8]: true on the first 4×4 patch (patch index 0). */
function patch0(): Tensor {
  const v = Array.from(
    { length: 8 },
    (_, r) => Array.from({ length: 8 }, (_, c) => r < 4 && c < 4),
  );
  return tensor([[v]]);
}

Deno.test("vit: training mode needs a key; dropout and drop path make it stochastic", async () => {
  await noLeak(async () => {
    const cfg: VitConfig = {
      ...TINY_VIT,
      dropPathRate: 0.2,
      dropRate: 0.1,
    };
    const p = initVit(random.key(0), cfg);
    const x = random.normal(random.key(1), [4, 1, 8, 8]);
    expectError(() => vitForward(p, x, cfg, { train: true }), "vitForwardFeatures", "key");
    const a = await vitForward(p, x, cfg, { train: true, key: random.key(2) }).data();
    const b = await vitForward(p, x, cfg, { train: true, key: random.key(3) }).data();
    assert.notDeepEqual(a, b);
    const e = await mean(vitForward(p, x, cfg)).item();
    assert.equal(e, await mean(vitForward(p, x, cfg)).item());
  });
});
