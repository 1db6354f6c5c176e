/**
 * Threefry-2x32 (host implementation). PLACEHOLDER — being written by the PRNG work.
 * @module
 */

/** JAX-layout random bits for `n` elements from a [2] uint32 key. */
export function randomBitsHost(_key: Uint32Array, _n: number): Uint32Array {
  throw new Error("randomBitsHost: not implemented yet");
}
