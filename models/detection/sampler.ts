/**
 * Balanced foreground/background sampling of labelled predictions (torchvision
 * `BalancedPositiveNegativeSampler`; RPN 256 at ½, RoI heads 512 at ¼) with an explicit PRNG
 * key instead of torch's global generator.
 * @module
 */
import { random, type Tensor, tensor, TesseraError } from "../../tensor/mod.ts";

/**
 * Options of {@link sampleFgBg}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SamplerOptions } from "./sampler.ts";
 * const roi: SamplerOptions = { batchSize: 512, positiveFraction: 0.25 };
 * assert.equal(roi.batchSize! * roi.positiveFraction!, 128);
 * ```
 */
export interface SamplerOptions {
  /** Samples per image (default 256, RPN). */
  batchSize?: number;
  /** Largest foreground share (default 0.5, RPN). */
  positiveFraction?: number;
}

/**
 * Result of {@link sampleFgBg}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Sampled } from "./sampler.ts";
 * const total = (s: Sampled) => s.pos.shape[0]! + s.neg.shape[0]!;
 * assert.equal(typeof total, "function");
 * ```
 */
export interface Sampled {
  /** int32 `[P]`: sampled foreground indices, ascending. */
  pos: Tensor;
  /** int32 `[Q]`: sampled background indices, ascending. */
  neg: Tensor;
}

/**
 * Samples from `labels` `[T]` (≥ 1 foreground, 0 background, else ignored):
 * `min(⌊batchSize·positiveFraction⌋, #fg)` foreground and `min(batchSize − that, #bg)`
 * background, uniformly without replacement under `key`. Async: the labels are read back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sampleFgBg } from "./sampler.ts";
 * import { random, tensor } from "../../mod.ts";
 * const labels = tensor([1, 0, -1, 1, 1, 0, 0, 0, 0, 0]);
 * const { pos, neg } = await sampleFgBg(random.key(0), labels, { batchSize: 4, positiveFraction: 0.5 });
 * assert.equal(pos.shape[0], 2);
 * assert.equal(neg.shape[0], 2);
 * assert.ok((await pos.toArray() as number[]).every((i) => [0, 3, 4].includes(i)));
 * ```
 */
export async function sampleFgBg(
  key: Tensor,
  labels: Tensor,
  opts: SamplerOptions = {},
): Promise<Sampled> {
  opts ??= {};
  const op = "sampleFgBg";
  const bs = opts.batchSize ?? 256, frac = opts.positiveFraction ?? 0.5;
  if (!Number.isInteger(bs) || bs < 0 || !(frac >= 0 && frac <= 1)) {
    throw new TesseraError(
      op,
      `batchSize must be an integer >= 0 and positiveFraction in [0, 1], got ${bs}, ${frac}`,
    );
  }
  if (labels.ndim !== 1) throw new TesseraError(op, `labels must be [T], got [${labels.shape}]`);
  const l = await labels.data();
  const fg: number[] = [], bg: number[] = [];
  l.forEach((v, i) => {
    if (v >= 1) fg.push(i);
    else if (v === 0) bg.push(i);
  });
  const nPos = Math.min(Math.floor(bs * frac), fg.length);
  const nNeg = Math.min(bs - nPos, bg.length);
  const [kp, kn] = random.splitKeys(key, 2);
  const pick = async (k: Tensor, from: number[], n: number) => {
    const out = new Int32Array(n);
    if (n > 0) {
      const perm = random.permutation(k, from.length);
      const p = await perm.data();
      perm.dispose();
      for (let i = 0; i < n; i++) out[i] = from[p[i]!]!;
      out.sort();
    }
    k.dispose();
    return tensor(out, { shape: [n], backend: labels.backend.name });
  };
  return { pos: await pick(kp!, fg, nPos), neg: await pick(kn!, bg, nNeg) };
}
