/**
 * Fused kernels (Backend.fused, `fusedOr` in tensor/dispatch.ts): the CPU backend's fused
 * gelu is bit-identical to its composite in float32 and float64; a backend without the entry,
 * and every autodiff trace, run the composite (so gradients are the composite's).
 */
import assert from "node:assert/strict";
import * as T from "../../mod.ts";
import { type Backend, registerBackend } from "../../tensor/backend.ts";
import { cpuBackend } from "../../tensor/cpu/mod.ts";
import { cpuFused } from "../../tensor/cpu/fused.ts";
import { rng } from "../_helpers.ts";

const SPECIAL = [0, -0, NaN, Infinity, -Infinity, 1e-45, -1e-40, 3.4e38, -3.4e38, 6, -6, 0.5];
const composite = (x: T.Tensor) => T.mul(T.mul(x, 0.5), T.add(T.erf(T.mul(x, Math.SQRT1_2)), 1));

function inputs(dtype: "float32" | "float64"): T.Tensor {
  const r = rng(7);
  const vals = [...SPECIAL, ...Array.from({ length: 4000 }, () => (r() - 0.5) * 16)];
  return T.tensor(vals, { dtype });
}

/** Bit patterns, so NaN == NaN and -0 != 0. */
async function bits(t: T.Tensor): Promise<number[]> {
  const d = await t.data();
  const f = d instanceof Float32Array ? new Float32Array(d) : new Float64Array(d);
  return Array.from(
    f instanceof Float32Array ? new Uint32Array(f.buffer) : new Uint32Array(f.buffer),
  );
}

// A CPU backend under another name that counts fused calls.
let calls = 0;
const spy: Backend = {
  ...cpuBackend,
  name: "cpu-fused-spy",
  fused: {
    gelu: (i, p, o) => {
      calls++;
      return cpuFused.gelu!(i, p, o);
    },
  },
};
registerBackend(spy);
registerBackend({ ...cpuBackend, name: "cpu-unfused", fused: undefined });

Deno.test("fused gelu on the CPU is bit-identical to its composite (float32, float64)", async () => {
  await T.scope(async () => {
    for (const dtype of ["float32", "float64"] as const) {
      const x = inputs(dtype);
      assert.deepEqual(await bits(T.gelu(x)), await bits(composite(x)), dtype);
      const m = T.reshape(x, [4012 / 4, 4]); // any shape, same values
      assert.deepEqual(await bits(T.gelu(m)), await bits(composite(m)), `${dtype} 2-d`);
    }
  });
});

Deno.test("fusedOr: the backend's kernel runs eagerly, the composite under grad and jvp", async () => {
  await T.scope(async () => {
    const x = T.tensor([0.5, -1.25, 2], { backend: "cpu-fused-spy" });
    calls = 0;
    const y = T.gelu(x);
    assert.equal(calls, 1);
    assert.deepEqual(await y.toArray(), await composite(x).toArray());
    const g = T.grad((t: T.Tensor) => T.sum(T.gelu(t)))(x);
    const [, tan] = T.jvp((t: T.Tensor) => T.gelu(t), [x], [T.onesLike(x)]);
    assert.equal(calls, 1, "no fused call under grad or jvp");
    const gc = T.grad((t: T.Tensor) => T.sum(composite(t)))(x);
    assert.deepEqual(await g.toArray(), await gc.toArray());
    const [, tc] = T.jvp(composite, [x], [T.onesLike(x)]);
    assert.deepEqual(await tan.toArray(), await tc.toArray());
  });
});

Deno.test("fusedOr: a backend without the entry runs the composite", async () => {
  await T.scope(async () => {
    const x = T.tensor([0.5, -1.25, 2], { backend: "cpu-unfused" });
    calls = 0;
    const y = T.gelu(x);
    assert.equal(calls, 0);
    assert.equal(y.backend.name, "cpu-unfused");
    assert.deepEqual(await y.toArray(), await T.gelu(T.tensor([0.5, -1.25, 2])).toArray());
  });
});
