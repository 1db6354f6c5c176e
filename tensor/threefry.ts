/**
 * Threefry-2x32 (20 rounds), the counter-based hash behind JAX's default PRNG, on the host.
 *
 * This is the reference the CPU `randomBits` kernel calls and the WebGPU kernel mirrors in WGSL.
 * It follows JAX's `threefry2x32_p` lowering (`_threefry2x32_lowering` in
 * `jax/_src/random/threefry2x32.py`): rotation schedule `[13, 15, 26, 6]` / `[17, 29, 16, 24]`
 * alternating every 4 rounds, key schedule `ks = [k0, k1, k0 ^ k1 ^ 0x1BD11BDA]`, a key injection
 * before the first round and after every 4 rounds (5 injections after rounds 4, 8, …, 20, the
 * `s`-th adding `ks[s % 3]` to the first word and `ks[(s + 1) % 3] + s` to the second).
 *
 * Bit layout of {@link randomBitsHost}: JAX's `threefry_random_bits` in the *original*
 * (`jax_threefry_partitionable=False`) mode, which was JAX's default up to 0.4.x and is what the
 * values in JAX's own `random_test.py` (`testRngRandomBits`, `testPRNGValues`) and its older
 * documentation were generated with. JAX ≥ 0.5 defaults to the partitionable mode, whose bits
 * differ; run JAX with `jax.config.update("jax_threefry_partitionable", False)` to compare.
 *
 * Known-answer tests (Random123's `kat_vectors` for threefry2x32_20, used by JAX's
 * `random_test.py::testThreefry2x32`), key `(k0, k1)`, counter `(x0, x1)` → output:
 *
 * | key                      | counter                  | output                   |
 * | ------------------------ | ------------------------ | ------------------------ |
 * | 0x00000000 0x00000000    | 0x00000000 0x00000000    | 0x6b200159 0x99ba4efe    |
 * | 0xffffffff 0xffffffff    | 0xffffffff 0xffffffff    | 0x1cb996fc 0xbb002be7    |
 * | 0x13198a2e 0x03707344    | 0x243f6a88 0x85a308d3    | 0xc4923a9c 0x483df7a0    |
 *
 * @module
 */
import { TesseraError } from "./errors.ts";

/** Rotation amounts: rounds 4g..4g+3 use the g-even row, odd groups the second row. */
const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24] as const;

/** Key-schedule parity constant of Threefry (Skein's C240). */
export const THREEFRY_PARITY = 0x1bd11bda;

/** Largest element count {@link randomBitsHost} accepts (JAX switches to a blocked layout above). */
export const MAX_RANDOM_BITS = 0xfffffffe;

/**
 * The Threefry-2x32 hash of one counter pair: writes the two output words to `out[i0]` and
 * `out[i1]`. No allocation; only 32-bit add, xor and rotate, so it maps 1:1 to WGSL
 * (`u32` arithmetic wraps there, so the `>>> 0` become no-ops).
 *
 * @param k0 first key word (uint32)
 * @param k1 second key word (uint32)
 * @param x0 first counter word (uint32)
 * @param x1 second counter word (uint32)
 * @param out where the two output words go
 * @param i0 index in `out` for the first output word
 * @param i1 index in `out` for the second output word
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { threefry2x32Pair } from "./threefry.ts";
 * const out = new Uint32Array(2);
 * threefry2x32Pair(0, 0, 0, 0, out, 0, 1);
 * assert.equal(out[0]!.toString(16), "6b200159");
 * assert.equal(out[1]!.toString(16), "99ba4efe");
 * ```
 */
export function threefry2x32Pair(
  k0: number,
  k1: number,
  x0: number,
  x1: number,
  out: Uint32Array,
  i0: number,
  i1: number,
): void {
  k0 >>>= 0;
  k1 >>>= 0;
  const k2 = (k0 ^ k1 ^ THREEFRY_PARITY) >>> 0;
  let a = (x0 + k0) >>> 0;
  let b = (x1 + k1) >>> 0;
  for (let g = 0; g < 5; g++) {
    const base = (g & 1) << 2;
    for (let r = 0; r < 4; r++) {
      const rot = ROTATIONS[base + r]!;
      a = (a + b) >>> 0;
      b = (((b << rot) | (b >>> (32 - rot))) ^ a) >>> 0;
    }
    // Injection s = g + 1: a += ks[s % 3], b += ks[(s + 1) % 3] + s.
    const s = g + 1;
    const ia = s % 3;
    const ib = (s + 1) % 3;
    a = (a + (ia === 0 ? k0 : ia === 1 ? k1 : k2)) >>> 0;
    b = (b + (ib === 0 ? k0 : ib === 1 ? k1 : k2) + s) >>> 0;
  }
  out[i0] = a;
  out[i1] = b;
}

function checkWord(op: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new TesseraError(op, `${name} must be a uint32, got ${v}`);
  }
}

/**
 * Elementwise Threefry-2x32 (JAX's `threefry2x32_p`): hashes each counter pair
 * `(x0[i], x1[i])` under the key `(key0, key1)`.
 *
 * Known answers (Random123 / JAX `testThreefry2x32`): key `(0x13198a2e, 0x03707344)`, counter
 * `(0x243f6a88, 0x85a308d3)` → `(0xc4923a9c, 0x483df7a0)`; all zeros → `(0x6b200159, 0x99ba4efe)`;
 * all ones → `(0x1cb996fc, 0xbb002be7)`.
 *
 * @param key0 first key word (uint32)
 * @param key1 second key word (uint32)
 * @param x0 first counter words
 * @param x1 second counter words (same length as `x0`)
 * @returns the two output word arrays
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { threefry2x32 } from "./threefry.ts";
 * const [y0, y1] = threefry2x32(
 *   0x13198a2e, 0x03707344, Uint32Array.of(0x243f6a88), Uint32Array.of(0x85a308d3));
 * assert.equal(y0[0]!.toString(16), "c4923a9c");
 * assert.equal(y1[0]!.toString(16), "483df7a0");
 * ```
 */
export function threefry2x32(
  key0: number,
  key1: number,
  x0: Uint32Array,
  x1: Uint32Array,
): [Uint32Array, Uint32Array] {
  checkWord("threefry2x32", "key0", key0);
  checkWord("threefry2x32", "key1", key1);
  if (x0.length !== x1.length) {
    throw new TesseraError(
      "threefry2x32",
      `counter halves differ in length: ${x0.length} vs ${x1.length}`,
    );
  }
  const n = x0.length;
  const y0 = new Uint32Array(n);
  const y1 = new Uint32Array(n);
  const pair = new Uint32Array(2);
  for (let i = 0; i < n; i++) {
    threefry2x32Pair(key0, key1, x0[i]!, x1[i]!, pair, 0, 1);
    y0[i] = pair[0]!;
    y1[i] = pair[1]!;
  }
  return [y0, y1];
}

/**
 * `n` uint32 random words from a raw key `[k0, k1]`, exactly `jax.random.bits(key, (n,),
 * jnp.uint32)` under `jax_threefry_partitionable=False` (JAX's `_threefry_random_bits_original`,
 * i.e. `threefry_2x32(key, iota(n))`).
 *
 * Layout: with `h = ceil(n / 2)`, element `i < h` is the first output word of the hash of the
 * counter pair `(i, i + h)` and element `i + h` its second word; when `n` is odd the last pair's
 * second counter is the padding `0` and its second output word is dropped.
 *
 * For `n >= 2^32 - 1` JAX switches to a blocked layout (one split subkey per `2^32 - 1`
 * words); that is not implemented and raises an error (such arrays would need ≥ 16 GiB anyway).
 *
 * @param key a uint32 key of length 2
 * @param n number of words (integer, `0 ≤ n ≤ 2^32 - 2`)
 * @returns `n` random words
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomBitsHost } from "./threefry.ts";
 * // jax.random.bits(jax.random.PRNGKey(1701), (3,), "uint32") (JAX random_test.py)
 * assert.deepEqual(
 *   randomBitsHost(Uint32Array.of(0, 1701), 3),
 *   Uint32Array.of(56197195, 4200222568, 961309823),
 * );
 * ```
 */
export function randomBitsHost(key: Uint32Array, n: number): Uint32Array {
  if (!(key instanceof Uint32Array) || key.length !== 2) {
    throw new TesseraError("randomBits", "key must be a Uint32Array of length 2");
  }
  if (!Number.isInteger(n) || n < 0) {
    throw new TesseraError("randomBits", `element count must be a non-negative integer, got ${n}`);
  }
  if (n > MAX_RANDOM_BITS) {
    throw new TesseraError(
      "randomBits",
      `at most ${MAX_RANDOM_BITS} (2^32 - 2) values per draw, got ${n}; ` +
        "split the key and draw in blocks",
    );
  }
  const k0 = key[0]!, k1 = key[1]!;
  const out = new Uint32Array(n);
  const h = Math.ceil(n / 2);
  const full = n - h; // pairs whose second word is kept (h or h - 1)
  for (let i = 0; i < full; i++) threefry2x32Pair(k0, k1, i, i + h, out, i, i + h);
  if (full < h) {
    // Odd n: the last pair's second counter is the padding 0; its second word is dropped.
    const pair = new Uint32Array(2);
    threefry2x32Pair(k0, k1, h - 1, 0, pair, 0, 1);
    out[h - 1] = pair[0]!;
  }
  return out;
}
