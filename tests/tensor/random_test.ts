import assert from "node:assert/strict";
import "../../tensor/cpu/mod.ts";
import { tensor } from "../../tensor/creation.ts";
import { memoryStats } from "../../tensor/memory.ts";
import * as random from "../../tensor/random.ts";
import { erfinv } from "../../tensor/ops/special.ts";
import { randomBitsHost, threefry2x32 } from "../../tensor/threefry.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { FOLD_IN4_KEY0, SPLIT4_KEY0, SPLIT_KEY0, SPLIT_SPLIT_KEY0 } from "./_jax_prng_values.ts";

const arr = (t: Tensor): number[] => Array.from(t.dataSync());

function assertClose(actual: number[], expected: number[], tol: number, msg = ""): void {
  assert.equal(actual.length, expected.length, msg);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `${msg}[${i}]: ${a} vs ${e}`);
  });
}

function moments(xs: number[]): { mean: number; variance: number; kurtosis: number } {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  let m2 = 0, m4 = 0;
  for (const x of xs) {
    const d = (x - mean) ** 2;
    m2 += d;
    m4 += d * d;
  }
  m2 /= n;
  m4 /= n;
  return { mean, variance: m2, kurtosis: m4 / (m2 * m2) };
}

/** Pearson chi-square statistic of observed counts against expected probabilities. */
function chiSquare(counts: number[], probs: number[]): number {
  const n = counts.reduce((s, c) => s + c, 0);
  return counts.reduce((s, c, i) => s + (c - n * probs[i]!) ** 2 / (n * probs[i]!), 0);
}

// Rough upper 99.9% quantile of chi-square with `df` degrees of freedom (Wilson–Hilferty).
function chiSquareCritical(df: number): number {
  const z = 3.09;
  return df * (1 - 2 / (9 * df) + z * Math.sqrt(2 / (9 * df))) ** 3;
}

// ---------------------------------------------------------------------------------------------
// Keys, split, foldIn: exact JAX values (jax_threefry_partitionable=False).

Deno.test("key: JAX PRNGKey seeds (threefry_seed)", () => {
  assert.deepEqual(arr(random.key(0)), [0, 0]);
  assert.deepEqual(arr(random.key(42)), [0, 42]);
  assert.deepEqual(arr(random.key(1701)), [0, 1701]);
  assert.deepEqual(arr(random.key(2 ** 32)), [1, 0]);
  assert.deepEqual(arr(random.key(2 ** 40 + 7)), [256, 7]);
  // 64-bit two's complement, as JAX with x64 (random_test.py test_prng_seeds_and_keys).
  assert.deepEqual(arr(random.key(-1)), [0xffffffff, 0xffffffff]);
  assert.deepEqual(arr(random.key(-3)), [0xffffffff, 0xfffffffd]);
  assert.deepEqual(arr(random.key(-(2n ** 63n))), [0x80000000, 0]);
  assert.deepEqual(arr(random.key(2n ** 63n - 1n)), [0x7fffffff, 0xffffffff]);
  assert.equal(random.key(0).dtype, "uint32");
  assert.throws(() => random.key(0.5), /safe integer/);
  assert.throws(() => random.key(2 ** 53), /safe integer/);
  assert.throws(() => random.key(2n ** 63n), /64-bit/);
});

// JAX docs (Common Gotchas notebook, pre-0.5 outputs): split(PRNGKey(0)) and the next split.
Deno.test("split: JAX values for split(PRNGKey(0)) and split(PRNGKey(0), 4)", () => {
  const s = random.split(random.key(0));
  assert.deepEqual(s.shape, [2, 2]);
  assert.deepEqual(arr(s), SPLIT_KEY0);
  const [k] = random.splitKeys(random.key(0));
  assert.deepEqual(arr(random.split(k!)), SPLIT_SPLIT_KEY0);
  // JAX random_test.py::testPRNGValues.
  assert.deepEqual(arr(random.split(random.key(0), 4)), SPLIT4_KEY0);
  const keys = random.splitKeys(random.key(0), 4);
  assert.equal(keys.length, 4);
  assert.deepEqual(keys.map((t) => t.shape), [[2], [2], [2], [2]]);
  assert.deepEqual(arr(keys[2]!), [433833334, 4221794875]);
  assert.deepEqual(random.split(random.key(0), 0).shape, [0, 2]);
  assert.throws(() => random.split(random.key(0), -1), /non-negative/);
  assert.throws(() => random.split(tensor([1, 2]), 2), /uint32/);
  assert.throws(() => random.uniform(random.split(random.key(0)), [2]), /splitKeys/);
});

Deno.test("foldIn: JAX values (testPRNGValues, stateful_rng docs)", () => {
  assert.deepEqual(arr(random.foldIn(random.key(0), 4)), FOLD_IN4_KEY0);
  // jax.experimental.random.stateful_rng(0).key() is fold_in(PRNGKey(0), 0).
  assert.deepEqual(arr(random.foldIn(random.key(0), 0)), [1797259609, 2579123966]);
  // data is taken mod 2^32.
  assert.deepEqual(
    arr(random.foldIn(random.key(7), -1)),
    arr(random.foldIn(random.key(7), 2 ** 32 - 1)),
  );
  assert.notDeepEqual(arr(random.foldIn(random.key(7), 1)), arr(random.foldIn(random.key(7), 2)));
  assert.throws(() => random.foldIn(random.key(0), 2 ** 32), /integer/);
});

Deno.test("threefry2x32Ops matches the host Threefry on random words", () => {
  const host = randomBitsHost(Uint32Array.of(3, 4), 64);
  const [k0, k1] = [0x13198a2e, 0x03707344];
  const x0 = host.slice(0, 32), x1 = host.slice(32);
  const [e0, e1] = threefry2x32(k0, k1, x0, x1);
  const [y0, y1] = random.threefry2x32Ops(
    tensor(Uint32Array.of(k0), { shape: [] }),
    tensor(Uint32Array.of(k1), { shape: [] }),
    tensor(x0),
    tensor(x1),
  );
  assert.deepEqual(arr(y0), Array.from(e0));
  assert.deepEqual(arr(y1), Array.from(e1));
});

Deno.test("bits: JAX values and the randomBitsHost layout", () => {
  // random_test.py::testRngRandomBits.
  assert.deepEqual(arr(random.bits(random.key(1701), [3])), [56197195, 4200222568, 961309823]);
  const b = random.bits(random.key(5), [3, 5]);
  assert.deepEqual(b.shape, [3, 5]);
  assert.deepEqual(arr(b), Array.from(randomBitsHost(Uint32Array.of(0, 5), 15)));
});

// ---------------------------------------------------------------------------------------------
// JAX distribution values: random_test.py _RANDOM_VALUES_CASES (threefry2x32, float32); the seed
// of each case is zlib.adler32(name + "threefry2x32").

Deno.test("uniform: JAX random_test value case (bit-exact construction)", () => {
  const u = arr(random.uniform(random.key(1338574713), [5]));
  assertClose(u, [0.298671, 0.073213, 0.873356, 0.260549, 0.412797], 2e-6);
  // Bit-exact: (bits >>> 9 | 0x3f800000) as float32, minus 1.
  const bits = randomBitsHost(Uint32Array.of(0, 1338574713), 5);
  const f = new Float32Array(new Uint32Array(bits.map((x) => (x >>> 9) | 0x3f800000)).buffer);
  assert.deepEqual(u, Array.from(f, (x) => Math.fround(x - 1)));
});

Deno.test("normal, truncatedNormal, gumbel, bernoulli: JAX values", () => {
  assertClose(
    arr(random.normal(random.key(1193674498), [5])),
    [-1.173234, -1.511662, 0.070593, -0.099764, 1.052845],
    2e-6,
    "normal",
  );
  assertClose(
    arr(random.truncatedNormal(random.key(2846034731), 0, 2, [5])),
    [0.582807, 1.709771, 0.159513, 0.861376, 0.36148],
    2e-6,
    "truncatedNormal",
  );
  assertClose(
    arr(random.gumbel(random.key(1179715317), [5])),
    [2.06701, 0.911726, 0.145736, 0.185427, -0.00711],
    2e-5,
    "gumbel",
  );
  assert.deepEqual(
    Array.from(random.bernoulli(random.key(1612777541), 0.5, [5]).dataSync(), Boolean),
    [false, true, true, true, false],
  );
  // JAX docs (Common Gotchas): normal(PRNGKey(0)) and normal of the split subkeys.
  assertClose(arr(random.normal(random.key(0), [1])), [-0.20584226], 1e-6);
  const [k, sub] = random.splitKeys(random.key(0));
  assertClose(arr(random.normal(sub!, [1])), [-1.2515389], 1e-6);
  const [k2, sub2] = random.splitKeys(k!);
  assertClose(arr(random.normal(sub2!, [1])), [-0.58665055], 1e-6);
  const subs = random.splitKeys(k2!, 4).slice(1);
  assertClose(
    subs.map((s) => arr(random.normal(s, [1]))[0]!),
    [-0.37533438, 0.98645043, 0.14553197],
    1e-6,
  );
});

// ---------------------------------------------------------------------------------------------
// Determinism and key sensitivity.

Deno.test("every sampler is a pure function of the key", () => {
  const k = random.key(123);
  const samplers: Array<(k: Tensor) => Tensor> = [
    (k) => random.uniform(k, [50]),
    (k) => random.uniform(k, [50], { dtype: "float64" }),
    (k) => random.normal(k, [50]),
    (k) => random.normal(k, [50], { dtype: "float64" }),
    (k) => random.truncatedNormal(k, -1, 1, [50]),
    (k) => random.gumbel(k, [50]),
    (k) => random.bernoulli(k, 0.5, [50]),
    (k) => random.randint(k, [50], -1000, 1000),
    (k) => random.permutation(k, 50),
    (k) => random.categorical(k, tensor([[0, 1, 2, 3]]), -1),
  ];
  for (const f of samplers) {
    assert.deepEqual(arr(f(k)), arr(f(random.key(123))));
    if (f(k).size >= 50) assert.notDeepEqual(arr(f(k)), arr(f(random.key(124))));
  }
  const [a, b] = random.splitKeys(k);
  assert.notDeepEqual(arr(random.uniform(a!, [8])), arr(random.uniform(b!, [8])));
  assert.notDeepEqual(arr(random.foldIn(k, 1)), arr(random.foldIn(k, 2)));
});

Deno.test("samplers free their intermediates", () => {
  const k = random.key(1);
  random.normal(k, [4]).dispose(); // warm up lazily created constants
  const before = memoryStats().cpu?.tensors ?? 0;
  const outs = [
    random.normal(k, [4]),
    random.truncatedNormal(k, -2, 2, [4]),
    random.randint(k, [4], 0, 10),
    random.permutation(k, 4),
    random.foldIn(k, 3),
    random.categorical(k, tensor([0, 1])),
    ...random.splitKeys(k, 3),
  ];
  const live = (memoryStats().cpu?.tensors ?? 0) - before;
  // Only the results (and the one logits input) stay alive.
  assert.equal(live, outs.length + 1);
});

// ---------------------------------------------------------------------------------------------
// Distributions.

Deno.test("uniform: range, moments, bounds, float64 construction", () => {
  const n = 100_000;
  const u = arr(random.uniform(random.key(11), [n]));
  assert.ok(u.every((x) => x >= 0 && x < 1));
  const m = moments(u);
  assert.ok(Math.abs(m.mean - 0.5) < 4 * Math.sqrt(1 / 12 / n), `mean ${m.mean}`);
  assert.ok(Math.abs(m.variance - 1 / 12) < 0.002, `var ${m.variance}`);

  const v = arr(random.uniform(random.key(12), [n], { minval: -3, maxval: 5 }));
  assert.ok(v.every((x) => x >= -3 && x < 5));
  assert.ok(Math.abs(moments(v).mean - 1) < 0.05);

  // Tensor bounds broadcast to the shape.
  const w = random.uniform(random.key(13), [1000, 2], {
    minval: tensor([0, 10]),
    maxval: tensor([1, 20]),
  });
  const wv = arr(w);
  assert.ok(wv.every((x, i) => (i % 2 === 0 ? x >= 0 && x < 1 : x >= 10 && x < 20)));
  assert.throws(
    () => random.uniform(random.key(0), [2], { minval: tensor([0, 0, 0]) }),
    /broadcast/,
  );
  assert.throws(() => random.uniform(random.key(0), [2], { dtype: "int32" as "float32" }), /dtype/);

  // float64: 52 random bits from (first half, second half) words, as JAX's x64 mode.
  const d = random.uniform(random.key(14), [5], { dtype: "float64" });
  assert.equal(d.dtype, "float64");
  const bits = randomBitsHost(Uint32Array.of(0, 14), 10);
  const expect = Array.from(
    { length: 5 },
    (_, i) => bits[i]! * 2 ** -32 + (bits[i + 5]! >>> 12) * 2 ** -52,
  );
  assert.deepEqual(arr(d), expect);
  const dm = moments(arr(random.uniform(random.key(15), [n], { dtype: "float64" })));
  assert.ok(Math.abs(dm.mean - 0.5) < 0.005);

  assert.deepEqual(random.uniform(random.key(0)).shape, []);
  assert.equal(random.uniform(random.key(0), [0]).size, 0);
});

Deno.test("normal: mean, std, kurtosis, tails (float32 and float64)", () => {
  const n = 100_000;
  for (const dtype of ["float32", "float64"] as const) {
    const x = arr(random.normal(random.key(21), [n], { dtype }));
    assert.ok(x.every(Number.isFinite));
    const m = moments(x);
    assert.ok(Math.abs(m.mean) < 4 / Math.sqrt(n), `${dtype} mean ${m.mean}`);
    assert.ok(Math.abs(Math.sqrt(m.variance) - 1) < 0.01, `${dtype} std ${m.variance}`);
    assert.ok(Math.abs(m.kurtosis - 3) < 0.1, `${dtype} kurtosis ${m.kurtosis}`);
    // P(|x| > 2) = 0.0455.
    const tail = x.filter((v) => Math.abs(v) > 2).length / n;
    assert.ok(Math.abs(tail - 0.0455) < 0.004, `${dtype} tail ${tail}`);
  }
});

Deno.test("erfinv inverts erf and matches known values", () => {
  const xs = [-0.999, -0.9, -0.5, -0.1, 0, 0.1, 0.5, 0.9, 0.999, 0.9999999];
  // erfinv reference values (Newton iteration on math.erf/erfc in float64).
  const ref = [
    -2.326753765513525,
    -1.1630871536766743,
    -0.4769362762044699,
    -0.08885599049425769,
    0,
    0.08885599049425769,
    0.4769362762044699,
    1.1630871536766743,
    2.326753765513525,
    3.7665625816384707,
  ];
  assertClose(arr(erfinv(tensor(xs, { dtype: "float64" }))), ref, 2e-12, "f64");
  // float32 input is rounded first; compare to the float64 erfinv of the rounded input (a few
  // float32 ulps: near ±1, x² rounding in float32 is amplified by the steep slope).
  const x32 = Array.from(new Float32Array(xs));
  const ref32 = arr(erfinv(tensor(x32, { dtype: "float64" })));
  assertClose(arr(erfinv(tensor(xs))), ref32, 1e-6, "f32");
  assert.deepEqual(arr(erfinv(tensor([1, -1]))), [Infinity, -Infinity]);
  assert.ok(Number.isNaN(arr(erfinv(tensor([1.5])))[0]!));
  assert.throws(() => erfinv(tensor([1], { dtype: "int32" })), /float/);
});

Deno.test("truncatedNormal: within bounds, moments of the truncated law", () => {
  const n = 50_000;
  const x = arr(random.truncatedNormal(random.key(31), -1, 2, [n]));
  assert.ok(x.every((v) => v > -1 && v < 2));
  // Mean of N(0,1) truncated to (a, b): (φ(a) − φ(b)) / (Φ(b) − Φ(a)).
  const phi = (t: number) => Math.exp(-t * t / 2) / Math.sqrt(2 * Math.PI);
  const mean = (phi(-1) - phi(2)) / (0.9772498680518208 - 0.15865525393145707);
  assert.ok(Math.abs(moments(x).mean - mean) < 0.02, `mean ${moments(x).mean} vs ${mean}`);
  // Narrow and one-sided / infinite bounds stay inside.
  const y = arr(random.truncatedNormal(random.key(32), 1.5, 1.6, [1000]));
  assert.ok(y.every((v) => v > 1.5 && v < 1.6));
  const z = arr(random.truncatedNormal(random.key(33), 0, Infinity, [1000], { dtype: "float64" }));
  assert.ok(z.every((v) => v > 0 && Number.isFinite(v)));
  assert.throws(() => random.truncatedNormal(random.key(0), 1, 1, [2]), /lower < upper/);
});

Deno.test("bernoulli: frequency and tensor p", () => {
  const n = 50_000;
  const b = random.bernoulli(random.key(41), 0.3, [n]);
  assert.equal(b.dtype, "bool");
  const freq = arr(b).reduce((s, v) => s + v, 0) / n;
  assert.ok(Math.abs(freq - 0.3) < 4 * Math.sqrt(0.21 / n), `freq ${freq}`);
  const p = tensor([0, 1, 0.5]);
  const c = random.bernoulli(random.key(42), p);
  assert.deepEqual(c.shape, [3]);
  const cv = arr(c);
  assert.equal(cv[0], 0);
  assert.equal(cv[1], 1);
  assert.deepEqual(random.bernoulli(random.key(42), p, [4, 3]).shape, [4, 3]);
  assert.throws(() => random.bernoulli(random.key(0), p, [2]), /broadcast/);
});

Deno.test("randint: exact integer construction, bounds, chi-square uniformity", () => {
  // Exactly floor((hi·2^32 + lo) · span / 2^64) from the two halves of the bits, plus minval.
  const shape = [7];
  for (
    const [lo, hi] of [
      [0, 10],
      [-5, 3],
      [-(2 ** 31), 2 ** 31],
      [-(2 ** 31), 2 ** 31 - 1],
      [
        100,
        101,
      ],
      [0, 2 ** 31],
      [-123456789, 987654321],
    ] as const
  ) {
    const r = arr(random.randint(random.key(51), shape, lo, hi));
    const b = randomBitsHost(Uint32Array.of(0, 51), 14);
    const span = BigInt(hi - lo);
    const expect = Array.from({ length: 7 }, (_, i) => {
      const x = (BigInt(b[i]!) << 32n) | BigInt(b[i + 7]!);
      return Number((x * span) >> 64n) + lo;
    });
    assert.deepEqual(r, expect, `[${lo}, ${hi})`);
    assert.ok(r.every((v) => v >= lo && v < hi));
  }
  const t = random.randint(random.key(52), [2, 3], 0, 5);
  assert.equal(t.dtype, "int32");
  assert.deepEqual(t.shape, [2, 3]);
  // maxval <= minval gives minval, as JAX.
  assert.deepEqual(arr(random.randint(random.key(53), [3], 4, 4)), [4, 4, 4]);

  const k = 10, n = 50_000;
  const counts = new Array(k).fill(0);
  for (const v of arr(random.randint(random.key(54), [n], 0, k))) counts[v]++;
  const stat = chiSquare(counts, new Array(k).fill(1 / k));
  assert.ok(stat < chiSquareCritical(k - 1), `chi-square ${stat}`);
  assert.throws(() => random.randint(random.key(0), [2], 0.5, 3), /minval/);
  assert.throws(() => random.randint(random.key(0), [2], 0, 2 ** 31 + 1), /maxval/);
});

Deno.test("permutation and shuffle", () => {
  for (const n of [0, 1, 2, 10, 1000, 2000]) {
    const p = random.permutation(random.key(61), n);
    assert.equal(p.dtype, "int32");
    const v = arr(p);
    assert.deepEqual(
      [...v].sort((a, b) => a - b),
      Array.from({ length: n }, (_, i) => i),
      `n=${n}`,
    );
    if (n >= 10) assert.notDeepEqual(v, Array.from({ length: n }, (_, i) => i));
  }
  // One round for n <= 1625: the order is argsort of the split subkey's bits, as JAX's _shuffle.
  const [, sub] = random.splitKeys(random.key(62));
  const keys = arr(random.bits(sub!, [10]));
  const order = Array.from({ length: 10 }, (_, i) => i).sort((a, b) =>
    keys[a]! - keys[b]! || a - b
  );
  assert.deepEqual(arr(random.permutation(random.key(62), 10)), order);

  // Rows stay intact with a shared order; `independent` permutes each column on its own.
  const x = tensor(Array.from({ length: 20 }, (_, i) => [i, 100 + i]));
  const s = arr(random.shuffle(random.key(63), x));
  for (let i = 0; i < 20; i++) assert.equal(s[2 * i + 1], s[2 * i]! + 100);
  assert.deepEqual(
    s.filter((_, i) => i % 2 === 0).sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, i) => i),
  );
  const ind = arr(random.permutation(random.key(63), x, { independent: true }));
  const col0 = ind.filter((_, i) => i % 2 === 0), col1 = ind.filter((_, i) => i % 2 === 1);
  assert.deepEqual([...col1].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => 100 + i));
  assert.notDeepEqual(col1.map((v) => v - 100), col0);
  // Along axis 1.
  const cols = random.permutation(random.key(64), tensor([[1, 2, 3], [4, 5, 6]]), { axis: 1 });
  const cv = arr(cols);
  assert.deepEqual(cv.slice(3), cv.slice(0, 3).map((v) => v + 3));
  // Uniform over the 6 orders of 3 elements.
  const counts = new Map<string, number>();
  for (let i = 0; i < 1200; i++) {
    const key = arr(random.permutation(random.foldIn(random.key(65), i), 3)).join();
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.equal(counts.size, 6);
  const stat = chiSquare([...counts.values()], new Array(6).fill(1 / 6));
  assert.ok(stat < chiSquareCritical(5), `chi-square ${stat}`);
  assert.throws(() => random.permutation(random.key(0), tensor(1)), /rank/);
  assert.throws(() => random.permutation(random.key(0), -1), /non-negative/);
});

Deno.test("categorical: frequencies follow softmax(logits)", () => {
  const logits = [0, 1, 2, -1];
  const z = logits.reduce((s, l) => s + Math.exp(l), 0);
  const probs = logits.map((l) => Math.exp(l) / z);
  const n = 20_000;
  const batch = tensor(Array.from({ length: n }, () => logits));
  const c = random.categorical(random.key(71), batch);
  assert.equal(c.dtype, "int32");
  assert.deepEqual(c.shape, [n]);
  const counts = new Array(4).fill(0);
  for (const v of arr(c)) counts[v]++;
  const stat = chiSquare(counts, probs);
  assert.ok(stat < chiSquareCritical(3), `chi-square ${stat} counts ${counts}`);
  // Axis 0.
  const t = random.categorical(random.key(72), tensor([[0, 50], [50, 0]]), 0);
  assert.deepEqual(arr(t), [1, 0]);
  assert.throws(() => random.categorical(random.key(0), tensor([1], { dtype: "int32" })), /dtype/);
});
