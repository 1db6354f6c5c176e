/**
 * A small float32 math library in WGSL, included on demand by the elementwise generator.
 *
 * WGSL's built-in transcendental functions have loose accuracy requirements (e.g. `sin` and
 * `cos` only an absolute error of 2⁻¹¹, `pow` is `exp2(y·log2 x)`), and implementations may
 * assume no NaN or infinity (Mesa folds `x != x` to false). So tessera computes exp, log,
 * log1p, expm1, sin, cos, tanh, erf, erfc and pow itself: Cody–Waite range reduction plus the
 * Cephes single-precision polynomials (≈1 ulp), an atanh series for log1p, Kahan's expm1, and erf
 * from the CPU backend's Chebyshev fit of erfcx. NaN and infinity are tested on the bit
 * patterns, and every special case of the CPU reference (IEEE 754 / C99 `pow`) is explicit.
 * @module
 */

interface Snippet {
  deps: string[];
  code: string;
}

const S: Record<string, Snippet> = {
  tm_isnan: {
    deps: [],
    code: "fn tm_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }",
  },
  tm_isinf: {
    deps: [],
    code: "fn tm_isinf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }",
  },
  // Through a `let`: Tint (Chrome) rejects a constant expression whose value is NaN or ±Inf.
  tm_nan: { deps: [], code: "fn tm_nan() -> f32 { let u = 0x7fc00000u; return bitcast<f32>(u); }" },
  tm_inf: { deps: [], code: "fn tm_inf() -> f32 { let u = 0x7f800000u; return bitcast<f32>(u); }" },
  tm_signbit: {
    deps: [],
    code: "fn tm_signbit(x: f32) -> bool { return (bitcast<u32>(x) & 0x80000000u) != 0u; }",
  },
  tm_copysign: {
    deps: [],
    code: `fn tm_copysign(m: f32, s: f32) -> f32 {
  return bitcast<f32>((bitcast<u32>(m) & 0x7fffffffu) | (bitcast<u32>(s) & 0x80000000u));
}`,
  },
  // 2^n · z for integer n in [-300, 300], in two steps so subnormal/large results stay exact.
  tm_scale: {
    deps: [],
    code: `fn tm_scale(z: f32, n: i32) -> f32 {
  let h = n / 2;
  return ldexp(ldexp(z, h), n - h);
}`,
  },
  // Cephes expf: n = round(x / ln 2), r = x - n ln 2 (two-part ln 2), degree-7 polynomial.
  tm_exp: {
    deps: ["tm_isnan", "tm_inf", "tm_scale"],
    code: `fn tm_exp(x: f32) -> f32 {
  if (tm_isnan(x)) { return x; }
  if (x > 88.72283935546875) { return tm_inf(); }
  if (x < -103.97208) { return 0.0; }
  let n = floor(x * 1.44269504088896341 + 0.5);
  let r = (x - n * 0.693359375) - n * -2.12194440e-4;
  let z = r * r;
  let q = ((((1.9875691500e-4 * r + 1.3981999507e-3) * r + 8.3334519073e-3) * r
    + 4.1665795894e-2) * r + 1.6666665459e-1) * r + 5.0000001201e-1;
  return tm_scale(q * z + r + 1.0, i32(n));
}`,
  },
  // Cephes logf: x = m·2^e with m in [√½, √2), polynomial in m - 1.
  tm_log: {
    deps: ["tm_isnan", "tm_nan", "tm_inf"],
    code: `fn tm_log(x0: f32) -> f32 {
  if (tm_isnan(x0)) { return x0; }
  if (x0 < 0.0) { return tm_nan(); }
  if (x0 == 0.0) { return -tm_inf(); }
  if (x0 == tm_inf()) { return x0; }
  let fr = frexp(x0);
  var m = fr.fract;
  var e = f32(fr.exp);
  if (m < 0.707106781186547524) { e = e - 1.0; m = m + m - 1.0; } else { m = m - 1.0; }
  let z = m * m;
  var y = ((((((((7.0376836292e-2 * m - 1.1514610310e-1) * m + 1.1676998740e-1) * m
    - 1.2420140846e-1) * m + 1.4249322787e-1) * m - 1.6668057665e-1) * m
    + 2.0000714765e-1) * m - 2.4999993993e-1) * m + 3.3333331174e-1) * m * z;
  y = y + e * -2.12194440e-4;
  y = y - 0.5 * z;
  return (m + y) + e * 0.693359375;
}`,
  },
  // log1p: for -0.5 <= x <= 1, 2·atanh(s) with s = x / (2 + x) as an odd series (no
  // cancellation: Kahan's (1+x)-1 trick is folded away by compilers that assume real
  // arithmetic, e.g. Mesa's NIR); elsewhere 1 + x is exact enough and log is used.
  tm_log1p: {
    deps: ["tm_log", "tm_inf"],
    code: `fn tm_log1p(x: f32) -> f32 {
  if (x < -0.5 || x > 1.0) { return tm_log(1.0 + x); }
  let s = x / (2.0 + x);
  let z = s * s;
  var q = 1.0 / 19.0;
  q = q * z + 1.0 / 17.0;
  q = q * z + 1.0 / 15.0;
  q = q * z + 1.0 / 13.0;
  q = q * z + 1.0 / 11.0;
  q = q * z + 1.0 / 9.0;
  q = q * z + 1.0 / 7.0;
  q = q * z + 1.0 / 5.0;
  q = q * z + 1.0 / 3.0;
  return 2.0 * s + 2.0 * s * (z * q);
}`,
  },
  // Kahan: expm1(x) = (u - 1) · x / log(u) with u = exp(x) rounded.
  tm_expm1: {
    deps: ["tm_exp", "tm_log", "tm_isnan"],
    code: `fn tm_expm1(x: f32) -> f32 {
  if (tm_isnan(x) || x > 88.0) { return tm_exp(x); }
  if (x < -17.5) { return -1.0; }
  let u = tm_exp(x);
  if (u == 1.0) { return x; }
  let um1 = u - 1.0;
  if (um1 == -1.0) { return -1.0; }
  return um1 * (x / tm_log(u));
}`,
  },
  // Cephes sinf/cosf: octant j from 4/π·|x|, three-part π/4 reduction, degree-7/8 polynomials.
  tm_sincos: {
    deps: ["tm_isnan", "tm_isinf", "tm_nan"],
    code: `fn tm_sincos(x: f32, want_cos: bool) -> f32 {
  if (tm_isnan(x) || tm_isinf(x)) { return tm_nan(); }
  var ax = abs(x);
  var j = u32(ax * 1.27323954473516);
  var y = f32(j);
  if ((j & 1u) == 1u) { j = j + 1u; y = y + 1.0; }
  j = j & 7u;
  var neg = false;
  if (want_cos) {
    if (j > 3u) { j = j - 4u; neg = !neg; }
    if (j > 1u) { neg = !neg; }
  } else {
    neg = x < 0.0;
    if (j > 3u) { j = j - 4u; neg = !neg; }
  }
  let r = ((ax - y * 0.78515625) - y * 2.4187564849853515625e-4) - y * 3.77489497744594108e-8;
  let z = r * r;
  var v: f32;
  let cosPoly = j == 1u || j == 2u;
  if (cosPoly == want_cos) {
    v = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;
  } else {
    v = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z
      - 0.5 * z + 1.0;
  }
  return select(v, -v, neg);
}`,
  },
  // Cephes tanhf: odd polynomial below 0.625, else 1 - 2 / (exp(2|x|) + 1).
  tm_tanh: {
    deps: ["tm_exp", "tm_isnan", "tm_copysign"],
    code: `fn tm_tanh(x: f32) -> f32 {
  if (tm_isnan(x)) { return x; }
  let z = abs(x);
  if (z > 9.1) { return tm_copysign(1.0, x); }
  if (z >= 0.625) {
    let s = tm_exp(z + z);
    return tm_copysign(1.0 - 2.0 / (s + 1.0), x);
  }
  if (x == 0.0) { return x; }
  let s = x * x;
  return ((((-5.70498872745e-3 * s + 2.06390887954e-2) * s - 5.37397155531e-2) * s
    + 1.33314422036e-1) * s - 3.33332819422e-1) * s * x + x;
}`,
  },
  // exp(-x²) with x² split into hi + lo (Dekker, 4097 = 2^12 + 1), so large x lose nothing.
  tm_expnsq: {
    deps: ["tm_exp"],
    code: `fn tm_expnsq(x: f32) -> f32 {
  let c = 4097.0 * x;
  let hi = c - (c - x);
  let lo = x - hi;
  let p = x * x;
  let err = ((hi * hi - p) + 2.0 * hi * lo) + lo * lo;
  return tm_exp(-p) * (1.0 - err);
}`,
  },
  // erfc for 2/3 <= x < 6: exp(-x²)·erfcx(x) with the CPU backend's Chebyshev coefficients
  // of erfcx (tensor/cpu/special.ts).
  tm_erfcmid: {
    deps: ["tm_expnsq"],
    code: `fn tm_erfcmid(ax: f32) -> f32 {
  let y = 4.0 * (2.0 / (2.0 + ax)) - 2.0;
  let y2 = 2.0 * y;
  var b1 = 0.0;
  var b2 = 0.0;
  var b0 = 0.0;
  b0 = y2 * b1 - b2 - 1.298953355929293e-12; b2 = b1; b1 = b0;
  b0 = y2 * b1 - b2 + 1.2415805808371913e-11; b2 = b1; b1 = b0;
  b0 = y2 * b1 - b2 + 3.495174340667238e-11; b2 = b1; b1 = b0;
  b0 = y2 * b1 - b2 - 1.1897232268075142e-9; b2 = b1; b1 = b0;
  b0 = y2 * b1 - b2 + 1.7541510002317697e-9; b2 = b1; b1 = b0;
  b0 = y2 * b1 - b2 + 1.0860656844785959e-7; b2 = b1; b1 = b0;
  b0 = y2 * b1 - b2 - 4.009870818005e-7; b2 = b1; b1 = b0;
  b0 = y2 * b1 - b2 - 1.2873581197581178e-5; b2 = b1; b1 = b0;
  b0 = y2 * b1 - b2 + 2.67241052358041e-5; b2 = b1; b1 = b0;
  b0 = y2 * b1 - b2 + 2.4021558782877607e-3; b2 = b1; b1 = b0;
  b0 = y2 * b1 - b2 + 3.0317806729637437e-2; b2 = b1; b1 = b0;
  b0 = y2 * b1 - b2 + 0.22086453033874842; b2 = b1; b1 = b0;
  let erfcx = y * b1 - b2 + 0.2856863562299499;
  return tm_expnsq(ax) * erfcx;
}`,
  },
  // erf: Maclaurin series below 2/3, else 1 - erfc(|x|).
  tm_erf: {
    deps: ["tm_erfcmid", "tm_isnan", "tm_copysign"],
    code: `fn tm_erf(x: f32) -> f32 {
  if (tm_isnan(x)) { return x; }
  let ax = abs(x);
  if (ax < 0.6666667) {
    let z = x * x;
    var s = -1.6365844691234924e-7;
    s = s * z + 1.6462114365889248e-6;
    s = s * z - 1.4925650358406252e-5;
    s = s * z + 1.2055332981789665e-4;
    s = s * z - 8.548327023450853e-4;
    s = s * z + 5.223977625442188e-3;
    s = s * z - 2.6866170645131252e-2;
    s = s * z + 1.1283791670955126e-1;
    s = s * z - 3.7612638903183754e-1;
    s = s * z + 1.1283791670955126;
    return x * s;
  }
  if (ax >= 6.0) { return tm_copysign(1.0, x); }
  let r = 1.0 - tm_erfcmid(ax);
  return tm_copysign(r, x);
}`,
  },
  // erfc: 1 - erf(x) below 2/3, the Chebyshev fit up to 6, then the continued fraction
  // erfcx(x) = 1/√π · 1/(x + ½/(x + 1/(x + …))) (24 terms) until it underflows past 10.06;
  // erfc(-x) = 2 - erfc(x). As the CPU backend's erfc.
  tm_erfc: {
    deps: ["tm_erf", "tm_erfcmid", "tm_expnsq", "tm_isnan"],
    code: `fn tm_erfc(x: f32) -> f32 {
  if (tm_isnan(x)) { return x; }
  let ax = abs(x);
  if (ax < 0.6666667) { return 1.0 - tm_erf(x); }
  var c = 0.0;
  if (ax < 6.0) {
    c = tm_erfcmid(ax);
  } else if (ax < 10.06) {
    var f = ax;
    for (var k = 24u; k >= 1u; k--) { f = ax + 0.5 * f32(k) / f; }
    c = tm_expnsq(ax) / (f * 1.7724538509055159);
  }
  return select(c, 2.0 - c, x < 0.0);
}`,
  },
  // pow with the C99 special cases the CPU backend follows (powC); integer exponents up to
  // 64 by repeated squaring, others as exp(y·log|x|), sign restored for odd integer y.
  tm_pow: {
    deps: ["tm_exp", "tm_log", "tm_isnan", "tm_isinf", "tm_nan", "tm_inf", "tm_signbit"],
    code: `fn tm_pow(x: f32, y: f32) -> f32 {
  if (y == 0.0 || x == 1.0) { return 1.0; }
  if (tm_isnan(x) || tm_isnan(y)) { return tm_nan(); }
  let ax = abs(x);
  if (tm_isinf(y)) {
    if (ax == 1.0) { return 1.0; }
    if ((ax < 1.0) == (y > 0.0)) { return 0.0; }
    return tm_inf();
  }
  let ay = abs(y);
  let yint = floor(y) == y;
  let yodd = yint && ay < 16777216.0 && (u32(ay) & 1u) == 1u;
  if (x < 0.0 && !yint) { return tm_nan(); }
  var r: f32;
  if (ax == 0.0) {
    r = select(tm_inf(), 0.0, y > 0.0);
  } else if (tm_isinf(ax)) {
    r = select(0.0, tm_inf(), y > 0.0);
  } else if (yint && ay <= 64.0) {
    var e = u32(ay);
    var b = ax;
    var acc = 1.0;
    loop {
      if ((e & 1u) == 1u) { acc = acc * b; }
      e = e >> 1u;
      if (e == 0u) { break; }
      b = b * b;
    }
    r = select(acc, 1.0 / acc, y < 0.0);
  } else {
    r = tm_exp(y * tm_log(ax));
  }
  return select(r, -r, yodd && tm_signbit(x));
}`,
  },
};

/** Whether the library has a function `name` (e.g. `tm_erf`). */
export function hasMath(name: string): boolean {
  return name in S;
}

/**
 * The helper functions (and their dependencies) that `src` calls, as WGSL source; empty when
 * it calls none.
 */
export function mathFor(src: string): string {
  const want = new Set<string>();
  const visit = (name: string) => {
    if (want.has(name)) return;
    const s = S[name];
    if (!s) return;
    want.add(name);
    s.deps.forEach(visit);
  };
  for (const m of src.matchAll(/\btm_[a-z0-9]+/g)) visit(m[0]);
  return [...want].map((n) => S[n]!.code).join("\n") + (want.size ? "\n" : "");
}
