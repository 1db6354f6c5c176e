/**
 * The FMNIST-Scenes random numbers (spec data-eval.md §6.1): sfc32, a small 32-bit generator
 * of integer operations only, seeded per image from a 32-bit hash of
 * `"<version>/<split>/<index>"`, so every image can be generated alone and in any order, and
 * the same on every JS engine.
 *
 * @module
 */

import { fmix32 } from "../../tensor/host_rng.ts";

/**
 * 32-bit FNV-1a of the UTF-8 bytes of `key`, finished with murmur3's `fmix32` avalanche.
 *
 * @param key the string to hash
 * @returns an unsigned 32-bit integer
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hash32 } from "./prng.ts";
 * assert.equal(hash32("tiny/train/1"), hash32("tiny/train/1"));
 * assert.notEqual(hash32("tiny/train/1"), hash32("tiny/train/2"));
 * ```
 */
export function hash32(key: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(key)) h = Math.imul(h ^ b, 0x01000193);
  return fmix32(h >>> 0);
}

/** A seeded stream of uniform integers (sfc32 state, mutated by each draw). */
export interface SceneRng {
  /** The next unsigned 32-bit value. */
  u32(): number;
  /** A uniform integer in `0..n−1`: `floor(u32 · n / 2³²)` (n ≤ 2²¹). */
  int(n: number): number;
  /** A uniform integer in `lo..hi` (both included). */
  range(lo: number, hi: number): number;
}

/**
 * sfc32 seeded from `seed` (state `[0x9e3779b9, seed, seed ^ 0x6a09e667, 1]`, 12 rounds
 * discarded).
 *
 * @param seed an unsigned 32-bit seed, e.g. from {@link hash32}
 * @returns the generator
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sceneRng } from "./prng.ts";
 * const a = sceneRng(42), b = sceneRng(42);
 * assert.deepEqual([a.u32(), a.int(10), a.range(5, 7)], [b.u32(), b.int(10), b.range(5, 7)]);
 * const r = sceneRng(1);
 * assert.ok(Array.from({ length: 100 }, () => r.range(3, 5)).every((v) => v >= 3 && v <= 5));
 * ```
 */
export function sceneRng(seed: number): SceneRng {
  let a = 0x9e3779b9 | 0, b = seed | 0, c = (seed ^ 0x6a09e667) | 0, d = 1;
  const u32 = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) u32();
  const int = (n: number) => Math.floor((u32() * n) / 4294967296);
  return { u32, int, range: (lo, hi) => lo + int(hi - lo + 1) };
}
