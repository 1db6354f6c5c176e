/**
 * Reference values of JAX's threefry PRNG (pre-0.5 key layout), checked both at the host bit
 * level (threefry_test.ts) and through the public `random` API (random_test.ts).
 * @module
 */

/** `split(PRNGKey(0))`, flattened: JAX's "Common gotchas" notebook. */
export const SPLIT_KEY0 = [4146024105, 967050713, 2718843009, 1272950319];

/** `split(split(PRNGKey(0))[0])`, flattened: the same notebook. */
export const SPLIT_SPLIT_KEY0 = [2384771982, 3928867769, 1278412471, 2182328957];

/** `split(PRNGKey(0), 4)`, flattened: JAX tests/random_test.py::testPRNGValues. */
export const SPLIT4_KEY0 = [
  2285895361,
  1501764800,
  1518642379,
  4090693311,
  433833334,
  4221794875,
  839183663,
  3740430601,
];

/** `fold_in(PRNGKey(0), 4)`: JAX tests/random_test.py::testPRNGValues. */
export const FOLD_IN4_KEY0 = [2285895361, 433833334];
