/**
 * Special functions built as composites of primitives: `erfinv`.
 * @module
 */
import { TesseraError } from "../errors.ts";
import { full } from "../creation.ts";
import type { Tensor } from "../tensor.ts";
import { expectTensor } from "./_util.ts";
import { equal, less } from "./comparison.ts";
import { add, mul, sub, where } from "./elementwise.ts";
import { abs, log1p, neg, sqrt } from "./unary.ts";

// Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011), single precision;
// the same coefficients and evaluation order as XLA's ErfInv32.
const F32_W_LT_5 = [
  2.81022636e-08,
  3.43273939e-07,
  -3.5233877e-06,
  -4.39150654e-06,
  0.00021858087,
  -0.00125372503,
  -0.00417768164,
  0.246640727,
  1.50140941,
];
const F32_W_GE_5 = [
  -0.000200214257,
  0.000100950558,
  0.00134934322,
  -0.00367342844,
  0.00573950773,
  -0.0076224613,
  0.00943887047,
  1.00167406,
  2.83297682,
];

// Giles' double-precision variant (three ranges of w), as in XLA's ErfInv64.
const F64_W_LT_6_25 = [
  -3.6444120640178196996e-21,
  -1.685059138182016589e-19,
  1.2858480715256400167e-18,
  1.115787767802518096e-17,
  -1.333171662854620906e-16,
  2.0972767875968561637e-17,
  6.6376381343583238325e-15,
  -4.0545662729752068639e-14,
  -8.1519341976054721522e-14,
  2.6335093153082322977e-12,
  -1.2975133253453532498e-11,
  -5.4154120542946279317e-11,
  1.051212273321532285e-09,
  -4.1126339803469836976e-09,
  -2.9070369957882005086e-08,
  4.2347877827932403518e-07,
  -1.3654692000834678645e-06,
  -1.3882523362786468719e-05,
  0.0001867342080340571352,
  -0.00074070253416626697512,
  -0.0060336708714301490533,
  0.24015818242558961693,
  1.6536545626831027356,
];
const F64_W_LT_16 = [
  2.2137376921775787049e-09,
  9.0756561938885390979e-08,
  -2.7517406297064545428e-07,
  1.8239629214389227755e-08,
  1.5027403968909827627e-06,
  -4.013867526981545969e-06,
  2.9234449089955446044e-06,
  1.2475304481671778723e-05,
  -4.7318229009055733981e-05,
  6.8284851459573175448e-05,
  2.4031110387097893999e-05,
  -0.0003550375203628474796,
  0.00095328937973738049703,
  -0.0016882755560235047313,
  0.0024914420961078508066,
  -0.0037512085075692412107,
  0.005370914553590063617,
  1.0052589676941592334,
  3.0838856104922207635,
];
const F64_W_GE_16 = [
  -2.7109920616438573243e-11,
  -2.5556418169965252055e-10,
  1.5076572693500548083e-09,
  -3.7894654401267369937e-09,
  7.6157012080783393804e-09,
  -1.4960026627149240478e-08,
  2.9147953450901080826e-08,
  -6.7711997758452339498e-08,
  2.2900482228026654717e-07,
  -9.9298272942317002539e-07,
  4.5260625972231537039e-06,
  -1.9681778105531670567e-05,
  7.5995277030017761139e-05,
  -0.00021503011930044477347,
  -0.00013871931833623122026,
  1.0103004648645343977,
  4.8499064014085844221,
];

function erfinv32(x: Tensor): Tensor {
  const c = (v: number) => full([], v, { dtype: x.dtype, backend: x.backend.name });
  const w0 = neg(log1p(neg(mul(x, x))));
  const lt = less(w0, 5);
  const w = where(lt, sub(w0, 2.5), sub(sqrt(w0), 3));
  const coef = (i: number) => where(lt, c(F32_W_LT_5[i]!), c(F32_W_GE_5[i]!));
  let p = coef(0);
  for (let i = 1; i < F32_W_LT_5.length; i++) p = add(coef(i), mul(p, w));
  return mul(p, x);
}

function erfinv64(x: Tensor): Tensor {
  const c = (v: number) => full([], v, { dtype: x.dtype, backend: x.backend.name });
  const w0 = neg(log1p(neg(mul(x, x))));
  const lt625 = less(w0, 6.25);
  const lt16 = less(w0, 16);
  const coef = (i: number): Tensor => {
    let k = c(F64_W_LT_6_25[i]!);
    if (i < 19) k = where(lt625, k, c(F64_W_LT_16[i]!));
    if (i < 17) k = where(lt16, k, c(F64_W_GE_16[i]!));
    return k;
  };
  const w = where(lt625, sub(w0, 3.125), sub(sqrt(w0), where(lt16, c(3.25), c(5))));
  let p = coef(0);
  for (let i = 1; i < 17; i++) p = add(coef(i), mul(p, w));
  for (let i = 17; i < 19; i++) p = where(lt16, add(coef(i), mul(p, w)), p);
  for (let i = 19; i < 23; i++) p = where(lt625, add(coef(i), mul(p, w)), p);
  return mul(p, x);
}

/**
 * Elementwise inverse error function on float32/float64, `erfinv(erf(x)) = x`, defined on
 * `[-1, 1]` (`±1 → ±Infinity`, outside → NaN).
 *
 * A composite of primitives using Mike Giles' polynomial approximations ("Approximating the
 * erfinv function", 2011), with the coefficients and evaluation order of XLA's `ErfInv`
 * (what `jax.lax.erf_inv` and `jax.random.normal` use): for float32, `w = -log1p(-x²)` and a
 * degree-8 polynomial in `w - 2.5` (`w < 5`) or `√w - 3`; for float64, three ranges of `w`
 * (`< 6.25`, `< 16`, otherwise). Relative error is a few ulps in the working precision. XLA
 * returns `x · max_float` at `|x| = 1`; this returns `±Infinity` there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "../../mod.ts";
 * import { erfinv } from "./special.ts";
 * const y = await erfinv(tensor([0, 0.5, -0.5])).data();
 * [0, 0.4769363, -0.4769363].forEach((v, i) => assert.ok(Math.abs(y[i]! - v) < 1e-6));
 * ```
 */
export function erfinv(x: Tensor): Tensor {
  expectTensor("erfinv", x);
  if (x.dtype !== "float32" && x.dtype !== "float64") {
    throw new TesseraError("erfinv", `needs a float input, got ${x.dtype}`);
  }
  const y = x.dtype === "float64" ? erfinv64(x) : erfinv32(x);
  return where(equal(abs(x), 1), mul(x, Infinity), y);
}
