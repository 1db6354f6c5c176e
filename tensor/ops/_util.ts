/**
 * Internal helpers shared by the public ops.
 * @module
 */
import { type DType, isDType } from "../dtype.ts";
import { fmtValue, TesseraError } from "../errors.ts";
import { full } from "../creation.ts";
import { beginScope, endScope } from "../memory.ts";
import { Tensor } from "../tensor.ts";

/** A tensor, or a JS number/boolean taking the dtype and backend of the other operand. */
export type TensorLike = Tensor | number | boolean;

/** Checks `x` is a Tensor, naming the op and argument otherwise. */
export function expectTensor(op: string, x: unknown, name = "x"): Tensor {
  if (!(x instanceof Tensor)) {
    throw new TesseraError(op, `argument ${name} must be a Tensor, got ${describe(x)}`);
  }
  return x;
}

/** Short description of a value for error messages. */
export function describe(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array";
  if (typeof x === "object") return (x as object).constructor?.name ?? "an object";
  return `${typeof x} ${String(x)}`;
}

const lifted = new WeakMap<Tensor, string>();

/**
 * The value key (`dtype@backend:value`) of a rank-0 tensor that {@link lift} made from a JS
 * scalar, else undefined: `jit` gives every lifted scalar of one value a single constant slot
 * (an optimizer's `mul(m, 0.9)` per parameter reads one input, not one per parameter).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { liftedScalarKey, lift } from "./_util.ts";
 * import { tensor } from "../mod.ts";
 * const x = tensor([1, 2]);
 * assert.equal(liftedScalarKey(lift("mul", 0.5, x)), `float32@${x.backend.name}:0.5`);
 * assert.equal(liftedScalarKey(x), undefined);
 * ```
 */
export function liftedScalarKey(t: Tensor): string | undefined {
  return lifted.get(t);
}

/** Converts a scalar to a rank-0 tensor like `like`; tensors pass through. */
export function lift(op: string, x: TensorLike, like: Tensor): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === "number" || typeof x === "boolean") {
    const v = typeof x === "boolean" ? (x ? 1 : 0) : x;
    if (like.dtype === "bool" && v !== 0 && v !== 1) {
      throw new TesseraError(op, `scalar ${x} is not a bool`);
    }
    if ((like.dtype === "int32" || like.dtype === "uint32") && !Number.isInteger(v)) {
      throw new TesseraError(op, `scalar ${x} is not an integer for dtype ${like.dtype}`);
    }
    const [lo, hi] = like.dtype === "int32"
      ? [-2147483648, 2147483647]
      : like.dtype === "uint32"
      ? [0, 4294967295]
      : [-Infinity, Infinity];
    if (v < lo || v > hi) {
      throw new TesseraError(op, `scalar ${x} is out of range for dtype ${like.dtype}`);
    }
    const t = full([], v, { dtype: like.dtype, backend: like.backend.name });
    lifted.set(t, `${like.dtype}@${like.backend.name}:${Object.is(v, -0) ? "-0" : v}`);
    return t;
  }
  throw new TesseraError(op, `expected a Tensor or number, got ${describe(x)}`);
}

/** Lifts a pair where at least one side is a tensor. */
export function liftPair(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (a instanceof Tensor) return [a, lift(op, b, a)];
  if (b instanceof Tensor) return [lift(op, a, b), b];
  throw new TesseraError(
    op,
    `at least one argument must be a Tensor, got ${describe(a)}, ${describe(b)}`,
  );
}

/** Validates a dtype argument. */
export function checkDType(op: string, d: unknown): DType {
  if (!isDType(d)) throw new TesseraError(op, `unknown dtype ${fmtValue(d)}`);
  return d;
}

/** Validates an integer argument. */
export function checkInt(op: string, name: string, v: unknown, min = -Infinity): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    throw new TesseraError(
      op,
      `${name} must be an integer${min > -Infinity ? ` >= ${min}` : ""}, got ${describe(v)}`,
    );
  }
  return v;
}

/**
 * Runs a composite op's body in its own scope so its temporaries (lifted scalars,
 * intermediate results) are freed and only the result survives; tensors an autodiff tape
 * still needs are handed to the enclosing scope instead.
 */
export function composite<T>(fn: () => T): T {
  beginScope();
  let out: T;
  try {
    out = fn();
  } catch (e) {
    endScope(undefined);
    throw e;
  }
  endScope(out);
  return out;
}
