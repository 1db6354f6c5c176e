/**
 * tessera — a pure-functional tensor library for Deno with JAX-style autodiff, a CPU
 * reference backend and (soon) WebGPU. This module is the public API.
 *
 * @example
 * ```ts
 * import { grad, sum, tanh, tensor, type Tensor } from "./mod.ts";
 * const f = (x: Tensor) => sum(tanh(x));
 * console.log(await grad(f)(tensor([0, 1])).toArray()); // [1, 0.41997433]
 * ```
 * @module
 */
export * from "./tensor/mod.ts";
export * from "./autodiff/mod.ts";
