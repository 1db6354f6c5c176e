/**
 * The shared op suite: forward values of every public op, registered as Deno tests for one
 * backend. `tests/tensor/ops_test.ts` runs it on "cpu"; a device backend calls
 * `opSuite("webgpu", { rtol, atol })` with float32 tolerances. Only 32-bit dtypes (float32,
 * int32, uint32) and bool are used here; float64 is tested on cpu only, in ops_test.ts.
 *
 * Every test runs inside `scope` with the backend set as the default, and fails if it leaks
 * a tensor. The tests live by concern in _op_suite_values.ts (creation, elementwise, casts,
 * reductions) and _op_suite_structure.ts (layout, linalg, indexing, sorting, activations,
 * readback).
 * @module
 */
import assert from "node:assert/strict";
import * as T from "../../mod.ts";
import { expectT, type Tol } from "../_helpers.ts";
import type { Ctx } from "./_op_suite_ctx.ts";
import { registerStructureOps } from "./_op_suite_structure.ts";
import { registerValueOps } from "./_op_suite_values.ts";

/** Options of {@link opSuite}. */
export interface SuiteOptions extends Tol {
  /** Names (without the backend prefix) of tests this backend cannot run yet. */
  ignore?: readonly string[];
}

/** Registers the op suite for `backend`. */
export function opSuite(backend: string, opts: SuiteOptions = {}): void {
  const rtol = opts.rtol ?? 1e-6, atol = opts.atol ?? 1e-6;
  const ctx: Ctx = {
    backend,
    test(name, fn, o = {}) {
      Deno.test({
        name: `ops[${backend}]: ${name}`,
        ignore: o.ignore || (opts.ignore?.includes(name) ?? false),
        fn: async () => {
          const prev = T.getBackend().name;
          T.setBackend(backend);
          const before = T.memoryStats()[backend]?.tensors ?? 0;
          try {
            await T.scope(async () => {
              await fn();
            });
          } finally {
            T.setBackend(prev);
          }
          assert.equal(T.memoryStats()[backend]?.tensors ?? 0, before, "tensors leaked");
        },
      });
    },
    ex(t, expected, o = {}) {
      const k = o.loose ? 10 : 1;
      return expectT(t, expected, { rtol: rtol * k, atol: atol * k, ...o });
    },
  };
  registerValueOps(ctx);
  registerStructureOps(ctx);
}
