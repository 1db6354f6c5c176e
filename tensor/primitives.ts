/**
 * The primitive set: the only operations a backend implements and the only ones that carry
 * derivative rules. Everything else in tessera is a composite of these.
 *
 * Families of ops that share arity, kernel shape and rule shape (unary math, binary
 * arithmetic, comparisons, logical and bitwise ops, value and index reductions) are ONE
 * primitive each with an `op` parameter (`bind("binary", [a, b], { op: "add" })`), as in
 * jax-js; errors still name the public op ({@link opName}). Each primitive's facts (family,
 * dtypes, linearity, how it is differentiated) are one {@link PRIM_INFO} record, and the facts
 * that differ between the ops of `unary` and `binary` one {@link OP_INFO} row per op; shape
 * rules and the trivial autodiff rules are derived from them.
 *
 * Adding an elementwise op means: its name in {@link UNARY_OPS} or {@link BINARY_OPS} with its
 * {@link OP_INFO} row, its JS expression in tensor/cpu/op_exprs.ts, a WGSL expression in
 * tensor/webgpu/elementwise.ts (none for a float op that is a call of its `tm_` math
 * function), its derivative in autodiff/derivatives.ts, the public op, and a gradient-table
 * row. Adding another primitive means: a name in {@link PRIMS} with its {@link PRIM_INFO} record
 * (and params in {@link PrimParams}), a kernel per backend and its rules. The tables are mapped
 * types, so `deno check` fails until every one exists. The names live in tensor/prim_ops.ts, the
 * facts in tensor/prim_info.ts, the params in tensor/prim_params.ts; this module re-exports all.
 * @module
 */
export * from "./prim_ops.ts";
export * from "./prim_info.ts";
export * from "./prim_params.ts";
