/**
 * A small deterministic host-side random number generator for data augmentation (data/) and
 * host-built masks (models/block_masking.ts). It lives in tensor/, the bottom layer, so both may
 * import it without models/ depending on data/.
 *
 * Augmentations run on the host, one sample at a time, and draw a handful of numbers each
 * (crop boxes, flip coins, jitter factors). Drawing those from tensors would allocate device
 * memory per number, so tessera derives one 128-bit seed per sample from a tessera PRNG key
 * (`random.bits(key, [4])`, Threefry-2x32) and expands it on the host with **xoshiro128\*\***
 * (Blackman & Vigna), its state being the seed mixed by murmur3's `fmix32`. Everything is exact
 * 32-bit integer arithmetic, so a seed gives the same stream on every platform and backend.
 *
 * Derived draws:
 * - `random()`: a double in [0, 1) from 53 bits (two outputs: 27 + 26 bits).
 * - `uniform(a, b)`: `a + (b − a)·random()`.
 * - `int(lo, hi)`: an integer in [lo, hi] **inclusive**, by rejection sampling on 32-bit
 *   outputs (unbiased; ranges up to 2³²).
 * - `normal(mean, std)`: Box–Muller from two `random()` draws (no caching, so every call
 *   consumes exactly two doubles).
 * - `gamma(k)` (Marsaglia–Tsang) and `beta(a, b)` = X/(X+Y) for Mixup/CutMix.
 *
 * @module
 */

import { TesseraError } from "./errors.ts";
import type { Tensor } from "./tensor.ts";
import { bits } from "./random_keys.ts";

const OP = "Rng";

/**
 * murmur3's 32-bit finaliser `fmix32` (full avalanche: every output bit depends on every input
 * bit), in exact integer arithmetic.
 *
 * @param h an unsigned 32-bit integer
 * @returns the mixed unsigned 32-bit integer
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fmix32 } from "./host_rng.ts";
 * assert.equal(fmix32(0), 0);
 * assert.notEqual(fmix32(1), fmix32(2));
 * ```
 */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * A xoshiro128** stream with helpers for the distributions augmentations need. Mutable: each
 * draw advances the state. Build one with {@link rngFromSeed} or {@link rngFromKey}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rngFromSeed } from "./host_rng.ts";
 * const rng = rngFromSeed([1, 2, 3, 4]);
 * const a = rng.uint32(), u = rng.random(), k = rng.int(0, 9);
 * assert.equal(rngFromSeed([1, 2, 3, 4]).uint32() === a, true);
 * assert.equal(u >= 0 && u < 1, true);
 * assert.equal(k >= 0 && k <= 9, true);
 * ```
 */
export class Rng {
  #s: Uint32Array;

  /**
   * Creates a stream from a 128-bit seed (four uint32 words). The state is the seed mixed
   * with murmur3's `fmix32` (every state word depends on every seed word).
   * @param seed four 32-bit words
   */
  constructor(seed: ArrayLike<number>) {
    if (seed.length !== 4) {
      throw new TesseraError(OP, `seed must have 4 uint32 words, got ${seed.length}`);
    }
    // Spread every seed word into every state word (murmur3's fmix32), so that seeds that
    // differ in one word, or have little entropy, still give unrelated streams.
    this.#s = new Uint32Array(4);
    for (let j = 0; j < 4; j++) {
      let h = Math.imul(0x9e3779b9, j + 1) >>> 0;
      for (let i = 0; i < 4; i++) h = (fmix32((h ^ seed[i]!) >>> 0) + 0x7f4a7c15) >>> 0;
      this.#s[j] = h;
    }
    if ((this.#s[0]! | this.#s[1]! | this.#s[2]! | this.#s[3]!) === 0) this.#s[0] = 1;
  }

  /** The next raw 32-bit output, an integer in [0, 2³²). */
  uint32(): number {
    const s = this.#s;
    const result = (Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9)) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** A double in [0, 1) with 53 random bits. */
  random(): number {
    const a = this.uint32() >>> 5; // 27 bits
    const b = this.uint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** A double in [a, b) (or (b, a] when b < a): `a + (b − a)·random()`. */
  uniform(a = 0, b = 1): number {
    return a + (b - a) * this.random();
  }

  /** An integer in [lo, hi], both inclusive (unbiased rejection sampling). */
  int(lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo || hi - lo >= 2 ** 32) {
      throw new TesseraError(
        OP,
        `int(lo, hi) needs integers lo <= hi within 2^32, got ${lo}, ${hi}`,
      );
    }
    const n = hi - lo + 1;
    if (n === 2 ** 32) return lo + this.uint32();
    const limit = 2 ** 32 - (2 ** 32 % n); // accept outputs below a multiple of n
    let x = this.uint32();
    while (x >= limit) x = this.uint32();
    return lo + (x % n);
  }

  /** True with probability `p`: `random() < p`. */
  bernoulli(p: number): boolean {
    return this.random() < p;
  }

  /** A normal draw by Box–Muller (consumes two doubles). */
  normal(mean = 0, std = 1): number {
    const u1 = 1 - this.random(); // (0, 1]
    const u2 = this.random();
    return mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** A Gamma(shape, 1) draw (Marsaglia–Tsang; shape < 1 via the U^(1/k) boost). */
  gamma(shape: number): number {
    if (!(shape > 0)) throw new TesseraError(OP, `gamma shape must be > 0, got ${shape}`);
    if (shape < 1) {
      const u = 1 - this.random();
      return this.gamma(shape + 1) * Math.pow(u, 1 / shape);
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number, v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = 1 - this.random();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** A Beta(a, b) draw: X/(X+Y) with X ~ Gamma(a), Y ~ Gamma(b). */
  beta(a: number, b: number): number {
    const x = this.gamma(a);
    const y = this.gamma(b);
    return x + y === 0 ? 0.5 : x / (x + y);
  }

  /** A uniformly random permutation of 0..n−1 (Fisher–Yates). */
  permutation(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(0, i);
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    return p;
  }

  /** One element of `items`, uniformly. */
  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new TesseraError(OP, "choice from an empty list");
    return items[this.int(0, items.length - 1)]!;
  }
}

/**
 * A stream from four uint32 words (e.g. one row of `random.bits(key, [n, 4])`).
 *
 * @param seed four 32-bit words
 * @returns a new {@link Rng}
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rngFromSeed } from "./host_rng.ts";
 * assert.equal(rngFromSeed([0, 0, 0, 1]).int(1, 6) >= 1, true);
 * ```
 */
export function rngFromSeed(seed: ArrayLike<number>): Rng {
  return new Rng(seed);
}

/**
 * A stream seeded from a tessera key: reads `random.bits(key, [4])` once (async, so it works
 * on every backend) and frees the temporary tensor.
 *
 * @param key a PRNG key (uint32 [2])
 * @returns a new {@link Rng}
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * import { rngFromKey } from "./host_rng.ts";
 * const a = await rngFromKey(random.key(0));
 * const b = await rngFromKey(random.key(0));
 * assert.equal(a.uint32() === b.uint32(), true);
 * ```
 */
export async function rngFromKey(key: Tensor): Promise<Rng> {
  const b = bits(key, [4]);
  try {
    return new Rng(await b.data() as Uint32Array);
  } finally {
    b.dispose();
  }
}
