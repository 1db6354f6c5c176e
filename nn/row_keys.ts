/**
 * Per-example PRNG keys: a uint32 tensor `[B, 2]` whose row `i` is the key of example `i` of a
 * batch (the "row keys"), made by {@link rowKeys} as `foldIn(stepKey, first + i)` where
 * `first + i` is the example's index in the global batch. The stochastic layers (`dropout`,
 * `dropPath`) draw row `i` of their mask from row `i` of the key alone, and the models derive
 * their per-block keys with {@link splitKey} / {@link foldKey}, which split every row as
 * `random.splitKeys` / `random.foldIn` split one key. So an example's masks do not depend on
 * which batch, rank or micro-batch it sits in (data-parallel training, trainer/dist.ts).
 *
 * A plain `[2]` key keeps its old meaning everywhere (one draw for the whole batch): every
 * helper here passes it to `random` unchanged. Everything is built from the uint32 Threefry
 * ops (`random.threefry2x32Ops`, broadcast over the rows: one hash per call, not one per row),
 * so it traces under `jit` and gives the same bits on every backend.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * import { rowKeys } from "./row_keys.ts";
 * const k = random.key(7);
 * const rows = (await rowKeys(k, 4, 3).toArray()) as number[][];
 * assert.deepEqual(rows[1], await random.foldIn(k, 5).toArray());
 * ```
 * @module
 */
import {
  concat,
  random,
  reshape,
  scope,
  slice,
  stack,
  type Tensor,
  tensor,
  TesseraError,
} from "../tensor/mod.ts";

/**
 * Whether `key` is a batch of row keys (`[B, 2]` uint32) rather than one key (`[2]`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * import { isRowKeys, rowKeys } from "./row_keys.ts";
 * assert.equal(isRowKeys(random.key(0)), false);
 * assert.equal(isRowKeys(rowKeys(random.key(0), 0, 2)), true);
 * ```
 */
export function isRowKeys(key: Tensor): boolean {
  return key.dtype === "uint32" && key.ndim === 2 && key.shape[1] === 2;
}

function words(n: number, f: (i: number) => number, like: Tensor): Tensor {
  return tensor(Uint32Array.from({ length: n }, (_, i) => f(i) >>> 0), {
    shape: [1, n],
    backend: like.backend.name,
  });
}

/** Threefry of every row key (`[B, 2]`) with the counter pairs `(x0[j], x1[j])`: `[B, n]` twice. */
function hashRows(keys: Tensor, x0: Tensor, x1: Tensor): [Tensor, Tensor] {
  const k0 = slice(keys, [null, [0, 1]]), k1 = slice(keys, [null, [1, 2]]);
  return random.threefry2x32Ops(k0, k1, x0, x1);
}

/**
 * The row keys of `n` examples whose global indices are `first … first + n − 1`: row `i` is
 * `random.foldIn(key, first + i)`, computed for all rows in one batched hash.
 *
 * @param key one key `[2]`
 * @param first global index of the first row (integer in `[0, 2^32 − n]`)
 * @param n number of rows
 * @returns uint32 `[n, 2]`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * import { rowKeys } from "./row_keys.ts";
 * const k = random.key(1);
 * const all = (await rowKeys(k, 0, 4).toArray()) as number[][];
 * const tail = await rowKeys(k, 2, 2).toArray();
 * assert.deepEqual(all.slice(2), tail); // an example's key depends on its index only
 * ```
 */
export function rowKeys(key: Tensor, first: number, n: number): Tensor {
  if (key.dtype !== "uint32" || key.ndim !== 1 || key.shape[0] !== 2) {
    throw new TesseraError("rowKeys", `key must be uint32 [2], got ${key.dtype} [${key.shape}]`);
  }
  if (
    !Number.isInteger(first) || !Number.isInteger(n) || first < 0 || n < 0 || first + n > 2 ** 32
  ) {
    throw new TesseraError("rowKeys", `rows [${first}, ${first + n}) are not in [0, 2^32)`);
  }
  return scope(() => {
    const x0 = reshape(words(n, () => 0, key), [n]);
    const x1 = reshape(words(n, (i) => first + i, key), [n]);
    const [y0, y1] = random.threefry2x32Ops(slice(key, [0]), slice(key, [1]), x0, x1);
    return stack([y0, y1], 1);
  });
}

/**
 * `n` keys from `key`: `random.splitKeys(key, n)` for one key; for row keys `[B, 2]`, `n` row
 * keys whose row `i` is `random.splitKeys(key[i], n)` (one batched hash).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * import { rowKeys, splitKey } from "./row_keys.ts";
 * const rk = rowKeys(random.key(0), 0, 2);
 * const b = splitKey(rk, 3)[1]!;
 * const b1 = random.splitKeys(random.foldIn(random.key(0), 1), 3)[1]!;
 * assert.deepEqual(((await b.toArray()) as number[][])[1], await b1.toArray());
 * ```
 */
export function splitKey(key: Tensor, n: number): Tensor[] {
  if (!isRowKeys(key)) return random.splitKeys(key, n);
  if (!Number.isInteger(n) || n < 1) {
    throw new TesseraError("splitKey", `n must be a positive integer, got ${n}`);
  }
  // random.split(k, n) is bits(k, [n, 2]): word c < n hashes the counters (c, c + n).
  return scope(() => {
    const [y0, y1] = hashRows(key, words(n, (c) => c, key), words(n, (c) => c + n, key));
    const w = concat([y0, y1], 1);
    return Array.from({ length: n }, (_, j) => slice(w, [null, [2 * j, 2 * j + 2]]));
  });
}

/**
 * `random.foldIn(key, data)` for one key; for row keys, row `i` is `random.foldIn(key[i], data)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * import { foldKey, rowKeys } from "./row_keys.ts";
 * const rk = rowKeys(random.key(0), 0, 2);
 * const want = await random.foldIn(random.foldIn(random.key(0), 0), 5).toArray();
 * assert.deepEqual(((await foldKey(rk, 5).toArray()) as number[][])[0], want);
 * ```
 */
export function foldKey(key: Tensor, data: number): Tensor {
  if (!isRowKeys(key)) return random.foldIn(key, data);
  if (!Number.isInteger(data) || data < 0 || data >= 2 ** 32) {
    throw new TesseraError("foldKey", `data must be an integer in [0, 2^32), got ${data}`);
  }
  return scope(() => {
    const [y0, y1] = hashRows(key, words(1, () => 0, key), words(1, () => data, key));
    return concat([y0, y1], 1);
  });
}

/**
 * The key of a batch made of `n` copies of the examples of `key`, concatenated along axis 0
 * (a shared encoder run over two subsets, DINO's crops of one size): one key stays one key
 * (the old behaviour); row keys `[B, 2]` become `[n·B, 2]`, copy `j` of example `i` taking
 * `foldKey(key, j)[i]`, so the copies draw apart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * import { repeatKey, rowKeys } from "./row_keys.ts";
 * assert.deepEqual(repeatKey(rowKeys(random.key(0), 0, 3), 2).shape, [6, 2]);
 * ```
 */
export function repeatKey(key: Tensor, n: number): Tensor {
  if (!isRowKeys(key)) return key;
  return scope(() => concat(Array.from({ length: n }, (_, j) => foldKey(key, j)), 0));
}

/**
 * `m` random words per row: row `i` is `random.bits(key[i], [m])` (JAX's layout: word `c`
 * of the first half hashes `(c, c + h)`, `h = ⌈m/2⌉`, the padding counter of an odd `m` is 0).
 *
 * @param keys row keys `[B, 2]`
 * @param m words per row
 * @returns uint32 `[B, m]`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { random } from "../mod.ts";
 * import { rowBits, rowKeys } from "./row_keys.ts";
 * const rk = rowKeys(random.key(3), 0, 2);
 * const want = await random.bits(random.foldIn(random.key(3), 1), [5]).toArray();
 * assert.deepEqual(((await rowBits(rk, 5).toArray()) as number[][])[1], want);
 * ```
 */
export function rowBits(keys: Tensor, m: number): Tensor {
  if (!isRowKeys(keys)) {
    throw new TesseraError(
      "rowBits",
      `keys must be uint32 [B, 2], got ${keys.dtype} [${keys.shape}]`,
    );
  }
  const h = Math.ceil(m / 2);
  return scope(() => {
    const x1 = words(h, (c) => (c + h < m ? c + h : 0), keys);
    const [y0, y1] = hashRows(keys, words(h, (c) => c, keys), x1);
    return slice(concat([y0, y1], 1), [null, [0, m]]);
  });
}
