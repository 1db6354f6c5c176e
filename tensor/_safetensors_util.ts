/**
 * Private pieces of the safetensors codec (safetensors_codec.ts, safetensors.ts): the dtype
 * name tables, half/bfloat16 widening, byte-order fixes and header validation helpers.
 * @module
 */
import { type DType, type TypedArray } from "./dtype.ts";
import { fmtShape, TesseraError } from "./errors.ts";

const OP = "safetensors";
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** safetensors dtype names written for each tessera dtype. */
export const WRITE_NAMES: Record<DType, string> = {
  float32: "F32",
  float64: "F64",
  int32: "I32",
  uint32: "U32",
  bool: "BOOL",
};

/** The typed array class holding each tessera dtype. */
export const ARRAYS: Record<DType, abstract new (n: number) => TypedArray> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint32: Uint32Array,
  bool: Uint8Array,
};

const scratch = new Uint32Array(1);
const scratchF32 = new Float32Array(scratch.buffer);

/** Converts IEEE half-precision bits to a number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

type Getter = (v: DataView, i: number) => number;
/**
 * Every dtype name the decoder accepts: stored byte size, the tessera dtype it becomes, and a
 * little-endian element reader for the types tessera does not store as-is (I64/U64 aside).
 */
export const READ_TYPES: Record<string, [size: number, dtype: DType, get?: Getter]> = {
  F64: [8, "float64"],
  F32: [4, "float32"],
  I32: [4, "int32"],
  U32: [4, "uint32"],
  BOOL: [1, "bool"],
  I64: [8, "int32"],
  U64: [8, "uint32"],
  F16: [2, "float32", (v, i) => halfToFloat(v.getUint16(i * 2, true))],
  BF16: [2, "float32", (v, i) => (scratch[0] = v.getUint16(i * 2, true) << 16, scratchF32[0]!)],
  I16: [2, "int32", (v, i) => v.getInt16(i * 2, true)],
  U16: [2, "int32", (v, i) => v.getUint16(i * 2, true)],
  I8: [1, "int32", (v, i) => v.getInt8(i)],
  U8: [1, "int32", (v, i) => v.getUint8(i)],
};

/** Converts elements of `size` bytes between little-endian and host order, in place. */
export function swapToHost(b: Uint8Array, size: number): void {
  if (LITTLE_ENDIAN || size === 1) return;
  for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
}

/** Throws a TesseraError from the safetensors codec. */
export function fail(detail: string): never {
  throw new TesseraError(OP, detail);
}

/** Defines an own enumerable property (safe even for the name `__proto__`). */
export function put<T>(rec: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(rec, key, { value, enumerable: true, writable: true, configurable: true });
}

/** `s` quoted as JSON, for error messages. */
export const q = (s: string): string => JSON.stringify(s);

/** Lexicographic byte order (for sorting tensor names by their UTF-8 bytes). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Number of elements of a validated shape (at most 2^50, so byte counts stay exact). */
export function numelOf(name: string, shape: unknown): number {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(
      `tensor ${q(name)}: shape must be an array of non-negative integers, got ${
        JSON.stringify(shape)
      }`,
    );
  }
  if (shape.includes(0)) return 0;
  let n = 1;
  for (const d of shape as number[]) {
    n *= d;
    if (n > 2 ** 50) fail(`tensor ${q(name)}: shape ${fmtShape(shape)} has too many elements`);
  }
  return n;
}
