/**
 * fitTokenizer: each kind gives the same tokenizer as its own constructor on the [0, 1] view
 * of the uint8 images (bit for bit), and frees the image tensor.
 */
import assert from "node:assert/strict";
import { fitTokenizer } from "../../models/tokenizers_fit.ts";
import { kmeansTokenizer } from "../../models/kmeans.ts";
import {
  type PatchTokenizer,
  randomPatchTokenizer,
  randomProjectionTokenizer,
} from "../../models/tokenizers.ts";
import { dispose, memoryStats, random, tensor } from "../../mod.ts";

Deno.test("fitTokenizer: each kind matches its constructor bit for bit; nothing leaks", async () => {
  const images = Uint8Array.from({ length: 6 * 64 }, (_, i) => (i * 53 + (i >> 3)) % 256);
  const opts = { vocabSize: 4, patchSize: 4, inChans: 1 };
  const key = random.key(7);
  const x = tensor(Float32Array.from(images, (v) => v / 255), { shape: [6, 1, 8, 8] });
  const refs: Record<string, () => Promise<PatchTokenizer>> = {
    kmeans: async () => (await kmeansTokenizer(key, x, { ...opts, iterations: 3 })).tokenizer,
    "random-patches": () => randomPatchTokenizer(key, x, opts),
    "random-projection": () => Promise.resolve(randomProjectionTokenizer(key, opts)),
  };
  for (const [kind, ref] of Object.entries(refs)) {
    const before = memoryStats().cpu?.tensors ?? 0;
    const tok = await fitTokenizer(kind as PatchTokenizer["kind"], key, images, {
      ...opts,
      shape: [6, 1, 8, 8],
      iterations: 3,
    });
    const live = (memoryStats().cpu?.tensors ?? 0) - before;
    assert.equal(live, tok.centre ? 2 : 1, `${kind}: only the tokenizer stays alive`);
    const want = await ref();
    assert.equal(tok.kind, want.kind);
    assert.deepEqual(await tok.codebook.data(), await want.codebook.data(), kind);
    if (want.centre) assert.deepEqual(await tok.centre!.data(), await want.centre.data(), kind);
    dispose([tok.codebook, tok.centre, want.codebook, want.centre]);
  }
  dispose([key, x]);
});
