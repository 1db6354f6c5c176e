/**
 * Functional, splittable randomness in the style of `jax.random`.
 *
 * A key is a uint32 tensor of shape `[2]`. Every sampler is a pure function of its key: the
 * same key always gives the same numbers, on every backend, so draw fresh keys with
 * {@link split} or {@link foldIn} instead of reusing one. The bits come from the `randomBits`
 * primitive (Threefry-2x32, see `tensor/threefry.ts`), and every step up to the conversion to
 * floating point uses only exact integer and bitwise primitives, so the bits and uniforms are
 * bit-identical across backends.
 *
 * Compatibility with JAX: keys, `split`, `foldIn`, `bits`, `uniform` (float32, and float64 as
 * in JAX's x64 mode) and `permutation` reproduce `jax.random` bit for bit under
 * `jax_threefry_partitionable=False` (JAX's default before 0.5; newer JAX needs
 * `jax.config.update("jax_threefry_partitionable", False)`). `normal`, `truncatedNormal`,
 * `gumbel` and `categorical` follow JAX's formulas; they match to within a few float32 ulps
 * because transcendental kernels (log1p, erf) are not bit-identical to XLA's. `randint` uses
 * a different (less biased) algorithm than JAX, so its values differ.
 *
 * @example
 * ```ts
 * import { random } from "../mod.ts";
 * const k = random.key(0);
 * const [k1, k2] = random.splitKeys(k);
 * const x = random.normal(k1, [3]);
 * const u = random.uniform(k2, [2, 2], { minval: -1, maxval: 1 });
 * console.log(x.shape, u.shape); // [3] [2, 2]
 * ```
 * @module
 */
import type { DType } from "./dtype.ts";
import { fmtShape, TesseraError } from "./errors.ts";
import { arange, full, tensor } from "./creation.ts";
import { bind } from "./dispatch.ts";
import { scope } from "./memory.ts";
import { broadcastShapes, checkShape, normAxis, type Shape, sizeOf } from "./shape.ts";
import { Tensor } from "./tensor.ts";
import { THREEFRY_PARITY } from "./threefry.ts";
import type { TensorLike } from "./ops/_util.ts";
import {
  add,
  bitcast,
  bitwiseAnd,
  bitwiseOr,
  bitwiseXor,
  cast,
  clip,
  div,
  erf,
  less,
  log,
  maximum,
  mul,
  neg,
  shiftLeft,
  shiftRightLogical,
  sub,
} from "./ops/elementwise.ts";
import { reshape, slice, split as splitAxis, stack } from "./ops/movement.ts";
import { argmax } from "./ops/reduce.ts";
import { argsort } from "./ops/sort.ts";
import { gather, takeAlongAxis } from "./ops/indexing.ts";
import { erfinv } from "./ops/special.ts";

/** Float dtypes the samplers produce. */
export type FloatDType = "float32" | "float64";

/** Options naming the output float dtype (default float32). */
export interface DTypeOptions {
  /** Output dtype (default `"float32"`). */
  dtype?: FloatDType;
}

/** Options of {@link uniform}. */
export interface UniformOptions extends DTypeOptions {
  /** Inclusive lower bound (default 0); a number or a tensor broadcastable to the shape. */
  minval?: TensorLike;
  /** Exclusive upper bound (default 1); a number or a tensor broadcastable to the shape. */
  maxval?: TensorLike;
}

/** Options of {@link permutation}. */
export interface PermutationOptions {
  /** Axis to permute (default 0). */
  axis?: number;
  /** Permute every 1-D slice along `axis` independently (default false: one shared order). */
  independent?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Validation helpers

function checkKey(op: string, k: unknown): Tensor {
  if (!(k instanceof Tensor)) {
    throw new TesseraError(op, `key must be a Tensor (use random.key(seed)), got ${typeof k}`);
  }
  if (k.dtype !== "uint32" || k.shape.length !== 1 || k.shape[0] !== 2) {
    throw new TesseraError(
      op,
      `key must be a uint32 tensor of shape [2], got ${k.dtype} ${fmtShape(k.shape)}` +
        (k.shape.length === 2 && k.shape[1] === 2
          ? " (index a split result, or use splitKeys)"
          : ""),
    );
  }
  return k;
}

function checkFloatDType(op: string, d: unknown): FloatDType {
  if (d !== "float32" && d !== "float64") {
    throw new TesseraError(op, `dtype must be "float32" or "float64", got ${JSON.stringify(d)}`);
  }
  return d;
}

function constant(k: Tensor, v: number, dtype: DType): Tensor {
  return full([], v, { dtype, backend: k.backend.name });
}

/** A number becomes a rank-0 tensor of `dtype` on the key's backend; tensors must match. */
function asTensor(op: string, name: string, k: Tensor, v: TensorLike, dtype: DType): Tensor {
  if (v instanceof Tensor) {
    if (v.dtype !== dtype) {
      throw new TesseraError(op, `${name} has dtype ${v.dtype}, expected ${dtype}`);
    }
    return v;
  }
  if (typeof v !== "number") throw new TesseraError(op, `${name} must be a number or a Tensor`);
  return constant(k, v, dtype);
}

/** The result of `op` must have exactly `shape` (bounds may broadcast up to it, not beyond). */
function checkBroadcastsTo(op: string, name: string, from: Shape, shape: Shape): void {
  const b = broadcastShapes(op, from, shape);
  if (b.length !== shape.length || b.some((d, i) => d !== shape[i])) {
    throw new TesseraError(
      op,
      `${name} of shape ${fmtShape(from)} does not broadcast to the sample shape ${
        fmtShape(shape)
      }`,
    );
  }
}

/** `nextafter(x, ±∞)` in float32 or float64, on the host. */
function nextAfter(x: number, up: boolean, dtype: FloatDType): number {
  if (Number.isNaN(x)) return x;
  if (dtype === "float32") {
    const f = new Float32Array([x]);
    const u = new Uint32Array(f.buffer);
    if (f[0] === (up ? Infinity : -Infinity)) return f[0]!;
    if (f[0] === 0) u[0] = up ? 1 : 0x80000001;
    else if ((f[0]! > 0) === up) u[0]!++;
    else u[0]!--;
    return f[0]!;
  }
  const f = new Float64Array([x]);
  const u = new BigUint64Array(f.buffer);
  if (x === (up ? Infinity : -Infinity)) return x;
  if (x === 0) u[0] = up ? 1n : 0x8000000000000001n;
  else if ((x > 0) === up) u[0]! += 1n;
  else u[0]! -= 1n;
  return f[0]!;
}

// ---------------------------------------------------------------------------------------------
// Keys

/**
 * A PRNG key from an integer seed, exactly `jax.random.PRNGKey(seed)`: the seed's 64-bit
 * two's-complement pattern as `[high 32 bits, low 32 bits]`. Seeds may be any safe integer, or
 * a bigint in `[-2^63, 2^63)`. So `key(0)` is `[0, 0]` and `key(42)` is `[0, 42]`; `key(-1)` is
 * `[0xffffffff, 0xffffffff]` as in JAX with x64 enabled (JAX's default 32-bit mode reads
 * negative seeds as int32 and gives `[0, 0xffffffff]`).
 *
 * @param seed the seed
 * @param opts `backend`: where the key lives (default: the default backend)
 * @returns a uint32 tensor of shape [2]
 *
 * @example
 * ```ts
 * import { random } from "../mod.ts";
 * console.log(await random.key(42).toArray()); // [0, 42]
 * console.log(await random.key(2 ** 40 + 7).toArray()); // [256, 7]
 * ```
 */
export function key(seed: number | bigint, opts: { backend?: string } = {}): Tensor {
  let s: bigint;
  if (typeof seed === "bigint") {
    s = seed;
  } else if (typeof seed === "number" && Number.isSafeInteger(seed)) {
    s = BigInt(seed);
  } else {
    throw new TesseraError("key", `seed must be a safe integer or a bigint, got ${String(seed)}`);
  }
  if (s < -(1n << 63n) || s >= 1n << 63n) {
    throw new TesseraError("key", `seed ${s} is outside the 64-bit range [-2^63, 2^63)`);
  }
  const u = BigInt.asUintN(64, s);
  return tensor(Uint32Array.of(Number(u >> 32n), Number(u & 0xffffffffn)), {
    backend: opts.backend,
  });
}

/**
 * Raw uint32 random bits of the given shape, `jax.random.bits(key, shape, uint32)`.
 *
 * @param k a key
 * @param shape output shape
 * @returns uint32 tensor of `shape`
 *
 * @example
 * ```ts
 * import { random } from "../mod.ts";
 * console.log(await random.bits(random.key(1701), [3]).toArray()); // [56197195, 4200222568, 961309823]
 * ```
 */
export function bits(k: Tensor, shape: Shape = []): Tensor {
  checkKey("bits", k);
  checkShape("bits", shape);
  return bind("randomBits", [k], { shape: [...shape] });
}

/**
 * Splits a key into `n` new keys, stacked in a uint32 tensor of shape `[n, 2]`: JAX's
 * `random.split` (`threefry_2x32(key, iota(2n))` reshaped to `[n, 2]`).
 *
 * @param k a key
 * @param n number of new keys (default 2)
 * @returns uint32 tensor of shape [n, 2]
 *
 * @example
 * ```ts
 * import { random } from "../mod.ts";
 * console.log(await random.split(random.key(0)).toArray());
 * // [[4146024105, 967050713], [2718843009, 1272950319]]
 * ```
 */
export function split(k: Tensor, n = 2): Tensor {
  checkKey("split", k);
  if (!Number.isInteger(n) || n < 0) {
    throw new TesseraError("split", `n must be a non-negative integer, got ${n}`);
  }
  return bind("randomBits", [k], { shape: [n, 2] });
}

/**
 * {@link split} as an array of `n` separate `[2]` keys.
 *
 * @param k a key
 * @param n number of new keys (default 2)
 * @returns `n` keys
 *
 * @example
 * ```ts
 * import { random } from "../mod.ts";
 * const [k1, k2, k3] = random.splitKeys(random.key(0), 3);
 * console.log(k1.shape, k3.shape); // [2] [2]
 * ```
 */
export function splitKeys(k: Tensor, n = 2): Tensor[] {
  checkKey("splitKeys", k);
  if (!Number.isInteger(n) || n < 1) {
    throw new TesseraError("splitKeys", `n must be a positive integer, got ${n}`);
  }
  return scope(() => splitAxis(split(k, n), n, 0).map((r) => reshape(r, [2])));
}

/**
 * The Threefry-2x32 hash built from uint32 primitives (add, xor, shifts): hashes the counter
 * pairs `(x0, x1)` (broadcast together) under the key words `k0`, `k1` (uint32 tensors, usually
 * rank 0). Used by {@link foldIn}; equal to `threefry2x32` in `tensor/threefry.ts` on every
 * backend whose uint32 addition wraps mod 2^32.
 *
 * @param k0 first key word
 * @param k1 second key word
 * @param x0 first counter words
 * @param x1 second counter words
 * @returns the two output words
 *
 * @example
 * ```ts
 * import { tensor } from "../mod.ts";
 * import { threefry2x32Ops } from "./random.ts";
 * const u = (v: number) => tensor(Uint32Array.of(v));
 * const [y0, y1] = threefry2x32Ops(u(0), u(0), u(0), u(0));
 * console.log(await y0.item(), await y1.item()); // 1797259609 2579123966
 * ```
 */
export function threefry2x32Ops(k0: Tensor, k1: Tensor, x0: Tensor, x1: Tensor): [Tensor, Tensor] {
  for (const [name, t] of [["k0", k0], ["k1", k1], ["x0", x0], ["x1", x1]] as const) {
    if (!(t instanceof Tensor) || t.dtype !== "uint32") {
      throw new TesseraError("threefry2x32Ops", `${name} must be a uint32 Tensor`);
    }
  }
  return scope(() => {
    const ks = [k0, k1, bitwiseXor(bitwiseXor(k0, k1), THREEFRY_PARITY)];
    const rotations = [13, 15, 26, 6, 17, 29, 16, 24];
    let a = add(x0, k0);
    let b = add(x1, k1);
    for (let g = 0; g < 5; g++) {
      for (let r = 0; r < 4; r++) {
        const rot = rotations[(g & 1) * 4 + r]!;
        a = add(a, b);
        b = bitwiseXor(bitwiseOr(shiftLeft(b, rot), shiftRightLogical(b, 32 - rot)), a);
      }
      const s = g + 1;
      a = add(a, ks[s % 3]!);
      b = add(add(b, ks[(s + 1) % 3]!), s);
    }
    return [a, b] as [Tensor, Tensor];
  });
}

/**
 * Derives a new key from `k` and an integer, JAX's `random.fold_in`: the Threefry hash of the
 * counter pair `(0, data)`. Useful for per-step or per-example keys without threading splits.
 * `data` is taken mod 2^32 (integers in `[-2^31, 2^32)`).
 *
 * @param k a key
 * @param data the integer to fold in
 * @returns a new key
 *
 * @example
 * ```ts
 * import { random } from "../mod.ts";
 * console.log(await random.foldIn(random.key(0), 4).toArray()); // [2285895361, 433833334]
 * ```
 */
export function foldIn(k: Tensor, data: number): Tensor {
  checkKey("foldIn", k);
  if (!Number.isInteger(data) || data < -(2 ** 31) || data >= 2 ** 32) {
    throw new TesseraError("foldIn", `data must be an integer in [-2^31, 2^32), got ${data}`);
  }
  return scope(() => {
    const [y0, y1] = threefry2x32Ops(
      slice(k, [0]),
      slice(k, [1]),
      constant(k, 0, "uint32"),
      constant(k, data >>> 0, "uint32"),
    );
    return stack([y0, y1]);
  });
}

// ---------------------------------------------------------------------------------------------
// Continuous distributions

/** Uniform floats in [0, 1) with all mantissa bits random (JAX's bit trick). */
function unitFloats(k: Tensor, shape: Shape, dtype: FloatDType): Tensor {
  if (dtype === "float32") {
    const b = bind("randomBits", [k], { shape: [...shape] });
    // 23 random mantissa bits under the exponent of 1.0: a float in [1, 2), minus 1.
    return sub(bitcast(bitwiseOr(shiftRightLogical(b, 9), 0x3f800000), "float32"), 1);
  }
  // float64: JAX draws 64-bit words as (first half, second half) of 2n 32-bit words and keeps
  // the top 52 bits: value = hi·2^-32 + (lo >>> 12)·2^-52, exact in float64.
  const n = sizeOf(shape);
  const b = bind("randomBits", [k], { shape: [2, n] });
  const hi = reshape(slice(b, [0]), shape);
  const lo = reshape(shiftRightLogical(slice(b, [1]), 12), shape);
  return add(mul(cast(hi, "float64"), 2 ** -32), mul(cast(lo, "float64"), 2 ** -52));
}

/**
 * Uniform samples in `[minval, maxval)`, JAX's `random.uniform`: random mantissa bits under
 * the exponent of 1.0 give a float in `[1, 2)`; subtract 1, scale by `maxval - minval`, add
 * `minval` and clamp below at `minval` (all in the output dtype). float32 uses 23 random bits
 * per value; float64 uses 52 bits from two 32-bit words, exactly as JAX does with x64 enabled.
 *
 * @param k a key
 * @param shape output shape (default scalar)
 * @param opts `minval`, `maxval` (numbers or tensors broadcastable to `shape`), `dtype`
 * @returns float tensor of `shape`
 *
 * @example
 * ```ts
 * import { random } from "../mod.ts";
 * const u = random.uniform(random.key(0), [1000], { minval: -2, maxval: 2 });
 * console.log(u.shape, u.dtype); // [1000] "float32"
 * ```
 */
export function uniform(k: Tensor, shape: Shape = [], opts: UniformOptions = {}): Tensor {
  checkKey("uniform", k);
  checkShape("uniform", shape);
  const dtype = checkFloatDType("uniform", opts.dtype ?? "float32");
  const minval = opts.minval ?? 0, maxval = opts.maxval ?? 1;
  for (const [name, v] of [["minval", minval], ["maxval", maxval]] as const) {
    if (v instanceof Tensor) checkBroadcastsTo("uniform", name, v.shape, shape);
  }
  return scope(() => {
    const lo = asTensor("uniform", "minval", k, minval, dtype);
    const hi = asTensor("uniform", "maxval", k, maxval, dtype);
    const u = unitFloats(k, shape, dtype);
    return maximum(lo, add(mul(u, sub(hi, lo)), lo));
  });
}

/**
 * Standard normal samples, JAX's `random.normal`: `u` uniform in `(nextafter(-1, 0), 1)`,
 * then `√2 · erfinv(u)` (see {@link erfinv}).
 *
 * @param k a key
 * @param shape output shape (default scalar)
 * @param opts `dtype` (default float32)
 * @returns float tensor of `shape`
 *
 * @example
 * ```ts
 * import { random } from "../mod.ts";
 * // JAX: normal(split(PRNGKey(0))[1], (1,)) = [-1.2515389]
 * const [, sub] = random.splitKeys(random.key(0));
 * console.log(await random.normal(sub, [1]).toArray()); // ≈ [-1.2515389]
 * ```
 */
export function normal(k: Tensor, shape: Shape = [], opts: DTypeOptions = {}): Tensor {
  checkKey("normal", k);
  checkShape("normal", shape);
  const dtype = checkFloatDType("normal", opts.dtype ?? "float32");
  return scope(() => {
    const u = uniform(k, shape, { minval: nextAfter(-1, true, dtype), maxval: 1, dtype });
    return mul(erfinv(u), Math.SQRT2);
  });
}

/**
 * Samples of a standard normal truncated to `(lower, upper)`, JAX's
 * `random.truncated_normal`: `u` uniform between `erf(lower/√2)` and `erf(upper/√2)`, then
 * `√2 · erfinv(u)`, clamped into the open interval. Bounds may be infinite.
 *
 * @param k a key
 * @param lower lower bound
 * @param upper upper bound (greater than `lower`)
 * @param shape output shape (default scalar)
 * @param opts `dtype` (default float32)
 * @returns float tensor of `shape` with values in `(lower, upper)`
 *
 * @example
 * ```ts
 * import { random } from "../mod.ts";
 * const w = random.truncatedNormal(random.key(3), -2, 2, [4, 4]);
 * console.log(w.shape); // [4, 4]
 * ```
 */
export function truncatedNormal(
  k: Tensor,
  lower: number,
  upper: number,
  shape: Shape = [],
  opts: DTypeOptions = {},
): Tensor {
  checkKey("truncatedNormal", k);
  checkShape("truncatedNormal", shape);
  const dtype = checkFloatDType("truncatedNormal", opts.dtype ?? "float32");
  if (typeof lower !== "number" || typeof upper !== "number" || !(lower < upper)) {
    throw new TesseraError(
      "truncatedNormal",
      `needs numbers lower < upper, got ${String(lower)} and ${String(upper)}`,
    );
  }
  return scope(() => {
    const sqrt2 = constant(k, Math.SQRT2, dtype);
    const a = erf(div(constant(k, lower, dtype), sqrt2));
    const b = erf(div(constant(k, upper, dtype), sqrt2));
    const u = uniform(k, shape, { minval: a, maxval: b, dtype });
    const out = mul(sqrt2, erfinv(u));
    return clip(out, nextAfter(lower, true, dtype), nextAfter(upper, false, dtype));
  });
}

/**
 * Standard Gumbel samples, JAX's `random.gumbel` (mode "low"): `-log(-log(u))` with `u`
 * uniform in `[tiny, 1)` (`tiny` the smallest normal float of the dtype).
 *
 * @param k a key
 * @param shape output shape (default scalar)
 * @param opts `dtype` (default float32)
 * @returns float tensor of `shape`
 *
 * @example
 * ```ts
 * import { random } from "../mod.ts";
 * console.log(random.gumbel(random.key(0), [5]).shape); // [5]
 * ```
 */
export function gumbel(k: Tensor, shape: Shape = [], opts: DTypeOptions = {}): Tensor {
  checkKey("gumbel", k);
  checkShape("gumbel", shape);
  const dtype = checkFloatDType("gumbel", opts.dtype ?? "float32");
  const tiny = dtype === "float32" ? 2 ** -126 : 2 ** -1022;
  return scope(() => neg(log(neg(log(uniform(k, shape, { minval: tiny, maxval: 1, dtype }))))));
}

// ---------------------------------------------------------------------------------------------
// Discrete distributions

/**
 * Bernoulli samples (bool), JAX's `random.bernoulli`: `uniform(key, shape) < p`, with the
 * uniform drawn in `p`'s dtype (float32 for a number).
 *
 * @param k a key
 * @param p probability of `true` (number, or float tensor broadcastable to `shape`; default 0.5)
 * @param shape output shape (default: `p`'s shape)
 * @returns bool tensor
 *
 * @example
 * ```ts
 * import { random } from "../mod.ts";
 * const coin = random.bernoulli(random.key(0), 0.3, [10]);
 * console.log(coin.dtype, coin.shape); // "bool" [10]
 * ```
 */
export function bernoulli(k: Tensor, p: TensorLike = 0.5, shape?: Shape): Tensor {
  checkKey("bernoulli", k);
  if (p instanceof Tensor) {
    if (p.dtype !== "float32" && p.dtype !== "float64") {
      throw new TesseraError("bernoulli", `p must have a float dtype, got ${p.dtype}`);
    }
  } else if (typeof p !== "number") {
    throw new TesseraError("bernoulli", "p must be a number or a float Tensor");
  }
  const pShape = p instanceof Tensor ? p.shape : [];
  const s = shape ?? pShape;
  checkShape("bernoulli", s);
  checkBroadcastsTo("bernoulli", "p", pShape, s);
  const dtype = p instanceof Tensor ? (p.dtype as FloatDType) : "float32";
  return scope(() => less(uniform(k, s, { dtype }), asTensor("bernoulli", "p", k, p, dtype)));
}

/**
 * The high 32 bits of the 64-bit product of uint32 `a` and the constant `c`, and its low 32
 * bits, from 16-bit limbs: every partial product is below 2^32, so no backend needs wide or
 * wrapping multiplication.
 */
function mulWide(a: Tensor, c: number): [Tensor, Tensor] {
  const c0 = c & 0xffff, c1 = c >>> 16;
  const a0 = bitwiseAnd(a, 0xffff), a1 = shiftRightLogical(a, 16);
  const p00 = mul(a0, c0), p01 = mul(a0, c1), p10 = mul(a1, c0), p11 = mul(a1, c1);
  const mid = add(
    add(shiftRightLogical(p00, 16), bitwiseAnd(p01, 0xffff)),
    bitwiseAnd(p10, 0xffff),
  );
  const hi = add(
    add(add(p11, shiftRightLogical(p01, 16)), shiftRightLogical(p10, 16)),
    shiftRightLogical(mid, 16),
  );
  const lo = bitwiseOr(bitwiseAnd(p00, 0xffff), shiftLeft(mid, 16));
  return [hi, lo];
}

/**
 * Uniform random integers in `[minval, maxval)` as int32.
 *
 * Method (not JAX's, whose values this does not reproduce): draw a 64-bit word
 * `X = hi·2^32 + lo` per value and return `minval + floor(X · span / 2^64)` with
 * `span = maxval - minval`, computed exactly with 16-bit-limb integer multiplication (no
 * floating point anywhere). This is exactly uniform when `span` is a power of two; otherwise
 * each value's probability is within a relative `span / 2^64 < 2^-32` of `1/span` (no
 * fixed-work method can be exactly uniform for other spans; JAX's two-draw modulo has the
 * same kind of bias, larger). If `maxval <= minval` every value is `minval`, as in JAX.
 *
 * @param k a key
 * @param shape output shape
 * @param minval inclusive lower bound (integer in int32 range)
 * @param maxval exclusive upper bound (integer, at most 2^31)
 * @returns int32 tensor of `shape`
 *
 * @example
 * ```ts
 * import { random } from "../mod.ts";
 * const dice = random.randint(random.key(0), [6], 1, 7);
 * console.log(dice.dtype, dice.shape); // "int32" [6]
 * ```
 */
export function randint(k: Tensor, shape: Shape, minval: number, maxval: number): Tensor {
  checkKey("randint", k);
  checkShape("randint", shape);
  if (!Number.isInteger(minval) || minval < -(2 ** 31) || minval > 2 ** 31 - 1) {
    throw new TesseraError("randint", `minval must be an int32 integer, got ${minval}`);
  }
  if (!Number.isInteger(maxval) || maxval < -(2 ** 31) || maxval > 2 ** 31) {
    throw new TesseraError("randint", `maxval must be an integer in [-2^31, 2^31], got ${maxval}`);
  }
  const span = maxval > minval ? maxval - minval : 1;
  return scope(() => {
    const b = bind("randomBits", [k], { shape: [2, ...shape] });
    const hi = reshape(slice(b, [0]), shape);
    let r: Tensor;
    if (span === 2 ** 32) {
      r = hi;
    } else {
      const lo = reshape(slice(b, [1]), shape);
      // floor((hi·span·2^32 + lo·span) / 2^64) = H + carry(L + mulhi(lo, span)),
      // where hi·span = H·2^32 + L.
      const [H, L] = mulWide(hi, span);
      const [c] = mulWide(lo, span);
      const s = add(L, c);
      r = add(H, cast(less(s, L), "uint32"));
    }
    return bitcast(add(r, minval >>> 0), "int32");
  });
}

/** JAX's `_shuffle`: repeated stable sorts by fresh random 32-bit keys along `axis`. */
function shuffleAlong(k: Tensor, x: Tensor, axis: number): Tensor {
  // Rounds so that all keys are distinct with high probability (tjablin's heuristic in JAX).
  const rounds = Math.ceil((3 * Math.log(Math.max(1, x.size))) / Math.log(0xffffffff));
  let cur = k;
  let y = x;
  for (let i = 0; i < rounds; i++) {
    const ks = split(cur);
    cur = reshape(slice(ks, [[0, 1]]), [2]);
    const sub = reshape(slice(ks, [[1, 2]]), [2]);
    const order = argsort(bind("randomBits", [sub], { shape: [...y.shape] }), axis);
    y = takeAlongAxis(y, order, axis);
  }
  return y;
}

/**
 * A random permutation, JAX's `random.permutation`: of `arange(x)` (int32) when `x` is a
 * number, else of `x` along `axis` (one shared order for all slices unless `independent`).
 * Elements are stably sorted by random 32-bit keys, repeated with fresh keys
 * (`ceil(3·ln(n) / ln(2^32 - 1))` rounds: 1 up to n ≈ 1600, 2 up to ≈ 2.6 million) so that
 * key collisions are negligible, exactly like JAX.
 *
 * @param k a key
 * @param x a length or a tensor of rank ≥ 1
 * @param opts `axis` (default 0), `independent` (default false)
 * @returns the permuted range or tensor
 *
 * @example
 * ```ts
 * import { random } from "../mod.ts";
 * const p = random.permutation(random.key(0), 5);
 * console.log((await p.toArray() as number[]).sort()); // [0, 1, 2, 3, 4]
 * ```
 */
export function permutation(
  k: Tensor,
  x: number | Tensor,
  opts: PermutationOptions = {},
): Tensor {
  checkKey("permutation", k);
  if (typeof x === "number") {
    if (!Number.isInteger(x) || x < 0 || x > 2 ** 31 - 1) {
      throw new TesseraError("permutation", `length must be a non-negative int32, got ${x}`);
    }
    if (opts.axis !== undefined && opts.axis !== 0 && opts.axis !== -1) {
      throw new TesseraError("permutation", `axis ${opts.axis} out of range for a length`);
    }
    return scope(() =>
      shuffleAlong(k, arange(0, x, 1, { dtype: "int32", backend: k.backend.name }), 0)
    );
  }
  if (!(x instanceof Tensor)) {
    throw new TesseraError("permutation", "x must be a number or a Tensor");
  }
  if (x.ndim === 0) throw new TesseraError("permutation", "x must have rank >= 1");
  const axis = normAxis("permutation", opts.axis ?? 0, x.ndim);
  return scope(() => {
    if (opts.independent || x.ndim === 1) return shuffleAlong(k, x, axis);
    const n = x.shape[axis]!;
    const idx = shuffleAlong(k, arange(0, n, 1, { dtype: "int32", backend: k.backend.name }), 0);
    return gather(x, idx, axis);
  });
}

/**
 * Shuffles the rows (axis 0) of `x`: `permutation(key, x)`. Unlike JAX's deprecated
 * `random.shuffle`, rows stay intact (one shared order), which is what shuffling a dataset
 * needs.
 *
 * @param k a key
 * @param x a tensor of rank ≥ 1
 * @returns `x` with its rows permuted
 *
 * @example
 * ```ts
 * import { random, tensor } from "../mod.ts";
 * const rows = random.shuffle(random.key(1), tensor([[1, 1], [2, 2], [3, 3]]));
 * console.log(rows.shape); // [3, 2]
 * ```
 */
export function shuffle(k: Tensor, x: Tensor): Tensor {
  return permutation(k, x, { axis: 0 });
}

/**
 * Samples category indices from unnormalised log-probabilities, JAX's `random.categorical`:
 * `argmax(logits + gumbel noise)` along `axis` (the Gumbel-max trick).
 *
 * @param k a key
 * @param logits float tensor of log-probabilities (up to a constant)
 * @param axis the category axis (default last)
 * @returns int32 indices with `axis` removed
 *
 * @example
 * ```ts
 * import { random, tensor } from "../mod.ts";
 * const logits = tensor([[0, 0, 5], [5, 0, 0]]);
 * console.log(await random.categorical(random.key(0), logits).toArray()); // likely [2, 0]
 * ```
 */
export function categorical(k: Tensor, logits: Tensor, axis = -1): Tensor {
  checkKey("categorical", k);
  if (!(logits instanceof Tensor)) throw new TesseraError("categorical", "logits must be a Tensor");
  if (logits.ndim === 0) throw new TesseraError("categorical", "logits must have rank >= 1");
  const dtype = checkFloatDType("categorical", logits.dtype);
  const a = normAxis("categorical", axis, logits.ndim);
  return scope(() => argmax(add(gumbel(k, logits.shape, { dtype }), logits), a));
}
