/** The ViT → 4-scale adapter (models/dense/vit_adapter.ts), spec methods.md §11. */
import assert from "node:assert/strict";
import * as t from "../../../mod.ts";
import { initVit } from "../../../models/vit.ts";
import {
  adaptScales,
  initVitAdapter,
  tokensToMap,
  vitMultiScale,
} from "../../../models/dense/vit_adapter.ts";
import { expectError } from "../../_helpers.ts";
import { assertClose, noLeak } from "../../nn/_fixture.ts";

const cfg = {
  imgSize: 32,
  patchSize: 16,
  inChans: 1,
  numClasses: 0,
  embedDim: 8,
  depth: 4,
  numHeads: 2,
};

Deno.test("vitMultiScale: strides 4, 8, 16, 32 on a non-square input; sincos swap", async () => {
  await noLeak(async () => {
    const vit = initVit(t.random.key(0), cfg),
      ad = initVitAdapter(t.random.key(1), { embedDim: 8 });
    const img = t.random.normal(t.random.key(2), [2, 1, 96, 160]);
    for (const posEmbed of [undefined, "sincos"] as const) {
      const maps = vitMultiScale(ad, vit, img, cfg, { posEmbed });
      assert.deepEqual(maps.map((m) => m.shape), [
        [2, 8, 24, 40],
        [2, 8, 12, 20],
        [2, 8, 6, 10],
        [2, 8, 3, 5],
      ]);
      for (const m of maps) assert.ok((await m.data()).every(Number.isFinite));
    }
    // the identity (stride-16) branch is block 2's token map
    const f = (await import("../../../models/vit.ts")).vitForwardFeatures(vit, img, cfg, {
      returnLayers: [2],
    });
    const m3 = vitMultiScale(ad, vit, img, cfg, { outIndices: [0, 1, 2, 3] })[2]!;
    await assertClose(m3, tokensToMap(f.intermediates[0]!, f.grid, 1), { atol: 0, rtol: 0 });
  });
});

Deno.test("adaptScales: deconv k2 s2 doubles exactly (no overlap); max-pool halves with floor", async () => {
  await noLeak(async () => {
    const ad = initVitAdapter(t.random.key(3), { embedDim: 2, norm: "none" });
    const m = t.random.normal(t.random.key(4), [1, 2, 3, 5]);
    const [a, b, c, d] = adaptScales(ad, [m, m, m, m]);
    assert.deepEqual([a!.shape, b!.shape, c!.shape, d!.shape], [
      [1, 2, 12, 20],
      [1, 2, 6, 10],
      [1, 2, 3, 5],
      [1, 2, 1, 2],
    ]);
    // no overlap: output pixel (2i+u, 2j+v) = bias + Σ_c w[c, o, u, v] · m[c, i, j]
    const w = await ad.fpn2!.deconv.weight.data(), bias = await ad.fpn2!.deconv.bias!.data();
    const x = await m.data(), y = await b!.data();
    for (const [o, i, j, u, v] of [[0, 0, 0, 0, 0], [1, 2, 4, 1, 1], [0, 1, 3, 1, 0]]) {
      let want = bias[o!]!;
      for (let c = 0; c < 2; c++) {
        want += w[((c * 2 + o!) * 2 + u!) * 2 + v!]! * x[c * 15 + i! * 5 + j!]!;
      }
      assert.ok(Math.abs(y[o! * 60 + (2 * i! + u!) * 10 + 2 * j! + v!]! - want) < 1e-5);
    }
  });
});

Deno.test("vitMultiScale: bad inputs are TesseraErrors naming the op", () => {
  const vit = initVit(t.random.key(0), cfg), ad = initVitAdapter(t.random.key(1), { embedDim: 8 });
  expectError(
    () => vitMultiScale(ad, vit, t.ones([1, 1, 40, 32]), cfg),
    "vitMultiScale",
    "multiples",
  );
  expectError(
    () => vitMultiScale(ad, vit, t.ones([1, 1, 32, 32]), cfg, { outIndices: [1, 2] }),
    "vitMultiScale",
    "4 entries",
  );
  expectError(() => adaptScales(ad, []), "adaptScales", "4 maps");
  const x8 = initVitAdapter(t.random.key(1), { embedDim: 8, pyramid: "xcit8" });
  expectError(
    () => vitMultiScale(x8, vit, t.ones([1, 1, 32, 32]), cfg),
    "vitMultiScale",
    "patch 16",
  );
  expectError(
    () => initVitAdapter(t.random.key(1), { embedDim: 8, pyramid: "fpn" as never }),
    "vitAdapterSpec",
    "pyramid must be one of beit, xcit8",
  );
});

Deno.test("vitMultiScale, patch 8 with pyramid xcit8: the same strides 4, 8, 16, 32 from a finer grid", async () => {
  await noLeak(async () => {
    const c8 = { ...cfg, patchSize: 8 };
    const vit = initVit(t.random.key(0), c8);
    const ad = initVitAdapter(t.random.key(1), { embedDim: 8, pyramid: "xcit8" });
    assert.deepEqual(Object.keys(ad.fpn1), ["deconv1"]);
    assert.equal(ad.fpn2, undefined);
    const img = t.random.normal(t.random.key(2), [1, 1, 64, 96]);
    const maps = vitMultiScale(ad, vit, img, c8, { outIndices: [0, 1, 2, 3] });
    assert.deepEqual(maps.map((m) => m.shape), [
      [1, 8, 16, 24],
      [1, 8, 8, 12],
      [1, 8, 4, 6],
      [1, 8, 2, 3],
    ]);
    // stride 8 is block 1's token map itself; stride 32 is a 4×4 max-pool of block 3's
    const f = (await import("../../../models/vit.ts")).vitForwardFeatures(vit, img, c8, {
      returnLayers: [1, 3],
    });
    await assertClose(maps[1]!, tokensToMap(f.intermediates[0]!, f.grid, 1), { atol: 0, rtol: 0 });
    const pooled = t.maxPool2d(tokensToMap(f.intermediates[1]!, f.grid, 1), 4, { stride: 4 });
    await assertClose(maps[3]!, pooled, { atol: 0, rtol: 0 });
  });
});
