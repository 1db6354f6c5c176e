/**
 * extractFeatures: block choice, CLS excluded from the patch mean, final norm only on the last
 * block, the normalisation applied, no leaked tensors (moved from tests/cli/probe_test.ts).
 */
import assert from "node:assert/strict";
import { extractFeatures } from "../../models/encoder_features.ts";
import { initVit, type VitConfig, vitForwardFeatures } from "../../models/vit.ts";
import { dispose, memoryStats, random, scope, tensor } from "../../mod.ts";
import { TINY_VIT } from "./_tiny.ts";

/** 28×28 images, 7×7 patches (16 tokens + CLS), width 16, 2 blocks. */
const ENC: VitConfig = {
  ...TINY_VIT,
  imgSize: 28,
  patchSize: 7,
  numClasses: 0,
  embedDim: 16,
  classToken: true,
};
const NORM = { mean: 0.286, std: 0.353 };

Deno.test("extractFeatures: patch mean without CLS, block L before the norm, last block after it", async () => {
  const params = scope(() => initVit(random.key(1), ENC));
  const images = Uint8Array.from({ length: 3 * 784 }, (_, i) => (i * 37) % 256);
  const before = memoryStats().cpu?.tensors ?? 0;
  const f1 = await extractFeatures(params, ENC, images, { layer: 1, batch: 2, ...NORM });
  const f2 = await extractFeatures(params, ENC, images, { layer: 2, ...NORM });
  const cls = await extractFeatures(params, ENC, images, { layer: 2, pool: "cls", ...NORM });
  assert.equal(memoryStats().cpu?.tensors ?? 0, before, "extractFeatures leaked");
  const x = tensor(Float32Array.from(images, (v) => (v / 255 - 0.286) / 0.353), {
    shape: [3, 1, 28, 28],
  });
  const ref = vitForwardFeatures(params, x, ENC, { returnLayers: [0] });
  const tok = await ref.tokens.data(), mid = await ref.intermediates[0]!.data();
  const pool = (t: ArrayLike<number>, i: number, k: number) => {
    let s = 0;
    for (let p = 1; p <= 16; p++) s += t[(i * 17 + p) * 16 + k]!;
    return s / 16;
  };
  for (let i = 0; i < 3; i++) {
    for (let k = 0; k < 16; k++) {
      assert.ok(Math.abs(f1[i * 16 + k]! - pool(mid, i, k)) < 1e-5, "block 1");
      assert.ok(Math.abs(f2[i * 16 + k]! - pool(tok, i, k)) < 1e-5, "block 2 (+ norm)");
      assert.ok(Math.abs(cls[i * 16 + k]! - tok[i * 17 * 16 + k]!) < 1e-5, "CLS token");
    }
  }
  dispose([params, x, ref]);
});

Deno.test("extractFeatures: bad pool, layer or image size is a TesseraError naming the op", () => {
  const cfg: VitConfig = { ...ENC, classToken: false };
  const params = scope(() => initVit(random.key(2), cfg));
  const px = new Uint8Array(784);
  const cases: [Parameters<typeof extractFeatures>[3], Uint8Array, RegExp][] = [
    [{ layer: 1, pool: "cls", ...NORM }, px, /extractFeatures.*the encoder has no CLS token/],
    [{ layer: 0, ...NORM }, px, /layer must be in \[1, 2\], got 0/],
    [{ layer: 1, ...NORM }, new Uint8Array(700), /700 pixels are not whole 1×28×28 images/],
  ];
  for (const [opts, images, re] of cases) {
    assert.throws(() => extractFeatures(params, cfg, images, opts), re);
  }
  dispose(params);
});
