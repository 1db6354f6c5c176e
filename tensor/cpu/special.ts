/**
 * Special functions the JavaScript `Math` object lacks (`erf`, `erfc`), as scalar float64 functions;
 * {@link SPECIAL_FUNCTIONS} is the table the unary kernels loop them from, so a new special
 * unary primitive needs only its scalar here on the CPU backend.
 * @module
 */
import type { UnaryOp } from "../primitives.ts";

const TWO_OVER_SQRT_PI = 1.1283791670955126;

/**
 * Maclaurin coefficients of erf(x)/x as a polynomial in x²:
 * c_n = (-1)^n 2 / (√π n! (2n+1)), built by the ratio c_n / c_{n-1} = -(2n-1) / (n (2n+1)).
 * 16 terms reach below 1e-18 relative for |x| < 2/3.
 */
const TAYLOR = (() => {
  const c = new Float64Array(16);
  c[0] = TWO_OVER_SQRT_PI;
  for (let n = 1; n < c.length; n++) c[n] = (-c[n - 1]! * (2 * n - 1)) / (n * (2 * n + 1));
  return c;
})();

/**
 * Chebyshev coefficients (c_0 already halved) of erfcx(x) = exp(x²) erfc(x) for x in [2/3, 6],
 * as a function of y = 4t - 2 with t = 2 / (2 + x), so y runs over [-1, 1]. Computed with
 * mpmath at 50 digits (100-node Chebyshev interpolation); the next coefficient is ~3e-22,
 * so the truncation error is far below double precision.
 */
const CHEB = new Float64Array([
  0.2856863562299499,
  0.22086453033874842,
  0.030317806729637437,
  0.0024021558782877607,
  2.67241052358041e-05,
  -1.2873581197581178e-05,
  -4.009870818005e-07,
  1.0860656844785959e-07,
  1.7541510002317697e-09,
  -1.1897232268075142e-09,
  3.495174340667238e-11,
  1.2415805808371913e-11,
  -1.298953355929293e-12,
  -6.743434253571277e-14,
  2.4389695006900105e-14,
  -1.3215276073731551e-15,
  -2.409878433379109e-16,
  4.7739065819964787e-17,
  -1.6004385538424187e-18,
  -6.159803419913358e-19,
  1.0772663813900678e-19,
  -3.481087551655547e-21,
  -1.4934199937148914e-21,
]);

const SPLIT = 134217729; // 2^27 + 1, Dekker's splitting constant

/** exp(-x²) with x² carried as an exact hi + lo pair, so large x lose no accuracy. */
function expNegSquare(x: number): number {
  const c = SPLIT * x;
  const hi = c - (c - x);
  const lo = x - hi;
  const p = x * x;
  const err = hi * hi - p + 2 * hi * lo + lo * lo; // x² - p, exactly
  return Math.exp(-p) * (1 - err);
}

/**
 * The error function erf(x) = 2/√π ∫₀ˣ e^(-t²) dt in double precision (relative error below
 * 5e-16 over the whole line): Maclaurin series for |x| < 2/3, otherwise 1 - erfc(|x|) with
 * erfc from a Chebyshev fit of the scaled complement erfcx; exactly ±1 from |x| ≥ 6.
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2 / 3) {
    const z = x * x;
    let s = TAYLOR[TAYLOR.length - 1]!;
    for (let n = TAYLOR.length - 2; n >= 0; n--) s = s * z + TAYLOR[n]!;
    return x * s;
  }
  if (!(ax < 6)) return x !== x ? x : x > 0 ? 1 : -1;
  const r = 1 - erfcMid(ax);
  return x < 0 ? -r : r;
}

/** erfc(x) = exp(-x²)·erfcx(x) for 2/3 ≤ x < 6, from the Chebyshev fit of erfcx. */
function erfcMid(x: number): number {
  const y = 4 * (2 / (2 + x)) - 2;
  const y2 = 2 * y;
  let b1 = 0, b2 = 0;
  for (let k = CHEB.length - 1; k >= 1; k--) {
    const b0 = y2 * b1 - b2 + CHEB[k]!;
    b2 = b1;
    b1 = b0;
  }
  const erfcx = y * b1 - b2 + CHEB[0]!;
  return expNegSquare(x) * erfcx;
}

/**
 * erfc(x) for x ≥ 6 from the continued fraction erfcx(x) = 1/√π · 1/(x + ½/(x + 1/(x + …)))
 * (60 terms, evaluated backwards: far below double rounding there); 0 beyond x = 27.3.
 */
function erfcTail(x: number): number {
  if (x > 27.3) return 0; // exp(-x²) underflows
  let f = x;
  for (let k = 60; k >= 1; k--) f = x + k / 2 / f;
  return expNegSquare(x) / (f * Math.sqrt(Math.PI));
}

/**
 * The complementary error function erfc(x) = 1 - erf(x) in double precision, without the
 * cancellation of `1 - erf(x)` for large x: 1 - erf(x) for |x| < 2/3, the Chebyshev fit of
 * erfcx up to 6 and a continued fraction beyond; erfc(-x) = 2 - erfc(x).
 */
export function erfc(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2 / 3) return 1 - erf(x);
  if (x !== x) return x;
  const c = ax < 6 ? erfcMid(ax) : erfcTail(ax);
  return x < 0 ? 2 - c : c;
}

/**
 * Scalar float64 implementation of each special unary primitive (the unary kernels loop
 * them; float32 results are rounded by the store).
 */
export const SPECIAL_FUNCTIONS: Partial<Record<UnaryOp, (x: number) => number>> = { erf, erfc };
