/**
 * Patch masking for masked-image-modelling pre-training (spec `methods.md` §3 and §8):
 *
 * - {@link blockMasks}: BEiT's block-wise generator (unilm `beit/masking_generator.py`,
 *   `MaskingGenerator`) reproduced step by step — real-valued target area in
 *   `[minBlock, cap]`, log-uniform aspect ratio in `[minAspect, maxAspect]`, Python's
 *   round-half-to-even for the block sides, strict `bh < h`, `bw < w`, inclusive
 *   `randint` corners, at most 10 attempts per block, acceptance when `0 < new ≤ cap`, early
 *   stop when a block adds nothing — followed by an optional **top-up** with uniformly random
 *   unmasked cells until exactly `numMasked` cells are set (on by default; spec §14.1: the BEiT
 *   routine falls short of 98/196 in about 30% of draws, and a rectangular batch needs equal
 *   counts).
 * - {@link randomMasking}: MAE's uniform random masking (noise argsort, `idsRestore`).
 * - {@link splitMaskSubsets}: the SplitMask split of a mask into subset A (mask = 1) and its
 *   complement B, with ascending patch indices per row.
 * - {@link disjointSubsets}: the small-dataset variant (75% masking): two disjoint random
 *   visible sets of `keep` patches each (default), or one set and its complement.
 *
 * Representation: masks are `bool` tensors of shape `[B, N]` with `N = gridH·gridW` in
 * row-major patch order (the order of `patchify` and of the ViT patch embedding); `true` means
 * "in the set" (for BEiT/MAE masks: masked / removed). The block generator is inherently
 * sequential, so it runs on the host: {@link blockMasks} draws one 128-bit seed per sample,
 * `random.bits(random.foldIn(key, i), [4])` for global row `i`, and runs {@link blockMaskHost}
 * on an xoshiro128** stream (`tensor/host_rng.ts`) seeded with it. Sample `i`'s mask therefore
 * depends only on the key and `i` (not on the batch size), is identical on every backend, and the host version can be called directly from a data
 * loader that already holds a per-sample `Rng` (`tensor/host_rng.ts`, the argument of
 * {@link blockMaskHost}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cast, random, sum } from "../mod.ts";
 * import { blockMasks, splitMaskSubsets } from "./masking.ts";
 * const mask = await blockMasks(random.key(0), 2, { gridH: 14, gridW: 14, numMasked: 98, maxBlock: 75 });
 * const { idsA, idsB } = splitMaskSubsets(mask, 98);
 * assert.deepEqual(await sum(cast(mask, "int32"), 1).toArray(), [98, 98]);
 * assert.deepEqual(idsA.shape, [2, 98]);
 * assert.deepEqual(idsB.shape, [2, 98]);
 * ```
 * @module
 */
import {
  argsort,
  cast,
  greaterEqual,
  less,
  logicalAnd,
  logicalNot,
  random,
  scope,
  slice,
  type Tensor,
  TesseraError,
} from "../tensor/mod.ts";

export {
  blockMaskHost,
  type BlockMaskOptions,
  type BlockMaskResult,
  blockMasks,
  disjointMasks,
  type MaskBlock,
} from "./block_masking.ts";

/** Result of {@link randomMasking}. */
export interface RandomMasking {
  /** bool `[B, N]`, true = removed (MAE's `mask == 1`). */
  mask: Tensor;
  /** int32 `[B, lenKeep]`: the kept (visible) patch indices, in shuffled order. */
  idsKeep: Tensor;
  /** int32 `[B, N]`: ascending-noise order of the patches (`argsort(noise)`). */
  idsShuffle: Tensor;
  /** int32 `[B, N]`: `argsort(idsShuffle)`, which un-shuffles a `[kept ++ removed]` sequence. */
  idsRestore: Tensor;
}

/**
 * MAE's `random_masking`: noise `U(0,1)` `[B, N]`, `idsShuffle = argsort(noise)`,
 * `idsRestore = argsort(idsShuffle)`, keep the first `lenKeep = trunc(N·(1 − ratio))`;
 * the mask (true = removed) is `[0]*lenKeep ++ [1]*(N−lenKeep)` un-shuffled with `idsRestore`.
 *
 * @param key PRNG key
 * @param batch `B`
 * @param numPatches `N`
 * @param maskRatio fraction removed (MAE default 0.75)
 * @returns mask, kept indices, shuffle and restore orders
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cast, random, sum } from "../mod.ts";
 * import { randomMasking } from "./masking.ts";
 * const r = randomMasking(random.key(0), 2, 196, 0.75);
 * assert.deepEqual(r.idsKeep.shape, [2, 49]);
 * assert.deepEqual(await sum(cast(r.mask, "int32"), 1).toArray(), [147, 147]);
 * ```
 */
export function randomMasking(
  key: Tensor,
  batch: number,
  numPatches: number,
  maskRatio = 0.75,
): RandomMasking {
  if (!(maskRatio >= 0 && maskRatio <= 1)) {
    throw new TesseraError("randomMasking", `maskRatio must be in [0, 1], got ${maskRatio}`);
  }
  const lenKeep = Math.trunc(numPatches * (1 - maskRatio));
  return scope(() => {
    const noise = random.uniform(key, [batch, numPatches]);
    const idsShuffle = argsort(noise, 1);
    const idsRestore = argsort(idsShuffle, 1);
    const idsKeep = slice(idsShuffle, [null, [0, lenKeep]]);
    // Sorted order: position rank r is removed iff r >= lenKeep; un-shuffle the ranks.
    const mask = greaterEqual(idsRestore, lenKeep);
    return { mask, idsKeep, idsShuffle, idsRestore };
  });
}

/**
 * Indices (int32 `[B, count]`, ascending) of the true cells of a bool mask `[B, N]` whose
 * rows each hold exactly `count` trues (rows with other counts give meaningless results).
 *
 * @param mask bool `[B, N]`
 * @param count trues per row
 * @returns int32 `[B, count]`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "../mod.ts";
 * import { maskPositions } from "./masking.ts";
 * const m = tensor(Uint8Array.of(0, 1, 1, 0, 1, 0, 0, 1), { dtype: "bool", shape: [2, 4] });
 * assert.deepEqual(await maskPositions(m, 2).toArray(), [[1, 2], [0, 3]]);
 * ```
 */
export function maskPositions(mask: Tensor, count: number): Tensor {
  if (mask.dtype !== "bool" || mask.ndim !== 2) {
    throw new TesseraError("maskPositions", `mask must be bool [B, N], got ${mask.dtype}`);
  }
  return scope(() =>
    // Stable sort of (not mask): the true cells come first, in ascending position order.
    slice(argsort(cast(logicalNot(mask), "int32"), 1), [null, [0, count]])
  );
}

/** Two patch subsets for SplitMask's two encoder branches. */
export interface SubsetPair {
  /** bool `[B, N]`: membership of subset A. */
  inA: Tensor;
  /** bool `[B, N]`: membership of subset B (disjoint from A). */
  inB: Tensor;
  /** int32 `[B, |A|]`: A's patch indices, ascending. */
  idsA: Tensor;
  /** int32 `[B, |B|]`: B's patch indices, ascending. */
  idsB: Tensor;
}

/**
 * The SplitMask split (paper §3, spec §3): subset A = the patches with mask 1, subset B = the
 * complement. With a topped-up block mask of `numMasked = N/2`, `|A| = |B| = N/2`, A and B are
 * disjoint and cover every position.
 *
 * @param mask bool `[B, N]` with exactly `numMasked` trues per row
 * @param numMasked trues per row
 * @returns memberships and ascending indices of A and B
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "../mod.ts";
 * import { splitMaskSubsets } from "./masking.ts";
 * const m = tensor(Uint8Array.of(1, 0, 0, 1), { dtype: "bool", shape: [1, 4] });
 * const s = splitMaskSubsets(m, 2);
 * assert.deepEqual(await s.idsA.toArray(), [[0, 3]]);
 * assert.deepEqual(await s.idsB.toArray(), [[1, 2]]);
 * ```
 */
export function splitMaskSubsets(mask: Tensor, numMasked: number): SubsetPair {
  if (mask.dtype !== "bool" || mask.ndim !== 2) {
    throw new TesseraError("splitMaskSubsets", `mask must be bool [B, N], got ${mask.dtype}`);
  }
  const n = mask.shape[1]!;
  return scope(() => {
    const order = argsort(cast(logicalNot(mask), "int32"), 1);
    return {
      inA: logicalAnd(mask, mask),
      inB: logicalNot(mask),
      idsA: slice(order, [null, [0, numMasked]]),
      idsB: slice(order, [null, [numMasked, n]]),
    };
  });
}

/** Options of {@link disjointSubsets}. */
export interface DisjointSubsetOptions {
  /**
   * `"disjoint"` (default, spec §14.2): A and B are two disjoint uniformly random sets of
   * `keep` patches each (each branch inpaints the `N − keep` others).
   * `"complement"`: A is a random set of `keep` patches and B its complement.
   */
  mode?: "disjoint" | "complement";
}

/**
 * SplitMask subsets for uniform random masking (small datasets, 75%: `keep = ⌊N·0.25⌋ = 49`
 * of 196). One noise argsort per row as in MAE: A = ranks `[0, keep)`, B = ranks
 * `[keep, 2·keep)` (or `[keep, N)` in `"complement"` mode). Indices are ascending.
 *
 * @param key PRNG key
 * @param batch `B`
 * @param numPatches `N`
 * @param keep patches per visible set
 * @param opts `mode`
 * @returns memberships and ascending indices of A and B
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * import { disjointSubsets } from "./masking.ts";
 * const s = disjointSubsets(random.key(0), 2, 196, 49);
 * assert.deepEqual(s.idsA.shape, [2, 49]);
 * assert.deepEqual(s.idsB.shape, [2, 49]);
 * ```
 */
export function disjointSubsets(
  key: Tensor,
  batch: number,
  numPatches: number,
  keep: number,
  opts: DisjointSubsetOptions = {},
): SubsetPair {
  const mode = opts.mode ?? "disjoint";
  const sizeB = mode === "disjoint" ? keep : numPatches - keep;
  if (!Number.isInteger(keep) || keep < 0 || keep + sizeB > numPatches) {
    throw new TesseraError(
      "disjointSubsets",
      `keep=${keep} does not fit ${mode} subsets of ${numPatches} patches`,
    );
  }
  return scope(() => {
    // rank[i] = position of patch i in the ascending-noise order (MAE's ids_restore).
    const rank = argsort(argsort(random.uniform(key, [batch, numPatches]), 1), 1);
    const inA = less(rank, keep);
    const inB = logicalAnd(greaterEqual(rank, keep), less(rank, keep + sizeB));
    return { inA, inB, idsA: maskPositions(inA, keep), idsB: maskPositions(inB, sizeB) };
  });
}

/**
 * Scatters a bool membership into a float `[B, N]` 0/1 tensor (convenience for losses that
 * average over masked positions, `Σ loss·mask / Σ mask`).
 *
 * @param mask bool `[B, N]`
 * @returns float32 `[B, N]`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "../mod.ts";
 * import { maskWeights } from "./masking.ts";
 * const m = tensor(Uint8Array.of(1, 0), { dtype: "bool", shape: [1, 2] });
 * assert.deepEqual(await maskWeights(m).toArray(), [[1, 0]]);
 * ```
 */
export function maskWeights(mask: Tensor): Tensor {
  return cast(mask, "float32");
}
