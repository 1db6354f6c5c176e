/** The CPU backend's float32 erf (tensor/cpu/f32_math.ts): accuracy, special values, use. */
import assert from "node:assert/strict";
import { erf32 } from "../../tensor/cpu/f32_math.ts";
import { erf as erf64 } from "../../tensor/cpu/special.ts";
import { erf, gelu, jit, tensor } from "../../mod.ts";

const bits = new Float32Array(1);
const word = new Uint32Array(bits.buffer);
/** Every `step`-th positive float32 below 4 (bit patterns), and their negatives. */
function float32sBelow4(step: number): number[] {
  const xs: number[] = [];
  bits[0] = 4;
  const top = word[0]!;
  for (let b = 0; b < top; b += step) {
    word[0] = b;
    xs.push(bits[0]!, -bits[0]!);
  }
  return xs;
}

Deno.test("erf32: within 2e-11 relative of the double-precision erf below |x| = 4", () => {
  let worst = 0;
  for (const x of float32sBelow4(4099)) {
    const want = erf64(x);
    if (want !== 0) worst = Math.max(worst, Math.abs(erf32(x) - want) / Math.abs(want));
  }
  assert.ok(worst < 2e-11, `worst relative error ${worst}`);
  // The pieces join without a jump: both sides of each breakpoint agree with erf.
  for (const b of [0.5, 1, 1.5, 2, 2.5, 3, 3.5]) {
    for (const x of [b - 1e-12, b, b + 1e-12]) {
      assert.ok(Math.abs(erf32(x) - erf64(x)) < 2e-11, `erf32(${x})`);
    }
  }
});

Deno.test("erf32: rounded to float32 it is erf's float32 value but for rare 1-ulp ties", () => {
  const xs = float32sBelow4(997);
  let differ = 0;
  for (const x of xs) {
    const a = Math.fround(erf32(x)), b = Math.fround(erf64(x));
    if (a === b) continue;
    differ++;
    bits[0] = a;
    const ua = word[0]!;
    bits[0] = b;
    assert.ok(Math.abs(ua - word[0]!) <= 1, `erf32(${x}) = ${a}, erf = ${b}: more than 1 ulp`);
  }
  assert.ok(differ / xs.length < 1e-3, `${differ} of ${xs.length} differ`);
});

Deno.test("erf32: odd, signed zeros, ±1 from |x| = 4 (float32 erf rounds to 1 there), NaN", () => {
  assert.ok(Object.is(erf32(0), 0) && Object.is(erf32(-0), -0));
  assert.deepEqual([4, -4, 1e30, Infinity, -Infinity].map(erf32), [1, -1, 1, 1, -1]);
  assert.equal(Math.fround(erf64(Math.fround(3.99))), Math.fround(erf32(Math.fround(3.99))));
  assert.ok(Number.isNaN(erf32(NaN)));
  for (const x of [0.1, 0.7, 1.9, 3.2]) assert.equal(erf32(-x), -erf32(x));
});

Deno.test("erf and gelu: float32 tensors use erf32, float64 the double-precision erf", async () => {
  const xs = [-3.3, -1.2, -0.4, 0, 0.3, 0.9, 2.2, 3.7, 5];
  const got32 = await erf(tensor(xs, { dtype: "float32" })).data();
  assert.deepEqual([...got32], xs.map((x) => Math.fround(erf32(Math.fround(x)))));
  const got64 = await erf(tensor(xs, { dtype: "float64" })).data();
  assert.deepEqual([...got64], xs.map(erf64));
  // Eager gelu (the fused CPU kernel) and its jitted loop agree to the bit in float32.
  const x = tensor(xs.map((v) => v * 0.77), { dtype: "float32" });
  const eager = await gelu(x).data();
  const jitted = await jit((t: typeof x) => gelu(t))(x).data();
  assert.deepEqual([...jitted], [...eager]);
});
