import assert from "node:assert/strict";
import {
  MAX_RANDOM_BITS,
  randomBitsHost,
  threefry2x32,
  threefry2x32Pair,
} from "../../tensor/threefry.ts";
import { FOLD_IN4_KEY0, SPLIT4_KEY0, SPLIT_KEY0, SPLIT_SPLIT_KEY0 } from "./_jax_prng_values.ts";

const U32_MAX = 0xffffffff;

function hash(k0: number, k1: number, x0: number, x1: number): [number, number] {
  const [y0, y1] = threefry2x32(k0, k1, Uint32Array.of(x0), Uint32Array.of(x1));
  return [y0[0]!, y1[0]!];
}

// Random123 known-answer vectors for threefry2x32_20, as used by JAX's
// tests/random_test.py::testThreefry2x32.
Deno.test("threefry2x32: Random123 known-answer vectors", () => {
  assert.deepEqual(hash(0, 0, 0, 0), [0x6b200159, 0x99ba4efe]);
  assert.deepEqual(hash(U32_MAX, U32_MAX, U32_MAX, U32_MAX), [0x1cb996fc, 0xbb002be7]);
  assert.deepEqual(
    hash(0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3),
    [0xc4923a9c, 0x483df7a0],
  );
});

Deno.test("threefry2x32: elementwise over arrays, like testThreefry2x32Large", () => {
  const n = 1000;
  const [y0, y1] = threefry2x32(
    0x13198a2e,
    0x03707344,
    new Uint32Array(n).fill(0x243f6a88),
    new Uint32Array(n).fill(0x85a308d3),
  );
  assert.ok(y0.every((v) => v === 0xc4923a9c));
  assert.ok(y1.every((v) => v === 0x483df7a0));
  const [e0, e1] = threefry2x32(1, 2, new Uint32Array(0), new Uint32Array(0));
  assert.equal(e0.length, 0);
  assert.equal(e1.length, 0);
  assert.throws(() => threefry2x32(0, 0, new Uint32Array(2), new Uint32Array(3)), /differ/);
  assert.throws(() => threefry2x32(-1, 0, new Uint32Array(1), new Uint32Array(1)), /uint32/);
});

Deno.test("threefry2x32Pair writes into the given slots without touching others", () => {
  const out = new Uint32Array([7, 7, 7, 7]);
  threefry2x32Pair(0, 0, 0, 0, out, 3, 1);
  assert.deepEqual([...out], [7, 0x99ba4efe, 7, 0x6b200159]);
});

// JAX tests/random_test.py::testRngRandomBits (jax_threefry_partitionable=False):
// random.bits(PRNGKey(1701), (3,), 'uint32').
Deno.test("randomBitsHost: jax.random.bits(PRNGKey(1701), (3,))", () => {
  assert.deepEqual(
    [...randomBitsHost(Uint32Array.of(0, 1701), 3)],
    [56197195, 4200222568, 961309823],
  );
});

// JAX tests/random_test.py _RANDOM_VALUES_CASES "bits" uint32 (5,): the seed is
// zlib.adler32(b"bitsthreefry2x32") = 942802475.
Deno.test("randomBitsHost: JAX random_test bits case (seed adler32('bitsthreefry2x32'))", () => {
  assert.deepEqual(
    [...randomBitsHost(Uint32Array.of(0, 942802475), 5)],
    [1978747883, 4134381225, 3628107870, 689687174, 2788938207],
  );
});

// JAX tests/random_test.py::testPRNGValues: split(PRNGKey(0), 4) is bits(key, (8,)) reshaped,
// and fold_in(PRNGKey(0), 4) hashes the counter pair (0, 4).
Deno.test("randomBitsHost: split(PRNGKey(0), 4) and fold_in(PRNGKey(0), 4) layouts", () => {
  assert.deepEqual([...randomBitsHost(Uint32Array.of(0, 0), 8)], SPLIT4_KEY0);
  assert.deepEqual(hash(0, 0, 0, 4), FOLD_IN4_KEY0);
});

// JAX's "Common gotchas" notebook (pre-0.5 outputs): split(PRNGKey(0)) and split of the result.
Deno.test("randomBitsHost: split(PRNGKey(0)) from JAX's docs", () => {
  assert.deepEqual([...randomBitsHost(Uint32Array.of(0, 0), 4)], SPLIT_KEY0);
  assert.deepEqual(
    [...randomBitsHost(Uint32Array.from(SPLIT_KEY0.slice(0, 2)), 4)],
    SPLIT_SPLIT_KEY0,
  );
});

Deno.test("randomBitsHost: layout (half split, odd padding) matches threefry2x32", () => {
  const key = Uint32Array.of(0xdeadbeef, 12345);
  for (const n of [1, 2, 3, 4, 5, 8, 9, 33]) {
    const h = Math.ceil(n / 2);
    const x0 = Uint32Array.from({ length: h }, (_, i) => i);
    const x1 = Uint32Array.from({ length: h }, (_, i) => (i + h < n ? i + h : 0));
    const [y0, y1] = threefry2x32(key[0]!, key[1]!, x0, x1);
    const expect = [...y0, ...y1].slice(0, n);
    assert.deepEqual([...randomBitsHost(key, n)], expect, `n=${n}`);
  }
  // A prefix of an odd draw equals the prefix of the hash layout, not of a longer draw.
  assert.notDeepEqual([...randomBitsHost(key, 3)], [...randomBitsHost(key, 4)].slice(0, 3));
});

Deno.test("randomBitsHost: n = 0, determinism and argument checks", () => {
  assert.equal(randomBitsHost(Uint32Array.of(1, 2), 0).length, 0);
  const a = randomBitsHost(Uint32Array.of(1, 2), 100);
  assert.deepEqual(a, randomBitsHost(Uint32Array.of(1, 2), 100));
  assert.notDeepEqual(a, randomBitsHost(Uint32Array.of(1, 3), 100));
  assert.throws(() => randomBitsHost(Uint32Array.of(1), 1), /length 2/);
  assert.throws(() => randomBitsHost(Uint32Array.of(1, 2), -1), /non-negative/);
  assert.throws(() => randomBitsHost(Uint32Array.of(1, 2), 1.5), /non-negative/);
  assert.throws(() => randomBitsHost(Uint32Array.of(1, 2), MAX_RANDOM_BITS + 1), /2\^32 - 2/);
});
