/**
 * Frozen features of a ViT encoder for a linear probe: the tokens after block L, pooled over
 * the patch tokens or taken at the CLS token, extracted in batches from uint8 images.
 * @module
 */
import { mean, scope, slice, tensor, TesseraError } from "../tensor/mod.ts";
import { type VitConfig, vitForwardFeatures, type VitParams } from "./vit.ts";

/** Options of {@link extractFeatures}. */
export interface FeatureOptions {
  /** The block whose output is taken, 1-based (the last one gets the encoder's final norm). */
  layer: number;
  /** "avg": the mean over the patch tokens (CLS excluded); "cls": the CLS token. */
  pool?: "avg" | "cls";
  /** Images per forward pass (default 500). */
  batch?: number;
  /** Per-channel pixel mean of the normalisation `(v / 255 - mean) / std`, in [0, 1] units. */
  mean: number;
  /** Per-channel pixel standard deviation of the normalisation. */
  std: number;
  /** Called after each batch with the number of images done. */
  onBatch?(done: number): void;
}

/**
 * Frozen features of `images` (uint8, `[n, inChans · H · W]` row-major, normalised as
 * `(v / 255 - mean) / std`): block `layer` (1-based) of the encoder, pooled over the patch
 * tokens ("avg", CLS excluded) or the CLS token ("cls"); the last block gets the encoder's
 * final `norm` when it has one. Batches of `batch` images, each in a `scope`, so nothing but the
 * parameters stays alive. Returns `[n, embedDim]` row-major on the host.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { extractFeatures } from "./encoder_features.ts";
 * import { initVit } from "./vit.ts";
 * import { dispose, random } from "../tensor/mod.ts";
 * const cfg = { imgSize: 28, patchSize: 7, inChans: 1, numClasses: 0, embedDim: 8, depth: 2, numHeads: 2 };
 * const params = initVit(random.key(0), cfg);
 * const f = await extractFeatures(params, cfg, new Uint8Array(3 * 784), { layer: 1, mean: 0.5, std: 0.25 });
 * assert.deepEqual(f.length, 3 * 8);
 * assert.throws(() => extractFeatures(params, cfg, new Uint8Array(784), { layer: 3, mean: 0, std: 1 }), {
 *   message: /layer must be in \[1, 2\], got 3/,
 * });
 * dispose(params);
 * ```
 */
export function extractFeatures(
  params: VitParams,
  config: VitConfig,
  images: Uint8Array,
  opts: FeatureOptions,
): Promise<Float32Array> {
  const op = "extractFeatures";
  const [h, w] = typeof config.imgSize === "number"
    ? [config.imgSize, config.imgSize]
    : config.imgSize;
  const c = config.inChans, px = c * h * w;
  const n = images.length / px, d = config.embedDim, bs = opts.batch ?? 500;
  const depth = opts.layer, pool = opts.pool ?? "avg";
  const prefix = params.cls_token ? 1 : 0;
  if (pool === "cls" && !prefix) {
    throw new TesseraError(op, "pool cls: the encoder has no CLS token");
  }
  if (!Number.isInteger(depth) || depth < 1 || depth > config.depth) {
    throw new TesseraError(op, `layer must be in [1, ${config.depth}], got ${depth}`);
  }
  if (!Number.isInteger(n)) {
    throw new TesseraError(op, `${images.length} pixels are not whole ${c}×${h}×${w} images`);
  }
  const sub: VitParams = {
    ...params,
    blocks: params.blocks.slice(0, depth),
    norm: depth === config.depth ? params.norm : undefined,
  };
  const cfg: VitConfig = { ...config, depth };
  const { mean: mu, std: sigma } = opts;
  return (async () => {
    const out = new Float32Array(n * d);
    for (let lo = 0; lo < n; lo += bs) {
      const hi = Math.min(n, lo + bs), b = hi - lo;
      const pooled = scope(() => {
        const x = tensor(
          Float32Array.from(images.subarray(lo * px, hi * px), (v) => (v / 255 - mu) / sigma),
          { shape: [b, c, h, w] },
        );
        const t = vitForwardFeatures(sub, x, cfg).tokens; // [b, prefix + N, D]
        if (pool === "cls") return slice(t, [null, 0]); // [b, D]
        return mean(slice(t, [null, [prefix, null]]), 1);
      });
      out.set(await pooled.data(), lo * d);
      pooled.dispose();
      opts.onBatch?.(hi);
    }
    return out;
  })();
}
