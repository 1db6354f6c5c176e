/**
 * The primitive facts (PRIM_INFO) and the family primitives: every family primitive lists its
 * ops, the shape rules follow the stated dtype classes, and errors name the public op.
 */
import assert from "node:assert/strict";
import * as T from "../../mod.ts";
import { bind } from "../../tensor/dispatch.ts";
import {
  BINARY_OPS,
  FAMILY_PRIMS,
  OP_INFO,
  opName,
  PRIM_INFO,
  PRIMS,
  primsWhere,
  UNARY_OPS,
} from "../../tensor/primitives.ts";

Deno.test("PRIM_INFO: family primitives, and only they, list their ops", () => {
  assert.deepEqual(primsWhere((i) => i.ops !== undefined), [...FAMILY_PRIMS]);
  for (const p of FAMILY_PRIMS) assert.equal(PRIM_INFO[p].family, p);
  assert.equal(PRIMS.length, new Set(PRIMS).size);
});

Deno.test("PRIM_INFO: unary shape rules follow the stated dtype class", () => {
  const i32 = T.tensor([1], { dtype: "int32" }), b = T.tensor([true]);
  for (const op of UNARY_OPS) {
    const accepts = OP_INFO[op].accepts, u = (x: T.Tensor) => bind("unary", [x], { op });
    if (accepts === "float") assert.throws(() => u(i32), /needs a float input/, op);
    if (accepts === "bool") assert.throws(() => u(i32), /needs bool input/, op);
    else assert.throws(() => u(b), new RegExp(`^TesseraError: ${op}:`), op);
  }
});

Deno.test("OP_INFO: one row per op of unary and binary, which PRIM_INFO refers to", () => {
  assert.deepEqual(Object.keys(OP_INFO), [...UNARY_OPS, ...BINARY_OPS]);
  assert.deepEqual(Object.keys(PRIM_INFO.unary.opInfo!), [...UNARY_OPS]);
  assert.deepEqual(Object.keys(PRIM_INFO.binary.opInfo!), [...BINARY_OPS]);
  assert.ok(PRIMS.length <= 45, `${PRIMS.length} primitives`);
  assert.throws(
    () => bind("unary", [T.tensor([1])], { op: "cbrt" as "exp" }),
    /^TesseraError: unary: unknown op "cbrt"; one of neg, abs/,
  );
  assert.throws(
    () => bind("binary", [T.tensor([1]), T.tensor([true])], { op: "pow" }),
    /^TesseraError: pow: dtypes/,
  );
});

Deno.test("family primitives: errors name the public op; an unknown op is rejected", () => {
  const f = T.tensor([1, 2]), b = T.tensor([true, false]);
  assert.throws(() => bind("compare", [f, b], { op: "less" }), /^TesseraError: less: dtypes/);
  assert.throws(() => bind("logical", [f, f], { op: "logicalOr" }), /^TesseraError: logicalOr:/);
  assert.throws(() => bind("reduce", [b], { op: "max", axes: [0] }), /^TesseraError: max:/);
  assert.throws(() => bind("argReduce", [f], { op: "argmin", axis: 1 }), /^TesseraError: argmin:/);
  assert.throws(
    () => bind("reduce", [f], { op: "prod" as "sum", axes: [0] }),
    /^TesseraError: reduce: unknown op "prod"; one of sum, max, min/,
  );
  assert.equal(opName("bitwise", { op: "shiftLeft" }), "shiftLeft");
  assert.equal(opName("matmul", { transA: false, transB: false }), "matmul");
});
