/**
 * A fused elementwise program: a chain (a DAG) of `unary`/`binary` primitive applications of
 * one output shape and float dtype, run as one kernel by a backend that implements
 * {@link Backend.fusedElementwise}. `jit` builds these from a traced graph
 * (autodiff/jit_fuse.ts); a backend that lacks the hook runs the equations one by one.
 * @module
 */
import type { BinaryOp, UnaryOp } from "./primitives.ts";

/**
 * How an operand is read at output element `i`: element `floor(i / div) % mod`. A full operand
 * has `div` 1 and `mod` = the output size, a scalar `mod` 1, a bias `[D]` on `[B, N, D]` `div` 1
 * and `mod` D, a row statistic `[B, N, 1]` on `[B, N, D]` `div` D and `mod` B·N.
 */
export interface ElementwiseRead {
  readonly div: number;
  readonly mod: number;
}

/** A node's argument: `{ node: k }` (an earlier node's value) or `{ input: j }` (operand j). */
export type ElementwiseRef = { readonly node: number } | { readonly input: number };

/** One primitive application of the program. */
export type ElementwiseNode =
  | { readonly prim: "unary"; readonly op: UnaryOp; readonly args: readonly [ElementwiseRef] }
  | {
    readonly prim: "binary";
    readonly op: BinaryOp;
    readonly args: readonly [ElementwiseRef, ElementwiseRef];
  };

/**
 * The program: operands read as `inputs` says, `nodes` in order, the values of `outputs`
 * (node indices) written out, each of `size` elements of `dtype`. A backend computes every
 * node exactly as its eager kernel does (float32: rounded after every node), so a fused replay
 * is bit-identical to the eager one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ElementwiseProgram } from "./elementwise_program.ts";
 * import { cpuBackend } from "./cpu/mod.ts";
 * // (x + b) * x with a scalar b, one kernel.
 * const p: ElementwiseProgram = {
 *   dtype: "float64",
 *   size: 3,
 *   inputs: [{ div: 1, mod: 3 }, { div: 1, mod: 1 }],
 *   nodes: [
 *     { prim: "binary", op: "add", args: [{ input: 0 }, { input: 1 }] },
 *     { prim: "binary", op: "mul", args: [{ node: 0 }, { input: 0 }] },
 *   ],
 *   outputs: [1],
 * };
 * const x = cpuBackend.upload(new Float64Array([1, 2, 3]), "float64");
 * const b = cpuBackend.upload(new Float64Array([1]), "float64");
 * const [out] = cpuBackend.fusedElementwise!(p, [x, b]);
 * assert.deepEqual([...cpuBackend.readSync!(out!, "float64", 3)], [2, 6, 12]);
 * ```
 */
export interface ElementwiseProgram {
  readonly dtype: "float32" | "float64";
  readonly size: number;
  readonly inputs: readonly ElementwiseRead[];
  readonly nodes: readonly ElementwiseNode[];
  readonly outputs: readonly number[];
}
