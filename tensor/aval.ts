/**
 * The abstract value of a tensor (shape and dtype, no data) and the type of a shape rule: the
 * leaf types that shape rules, backends and kernels share.
 * @module
 */
import type { DType } from "./dtype.ts";
import type { Prim, PrimParams } from "./primitives.ts";
import type { Shape } from "./shape.ts";

/** Shape and dtype of a tensor, without its data. */
export interface Aval {
  /** Dimension sizes. */
  readonly shape: Shape;
  /** Element type. */
  readonly dtype: DType;
}

/** A shape rule validates its inputs and returns the output's aval. */
export type ShapeRule<P extends Prim> = (inputs: readonly Aval[], params: PrimParams[P]) => Aval;
