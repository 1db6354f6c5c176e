/**
 * Abstract evaluation of every primitive: output shape and dtype from input shapes and dtypes,
 * with validation. Backends, tracers and (later) jit all rely on this one table.
 * @module
 */
import type { Aval, ShapeRule } from "./aval.ts";
import { type DType, isFloat } from "./dtype.ts";
import { fmtShape, fmtValue, TesseraError } from "./errors.ts";
import {
  type DtypeClass,
  OP_INFO,
  opName,
  OTHER_OPS,
  perOp,
  type Prim,
  PRIM_INFO,
  type PrimParams,
  type UnaryOp,
  type VisionOp,
} from "./primitives.ts";
import { broadcastShapes, sizeOf } from "./shape.ts";
import { visionShapeRules } from "./vision_shape_rules.ts";

function arity(op: string, inputs: readonly Aval[], n: number): void {
  if (inputs.length !== n) throw new TesseraError(op, `expected ${n} inputs, got ${inputs.length}`);
}

function sameDtype(op: string, a: Aval, b: Aval): void {
  if (a.dtype !== b.dtype) {
    throw new TesseraError(op, `dtypes differ: ${a.dtype} vs ${b.dtype} (no implicit promotion)`);
  }
}

/** Whether dtype `d` belongs to class `c`. */
function inClass(c: DtypeClass, d: DType): boolean {
  switch (c) {
    case "float":
      return isFloat(d);
    case "numeric":
      return d !== "bool";
    case "signed":
      return d !== "bool" && d !== "uint32";
    case "int":
      return d === "int32" || d === "uint32";
    case "bool":
      return d === "bool";
    case "any":
      return true;
  }
}

const NEEDS: Record<DtypeClass, string> = {
  float: "float",
  numeric: "numeric",
  signed: "signed",
  int: "int32 or uint32",
  bool: "bool",
  any: "any",
};

/**
 * The public op name of an application (the `op` parameter of a family primitive, checked to
 * be one of its ops; else the primitive's name).
 */
function nameOf<P extends Prim>(prim: P, params: PrimParams[P]): string {
  const ops = PRIM_INFO[prim].ops;
  if (!ops) return prim;
  const op = opName(prim, params);
  if (!ops.includes(op)) {
    throw new TesseraError(prim, `unknown op ${fmtValue(op)}; one of ${ops.join(", ")}`);
  }
  return op;
}

/** Shape rule of the `unary` primitive, from each op's dtype class in `OP_INFO`. */
const unaryRule: ShapeRule<"unary"> = (inputs, params) => {
  const op = nameOf("unary", params);
  arity(op, inputs, 1);
  const x = inputs[0]!;
  const accepts = OP_INFO[op as UnaryOp].accepts;
  if (!inClass(accepts, x.dtype)) {
    const why = accepts === "bool"
      ? `needs bool input, got ${x.dtype}`
      : accepts === "float"
      ? `needs a float input, got ${x.dtype}`
      : `not defined for ${x.dtype} input`;
    throw new TesseraError(op, why);
  }
  return x;
};

/** Shape rule of a broadcasting binary primitive with the dtype facts of {@link PRIM_INFO}. */
function binaryRule<P extends Prim>(prim: P): ShapeRule<P> {
  const { accepts: all, out } = PRIM_INFO[prim].dtypes!;
  const perOp = PRIM_INFO[prim].opInfo;
  return (inputs, params) => {
    const op = nameOf(prim, params);
    const accepts = perOp ? perOp[op]!.accepts : all;
    arity(op, inputs, 2);
    const [a, b] = inputs as [Aval, Aval];
    sameDtype(op, a, b);
    if (!inClass(accepts, a.dtype)) {
      throw new TesseraError(op, `needs ${NEEDS[accepts]} inputs, got ${a.dtype}`);
    }
    const shape = broadcastShapes(op, a.shape, b.shape);
    return { shape, dtype: out === "bool" ? "bool" : a.dtype };
  };
}

function checkAxesParam(op: string, axes: readonly number[], ndim: number): void {
  for (let i = 0; i < axes.length; i++) {
    const a = axes[i]!;
    if (!Number.isInteger(a) || a < 0 || a >= ndim || (i > 0 && a <= axes[i - 1]!)) {
      throw new TesseraError(op, `invalid axes ${fmtValue(axes)} for rank ${ndim}`);
    }
  }
}

function checkAxis(op: string, axis: number, ndim: number): void {
  if (!Number.isInteger(axis) || axis < 0 || axis >= ndim) {
    throw new TesseraError(op, `axis ${axis} out of range for rank ${ndim}`);
  }
}

function perAxis(op: string, name: string, list: readonly number[], ndim: number): void {
  if (list.length !== ndim || !list.every((v) => Number.isInteger(v))) {
    throw new TesseraError(op, `${name} must list ${ndim} integers, got ${fmtValue(list)}`);
  }
}

function matmulRule(inputs: readonly Aval[], p: PrimParams["matmul"]): Aval {
  arity("matmul", inputs, 2);
  const [a, b] = inputs as [Aval, Aval];
  sameDtype("matmul", a, b);
  if (a.dtype === "bool") throw new TesseraError("matmul", "not defined for bool inputs");
  if (a.shape.length < 2 || b.shape.length < 2) {
    throw new TesseraError(
      "matmul",
      `operands need rank >= 2: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`,
    );
  }
  const ar = a.shape.length, br = b.shape.length;
  const m = p.transA ? a.shape[ar - 1]! : a.shape[ar - 2]!;
  const ka = p.transA ? a.shape[ar - 2]! : a.shape[ar - 1]!;
  const kb = p.transB ? b.shape[br - 1]! : b.shape[br - 2]!;
  const n = p.transB ? b.shape[br - 2]! : b.shape[br - 1]!;
  if (ka !== kb) {
    throw new TesseraError(
      "matmul",
      `inner dimensions differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}` +
        (p.transA || p.transB ? ` (transA=${p.transA}, transB=${p.transB})` : ""),
    );
  }
  const batch = broadcastShapes("matmul", a.shape.slice(0, -2), b.shape.slice(0, -2));
  return { shape: [...batch, m, n], dtype: a.dtype };
}

function sliceRule(inputs: readonly Aval[], p: PrimParams["slice"]): Aval {
  arity("slice", inputs, 1);
  const x = inputs[0]!;
  const nd = x.shape.length;
  perAxis("slice", "starts", p.starts, nd);
  perAxis("slice", "stops", p.stops, nd);
  perAxis("slice", "steps", p.steps, nd);
  const shape = x.shape.map((d, i) => {
    const s = p.starts[i]!, e = p.stops[i]!, st = p.steps[i]!;
    if (st < 1 || s < 0 || e < s || e > d) {
      throw new TesseraError(
        "slice",
        `invalid range ${s}:${e}:${st} for axis ${i} of size ${d} in ${fmtShape(x.shape)}`,
      );
    }
    return Math.ceil((e - s) / st);
  });
  return { shape, dtype: x.dtype };
}

function padRule(inputs: readonly Aval[], p: PrimParams["pad"]): Aval {
  arity("pad", inputs, 1);
  const x = inputs[0]!;
  const nd = x.shape.length;
  perAxis("pad", "lo", p.lo, nd);
  perAxis("pad", "hi", p.hi, nd);
  perAxis("pad", "interior", p.interior, nd);
  if ([...p.lo, ...p.hi, ...p.interior].some((v) => v < 0)) {
    throw new TesseraError("pad", `padding must be >= 0, got lo=${p.lo} hi=${p.hi}`);
  }
  const shape = x.shape.map((d, i) =>
    p.lo[i]! + p.hi[i]! + d + Math.max(0, d - 1) * p.interior[i]!
  );
  return { shape, dtype: x.dtype };
}

function concatRule(inputs: readonly Aval[], p: PrimParams["concat"]): Aval {
  if (inputs.length === 0) throw new TesseraError("concat", "needs at least one tensor");
  const first = inputs[0]!;
  checkAxis("concat", p.axis, first.shape.length);
  let total = 0;
  for (const t of inputs) {
    sameDtype("concat", first, t);
    const ok = t.shape.length === first.shape.length &&
      t.shape.every((d, i) => i === p.axis || d === first.shape[i]);
    if (!ok) {
      throw new TesseraError(
        "concat",
        `shapes ${inputs.map((s) => fmtShape(s.shape)).join(", ")} differ off axis ${p.axis}`,
      );
    }
    total += t.shape[p.axis]!;
  }
  const shape = [...first.shape];
  shape[p.axis] = total;
  return { shape, dtype: first.dtype };
}

function gatherRule(inputs: readonly Aval[], p: PrimParams["gather"]): Aval {
  arity("gather", inputs, 2);
  const [x, idx] = inputs as [Aval, Aval];
  checkAxis("gather", p.axis, x.shape.length);
  if (idx.dtype !== "int32") {
    throw new TesseraError("gather", `indices must be int32, got ${idx.dtype}`);
  }
  const shape = [...x.shape.slice(0, p.axis), ...idx.shape, ...x.shape.slice(p.axis + 1)];
  return { shape, dtype: x.dtype };
}

function scatterAddRule(inputs: readonly Aval[], p: PrimParams["scatterAdd"]): Aval {
  arity("scatterAdd", inputs, 3);
  const [x, idx, upd] = inputs as [Aval, Aval, Aval];
  checkAxis("scatterAdd", p.axis, x.shape.length);
  if (idx.dtype !== "int32") {
    throw new TesseraError("scatterAdd", `indices must be int32, got ${idx.dtype}`);
  }
  sameDtype("scatterAdd", x, upd);
  if (x.dtype === "bool") throw new TesseraError("scatterAdd", "not defined for bool");
  const want = [...x.shape.slice(0, p.axis), ...idx.shape, ...x.shape.slice(p.axis + 1)];
  if (want.length !== upd.shape.length || want.some((d, i) => d !== upd.shape[i])) {
    throw new TesseraError(
      "scatterAdd",
      `updates shape ${fmtShape(upd.shape)} must be ${fmtShape(want)} for x ${
        fmtShape(x.shape)
      }, indices ${fmtShape(idx.shape)}, axis ${p.axis}`,
    );
  }
  return x;
}

/** Shape rule of a reduction (`reduce` or `argReduce`) over `axes`, kept as size 1. */
function reduceRule<P extends "reduce" | "argReduce">(
  prim: P,
  axesOf: (p: PrimParams[P]) => readonly number[],
): ShapeRule<P> {
  const { accepts, out } = PRIM_INFO[prim].dtypes!;
  return (inputs, p) => {
    const op = nameOf(prim, p);
    arity(op, inputs, 1);
    const x = inputs[0]!;
    if (!inClass(accepts, x.dtype)) throw new TesseraError(op, `not defined for ${x.dtype} input`);
    const axes = axesOf(p);
    if (prim === "reduce") checkAxesParam(op, axes, x.shape.length);
    else checkAxis(op, axes[0]!, x.shape.length);
    if (op !== "sum") {
      for (const a of axes) {
        if (x.shape[a] === 0) throw new TesseraError(op, `cannot reduce empty axis ${a}`);
      }
    }
    const shape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    return { shape, dtype: out === "int32" ? "int32" : x.dtype };
  };
}

const elementwise = {
  unary: unaryRule,
  ...perOp(["binary", "compare", "logical", "bitwise"] as const, binaryRule),
  reduce: reduceRule("reduce", (p) => p.axes),
  argReduce: reduceRule("argReduce", (p) => [p.axis]),
};

/** Shape rule of every primitive; a missing entry fails `deno check`. */
export const shapeRules: { [P in Prim]: ShapeRule<P> } = {
  ...(elementwise as {
    [P in Exclude<Prim, typeof OTHER_OPS[number] | VisionOp>]: ShapeRule<P>;
  }),
  ...visionShapeRules,
  where(inputs) {
    arity("where", inputs, 3);
    const [c, x, y] = inputs as [Aval, Aval, Aval];
    if (c.dtype !== "bool") {
      throw new TesseraError("where", `condition must be bool, got ${c.dtype}`);
    }
    sameDtype("where", x, y);
    const s = broadcastShapes("where", broadcastShapes("where", c.shape, x.shape), y.shape);
    return { shape: s, dtype: x.dtype };
  },
  cumsum(inputs, p) {
    arity("cumsum", inputs, 1);
    const x = inputs[0]!;
    if (x.dtype === "bool") throw new TesseraError("cumsum", "not defined for bool input");
    checkAxis("cumsum", p.axis, x.shape.length);
    return x;
  },
  matmul: matmulRule,
  reshape(inputs, p) {
    arity("reshape", inputs, 1);
    const x = inputs[0]!;
    if (sizeOf(p.shape) !== sizeOf(x.shape) || p.shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new TesseraError(
        "reshape",
        `cannot reshape ${fmtShape(x.shape)} (${sizeOf(x.shape)} elements) to ${fmtShape(p.shape)}`,
      );
    }
    return { shape: p.shape, dtype: x.dtype };
  },
  permute(inputs, p) {
    arity("permute", inputs, 1);
    const x = inputs[0]!;
    const nd = x.shape.length;
    const ok = p.perm.length === nd && new Set(p.perm).size === nd &&
      p.perm.every((a) => Number.isInteger(a) && a >= 0 && a < nd);
    if (!ok) {
      throw new TesseraError(
        "permute",
        `invalid permutation ${fmtValue(p.perm)} for ${fmtShape(x.shape)}`,
      );
    }
    return { shape: p.perm.map((a) => x.shape[a]!), dtype: x.dtype };
  },
  broadcastTo(inputs, p) {
    arity("broadcastTo", inputs, 1);
    const x = inputs[0]!;
    const s = p.shape;
    const off = s.length - x.shape.length;
    const ok = off >= 0 && x.shape.every((d, i) => d === 1 || d === s[off + i]);
    if (!ok) {
      throw new TesseraError(
        "broadcastTo",
        `cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(s)}`,
      );
    }
    return { shape: s, dtype: x.dtype };
  },
  slice: sliceRule,
  flip(inputs, p) {
    arity("flip", inputs, 1);
    checkAxesParam("flip", p.axes, inputs[0]!.shape.length);
    return inputs[0]!;
  },
  pad: padRule,
  concat: concatRule,
  gather: gatherRule,
  scatterAdd: scatterAddRule,
  cast(inputs, p) {
    arity("cast", inputs, 1);
    return { shape: inputs[0]!.shape, dtype: p.dtype };
  },
  bitcast(inputs, p) {
    arity("bitcast", inputs, 1);
    const x = inputs[0]!;
    const ok = (d: DType) => d === "float32" || d === "int32" || d === "uint32";
    if (!ok(x.dtype) || !ok(p.dtype)) {
      throw new TesseraError(
        "bitcast",
        `only between float32/int32/uint32, got ${x.dtype} -> ${p.dtype}`,
      );
    }
    return { shape: x.shape, dtype: p.dtype };
  },
  argsort(inputs, p) {
    arity("argsort", inputs, 1);
    const x = inputs[0]!;
    if (x.dtype === "bool") throw new TesseraError("argsort", "not defined for bool input");
    checkAxis("argsort", p.axis, x.shape.length);
    return { shape: x.shape, dtype: "int32" };
  },
  randomBits(inputs, p) {
    arity("randomBits", inputs, 1);
    const k = inputs[0]!;
    if (k.dtype !== "uint32" || k.shape.length !== 1 || k.shape[0] !== 2) {
      throw new TesseraError(
        "randomBits",
        `key must be uint32 of shape [2], got ${k.dtype} ${fmtShape(k.shape)}`,
      );
    }
    return { shape: p.shape, dtype: "uint32" };
  },
  stopGradient(inputs) {
    arity("stopGradient", inputs, 1);
    return inputs[0]!;
  },
};

/** Runs the shape rule of `prim` (validating the inputs). */
export function abstractEval<P extends Prim>(
  prim: P,
  inputs: readonly Aval[],
  params: PrimParams[P],
): Aval {
  return (shapeRules[prim] as ShapeRule<P>)(inputs, params);
}
