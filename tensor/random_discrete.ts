/**
 * Discrete distributions of `tessera.random`: Bernoulli, integers, permutations and shuffles,
 * and categorical samples. Re-exported by `tensor/random.ts`.
 *
 * @module
 */
import { TesseraError } from "./errors.ts";
import { arange } from "./creation.ts";
import { bind } from "./dispatch.ts";
import { scope } from "./memory.ts";
import { checkShape, normAxis, type Shape } from "./shape.ts";
import { Tensor } from "./tensor.ts";
import type { TensorLike } from "./ops/_util.ts";
import { bitwiseAnd, bitwiseOr, shiftLeft, shiftRightLogical } from "./ops/bitwise.ts";
import { less } from "./ops/comparison.ts";
import { add, bitcast, cast, mul } from "./ops/elementwise.ts";
import { reshape } from "./ops/reshaping.ts";
import { slice } from "./ops/slicing.ts";
import { argmax } from "./ops/reduce.ts";
import { argsort } from "./ops/sort.ts";
import { gather, takeAlongAxis } from "./ops/indexing.ts";
import {
  asTensor,
  checkBroadcastsTo,
  checkFloatDType,
  checkKey,
  type FloatDType,
} from "./_random_util.ts";
import { split } from "./random_keys.ts";
import { gumbel, uniform } from "./random_continuous.ts";

/** Options of {@link permutation}. */
export interface PermutationOptions {
  /** Axis to permute (default 0). */
  axis?: number;
  /** Permute every 1-D slice along `axis` independently (default false: one shared order). */
  independent?: boolean;
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
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * const coin = random.bernoulli(random.key(0), 0.3, [10]);
 * assert.equal(coin.dtype, "bool");
 * assert.deepEqual(coin.shape, [10]);
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
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * const dice = random.randint(random.key(0), [6], 1, 7);
 * assert.equal(dice.dtype, "int32");
 * assert.ok((await dice.data()).every((v) => v >= 1 && v <= 6)); // maxval is exclusive
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
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * const p = random.permutation(random.key(0), 5);
 * assert.deepEqual((await p.toArray() as number[]).sort(), [0, 1, 2, 3, 4]);
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
 * import assert from "node:assert/strict";
 * import { random, tensor } from "../mod.ts";
 * const rows = random.shuffle(random.key(1), tensor([[1, 1], [2, 2], [3, 3]]));
 * const got = (await rows.toArray()) as number[][];
 * assert.deepEqual(got.map((r) => r[0]).sort(), [1, 2, 3]); // the same rows, reordered
 * assert.ok(got.every((r) => r[0] === r[1])); // rows move whole
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
 * import assert from "node:assert/strict";
 * import { random, tensor } from "../mod.ts";
 * const logits = tensor([[0, 0, 5], [5, 0, 0]]);
 * // the draw is a pure function of the key: the same key always picks the same categories
 * assert.deepEqual(await random.categorical(random.key(0), logits).toArray(), [2, 0]);
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
