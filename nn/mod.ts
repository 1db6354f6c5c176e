/**
 * tessera's neural-network layer: parameters are plain pytrees named like timm
 * (`blocks.3.attn.qkv.weight`), each layer is a pair `initX(key, config) → params` and a pure
 * `x(params, input, opts)`, with `xSpec(config)` giving the shapes without allocating.
 * Also: losses, optimizers (pure `init`/`update`, composed with `chain`), schedules, safetensors
 * checkpoints, and `trainStep`, a training step that frees the state it replaces.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adamw, crossEntropy, initLinear, linear } from "./mod.ts";
 * import { random, tensor, valueAndGrad, type Tensor } from "../mod.ts";
 * const params = initLinear(random.key(0), { inFeatures: 4, outFeatures: 3 });
 * const x = random.normal(random.key(1), [8, 4]);
 * const y = tensor([0, 1, 2, 0, 1, 2, 0, 1], { dtype: "int32" });
 * const loss = (p: typeof params) => crossEntropy(linear(p, x), y);
 * const opt = adamw({ lr: 1e-2 });
 * const [l, g] = valueAndGrad(loss)(params);
 * const next = opt.update(g, opt.init(params), params);
 * assert.equal((await l.item()) > 0, true);
 * assert.deepEqual(next.params.weight.shape, [3, 4]);
 * ```
 * @module
 */
export * from "./init.ts";
export * from "./linear.ts";
export * from "./norm.ts";
export * from "./batch_norm.ts";
export * from "./conv.ts";
export * from "./dropout.ts";
export * from "./mlp.ts";
export * from "./attention.ts";
export * from "./patch_embed.ts";
export * from "./conv_stem.ts";
export * from "./pos_embed.ts";
export * from "./block.ts";
export * from "./losses.ts";
export * from "./checkpoint.ts";
export * from "./optim/mod.ts";
export * from "./train_state.ts";
export * from "./logistic_regression.ts";

// Types referenced by the public signatures above, re-exported so the entry point documents them.
export type * from "../tensor/core_types.ts";
