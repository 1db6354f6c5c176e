/**
 * Patch tokenizers: the targets of masked image modelling (SplitMask paper §3.3/§5.5, spec
 * `methods.md` §2). A tokenizer is a frozen codebook of `V` unit-norm codewords `e_i ∈ R^d`
 * (`d = C·p·p`); the token of a patch `x` is `argmax_i xᵀe_i`, i.e. the codeword of largest
 * cosine similarity (the codewords have equal norms, so `x` need not be normalised). Tokens are
 * computed under {@link stopGradient}: no gradient flows into the images or the codebook.
 *
 * Three codebooks (vocabulary size configurable: 8192 as in the paper, smaller for small
 * images): {@link randomProjectionTokenizer} (i.i.d. `U(−1, 1)` components, L2-normalised),
 * {@link randomPatchTokenizer} (patches drawn uniformly from training images) and
 * {@link kmeansTokenizer} (spherical k-means, in `models/kmeans.ts`).
 *
 * Patch layout: {@link patchify} (`nn/patch_embed.ts` `extractPatches`): row-major patch grid,
 * each patch flattened channel-major `(c, y, x)` — the layout of timm/BEiT's conv patch
 * embedding, so token `j` belongs to ViT patch `j`. Images are floats in `[0, 1]`. Save and
 * reload a tokenizer with the run: `saveTokenizer` / `loadTokenizer` (`tokenizer_io.ts`).
 *
 * Centring (spec §14.3; stored with the tokenizer and applied identically when fitting and
 * when tokenizing):
 * - `"pixel"` (default of random projection): `(x − mean_c)/std_c` per channel, default
 *   `0.5/0.5`, mapping `[0, 1]` to `[−1, 1]`. With non-negative pixels the argmax collapses
 *   onto a few codes; centring avoids that.
 * - `"dataset"` (default of random patches and k-means): subtract the mean patch vector of the
 *   fitting patches (saved as tensor `centre`), after the pixel affine.
 * - `"none"`: raw pixels.
 * Per-patch mean removal is deliberately not offered: it maps every flat patch (most of a
 * Fashion-MNIST image) to the zero vector, whose token is an arbitrary tie-break.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * import { randomProjectionTokenizer, tokenize } from "./tokenizers.ts";
 * const tok = randomProjectionTokenizer(random.key(0), { vocabSize: 64, patchSize: 4, inChans: 1 });
 * const ids = tokenize(tok, random.uniform(random.key(1), [2, 1, 8, 8]));
 * assert.deepEqual(ids.shape, [2, 4]);
 * assert.equal(ids.dtype, "int32");
 * ```
 * @module
 */
import {
  argmax,
  concat,
  div,
  gather,
  matmul,
  maximum,
  mean,
  mul,
  random,
  reshape,
  scope,
  slice,
  sqrt,
  stopGradient,
  sub,
  sum,
  type Tensor,
  tensor,
  TesseraError,
  transpose,
} from "../tensor/mod.ts";
import { extractPatches } from "../nn/patch_embed.ts";

/** Which codebook a tokenizer holds. */
export type TokenizerKind = "random-projection" | "random-patches" | "kmeans";
/** How patches are centred before tokenizing (see the module doc). */
export type Centring = "none" | "pixel" | "dataset";

/** A frozen patch tokenizer. Plain data: save with {@link saveTokenizer}. */
export interface PatchTokenizer {
  /** Codebook kind. */
  kind: TokenizerKind;
  /** float32 `[V, C·p·p]`, unit-norm rows, layout `(c, y, x)`. */
  codebook: Tensor;
  /** Patch side `p` in pixels of the tokenizer's input view. */
  patchSize: number;
  /** Channels `C`. */
  inChans: number;
  /** Centring mode. */
  centring: Centring;
  /** Per-channel pixel mean of the affine (length 1 or C; used unless centring is "none"). */
  pixelMean: number[];
  /** Per-channel pixel std of the affine. */
  pixelStd: number[];
  /** float32 `[C·p·p]` mean patch (centring "dataset" only). */
  centre?: Tensor;
}

/** Options shared by the tokenizer constructors. */
export interface TokenizerOptions {
  /** Vocabulary size `V` (paper: 8192). */
  vocabSize: number;
  /** Patch side `p` (paper: 8 on the 112² view). */
  patchSize: number;
  /** Channels (default 3). */
  inChans?: number;
  /** Centring (default "pixel" for random projection, "dataset" otherwise). */
  centring?: Centring;
  /** Pixel mean(s) of the affine (default [0.5]). */
  pixelMean?: number[];
  /** Pixel std(s) of the affine (default [0.5]). */
  pixelStd?: number[];
}

/**
 * Images `[B, C, H, W]` → patches `[B, (H/p)·(W/p), C·p·p]`: row-major grid, each patch
 * flattened `(c, y, x)` like timm/BEiT's conv patch embedding.
 *
 * @param images float `[B, C, H, W]`
 * @param patchSize `p` (must divide H and W)
 * @returns `[B, N, C·p·p]`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { arange, reshape } from "../mod.ts";
 * import { patchify } from "./tokenizers.ts";
 * assert.deepEqual(
 *   await patchify(reshape(arange(16), [1, 1, 4, 4]), 2).toArray(),
 *   [[[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]]],
 * );
 * ```
 */
export function patchify(images: Tensor, patchSize: number): Tensor {
  return extractPatches(images, patchSize);
}

function perChannel(v: number[], c: number, d: number, name: string, backend: string): Tensor {
  if (v.length !== 1 && v.length !== c) {
    throw new TesseraError("tokenizer", `${name} needs 1 or ${c} values, got ${v.length}`);
  }
  const per = d / c;
  return tensor(
    Float32Array.from({ length: d }, (_, i) => v[v.length === 1 ? 0 : (i / per) | 0]!),
    { backend },
  );
}

/**
 * Applies a tokenizer's centring to patch vectors `[..., d]` (the space its codebook lives in).
 *
 * @param tok the tokenizer
 * @param patches float `[..., C·p·p]`
 * @returns centred patches, same shape
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { random, tensor } from "../mod.ts";
 * import { centrePatches, randomProjectionTokenizer } from "./tokenizers.ts";
 * const tok = randomProjectionTokenizer(random.key(0), { vocabSize: 4, patchSize: 1, inChans: 1 });
 * assert.deepEqual(await centrePatches(tok, tensor([[0], [1]])).toArray(), [[-1], [1]]);
 * ```
 */
export function centrePatches(tok: PatchTokenizer, patches: Tensor): Tensor {
  return scope(() => {
    const x = pixelAffine(tok, patches);
    if (tok.centring !== "dataset") return x;
    if (!tok.centre) throw new TesseraError("tokenizer", 'centring "dataset" needs `centre`');
    return sub(x, tok.centre);
  });
}

/** The per-channel pixel affine (identity for centring "none"). */
function pixelAffine(
  o: { centring: Centring; pixelMean: number[]; pixelStd: number[]; inChans: number },
  patches: Tensor,
): Tensor {
  if (o.centring === "none") return patches;
  const d = patches.shape[patches.ndim - 1]!;
  const m = perChannel(o.pixelMean, o.inChans, d, "pixelMean", patches.backend.name);
  const s = perChannel(o.pixelStd, o.inChans, d, "pixelStd", patches.backend.name);
  return div(sub(patches, m), s);
}

/**
 * Row-wise L2 normalisation `x / max(‖x‖, eps)`.
 *
 * @param x float `[M, d]`
 * @param eps floor of the norm (default 1e-12)
 * @returns unit rows (zero rows stay zero)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "../mod.ts";
 * import { l2NormalizeRows } from "./tokenizers.ts";
 * assert.deepEqual(await l2NormalizeRows(tensor([[3, 4]])).toArray(), [[Math.fround(0.6), Math.fround(0.8)]]);
 * ```
 */
export function l2NormalizeRows(x: Tensor, eps = 1e-12): Tensor {
  return scope(() => div(x, maximum(sqrt(sum(mul(x, x), -1, true)), eps)));
}

function resolveOptions(o: TokenizerOptions, defaultCentring: Centring) {
  const { vocabSize: v, patchSize: p } = o;
  const c = o.inChans ?? 3;
  for (const [k, x] of [["vocabSize", v], ["patchSize", p], ["inChans", c]] as const) {
    if (!Number.isInteger(x) || x < 1) {
      throw new TesseraError("tokenizer", `${k} must be a positive integer, got ${x}`);
    }
  }
  return {
    v,
    p,
    c,
    d: c * p * p,
    centring: o.centring ?? defaultCentring,
    pixelMean: o.pixelMean ?? [0.5],
    pixelStd: o.pixelStd ?? [0.5],
  };
}

/** The tokenizer of `kind` with `codebook` and the resolved options `o`. */
function tokenizerOf(
  kind: TokenizerKind,
  codebook: Tensor,
  o: ReturnType<typeof resolveOptions>,
): PatchTokenizer {
  return {
    kind,
    codebook,
    patchSize: o.p,
    inChans: o.c,
    centring: o.centring,
    pixelMean: o.pixelMean,
    pixelStd: o.pixelStd,
  };
}

/**
 * Random-projection codebook: `V` vectors with i.i.d. `U(−1, 1)` components, L2-normalised
 * (spec §2; `range: "positive"` draws `U(0, 1)` to reproduce the collapse the spec warns of).
 * Default centring "pixel" (`(x − 0.5)/0.5`).
 *
 * @param key PRNG key
 * @param opts vocabulary, patch size, channels, centring
 * @returns the tokenizer
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * import { randomProjectionTokenizer } from "./tokenizers.ts";
 * const tok = randomProjectionTokenizer(random.key(0), { vocabSize: 8192, patchSize: 8 });
 * assert.deepEqual(tok.codebook.shape, [8192, 192]);
 * ```
 */
export function randomProjectionTokenizer(
  key: Tensor,
  opts: TokenizerOptions & { range?: "symmetric" | "positive" },
): PatchTokenizer {
  const o = resolveOptions(opts, "pixel");
  if (o.centring === "dataset") {
    throw new TesseraError("randomProjectionTokenizer", 'centring "dataset" needs data');
  }
  const lo = opts.range === "positive" ? 0 : -1;
  const codebook = scope(() =>
    l2NormalizeRows(random.uniform(key, [o.v, o.d], { minval: lo, maxval: 1 }))
  );
  return tokenizerOf("random-projection", codebook, o);
}

/**
 * The patches a data-driven codebook is fitted on: every patch of `images`, flattened to
 * `[M, C·p·p]` and centred as the tokenizer will centre them; with centring "dataset" also the
 * mean patch `centre` that was subtracted.
 *
 * @param images float `[B, C, H, W]` in `[0, 1]`
 * @param opts patch size, channels, centring and pixel affine
 * @returns centred patches and the centre (if any)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ones } from "../mod.ts";
 * import { fittingPatches } from "./tokenizers.ts";
 * const { patches, centre } = fittingPatches(ones([2, 1, 4, 4]), { patchSize: 2, inChans: 1 });
 * assert.deepEqual(patches.shape, [8, 4]);
 * assert.deepEqual(centre!.shape, [4]);
 * ```
 */
export function fittingPatches(
  images: Tensor,
  opts: Omit<TokenizerOptions, "vocabSize">,
): { patches: Tensor; centre?: Tensor } {
  const o = resolveOptions({ ...opts, vocabSize: 1 }, "dataset");
  if (images.ndim !== 4 || images.shape[1] !== o.c) {
    throw new TesseraError("tokenizer", `images must be [B, ${o.c}, H, W]`);
  }
  return scope(() => {
    const pt = patchify(stopGradient(images), o.p);
    const flat = reshape(pt, [pt.shape[0]! * pt.shape[1]!, pt.shape[2]!]);
    const x = pixelAffine({ ...o, inChans: o.c }, flat);
    if (o.centring !== "dataset") return { patches: x };
    const centre = mean(x, 0);
    return { patches: sub(x, centre), centre };
  });
}

/**
 * Random-patch codebook: `V` patches drawn uniformly (with replacement) from the patches of
 * `images`, centred (default "dataset") and L2-normalised. Patches that centre to (near) zero
 * are skipped, so that no codeword is the zero vector.
 *
 * @param key PRNG key
 * @param images float `[B, C, H, W]` in `[0, 1]` (the tokenizer's input view)
 * @param opts vocabulary, patch size, channels, centring
 * @returns the tokenizer
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * import { randomPatchTokenizer } from "./tokenizers.ts";
 * const imgs = random.uniform(random.key(1), [4, 1, 8, 8]);
 * const tok = await randomPatchTokenizer(random.key(0), imgs, { vocabSize: 8, patchSize: 4, inChans: 1 });
 * assert.deepEqual(tok.codebook.shape, [8, 16]);
 * assert.deepEqual(tok.centre!.shape, [16]);
 * ```
 */
export async function randomPatchTokenizer(
  key: Tensor,
  images: Tensor,
  opts: TokenizerOptions,
): Promise<PatchTokenizer> {
  const o = resolveOptions(opts, "dataset");
  const { patches, centre } = fittingPatches(images, { ...opts, centring: o.centring });
  try {
    const norms = scope(() => sqrt(sum(mul(patches, patches), 1)));
    const nv = (await norms.data()) as Float32Array;
    norms.dispose();
    const valid = Int32Array.from(nv.keys()).filter((i) => nv[i]! > 1e-6);
    if (valid.length === 0) throw new TesseraError("randomPatchTokenizer", "all patches flat");
    const codebook = scope(() => {
      const pick = gather(
        tensor(valid, { backend: patches.backend.name }),
        random.randint(key, [o.v], 0, valid.length),
      );
      return l2NormalizeRows(gather(patches, pick));
    });
    return { ...tokenizerOf("random-patches", codebook, o), centre };
  } finally {
    patches.dispose();
  }
}

/**
 * Token ids of images: `argmax_i ⟨centre(x), e_i⟩` per patch, under `stopGradient`; computed
 * in chunks of rows so `rows·V` stays below `chunkElems`. An all-zero centred patch scores 0
 * against every codeword and gets id 0 (argmax's first-maximum rule).
 *
 * @param tok the tokenizer
 * @param images float `[B, C, H, W]` in `[0, 1]`, H and W multiples of the patch size
 * @param opts `chunkElems` (default 2²⁴)
 * @returns int32 `[B, N]` in `[0, V)`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * import { randomProjectionTokenizer, tokenize } from "./tokenizers.ts";
 * const tok = randomProjectionTokenizer(random.key(0), { vocabSize: 8192, patchSize: 8 });
 * assert.deepEqual(tokenize(tok, random.uniform(random.key(1), [1, 3, 112, 112])).shape, [1, 196]);
 * ```
 */
export function tokenize(
  tok: PatchTokenizer,
  images: Tensor,
  opts: { chunkElems?: number } = {},
): Tensor {
  if (images.ndim !== 4 || images.shape[1] !== tok.inChans) {
    throw new TesseraError("tokenize", `images must be [B, ${tok.inChans}, H, W]`);
  }
  return scope(() => {
    const pt = patchify(stopGradient(images), tok.patchSize);
    const [b, n, d] = pt.shape as [number, number, number];
    const x = centrePatches(tok, reshape(pt, [b * n, d]));
    const cbT = transpose(stopGradient(tok.codebook));
    const v = tok.codebook.shape[0]!;
    const rows = Math.max(1, Math.floor((opts.chunkElems ?? 2 ** 24) / v));
    const parts: Tensor[] = [];
    for (let r = 0; r < b * n; r += rows) {
      const xs = slice(x, [[r, Math.min(b * n, r + rows)]]);
      parts.push(argmax(matmul(xs, cbT), 1));
    }
    return reshape(parts.length === 1 ? parts[0]! : concat(parts, 0), [b, n]);
  });
}
