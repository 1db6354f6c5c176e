/**
 * Stochastic regularisers with explicit PRNG keys: element-wise `dropout` and per-sample
 * `dropPath` (stochastic depth), both rescaling kept values by `1 / (1 − rate)` and both the
 * identity when `train` is false or the rate is 0; plus `dropPathRates`, the linearly
 * increasing per-block rates of BEiT/DINO/timm.
 * @module
 */
import {
  bitcast,
  bitwiseOr,
  div,
  less,
  random,
  reshape,
  scope,
  shiftRightLogical,
  sub,
  type Tensor,
  TesseraError,
  where,
} from "../tensor/mod.ts";
import { isRowKeys, rowBits } from "./row_keys.ts";

/**
 * Options of {@link dropout} and {@link dropPath}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { DropOptions } from "./dropout.ts";
 * import { random } from "../mod.ts";
 * const o: DropOptions = { rate: 0.1, train: true, key: random.key(0) };
 * assert.ok(Math.abs(o.rate - 0.1) < 1e-6);
 * ```
 */
export interface DropOptions {
  /** Probability of dropping, in [0, 1]. */
  rate: number;
  /** Active only in training mode (default false: the identity). */
  train?: boolean;
  /**
   * PRNG key; required when `train` is true and `rate > 0`. One key `[2]` draws the whole
   * batch; row keys `[B, 2]` (nn/row_keys.ts) draw row `i` of the mask from row `i` alone.
   */
  key?: Tensor;
}

/**
 * `keep`-probability Bernoulli draws of shape `shape` (`[B, …]`): `random.bernoulli(key, keep,
 * shape)` for one key; for row keys, row `i` is `random.bernoulli(key[i], keep, shape[1:])`.
 */
function keepMask(op: string, key: Tensor, keep: number, shape: readonly number[]): Tensor {
  if (!isRowKeys(key)) return random.bernoulli(key, keep, shape);
  if (key.shape[0] !== shape[0]) {
    throw new TesseraError(op, `${key.shape[0]} row keys for a batch of ${shape[0]}`);
  }
  const m = shape.slice(1).reduce((a, b) => a * b, 1);
  // random.uniform's float32 bit trick, then bernoulli's `u < p`.
  return scope(() => {
    const bits = shiftRightLogical(rowBits(key, m), 9);
    const u = sub(bitcast(bitwiseOr(bits, 0x3f800000), "float32"), 1);
    return reshape(less(u, Math.fround(keep)), [...shape]);
  });
}

function active(op: string, opts: DropOptions): Tensor | null {
  const { rate, train = false, key } = opts;
  if (typeof rate !== "number" || !(rate >= 0 && rate <= 1)) {
    throw new TesseraError(op, `rate must be in [0, 1], got ${String(rate)}`);
  }
  if (!train || rate === 0) return null;
  if (!key) throw new TesseraError(op, `a PRNG key is required in training mode (rate ${rate})`);
  return key;
}

/**
 * Element-wise dropout: each element is zeroed with probability `rate`, the rest are divided
 * by `1 − rate` (so the expectation is unchanged). Identity in eval mode.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dropout } from "./dropout.ts";
 * import { ones, random } from "../mod.ts";
 * const y = dropout(ones([8]), { rate: 0.5, train: true, key: random.key(0) });
 * assert.equal((await y.data()).every((v) => v === 0 || v === 2), true);
 * assert.deepEqual(dropout(ones([2]), { rate: 0.5 }).shape, [2]); // eval: identity
 * ```
 */
export function dropout(x: Tensor, opts: DropOptions): Tensor {
  const key = active("dropout", opts);
  if (!key) return x;
  const keep = 1 - opts.rate;
  if (x.ndim === 0 && isRowKeys(key)) {
    throw new TesseraError("dropout", "row keys need a batch axis");
  }
  const mask = keepMask("dropout", key, keep, x.shape);
  return where(mask, keep > 0 ? div(x, keep) : x, 0);
}

/**
 * Drop path (stochastic depth) for a residual branch `x` of shape `[B, ...]`: each *sample*
 * is zeroed with probability `rate` and kept samples are divided by `1 − rate`, as timm's
 * `drop_path` (`x / keep · bernoulli(keep)`). Identity in eval mode.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dropPath } from "./dropout.ts";
 * import { ones, random } from "../mod.ts";
 * const y = dropPath(ones([4, 3]), { rate: 0.5, train: true, key: random.key(1) });
 * const rows = (await y.toArray()) as number[][];
 * assert.equal(rows.every((r) => r.every((v) => v === r[0]) && (r[0] === 0 || r[0] === 2)), true);
 * ```
 */
export function dropPath(x: Tensor, opts: DropOptions): Tensor {
  const key = active("dropPath", opts);
  if (!key) return x;
  if (x.ndim === 0) throw new TesseraError("dropPath", "needs a batch axis");
  const keep = 1 - opts.rate;
  const mask = reshape(
    keepMask("dropPath", key, keep, [x.shape[0]!]),
    [x.shape[0]!, ...x.shape.slice(1).map(() => 1)],
  );
  return where(mask, keep > 0 ? div(x, keep) : x, 0);
}

/**
 * Per-block stochastic-depth rates `linspace(0, rate, depth)` (BEiT/DINO/timm), or the same
 * `rate` in every block with `constant` (XCiT's detection backbone).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dropPathRates } from "./dropout.ts";
 * assert.deepEqual(dropPathRates(0.1, 3), [0, 0.05, 0.1]);
 * assert.deepEqual(dropPathRates(0.05, 2, { constant: true }), [0.05, 0.05]);
 * ```
 */
export function dropPathRates(
  rate: number,
  depth: number,
  opts: { constant?: boolean } = {},
): number[] {
  if (!(rate >= 0 && rate <= 1) || !Number.isInteger(depth) || depth < 0) {
    throw new TesseraError(
      "dropPathRates",
      `needs rate in [0, 1] and depth >= 0, got ${rate}, ${depth}`,
    );
  }
  if (opts.constant) return Array.from({ length: depth }, () => rate);
  if (depth === 1) return [0];
  return Array.from(
    { length: depth },
    (_, i) => (i === depth - 1 ? rate : (rate * i) / (depth - 1)),
  );
}
