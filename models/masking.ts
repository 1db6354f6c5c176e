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
 * sequential, so it runs on the host: {@link blockMasks} draws one 128-bit seed per sample
 * with `random.bits(key, [B, 4])` and runs {@link blockMaskHost} on an xoshiro128** stream
 * (`data/rng.ts`) seeded from row `i`. Sample `i`'s mask therefore depends only on the key and
 * `i`, is identical on every backend, and the host version can be called directly from a data
 * loader that already holds a per-sample {@link Rng}.
 *
 * @example
 * ```ts
 * import { cast, random, sum } from "../mod.ts";
 * import { blockMasks, splitMaskSubsets } from "./masking.ts";
 * const mask = await blockMasks(random.key(0), 2, { gridH: 14, gridW: 14, numMasked: 98, maxBlock: 75 });
 * const { idsA, idsB } = splitMaskSubsets(mask, 98);
 * console.log(await sum(cast(mask, "int32"), 1).toArray(), idsA.shape, idsB.shape); // [98, 98] [2, 98] [2, 98]
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
  tensor,
  TesseraError,
} from "../mod.ts";
import { Rng } from "../data/rng.ts";

/** Options of {@link blockMaskHost} and {@link blockMasks} (defaults are BEiT's). */
export interface BlockMaskOptions {
  /** Patch-grid height `h` (e.g. 14). */
  gridH: number;
  /** Patch-grid width `w` (e.g. 14). */
  gridW: number;
  /** Target number of masked cells `T` (BEiT 75; SplitMask 98 = 50% of 196). */
  numMasked: number;
  /** Smallest block area `m_min` (default 16). */
  minBlock?: number;
  /** Largest block area `m_max` (default `numMasked`; SplitMask uses 75). */
  maxBlock?: number;
  /** Smallest aspect ratio (default 0.3). */
  minAspect?: number;
  /** Largest aspect ratio (default `1 / minAspect`). */
  maxAspect?: number;
  /** Attempts per block before giving up (default 10, as BEiT). */
  maxAttempts?: number;
  /**
   * Fill up to exactly `numMasked` with uniformly random unmasked cells after the BEiT loop
   * stops (default true). With false the count may end below `numMasked` (never above).
   */
  topUp?: boolean;
}

/** One accepted block of {@link blockMaskHost}. */
export interface MaskBlock {
  /** First row. */
  top: number;
  /** First column. */
  left: number;
  /** Rows (`bh < gridH`). */
  height: number;
  /** Columns (`bw < gridW`). */
  width: number;
  /** Cells this block newly set (`0 < added ≤ cap`, `added ≤ height·width`). */
  added: number;
  /** The aspect ratio drawn for it (before rounding). */
  aspect: number;
}

/** Result of {@link blockMaskHost}. */
export interface BlockMaskResult {
  /** `gridH·gridW` cells, row-major, 1 = masked. */
  mask: Uint8Array;
  /** Cells set by the BEiT block loop. */
  blockCount: number;
  /** Cells set by the top-up (0 when `topUp` is false or the loop reached the target). */
  toppedUp: number;
  /** The accepted blocks in order. */
  blocks: MaskBlock[];
}

/** Python 3's `round` (half to even), as BEiT's `int(round(x))` uses. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function resolve(o: BlockMaskOptions): Required<BlockMaskOptions> {
  const { gridH, gridW, numMasked } = o;
  for (const [k, v] of [["gridH", gridH], ["gridW", gridW]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new TesseraError("blockMask", `${k} must be a positive integer, got ${v}`);
    }
  }
  if (!Number.isInteger(numMasked) || numMasked < 0 || numMasked > gridH * gridW) {
    throw new TesseraError(
      "blockMask",
      `numMasked must be an integer in [0, ${gridH * gridW}], got ${numMasked}`,
    );
  }
  const minAspect = o.minAspect ?? 0.3;
  const r = {
    gridH,
    gridW,
    numMasked,
    minBlock: o.minBlock ?? 16,
    maxBlock: o.maxBlock ?? numMasked,
    minAspect,
    maxAspect: o.maxAspect ?? 1 / minAspect,
    maxAttempts: o.maxAttempts ?? 10,
    topUp: o.topUp ?? true,
  };
  if (!(r.minAspect > 0 && r.maxAspect > 0) || !(r.maxBlock >= 1) || !(r.maxAttempts >= 1)) {
    throw new TesseraError("blockMask", "aspects, maxBlock and maxAttempts must be positive");
  }
  return r;
}

/**
 * One BEiT block-wise mask on the host, drawn from `rng` (see the module doc for the exact
 * algorithm). Deterministic given the stream's state.
 *
 * @param rng a host stream (e.g. `rngFromSeed`), advanced by the draws
 * @param opts grid, target count and BEiT's block parameters
 * @returns the mask, the counts from the block loop and the top-up, and the accepted blocks
 *
 * @example
 * ```ts
 * import { rngFromSeed } from "../data/rng.ts";
 * import { blockMaskHost } from "./masking.ts";
 * const r = blockMaskHost(rngFromSeed([1, 2, 3, 4]), { gridH: 14, gridW: 14, numMasked: 75 });
 * console.log(r.mask.reduce((a, b) => a + b, 0), r.blockCount + r.toppedUp); // 75 75
 * ```
 */
export function blockMaskHost(rng: Rng, opts: BlockMaskOptions): BlockMaskResult {
  const o = resolve(opts);
  const { gridH: h, gridW: w } = o;
  const mask = new Uint8Array(h * w);
  const blocks: MaskBlock[] = [];
  const logLo = Math.log(o.minAspect), logHi = Math.log(o.maxAspect);
  let count = 0;
  while (count < o.numMasked) {
    const cap = Math.min(o.numMasked - count, o.maxBlock);
    let delta = 0;
    for (let attempt = 0; attempt < o.maxAttempts && delta === 0; attempt++) {
      const area = rng.uniform(o.minBlock, cap);
      const aspect = Math.exp(rng.uniform(logLo, logHi));
      const bh = roundHalfEven(Math.sqrt(area * aspect));
      const bw = roundHalfEven(Math.sqrt(area / aspect));
      if (!(bw < w && bh < h)) continue;
      const top = rng.int(0, h - bh);
      const left = rng.int(0, w - bw);
      let already = 0;
      for (let i = top; i < top + bh; i++) {
        for (let j = left; j < left + bw; j++) already += mask[i * w + j]!;
      }
      const fresh = bh * bw - already;
      if (fresh > 0 && fresh <= cap) {
        for (let i = top; i < top + bh; i++) mask.fill(1, i * w + left, i * w + left + bw);
        delta = fresh;
        blocks.push({ top, left, height: bh, width: bw, added: fresh, aspect });
      }
    }
    if (delta === 0) break; // BEiT's early stop: the mask may end below the target
    count += delta;
  }
  let toppedUp = 0;
  if (o.topUp && count < o.numMasked) {
    const free: number[] = [];
    mask.forEach((m, i) => m === 0 && free.push(i));
    // Partial Fisher–Yates: the first `need` entries become a uniform random subset.
    const need = o.numMasked - count;
    for (let i = 0; i < need; i++) {
      const j = rng.int(i, free.length - 1);
      [free[i], free[j]] = [free[j]!, free[i]!];
      mask[free[i]!] = 1;
    }
    toppedUp = need;
  }
  return { mask, blockCount: count, toppedUp, blocks };
}

/**
 * A batch of BEiT block-wise masks as a bool tensor `[B, gridH·gridW]` (true = masked), one
 * host stream per sample seeded from row `i` of `random.bits(key, [B, 4])`.
 *
 * @param key PRNG key
 * @param batch number of masks `B`
 * @param opts grid, target count and BEiT's block parameters (top-up on by default)
 * @param backend where the mask tensor lives (default: the key's backend)
 * @returns bool tensor `[B, N]`
 *
 * @example
 * ```ts
 * import { cast, random, sum } from "../mod.ts";
 * import { blockMasks } from "./masking.ts";
 * const m = await blockMasks(random.key(1), 3, { gridH: 4, gridW: 4, numMasked: 6, minBlock: 2 });
 * console.log(m.shape, m.dtype, await sum(cast(m, "int32"), 1).toArray()); // [3, 16] "bool" [6, 6, 6]
 * ```
 */
export async function blockMasks(
  key: Tensor,
  batch: number,
  opts: BlockMaskOptions,
  backend?: string,
): Promise<Tensor> {
  const n = opts.gridH * opts.gridW;
  const seeds = random.bits(key, [batch, 4]);
  let words: Uint32Array;
  try {
    words = (await seeds.data()) as Uint32Array;
  } finally {
    seeds.dispose();
  }
  const out = new Uint8Array(batch * n);
  for (let b = 0; b < batch; b++) {
    out.set(blockMaskHost(new Rng(words.subarray(4 * b, 4 * b + 4)), opts).mask, b * n);
  }
  return tensor(out, { dtype: "bool", shape: [batch, n], backend: backend ?? key.backend.name });
}

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
 * import { cast, random, sum } from "../mod.ts";
 * import { randomMasking } from "./masking.ts";
 * const r = randomMasking(random.key(0), 2, 196, 0.75);
 * console.log(r.idsKeep.shape, await sum(cast(r.mask, "int32"), 1).toArray()); // [2, 49] [147, 147]
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
 * import { tensor } from "../mod.ts";
 * import { maskPositions } from "./masking.ts";
 * const m = tensor(Uint8Array.of(0, 1, 1, 0, 1, 0, 0, 1), { dtype: "bool", shape: [2, 4] });
 * console.log(await maskPositions(m, 2).toArray()); // [[1, 2], [0, 3]]
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
 * import { tensor } from "../mod.ts";
 * import { splitMaskSubsets } from "./masking.ts";
 * const m = tensor(Uint8Array.of(1, 0, 0, 1), { dtype: "bool", shape: [1, 4] });
 * const s = splitMaskSubsets(m, 2);
 * console.log(await s.idsA.toArray(), await s.idsB.toArray()); // [[0, 3]] [[1, 2]]
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
 * import { random } from "../mod.ts";
 * import { disjointSubsets } from "./masking.ts";
 * const s = disjointSubsets(random.key(0), 2, 196, 49);
 * console.log(s.idsA.shape, s.idsB.shape); // [2, 49] [2, 49]
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
 * import { tensor } from "../mod.ts";
 * import { maskWeights } from "./masking.ts";
 * const m = tensor(Uint8Array.of(1, 0), { dtype: "bool", shape: [1, 2] });
 * console.log(await maskWeights(m).toArray()); // [[1, 0]]
 * ```
 */
export function maskWeights(mask: Tensor): Tensor {
  return cast(mask, "float32");
}
