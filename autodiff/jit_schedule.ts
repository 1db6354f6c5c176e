/**
 * The unit a compiled program runs: one equation or a fused group of them, shared by fusion
 * (jit_fuse.ts, jit_fuse_program.ts), memory planning (jit_plan.ts) and replay (jit.ts).
 * @module
 */
import type { Aval } from "../tensor/aval.ts";
import type { ElementwiseProgram } from "../tensor/elementwise_program.ts";
import type { Equation } from "./jit_trace.ts";

/**
 * Storage-sharing primitives: evalEager builds a view, no kernel runs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VIEWS } from "./jit_schedule.ts";
 * assert.ok(VIEWS.has("reshape") && !VIEWS.has("add"));
 * ```
 */
export const VIEWS: ReadonlySet<string> = new Set(["reshape", "stopGradient"]);

/** An operand read through a strided view: its logical shape, base and element strides. */
export interface View {
  readonly shape: readonly number[];
  readonly base: number;
  readonly strides: readonly number[];
}

/**
 * One step of a compiled program: a single equation, or a fused group of them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Step } from "./jit_schedule.ts";
 * const kinds: Step["kind"][] = ["eqn", "fused", "matmulFused", "matmulView", "fusedGroup"];
 * assert.equal(kinds.length, 5);
 * ```
 */
export type Step =
  | {
    readonly kind: "eqn";
    readonly eqn: Equation;
    readonly inputs: readonly number[];
    readonly outs: readonly number[];
  }
  | {
    readonly kind: "fused";
    readonly program: ElementwiseProgram;
    /** Operand slots, one per program input. */
    readonly inputs: readonly number[];
    /** Output slots, one per program output. */
    readonly outs: readonly number[];
    /** The aval of each output. */
    readonly outAvals: readonly Aval[];
    /** Equations it replaces. */
    readonly members: number;
  }
  | {
    /** A matmul whose result feeds a pure elementwise program in the matmul's stores. */
    readonly kind: "matmulFused";
    /** The matmul equation (its operands are `inputs[0]` and `inputs[1]`). */
    readonly eqn: Equation;
    readonly program: ElementwiseProgram;
    /** The program input that is the matmul's result. */
    readonly fromMatmul: number;
    /** Whether the product is stored too (then it is the first of `outs`). */
    readonly storeProduct: boolean;
    /** The matmul's two operands, then the program's other inputs in order. */
    readonly inputs: readonly number[];
    /** Output slots, one per program output. */
    readonly outs: readonly number[];
    /** The aval of each output. */
    readonly outAvals: readonly Aval[];
    /** Equations it replaces (the matmul, views of its result, the program's). */
    readonly members: number;
  }
  | {
    /**
     * A matmul reading its operands through strided views of other slots' storages and/or
     * writing its product in a permute's layout (`Backend.matmulView`; autodiff/jit_views.ts).
     */
    readonly kind: "matmulView";
    /** The matmul equation (its params; `aval` is the product's). */
    readonly eqn: Equation;
    /** The slots whose storages the operands' views read. */
    readonly inputs: readonly number[];
    /** The slot written (the product's, or the permute's it replaced). */
    readonly outs: readonly number[];
    readonly outAvals: readonly Aval[];
    /** Each operand's logical shape and view, and the result's view. */
    readonly views: {
      readonly a?: View;
      readonly b?: View;
      readonly c?: { readonly base: number; readonly strides: readonly number[] };
    };
    readonly members: number;
  }
  | {
    /** Independent fused programs run as one kernel (`Backend.fusedElementwiseGroup`). */
    readonly kind: "fusedGroup";
    readonly programs: readonly ElementwiseProgram[];
    /** Operand slots of each program. */
    readonly inputsOf: readonly (readonly number[])[];
    /** Output slots of each program. */
    readonly outsOf: readonly (readonly number[])[];
    /** Every program's operand slots, in order (what the planner reads). */
    readonly inputs: readonly number[];
    /** Every program's output slots, in order. */
    readonly outs: readonly number[];
    /** The aval of each slot of `outs`. */
    readonly outAvals: readonly Aval[];
    /** Equations it replaces. */
    readonly members: number;
  };
