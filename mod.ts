/**
 * tessera — a pure-functional tensor library for Deno with JAX-style autodiff, a CPU
 * reference backend and a WebGPU backend. This module is the public API.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { grad, sum, tanh, tensor, type Tensor } from "./mod.ts";
 * const f = (x: Tensor) => sum(tanh(x));
 * const [g0, g1] = await grad(f)(tensor([0, 1])).toArray() as number[];
 * assert.equal(g0, 1); // d tanh(x)/dx = 1 − tanh²(x)
 * assert.ok(Math.abs(g1! - (1 - Math.tanh(1) ** 2)) < 1e-6);
 * ```
 * @module
 */
export * from "./tensor/mod.ts";
export * from "./autodiff/mod.ts";
