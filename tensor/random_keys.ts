/**
 * PRNG keys of `tessera.random`: making a key from a seed, raw bits, and deriving fresh keys
 * with `split` and `foldIn` (bit-for-bit `jax.random`). Re-exported by `tensor/random.ts`.
 *
 * @module
 */
import { TesseraError } from "./errors.ts";
import { tensor } from "./creation.ts";
import { bind } from "./dispatch.ts";
import { scope } from "./memory.ts";
import { checkShape, type Shape } from "./shape.ts";
import { Tensor } from "./tensor.ts";
import { THREEFRY_PARITY } from "./threefry.ts";
import { bitwiseOr, bitwiseXor, shiftLeft, shiftRightLogical } from "./ops/bitwise.ts";
import { add } from "./ops/elementwise.ts";
import { split as splitAxis, stack } from "./ops/joining.ts";
import { reshape } from "./ops/reshaping.ts";
import { slice } from "./ops/slicing.ts";
import { checkKey, constant } from "./_random_util.ts";

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
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * assert.deepEqual(await random.key(42).toArray(), [0, 42]);
 * assert.deepEqual(await random.key(2 ** 40 + 7).toArray(), [256, 7]);
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
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * assert.deepEqual(
 *   await random.bits(random.key(1701), [3]).toArray(),
 *   [56197195, 4200222568, 961309823],
 * );
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
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * assert.deepEqual(
 *   await random.split(random.key(0)).toArray(),
 *   [[4146024105, 967050713], [2718843009, 1272950319]],
 * );
 * ```
 */
export function split(k: Tensor, n = 2): Tensor {
  checkKey("split", k);
  if (!Number.isInteger(n) || n < 0) {
    throw new TesseraError("split", `n must be a non-negative integer, got ${n}`);
  }
  checkShape("split", [n, 2], "uint32");
  return bind("randomBits", [k], { shape: [n, 2] });
}

/**
 * `n` tensors as a tuple when `n` is a literal (`splitKeys(k, 3)` destructures into three keys
 * with no `undefined`), an array otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { KeyTuple } from "./random_keys.ts";
 * import { type Tensor, zeros } from "../mod.ts";
 * const pair: KeyTuple<2> = [zeros([2]), zeros([2])];
 * const many: KeyTuple<number> = [] as Tensor[];
 * assert.equal(pair.length + many.length, 2);
 * ```
 */
export type KeyTuple<N extends number, R extends Tensor[] = []> = number extends N ? Tensor[]
  : R["length"] extends N ? R
  : KeyTuple<N, [...R, Tensor]>;

/**
 * {@link split} as an array of `n` separate `[2]` keys.
 *
 * @param k a key
 * @param n number of new keys (default 2)
 * @returns `n` keys
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * const [k1, k2, k3] = random.splitKeys(random.key(0), 3);
 * assert.deepEqual(k1.shape, [2]); // each is a key like random.key's
 * assert.notDeepEqual(await k2.toArray(), await k3.toArray()); // independent streams
 * ```
 */
export function splitKeys<N extends number = 2>(k: Tensor, n?: N): KeyTuple<N>;
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
 * import assert from "node:assert/strict";
 * import { tensor } from "../mod.ts";
 * import { threefry2x32Ops } from "./random.ts";
 * const u = (v: number) => tensor(Uint32Array.of(v));
 * const [y0, y1] = threefry2x32Ops(u(0), u(0), u(0), u(0));
 * assert.equal(await y0.item(), 1797259609);
 * assert.equal(await y1.item(), 2579123966);
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
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * assert.deepEqual(await random.foldIn(random.key(0), 4).toArray(), [2285895361, 433833334]);
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
