"""Fits the polynomial tables of tensor/cpu/f32_math.ts (the float32 erf of the CPU backend).

erf(x)/x as a degree-5 polynomial in s = 8x² - 1 for |x| < 0.5, and erf(x) as a degree-9
polynomial in t = 4·(x - mid) on each of the seven intervals [0.5, 1), …, [3.5, 4): Chebyshev
interpolation at 200 nodes of mpmath's erf at 40 digits, converted to the power basis. Prints the
tables and the worst relative error of each piece over a fine grid (all below 2e-11, far below
float32's half ulp of 3e-8, so rounding the float64 result to float32 almost always gives the
correctly rounded value).

Run: python3 tools/fit_erf32.py
"""
import mpmath
import numpy as np

mpmath.mp.dps = 40
NODES = 200


def fit(f, a, b, deg):
    t = np.cos(np.pi * (np.arange(NODES) + 0.5) / NODES)
    y = np.array([float(f(mpmath.mpf(float(v)))) for v in (a + b) / 2 + (b - a) / 2 * t])
    return np.polynomial.chebyshev.cheb2poly(np.polynomial.chebyshev.chebfit(t, y, deg))


def worst(f, a, b, p, lo=None):
    xs = np.linspace(lo if lo is not None else a, b, 4000)
    got = np.polynomial.polynomial.polyval((xs - (a + b) / 2) / ((b - a) / 2), p)
    want = np.array([float(f(mpmath.mpf(float(v)))) for v in xs])
    return float(np.max(np.abs(got - want) / np.abs(want)))


def ratio(z):
    return 2 / mpmath.sqrt(mpmath.pi) if z == 0 else mpmath.erf(mpmath.sqrt(z)) / mpmath.sqrt(z)


# The small piece is a polynomial in s = 8z - 1 (z over [0, 0.25] mapped to [-1, 1]).
small = fit(ratio, 0.0, 0.25, 5)
print("small (in s = 8z - 1):", ", ".join(repr(float(c)) for c in small))
print("  worst relative error", worst(ratio, 0.0, 0.25, small, lo=1e-12))
for a in np.arange(0.5, 4.0, 0.5):
    p = fit(mpmath.erf, a, a + 0.5, 9)
    print(f"[{a}, {a + 0.5}):", ", ".join(repr(float(c)) for c in p))
    print("  worst relative error", worst(mpmath.erf, a, a + 0.5, p))
