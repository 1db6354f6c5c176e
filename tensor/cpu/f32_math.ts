/**
 * The CPU backend's float32 `erf`: piecewise polynomials evaluated in float64 to 2e-11 relative,
 * so that rounding to float32 gives the value the double-precision `erf` of tensor/cpu/special.ts
 * would, except within 2e-11 of a rounding boundary (a 1-ulp difference for about 1 in 10⁴
 * inputs), at about a third of its cost: GELU's erf was a quarter of a ViT training step. Eager
 * kernels and jit's fused loops both call it for float32 (tensor/cpu/op_exprs.ts), so they stay
 * bit-identical; float64 keeps the double-precision erf. The tables are fitted by
 * tools/fit_erf32.py. (A float32 `exp` on the same plan is no faster than V8's `Math.exp`.)
 * @module
 */

/** erf(x)/x for |x| < 0.5 as a degree-5 polynomial in s = 8x² - 1 (power basis). */
const SMALL = new Float64Array([
  1.0830752376890729,
  -0.043642058887395446,
  0.0016130714358398442,
  -4.7623363765114664e-05,
  1.152222986777751e-06,
  -2.348344958491566e-08,
]);

/** Coefficients per polynomial of the pieces on [0.5, 4). */
const DEGREE = 9;
/**
 * erf(x) on [0.5 + k/2, 1 + k/2), k = 0…6, as a degree-9 polynomial in t = 4(x - 0.75 - k/2)
 * (power basis, ten coefficients per piece, lowest first).
 */
const MID = new Float64Array([
  0.7111556336538285,
  0.16073276730036534,
  -0.03013739388425416,
  0.0004185748835520309,
  0.0005886211006183472,
  -5.1994677267364075e-05,
  -6.561029511686911e-06,
  1.1247955836513058e-06,
  3.554039267328336e-08,
  -1.4734040654218466e-08,
  0.9229001282579191,
  0.059130280611019104,
  -0.018478212764280445,
  0.002617746814012003,
  -2.4059587677061072e-05,
  -4.6075321158906e-05,
  5.198865911282271e-06,
  2.2151947003390403e-07,
  -8.506081812242886e-08,
  3.1395283706103793e-09,
  0.9866716712183796,
  0.01319374898251553,
  -0.005772265139673784,
  0.0014087075740911996,
  -0.00018789957917031422,
  6.469100613788749e-06,
  2.1891475083801733e-06,
  -3.6979159933614456e-07,
  1.0100886882469243e-08,
  3.4062020981551212e-09,
  0.9985372834132904,
  0.0017855797556706522,
  -0.0010043886110605556,
  0.00033944614811343555,
  -7.454447844818176e-05,
  1.0407908426900842e-05,
  -7.090412181831599e-07,
  -4.09639545589924e-08,
  1.521822026173681e-08,
  -1.366470331332082e-09,
  0.9998993780779826,
  0.00014656931173421552,
  -0.00010076640694877049,
  4.313107430223948e-05,
  -1.2726965638617214e-05,
  2.691214744394879e-06,
  -4.047353529747222e-07,
  3.94413285107441e-08,
  -1.2273657687411625e-09,
  -2.8188255167538324e-10,
  0.9999956972205327,
  7.297256338427954e-06,
  -5.9290205937561725e-06,
  3.0595268992881703e-06,
  -1.1194129890793992e-06,
  3.064417616762328e-07,
  -6.433370568742061e-08,
  1.0377373777157552e-08,
  -1.2509258527464155e-09,
  9.694074077542042e-11,
  0.9999998862727387,
  2.203580498701145e-07,
  -2.06585426473154e-07,
  1.2452521007530068e-07,
  -5.406929027301962e-08,
  1.794063232424893e-08,
  -4.699803389387019e-09,
  9.928514330794732e-10,
  -1.7602856876124125e-10,
  2.3813466444320483e-11,
]);

/**
 * The error function for float32 results: a float64 value within 2e-11 relative of erf(x),
 * exactly ±1 from |x| ≥ 4 (where float32 erf rounds to ±1), NaN for NaN, odd (`erf32(-0)` is -0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { erf32 } from "./f32_math.ts";
 * assert.equal(Math.fround(erf32(1)), Math.fround(0.8427007929497149));
 * assert.equal(erf32(-5), -1);
 * ```
 */
export function erf32(x: number): number {
  const ax = Math.abs(x);
  if (ax < 0.5) {
    const s = 8 * x * x - 1;
    const p = SMALL[0]! +
      s * (SMALL[1]! + s * (SMALL[2]! + s * (SMALL[3]! + s * (SMALL[4]! + s * SMALL[5]!))));
    return x * p;
  }
  if (!(ax < 4)) return x !== x ? x : x > 0 ? 1 : -1;
  const k = ((ax - 0.5) * 2) | 0;
  const t = 4 * (ax - 0.75) - 2 * k;
  const base = k * (DEGREE + 1);
  let p = MID[base + DEGREE]!;
  for (let j = DEGREE - 1; j >= 0; j--) p = p * t + MID[base + j]!;
  return x < 0 ? -p : p;
}
