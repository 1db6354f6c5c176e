/**
 * nn/conv.ts: convolution layers as pytrees (PyTorch layout, names and default init) and the
 * channel LayerNorm of NCHW maps. The layers are thin over the conv primitives (whose values and
 * gradients the op suite and the gradient table check against PyTorch), so these tests pin what
 * the layer adds: shapes, init bounds, bias handling and the channel-axis normalisation.
 */
import assert from "node:assert/strict";
import {
  channelLayerNorm,
  convLayer,
  convLayerSpec,
  convTransposeLayer,
  initConvLayer,
} from "../../nn/mod.ts";
import { conv2d, convTranspose2d, dispose, random, tensor } from "../../mod.ts";
import { noLeak } from "./_fixture.ts";

Deno.test("convLayer: PyTorch shapes and U(±1/√fan_in) init, with and without bias", async () => {
  await noLeak(async () => {
    const p = initConvLayer(random.key(3), { inChannels: 3, outChannels: 8, kernel: 3 });
    assert.deepEqual([p.weight.shape, p.bias?.shape], [[8, 3, 3, 3], [8]]);
    const bound = 1 / Math.sqrt(3 * 9);
    for (const v of [...await p.weight.toArray() as number[][][][]].flat(3)) {
      assert.ok(Math.abs(v) <= bound, `${v} outside ±${bound}`);
    }
    const t = initConvLayer(random.key(3), {
      inChannels: 4,
      outChannels: 2,
      kernel: 2,
      transposed: true,
      bias: false,
    });
    assert.deepEqual([t.weight.shape, t.bias], [[4, 2, 2, 2], undefined]);
    dispose([p, t]);
  });
  assert.throws(() => convLayerSpec({ inChannels: 0, outChannels: 1, kernel: 1 }), /inChannels/);
});

Deno.test("convLayer / convTransposeLayer equal the primitives with the layer's weight and bias", async () => {
  await noLeak(async () => {
    const x = random.normal(random.key(1), [2, 3, 5, 5]);
    const p = initConvLayer(random.key(2), { inChannels: 3, outChannels: 4, kernel: 3 });
    const y = convLayer(p, x, { padding: 1, stride: 2 });
    const ref = conv2d(x, p.weight, p.bias!, { padding: 1, stride: 2 });
    assert.deepEqual(await y.toArray(), await ref.toArray());
    const q = initConvLayer(random.key(4), {
      inChannels: 3,
      outChannels: 2,
      kernel: 2,
      transposed: true,
    });
    const z = convTransposeLayer(q, x, { stride: 2 });
    assert.deepEqual(z.shape, [2, 2, 10, 10]);
    assert.deepEqual(
      await z.toArray(),
      await convTranspose2d(x, q.weight, q.bias!, { stride: 2 }).toArray(),
    );
    dispose([x, p, y, ref, q, z]);
  });
});

Deno.test("channelLayerNorm normalises over C at each pixel (ViTDet's LayerNorm2d)", async () => {
  await noLeak(async () => {
    // One pixel per image, C = 2: values (1, 3) → mean 2, var 1 → (−1, 1)·γ + β.
    const x = tensor([1, 3, 10, 30], { shape: [2, 2, 1, 1] });
    const params = { weight: tensor([2, 1]), bias: tensor([0, 5]) };
    const y = channelLayerNorm(params, x, { eps: 0 });
    assert.deepEqual(await y.toArray(), [[[[-2]], [[6]]], [[[-2]], [[6]]]]);
    dispose([x, params, y]);
  });
  assert.throws(
    () => channelLayerNorm({ weight: tensor([1]), bias: tensor([0]) }, tensor([1, 2])),
    /channelLayerNorm: x must be \[N, C, H, W\], got \[2\]/,
  );
});
