/**
 * tessera's autodiff: JAX-style `grad`, `valueAndGrad`, `vjp`, `jvp`, `customVjp`,
 * `checkpoint`, `jit`, pytree utilities and the numerical `checkGrad`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { grad } from "./mod.ts";
 * import { mul, sum, tensor, type Tensor } from "../tensor/mod.ts";
 * assert.deepEqual(await grad((x: Tensor) => sum(mul(x, x)))(tensor([3])).toArray(), [6]);
 * ```
 * @module
 */
export { type Argnums, grad, type GradOptions, jvp, valueAndGrad, vjp } from "./transforms.ts";
export { checkpoint, customVjp } from "./custom.ts";
export { jit, type JitOptions, type JitStats, jitStats, type Jitted } from "./jit.ts";
export { checkGrad, type CheckGradOptions } from "./check_grad.ts";
export {
  type Tree,
  treeFlatten,
  treeLeaves,
  treeMap,
  treeMapWithPath,
  treeUnflatten,
} from "./tree.ts";
export { stopGradient } from "../tensor/ops/elementwise.ts";

// Types referenced by the public signatures above, re-exported so the entry point documents them.
export type * from "../tensor/core_types.ts";
