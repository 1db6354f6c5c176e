/**
 * Every elementwise primitive from ONE expression table. An entry maps an op and the WGSL
 * type of its operands to a WGSL expression over the loaded operand values `a`, `b`, `c`
 * (bool operands are u32 0/1); the expression yields the output's storage type. The generator
 * wraps it in a one-thread-per-element kernel that reads each operand through its own
 * broadcast strides (stride 0 on broadcast dimensions, after coalescing), so broadcasts are
 * never materialised; when every operand already has the output's shape the kernel indexes
 * them directly.
 * @module
 */
import type { Kernel, Operand } from "../backend.ts";
import type { DType } from "../dtype.ts";
import { TesseraError } from "../errors.ts";
import type { BinaryOp, BitwiseOp, CompareOp, LogicalOp, UnaryOp } from "../primitives.ts";
import type { Aval } from "../aval.ts";
import { broadcastStrides, coalesce, shapesEqual, sizeOf } from "../shape.ts";
import { hasMath, mathFor } from "./math.ts";
import type { GpuStorage } from "./pool.ts";
import type { Runtime } from "./runtime.ts";
import {
  type Binding,
  declare,
  linearMain,
  Params,
  unravel,
  WG,
  type WgslType,
  wgslType,
} from "./wgsl.ts";

/** Elementwise primitives handled by the expression table. */
export type EwOp = UnaryOp | BinaryOp | CompareOp | LogicalOp | BitwiseOp | "where";

/** WGSL expression builder over operand variable names. */
export type Expr = (a: string, b: string, c: string) => string;

/** Per-operand-type expressions of one op; `bool` is u32 0/1 storage. */
type Entry = Partial<Record<WgslType | "bool", Expr>>;

const nanGuard = (a: string, b: string, e: string) =>
  `!tm_isnan(${a}) && !tm_isnan(${b}) && (${e})`;
const b2u = (cond: string) => `select(0u, 1u, ${cond})`;

/** Ordered float comparison with NaN comparing false (except `notEqual`). */
function cmp(op: string): Entry {
  const f = (a: string, b: string) => nanGuard(a, b, `${a} ${op} ${b}`);
  const plain: Expr = (a, b) => b2u(`${a} ${op} ${b}`);
  return { f32: (a, b) => b2u(f(a, b)), i32: plain, u32: plain, bool: plain };
}

const same = (e: Expr): Entry => ({ f32: e, i32: e, u32: e });
const ints = (e: Expr): Entry => ({ i32: e, u32: e });

/**
 * The expression table: every elementwise op and the operand types it accepts. A float unary
 * op that is just a call of its math-library function (`tm_exp(a)`, …; ./math.ts) needs no
 * entry: {@link entryOf} derives it.
 */
export const EXPR: { readonly [P in EwOp]?: Entry } = {
  neg: { f32: (a) => `-${a}`, i32: (a) => `-${a}` },
  abs: { f32: (a) => `abs(${a})`, i32: (a) => `abs(${a})`, u32: (a) => a },
  sign: {
    f32: (a) =>
      `select(select(select(${a}, -1.0, ${a} < 0.0), 1.0, ${a} > 0.0), ${a}, tm_isnan(${a}))`,
    i32: (a) => `select(select(0i, -1i, ${a} < 0i), 1i, ${a} > 0i)`,
  },
  sqrt: { f32: (a) => `select(sqrt(${a}), tm_nan(), ${a} < 0.0)` },
  rsqrt: { f32: (a) => `1.0 / select(sqrt(${a}), tm_nan(), ${a} < 0.0)` },
  reciprocal: { f32: (a) => `1.0 / ${a}` },
  sin: { f32: (a) => `tm_sincos(${a}, false)` },
  cos: { f32: (a) => `tm_sincos(${a}, true)` },
  floor: { f32: (a) => `floor(${a})` },
  ceil: { f32: (a) => `ceil(${a})` },
  round: { f32: (a) => `round(${a})` }, // WGSL round() is round-half-to-even
  logicalNot: { bool: (a) => `select(1u, 0u, ${a} != 0u)` },

  add: same((a, b) => `${a} + ${b}`),
  sub: same((a, b) => `${a} - ${b}`),
  mul: same((a, b) => `${a} * ${b}`),
  div: { f32: (a, b) => `${a} / ${b}` },
  pow: { f32: (a, b) => `tm_pow(${a}, ${b})` },
  maximum: {
    f32: (a, b) => `select(${b}, ${a}, ${a} > ${b} || tm_isnan(${a}))`,
    i32: (a, b) => `max(${a}, ${b})`,
    u32: (a, b) => `max(${a}, ${b})`,
  },
  minimum: {
    f32: (a, b) => `select(${b}, ${a}, ${a} < ${b} || tm_isnan(${a}))`,
    i32: (a, b) => `min(${a}, ${b})`,
    u32: (a, b) => `min(${a}, ${b})`,
  },

  equal: cmp("=="),
  notEqual: {
    f32: (a, b) => b2u(`!(${nanGuard(a, b, `${a} == ${b}`)})`),
    i32: (a, b) => b2u(`${a} != ${b}`),
    u32: (a, b) => b2u(`${a} != ${b}`),
    bool: (a, b) => b2u(`${a} != ${b}`),
  },
  less: cmp("<"),
  lessEqual: cmp("<="),
  greater: cmp(">"),
  greaterEqual: cmp(">="),

  logicalAnd: { bool: (a, b) => `${a} & ${b}` },
  logicalOr: { bool: (a, b) => `${a} | ${b}` },
  logicalXor: { bool: (a, b) => `${a} ^ ${b}` },

  bitwiseAnd: ints((a, b) => `${a} & ${b}`),
  bitwiseOr: ints((a, b) => `${a} | ${b}`),
  bitwiseXor: ints((a, b) => `${a} ^ ${b}`),
  shiftLeft: ints((a, b) => `${a} << (bitcast<u32>(${b}) & 31u)`),
  shiftRightLogical: {
    i32: (a, b) => `bitcast<i32>(bitcast<u32>(${a}) >> (bitcast<u32>(${b}) & 31u))`,
    u32: (a, b) => `${a} >> (${b} & 31u)`,
  },

  // where(cond, x, y): the entry is chosen by x's type; cond is bool.
  where: {
    f32: (c, x, y) => `select(${y}, ${x}, ${c} != 0u)`,
    i32: (c, x, y) => `select(${y}, ${x}, ${c} != 0u)`,
    u32: (c, x, y) => `select(${y}, ${x}, ${c} != 0u)`,
  },
};

/** Entry key of an operand dtype. */
function key(d: DType, op: string): WgslType | "bool" {
  return d === "bool" ? "bool" : wgslType(d, op);
}

/**
 * Generates (or fetches) and dispatches an elementwise kernel computing `expr` over
 * `inputs` (each read with its own broadcast strides) into a new storage for `out`.
 */
export function runElementwise(
  rt: Runtime,
  op: string,
  inputs: readonly Operand[],
  inTypes: readonly string[],
  expr: string,
  out: Aval,
): GpuStorage {
  const n = sizeOf(out.shape);
  const outTy = wgslType(out.dtype, op);
  const st = rt.alloc(n * 4, op);
  if (n === 0) return st;
  const names = ["a", "b", "c"];
  const bindings: Binding[] = inputs.map((_, k) => ({ name: `in${k}`, ty: inTypes[k]! }));
  bindings.push({ name: "out", ty: outTy, rw: true });
  const flat = inputs.every((t) => shapesEqual(t.shape, out.shape));
  const params = new Params().u(n);
  let body: string;
  if (flat) {
    body = inputs.map((_, k) => `  let ${names[k]} = in${k}[i];`).join("\n");
  } else {
    const c = coalesce(out.shape, inputs.map((t) => broadcastStrides(t.shape, out.shape)));
    const r = c.shape.length;
    params.u(...c.shape);
    c.strides.forEach((s) => params.i(...s));
    const offs = inputs.map((_, k) => `o${k}`);
    body = unravel("i", r, 1, offs, offs.map((_, k) => 1 + r + k * r)) + "\n" +
      inputs.map((_, k) => `  let ${names[k]} = in${k}[o${k}];`).join("\n");
  }
  body += `\n  out[i] = ${expr};`;
  const main = linearMain(body);
  const wgsl = declare(params.length, bindings) + mathFor(main) + main;
  rt.run(op, {
    wgsl,
    bindings,
    buffers: [...inputs.map((t) => t.storage as GpuStorage), st],
    params: params.words(),
    groups: Math.ceil(n / WG),
  });
  return st;
}

/**
 * The f32 expression of `op` (a `unary` or `binary` op), or undefined when the table has none
 * (what `jit`'s fused kernels may use: tensor/webgpu/fused_program.ts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { floatExpr } from "./elementwise.ts";
 * assert.equal(floatExpr("add")!("x", "y", ""), "x + y");
 * assert.equal(floatExpr("logicalNot"), undefined);
 * ```
 */
export function floatExpr(op: EwOp): Expr | undefined {
  return entryOf(op).f32;
}

/** The entry of `op`: from the table, or the call of its `tm_<op>` math function on f32. */
function entryOf(op: EwOp): Entry {
  const e = EXPR[op];
  if (e) return e;
  const fn = `tm_${op}`;
  return hasMath(fn) ? { f32: (a) => `${fn}(${a})` } : {};
}

/** The table entry's expression for `op` on operands of dtype `d`, or a clear error. */
function exprFor(op: EwOp, d: DType): Expr {
  const e = entryOf(op)[key(d, op)];
  if (!e) throw new TesseraError(op, `not supported for ${d} on the webgpu backend`);
  return e;
}

/** Runtime-taking kernel (the webgpu kernel table's entry type). */
export type GpuKernel<P extends import("../primitives.ts").Prim> = (
  rt: Runtime,
  ...args: Parameters<Kernel<P>>
) => GpuStorage;

/** Runs the expression-table entry of elementwise op `op` on `inputs`. */
function runOp(rt: Runtime, op: Exclude<EwOp, "where">, inputs: readonly Operand[], out: Aval) {
  const e = exprFor(op, inputs[0]!.dtype);
  const ty = inputs.map((t) => wgslType(t.dtype, op));
  return runElementwise(rt, op, inputs, ty, e("a", "b", "c"), out);
}

/**
 * Kernel of an elementwise family primitive (`unary`, `binary`, `compare`, `logical`,
 * `bitwise`): its `op` picks the expression-table entry.
 */
export const familyKernel: GpuKernel<"unary" | "binary" | "compare" | "logical" | "bitwise"> = (
  rt,
  inputs,
  params,
  out,
) => runOp(rt, params.op, inputs, out);

/** Kernel of `where(cond, x, y)`. */
export const whereKernel: GpuKernel<"where"> = (rt, inputs, _params, out) => {
  const e = exprFor("where", inputs[1]!.dtype);
  const ty = inputs.map((t) => wgslType(t.dtype, "where"));
  return runElementwise(rt, "where", inputs, ty, e("a", "b", "c"), out);
};

/** Saturating float → int conversions (NaN → 0), as the CPU backend's `cast`. */
const CAST: Record<string, (x: string) => string> = {
  "f32>i32": (x) =>
    `select(select(select(i32(${x}), -2147483647i - 1i, ${x} <= -2147483648.0), 2147483647i, ${x} >= 2147483648.0), 0i, tm_isnan(${x}))`,
  "f32>u32": (x) =>
    `select(select(select(u32(${x}), 0u, ${x} <= 0.0), 4294967295u, ${x} >= 4294967296.0), 0u, tm_isnan(${x}))`,
  "f32>bool": (x) => `select(1u, 0u, (bitcast<u32>(${x}) & 0x7fffffffu) == 0u)`,
  "i32>bool": (x) => `select(1u, 0u, ${x} == 0i)`,
  "u32>bool": (x) => `select(1u, 0u, ${x} == 0u)`,
  "bool>f32": (x) => `f32(${x})`,
  "bool>i32": (x) => `i32(${x})`,
  "bool>u32": (x) => x,
  "i32>f32": (x) => `f32(${x})`,
  "u32>f32": (x) => `f32(${x})`,
  "i32>u32": (x) => `bitcast<u32>(${x})`,
  "u32>i32": (x) => `bitcast<i32>(${x})`,
};

/** `cast(dtype)`: value conversion with the CPU backend's semantics. */
export const castKernel: GpuKernel<"cast"> = (rt, inputs, params, out) => {
  const from = inputs[0]!.dtype, to = params.dtype;
  const fk = key(from, "cast"), tk = key(to, "cast");
  const inTy = wgslType(from, "cast");
  const conv = fk === tk ? (x: string) => x : CAST[`${fk}>${tk}`];
  if (!conv) throw new TesseraError("cast", `${from} -> ${to} is not supported on webgpu`);
  return runElementwise(rt, "cast", inputs, [inTy], conv("a"), out);
};

/** `bitcast(dtype)`: reinterprets 32-bit patterns. */
export const bitcastKernel: GpuKernel<"bitcast"> = (rt, inputs, params, out) => {
  const ty = wgslType(params.dtype, "bitcast");
  return runElementwise(rt, "bitcast", inputs, ["u32"], `bitcast<${ty}>(a)`, out);
};
