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
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * const k = random.key(0);
 * const [k1, k2] = random.splitKeys(k);
 * const x = random.normal(k1, [3]);
 * const u = random.uniform(k2, [2, 2], { minval: -1, maxval: 1 });
 * assert.deepEqual(x.shape, [3]);
 * assert.deepEqual(u.shape, [2, 2]);
 * ```
 * @module
 */
export type { FloatDType } from "./_random_util.ts";
export {
  bits,
  foldIn,
  key,
  type KeyTuple,
  split,
  splitKeys,
  threefry2x32Ops,
} from "./random_keys.ts";
export {
  type DTypeOptions,
  gumbel,
  normal,
  truncatedNormal,
  uniform,
  type UniformOptions,
} from "./random_continuous.ts";
export {
  bernoulli,
  categorical,
  permutation,
  type PermutationOptions,
  randint,
  shuffle,
} from "./random_discrete.ts";
