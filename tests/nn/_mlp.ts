/**
 * The small two-layer MLP (6 → 8 → 3, PRNG key 3) that the training-step and jit tests train.
 * @module
 */
import { random, scope } from "../../mod.ts";
import { initLinear, type LinearParams } from "../../nn/mod.ts";

/** Parameters of the test MLP. */
export type MlpParams = { fc1: LinearParams; fc2: LinearParams };

/** Fresh parameters of the test MLP (the same bits on every call). */
export function initMlp(): MlpParams {
  return scope(() => {
    const [k1, k2] = random.splitKeys(random.key(3), 2);
    return {
      fc1: initLinear(k1, { inFeatures: 6, outFeatures: 8 }),
      fc2: initLinear(k2, { inFeatures: 8, outFeatures: 3 }),
    };
  });
}
