/**
 * Data types and their host storage.
 * @module
 */

/** The element types a tensor can hold. Mixing them in one op is an error (no promotion). */
export type DType = "float32" | "float64" | "int32" | "uint32" | "bool";

/**
 * Every dtype, in a stable order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DTYPES } from "./dtype.ts";
 * import { zeros } from "../mod.ts";
 * // every dtype can be created, and no other: the list to loop over in dtype tests
 * for (const dtype of DTYPES) assert.equal(zeros([1], { dtype }).dtype, dtype);
 * assert.equal(DTYPES.length, 5);
 * ```
 */
export const DTYPES: readonly DType[] = ["float32", "float64", "int32", "uint32", "bool"];

/** Host typed array for each dtype; bool is stored as one byte (0 or 1). */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;

/** The typed-array class of each dtype. */
export const ARRAY_CTORS = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint32: Uint32Array,
  bool: Uint8Array,
} as const;

/** Typed-array constructor for a dtype. */
export function arrayFor(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(n);
    case "float64":
      return new Float64Array(n);
    case "int32":
      return new Int32Array(n);
    case "uint32":
      return new Uint32Array(n);
    case "bool":
      return new Uint8Array(n);
  }
}

/** Bytes per element. */
export function itemSize(dtype: DType): number {
  return dtype === "float64" ? 8 : dtype === "bool" ? 1 : 4;
}

/** True for float32 and float64 (the differentiable dtypes). */
export function isFloat(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64";
}

/** True for int32 and uint32. */
export function isInt(dtype: DType): boolean {
  return dtype === "int32" || dtype === "uint32";
}

/** True when `x` is a valid dtype name. */
export function isDType(x: unknown): x is DType {
  return typeof x === "string" && (DTYPES as readonly string[]).includes(x);
}

/** The dtype whose typed array matches `a`. */
export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Float64Array) return "float64";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Uint32Array) return "uint32";
  return "bool";
}
