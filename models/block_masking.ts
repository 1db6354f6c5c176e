/**
 * BEiT's block-wise mask generator (unilm `MaskingGenerator`, spec `methods.md` §3, §14.1):
 * {@link blockMaskHost} on a host {@link Rng} and the batched, key-driven {@link blockMasks}.
 * See models/masking.ts (which re-exports everything here) for the algorithm in full.
 * @module
 */
import { type Tensor, tensor, TesseraError } from "../tensor/mod.ts";
import { randomBitsHost, threefry2x32Pair } from "../tensor/threefry.ts";
import { Rng } from "../tensor/host_rng.ts";
import { roundHalfEven } from "../tensor/rounding.ts";

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
 * import assert from "node:assert/strict";
 * import { rngFromSeed } from "../tensor/host_rng.ts";
 * import { blockMaskHost } from "./masking.ts";
 * const r = blockMaskHost(rngFromSeed([1, 2, 3, 4]), { gridH: 14, gridW: 14, numMasked: 75 });
 * assert.equal(r.mask.reduce((a, b) => a + b, 0), 75);
 * assert.equal(r.blockCount + r.toppedUp, 75);
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
 * host stream per sample: row `i` is seeded with `random.bits(random.foldIn(key, first + i),
 * [4])`, so an example's mask depends only on the key and its global index `first + i` (not on
 * the batch size, nor on which rank or micro-batch holds it).
 *
 * @param key PRNG key
 * @param batch number of masks `B`
 * @param opts grid, target count and BEiT's block parameters (top-up on by default)
 * @param backend where the mask tensor lives (default: the key's backend)
 * @param first global index of row 0 (default 0)
 * @returns bool tensor `[B, N]`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cast, random, slice, sum } from "../mod.ts";
 * import { blockMasks } from "./masking.ts";
 * const o = { gridH: 4, gridW: 4, numMasked: 6, minBlock: 2 };
 * const m = await blockMasks(random.key(1), 3, o);
 * assert.deepEqual(m.shape, [3, 16]);
 * assert.equal(m.dtype, "bool");
 * assert.deepEqual(await sum(cast(m, "int32"), 1).toArray(), [6, 6, 6]);
 * const tail = await blockMasks(random.key(1), 1, o, undefined, 2); // example 2 alone
 * assert.deepEqual(await tail.toArray(), await slice(m, [[2, 3]]).toArray());
 * ```
 */
export async function blockMasks(
  key: Tensor,
  batch: number,
  opts: BlockMaskOptions,
  backend?: string,
  first = 0,
): Promise<Tensor> {
  if (!Number.isInteger(first) || first < 0 || first + batch > 2 ** 32) {
    throw new TesseraError("blockMasks", `rows [${first}, ${first + batch}) are not in [0, 2^32)`);
  }
  const n = opts.gridH * opts.gridW;
  const k = (await key.data()) as Uint32Array;
  const out = new Uint8Array(batch * n);
  const rowKey = new Uint32Array(2);
  for (let b = 0; b < batch; b++) {
    threefry2x32Pair(k[0]!, k[1]!, 0, first + b, rowKey, 0, 1); // random.foldIn(key, first + b)
    out.set(blockMaskHost(new Rng(randomBitsHost(rowKey, 4)), opts).mask, b * n);
  }
  return tensor(out, { dtype: "bool", shape: [batch, n], backend: backend ?? key.backend.name });
}

/**
 * SplitMask's small-data masks (spec §14.2) drawn like {@link blockMasks}, one host stream per
 * example (`foldIn(key, first + b)`, so a rank's rows equal the same rows of the whole batch):
 * two disjoint uniformly random subsets of `keep` patches each, as bool `[2, batch, N]` (subset A,
 * then subset B). {@link disjointSubsets} in masking.ts draws the same distribution on device.
 *
 * @param key the step's mask key
 * @param batch rows to draw
 * @param numPatches patches per image
 * @param keep patches per subset (2·keep ≤ numPatches)
 * @param backend where the mask lives (default: the key's)
 * @param first index of the first row in the global batch
 * @returns bool `[2, batch, numPatches]`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { random } from "../tensor/mod.ts";
 * import { disjointMasks } from "./masking.ts";
 * const m = await disjointMasks(random.key(0), 3, 16, 4);
 * const d = [...((await m.data()) as Uint8Array)];
 * const [a, b] = [d.slice(0, 48), d.slice(48)];
 * assert.equal(a.filter((x) => x).length, 12);
 * assert.ok(a.every((x, i) => !(x && b[i]))); // disjoint
 * ```
 */
export async function disjointMasks(
  key: Tensor,
  batch: number,
  numPatches: number,
  keep: number,
  backend?: string,
  first = 0,
): Promise<Tensor> {
  if (!Number.isInteger(keep) || keep < 1 || 2 * keep > numPatches) {
    throw new TesseraError(
      "disjointMasks",
      `keep=${keep}: two disjoint subsets do not fit ${numPatches} patches`,
    );
  }
  if (!Number.isInteger(first) || first < 0 || first + batch > 2 ** 32) {
    throw new TesseraError(
      "disjointMasks",
      `rows [${first}, ${first + batch}) are not in [0, 2^32)`,
    );
  }
  const n = numPatches, k = (await key.data()) as Uint32Array;
  const out = new Uint8Array(2 * batch * n);
  const rowKey = new Uint32Array(2);
  for (let b = 0; b < batch; b++) {
    threefry2x32Pair(k[0]!, k[1]!, 0, first + b, rowKey, 0, 1); // random.foldIn(key, first + b)
    const perm = new Rng(randomBitsHost(rowKey, 4)).permutation(n);
    for (let j = 0; j < keep; j++) {
      out[b * n + perm[j]!] = 1;
      out[(batch + b) * n + perm[keep + j]!] = 1;
    }
  }
  return tensor(out, {
    dtype: "bool",
    shape: [2, batch, n],
    backend: backend ?? key.backend.name,
  });
}
