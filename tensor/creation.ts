/**
 * Creating tensors from host data and constants.
 * @module
 */
import { getBackend } from "./backend.ts";
import { arrayFor, type DType, dtypeOfArray, isDType, type TypedArray } from "./dtype.ts";
import { fmtShape, fmtValue, TesseraError } from "./errors.ts";
import { checkNumel, checkShape, type Shape, sizeOf } from "./shape.ts";
import { type NestedArray, Tensor } from "./tensor.ts";

/** Options for creation functions. */
export interface CreateOptions {
  /** Element type (default float32, or the typed array's own type). */
  dtype?: DType;
  /** Backend name (default: the current default backend). */
  backend?: string;
}

/** Anything `tensor()` accepts: a number, boolean, nested arrays of them, or a typed array. */
export type ArrayLike = NestedArray | TypedArray;

function checkDtype(op: string, d: unknown): DType {
  if (!isDType(d)) throw new TesseraError(op, `unknown dtype ${fmtValue(d)}`);
  return d;
}

/** Converts host values to the dtype's typed array, checking they are representable. */
function convert(op: string, src: ArrayLike[] | TypedArray, dtype: DType): TypedArray {
  const out = arrayFor(dtype, src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i] as unknown;
    const num = typeof v === "boolean" ? (v ? 1 : 0) : v;
    if (typeof num !== "number") throw new TesseraError(op, `element ${i} is not a number: ${v}`);
    if ((dtype === "int32" || dtype === "uint32") && !Number.isInteger(num)) {
      throw new TesseraError(op, `value ${num} is not an integer for dtype ${dtype}`);
    }
    if (dtype === "int32" && (num < -2147483648 || num > 2147483647)) {
      throw new TesseraError(op, `value ${num} out of int32 range`);
    }
    if (dtype === "uint32" && (num < 0 || num > 4294967295)) {
      throw new TesseraError(op, `value ${num} out of uint32 range`);
    }
    if (dtype === "bool" && num !== 0 && num !== 1) {
      throw new TesseraError(op, `value ${num} is not a bool (use true/false or 0/1)`);
    }
    out[i] = num;
  }
  return out;
}

function inferShape(op: string, x: unknown): number[] {
  const shape: number[] = [];
  let cur = x;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  const flatCheck = (v: unknown, dim: number): void => {
    if (dim === shape.length) {
      if (Array.isArray(v)) throw new TesseraError(op, "ragged nested array");
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new TesseraError(
        op,
        `ragged nested array: expected length ${shape[dim]} at depth ${dim}`,
      );
    }
    for (const e of v) flatCheck(e, dim + 1);
  };
  flatCheck(x, 0);
  return shape;
}

function likeCheck(op: string, t: unknown): void {
  if (!(t instanceof Tensor)) throw new TesseraError(op, `expected a Tensor, got ${fmtValue(t)}`);
}

/**
 * The dtype a typed array maps to without an explicit `dtype` option. Uint8Array means bool
 * and must hold only 0/1; other integer arrays (Int8, Int16, Uint16, …) need `{ dtype }`.
 */
function typedDtype(a: TypedArray): DType {
  if (a instanceof Uint8Array && !(a instanceof Uint8ClampedArray)) {
    const bad = a.findIndex((v) => v > 1);
    if (bad >= 0) {
      throw new TesseraError(
        "tensor",
        `Uint8Array value ${a[bad]} at ${bad} is not a bool; pass { dtype: "int32" } to convert`,
      );
    }
    return "bool";
  }
  if (
    a instanceof Float32Array || a instanceof Float64Array || a instanceof Int32Array ||
    a instanceof Uint32Array
  ) return dtypeOfArray(a);
  throw new TesseraError(
    "tensor",
    `${(a as object).constructor.name} has no matching dtype; pass { dtype } to convert it`,
  );
}

/** Wraps host data (already converted) into a tensor on a backend. */
export function fromTyped(
  data: TypedArray,
  shape: Shape,
  dtype: DType,
  backend?: string,
  op = "tensor",
): Tensor {
  const b = getBackend(backend, op);
  if (!b.supportsDtype(dtype)) {
    throw new TesseraError(op, `backend "${b.name}" does not support dtype ${dtype}`);
  }
  return new Tensor(shape, dtype, b, b.upload(data, dtype));
}

/**
 * Creates a tensor from a number, boolean, nested arrays or a typed array. The dtype is
 * `opts.dtype`, else the typed array's type, else bool for booleans, else float32.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "../mod.ts";
 * const a = tensor([[1, 2, 3], [4, 5, 6]]);            // float32 [2, 3]
 * const b = tensor(new Int32Array([1, 2]), { shape: [2, 1] });
 * assert.deepEqual(a.shape, [2, 3]);
 * assert.equal(b.dtype, "int32");
 * ```
 */
export function tensor(values: ArrayLike, opts: CreateOptions & { shape?: Shape } = {}): Tensor {
  opts ??= {};
  let flat: ArrayLike[] | TypedArray;
  let shape: Shape;
  let dtype: DType;
  if (ArrayBuffer.isView(values)) {
    flat = values as TypedArray;
    shape = opts.shape != null ? checkShape("tensor", opts.shape) : [flat.length];
    dtype = opts.dtype ? checkDtype("tensor", opts.dtype) : typedDtype(values as TypedArray);
  } else {
    const inferred = inferShape("tensor", values);
    flat =
      (Array.isArray(values) ? (values as unknown[]).flat(Infinity as 1) : [values]) as ArrayLike[];
    shape = opts.shape != null ? checkShape("tensor", opts.shape) : inferred;
    const first = flat[0];
    dtype = opts.dtype
      ? checkDtype("tensor", opts.dtype)
      : typeof first === "boolean"
      ? "bool"
      : "float32";
  }
  if (sizeOf(shape) !== flat.length) {
    throw new TesseraError("tensor", `${flat.length} values do not fill shape ${fmtShape(shape)}`);
  }
  const data = ArrayBuffer.isView(flat) && dtype !== "bool" &&
      dtypeOfArray(flat as TypedArray) === dtype
    ? (flat as TypedArray)
    : convert("tensor", flat as ArrayLike[], dtype);
  return fromTyped(data, shape, dtype, opts.backend);
}

/**
 * Alias of {@link tensor} for readers coming from other libraries.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromArray } from "../mod.ts";
 * assert.deepEqual(fromArray([1, 2]).shape, [2]);
 * ```
 */
export const fromArray: typeof tensor = tensor;

/**
 * A tensor of `shape` filled with `value`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { full } from "../mod.ts";
 * assert.deepEqual(await full([2], 7, { dtype: "int32" }).toArray(), [7, 7]);
 * ```
 */
export function full(shape: Shape, value: number | boolean, opts: CreateOptions = {}): Tensor {
  return fullAs("full", shape, value, opts);
}

/** `full` reporting errors under the calling op's name. */
export function fullAs(
  op: string,
  shape: Shape,
  value: number | boolean,
  opts: CreateOptions | null | undefined,
): Tensor {
  opts ??= {};
  const dtype = opts.dtype
    ? checkDtype(op, opts.dtype)
    : typeof value === "boolean"
    ? "bool"
    : "float32";
  checkShape(op, shape, dtype);
  const data = convert(op, [typeof value === "boolean" ? (value ? 1 : 0) : value], dtype);
  const out = arrayFor(dtype, sizeOf(shape));
  out.fill(data[0]!);
  return fromTyped(out, shape, dtype, opts.backend, op);
}

/**
 * A tensor of zeros.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { zeros } from "../mod.ts";
 * assert.deepEqual(zeros([2, 3]).shape, [2, 3]);
 * ```
 */
export function zeros(shape: Shape, opts: CreateOptions = {}): Tensor {
  opts ??= {};
  return fullAs("zeros", shape, 0, opts);
}

/**
 * A tensor of ones.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ones } from "../mod.ts";
 * assert.deepEqual(await ones([2]).toArray(), [1, 1]);
 * ```
 */
export function ones(shape: Shape, opts: CreateOptions = {}): Tensor {
  opts ??= {};
  return fullAs("ones", shape, 1, opts);
}

/**
 * Zeros with the shape, dtype and backend of `t`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { zerosLike, ones } from "../mod.ts";
 * assert.deepEqual(zerosLike(ones([3])).shape, [3]);
 * ```
 */
export function zerosLike(t: Tensor): Tensor {
  likeCheck("zerosLike", t);
  return full(t.shape, 0, { dtype: t.dtype, backend: t.backend.name });
}

/**
 * Ones with the shape, dtype and backend of `t`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { onesLike, zeros } from "../mod.ts";
 * assert.deepEqual(await onesLike(zeros([2])).toArray(), [1, 1]);
 * ```
 */
export function onesLike(t: Tensor): Tensor {
  likeCheck("onesLike", t);
  return full(t.shape, 1, { dtype: t.dtype, backend: t.backend.name });
}

/**
 * Values `start, start+step, …` below `stop` (NumPy semantics). With one argument, `0..stop`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { arange } from "../mod.ts";
 * assert.deepEqual(await arange(0, 5, 2, { dtype: "int32" }).toArray(), [0, 2, 4]);
 * ```
 */
export function arange(start: number, stop?: number, step = 1, opts: CreateOptions = {}): Tensor {
  opts ??= {};
  if (stop === undefined) [start, stop] = [0, start];
  if (!Number.isFinite(start) || !Number.isFinite(stop) || !Number.isFinite(step) || step === 0) {
    throw new TesseraError("arange", `invalid range start=${start} stop=${stop} step=${step}`);
  }
  const n = Math.max(0, Math.ceil((stop - start) / step));
  checkNumel("arange", [n], opts.dtype ? checkDtype("arange", opts.dtype) : "float32");
  const vals = Array.from({ length: n }, (_, i) => start + i * step);
  return tensor(vals, { ...opts, shape: [n], dtype: opts.dtype ?? "float32" });
}

/**
 * `num` evenly spaced values from `start` to `stop` inclusive.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linspace } from "../mod.ts";
 * assert.deepEqual(await linspace(0, 1, 5).toArray(), [0, 0.25, 0.5, 0.75, 1]);
 * ```
 */
export function linspace(
  start: number,
  stop: number,
  num: number,
  opts: CreateOptions = {},
): Tensor {
  opts ??= {};
  if (!Number.isInteger(num) || num < 0) throw new TesseraError("linspace", `invalid num ${num}`);
  checkNumel("linspace", [num], opts.dtype ? checkDtype("linspace", opts.dtype) : "float32");
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  const vals = Array.from(
    { length: num },
    (_, i) => (i === num - 1 && num > 1 ? stop : start + i * step),
  );
  return tensor(vals, { ...opts, shape: [num], dtype: opts.dtype ?? "float32" });
}

/**
 * An `n × m` matrix with ones on diagonal `k`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { eye } from "../mod.ts";
 * assert.deepEqual(await eye(2).toArray(), [[1, 0], [0, 1]]);
 * ```
 */
export function eye(n: number, m: number = n, k = 0, opts: CreateOptions = {}): Tensor {
  opts ??= {};
  const dtype = opts.dtype ? checkDtype("eye", opts.dtype) : "float32";
  checkShape("eye", [n, m], dtype);
  const out = arrayFor(dtype, n * m);
  for (let i = 0; i < n; i++) {
    const j = i + k;
    if (j >= 0 && j < m) out[i * m + j] = 1;
  }
  return fromTyped(out, [n, m], dtype, opts.backend);
}
