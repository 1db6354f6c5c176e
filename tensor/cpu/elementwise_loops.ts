/**
 * Eager loops of the elementwise ops, generated from their expressions (the float formulas in
 * ./op_exprs.ts; binary.ts's integer, compare, logical and bitwise ones): one compiled
 * function per (op, dtype). A loop shared by several typed-array kinds is compiled
 * polymorphically by V8 (measured 4–5× slower than one that only ever sees
 * Float32Array), so each dtype gets its own source text (the dtype is part of it, so V8's
 * compilation cache does not hand back a shared function). Binary rows split out the
 * contiguous and broadcast-scalar cases. Values are the float64 expression rounded by the
 * typed-array store, as the fused programs compute them.
 * @module
 */
import type { DType, TypedArray } from "../dtype.ts";
import type { BinaryOp, UnaryOp } from "../primitives.ts";
import { binaryExpr, SCALAR_HELPERS, unaryExpr } from "./op_exprs.ts";

/** A flat unary loop: `o[i] = f(x[i])` for `i < n`. */
export type Loop1 = (x: TypedArray, o: TypedArray, n: number) => void;

/**
 * One row of a binary op: `o[oo + j] = f(a[ia + j·as], b[ib + j·bs])` for `j < n`; the output
 * is written contiguously.
 */
export type Loop2 = (
  a: TypedArray,
  ia: number,
  as: number,
  b: TypedArray,
  ib: number,
  bs: number,
  o: TypedArray,
  oo: number,
  n: number,
) => void;

const cache = new Map<string, Loop1 | Loop2>();

function compile<L>(key: string, src: string): L {
  let f = cache.get(key);
  if (!f) {
    f = new Function("F", `// ${key}\n${src}`)(SCALAR_HELPERS) as Loop1 | Loop2;
    cache.set(key, f);
  }
  return f as L;
}

/**
 * The loop of float unary `op` for arrays of `dtype` (compiled once per pair).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unaryLoop } from "./elementwise_loops.ts";
 * const o = new Float32Array(2);
 * unaryLoop("sqrt", "float32")(Float32Array.of(4, 9), o, 2);
 * assert.deepEqual([...o], [2, 3]);
 * ```
 */
export function unaryLoop(op: UnaryOp, dtype: DType): Loop1 {
  return compile(
    `unary ${op} ${dtype}`,
    `return function (x, o, n) {
      for (let i = 0; i < n; i++) { const v = x[i]; o[i] = ${unaryExpr(op, "v", dtype)}; }
    };`,
  );
}

/**
 * The row loop of binary arithmetic `op` for arrays of `dtype` (compiled once per pair).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { binaryLoop } from "./elementwise_loops.ts";
 * const o = new Float64Array(3);
 * binaryLoop("sub", "float64")(Float64Array.of(5, 6, 7), 0, 1, Float64Array.of(1), 0, 0, o, 0, 3);
 * assert.deepEqual([...o], [4, 5, 6]);
 * ```
 */
export function binaryLoop(op: BinaryOp, dtype: DType): Loop2 {
  return rowLoop(`binary ${op}`, binaryExpr(op, "x", "y"), dtype);
}

/**
 * The row loop computing expression `e` of `x` (from `a`) and `y` (from `b`) for inputs of
 * `dtype`, compiled once per (`name`, `dtype`); `name` must identify `e`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rowLoop } from "./elementwise_loops.ts";
 * const o = new Uint8Array(2);
 * rowLoop("compare less", "x < y ? 1 : 0", "int32")(Int32Array.of(1, 5), 0, 1, Int32Array.of(3), 0, 0, o, 0, 2);
 * assert.deepEqual([...o], [1, 0]);
 * ```
 */
export function rowLoop(name: string, e: string, dtype: DType): Loop2 {
  return compile(
    `${name} ${dtype}`,
    `return function (a, ia, as, b, ib, bs, o, oo, n) {
      if (as === 1 && bs === 1) {
        for (let j = 0; j < n; j++) { const x = a[ia + j], y = b[ib + j]; o[oo + j] = ${e}; }
      } else if (as === 1 && bs === 0) {
        const y = b[ib];
        for (let j = 0; j < n; j++) { const x = a[ia + j]; o[oo + j] = ${e}; }
      } else if (as === 0 && bs === 1) {
        const x = a[ia];
        for (let j = 0; j < n; j++) { const y = b[ib + j]; o[oo + j] = ${e}; }
      } else {
        for (let j = 0; j < n; j++, ia += as, ib += bs) {
          const x = a[ia], y = b[ib];
          o[oo + j] = ${e};
        }
      }
    };`,
  );
}

/**
 * One row of `where`: `o[oo + j] = c[ic + j·cs] ? x[ix + j·xs] : y[iy + j·ys]`.
 */
export type LoopWhere = (
  c: TypedArray,
  ic: number,
  cs: number,
  x: TypedArray,
  ix: number,
  xs: number,
  y: TypedArray,
  iy: number,
  ys: number,
  o: TypedArray,
  oo: number,
  n: number,
) => void;

/**
 * The row loop of `where` for values of `dtype` (the condition is bool), compiled once per
 * dtype like the others. `"bits32"` selects 4-byte values branch-free on Int32Array views of
 * the arrays (`(x & m) | (y & ~m)` with `m = −c`): exact for every bit pattern, NaN included,
 * and ~2.5× faster than the branch when the condition is unpredictable (ReLU's backward).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { whereLoop } from "./elementwise_loops.ts";
 * const o = new Float32Array(3);
 * whereLoop("float32")(Uint8Array.of(1, 0, 1), 0, 1, Float32Array.of(5, 6, 7), 0, 1, Float32Array.of(0), 0, 0, o, 0, 3);
 * assert.deepEqual([...o], [5, 0, 7]);
 * ```
 */
export function whereLoop(dtype: DType | "bits32"): LoopWhere {
  const pick = dtype === "bits32"
    ? (a: string, b: string) => `{ const m = -c[ic + j]; o[oo + j] = (${a} & m) | (${b} & ~m); }`
    : (a: string, b: string) => `o[oo + j] = c[ic + j] ? ${a} : ${b};`;
  return compile(
    `where ${dtype}`,
    `return function (c, ic, cs, x, ix, xs, y, iy, ys, o, oo, n) {
      if (cs === 1 && xs === 1 && ys === 0) {
        const v = y[iy];
        for (let j = 0; j < n; j++) ${pick("x[ix + j]", "v")}
      } else if (cs === 1 && xs === 0 && ys === 1) {
        const v = x[ix];
        for (let j = 0; j < n; j++) ${pick("v", "y[iy + j]")}
      } else if (cs === 1 && xs === 1 && ys === 1) {
        for (let j = 0; j < n; j++) ${pick("x[ix + j]", "y[iy + j]")}
      } else {
        for (let j = 0; j < n; j++, ix += xs, iy += ys) {
          const cj = c[ic + j * cs], xj = x[ix], yj = y[iy];
          ${
      dtype === "bits32"
        ? "const m = -cj; o[oo + j] = (xj & m) | (yj & ~m);"
        : "o[oo + j] = cj ? xj : yj;"
    }
        }
      }
    };`,
  ) as unknown as LoopWhere;
}
