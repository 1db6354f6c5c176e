/**
 * The gradient table (JAX's `LAX_GRAD_OPS`): one row per differentiable primitive and per
 * composite. A row's `setup` arbitrary draws the static part of a case (shapes, axes, flags,
 * fixed integer/bool operands) and the function to check; `domains` say where each
 * differentiated input's values are drawn. grad_table_test.ts runs every row through
 * `checkGrad` in float64.
 * @module
 */
export type { Row } from "./_grad_gen.ts";
export { caseArb } from "./_grad_gen.ts";
export { PRIMITIVE_ROWS } from "./_grad_rows_primitives.ts";
export { COMPOSITE_ROWS } from "./_grad_rows_composites.ts";
