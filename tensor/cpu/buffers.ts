/**
 * Recycling of large CPU buffers. Fresh multi-megabyte typed arrays cost page faults and
 * kernel zeroing that can exceed the kernel's own work (a float32 add over 3M elements:
 * ~9 ms fresh vs ~2.5 ms reused), so storage freed by `dispose`/`scope` goes to a
 * per-size free list and later kernel outputs of the same byte size take it back
 * (zero-filled). Small arrays (< 64 KiB) are left to the garbage collector.
 * @module
 */
import type { DType, TypedArray } from "../dtype.ts";
import { arenaFree, inArena } from "./shared_arena.ts";

const MIN_BYTES = 1 << 16;
const CTORS = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint32: Uint32Array,
  bool: Uint8Array,
} as const;
const WIDTH: Record<DType, number> = { float32: 4, float64: 8, int32: 4, uint32: 4, bool: 1 };

const free = new Map<number, ArrayBuffer[]>();
let pooledBytes = 0;
let limitBytes = 4 * 2 ** 30;

/**
 * A typed array of `n` elements of `dtype`, reusing a recycled buffer when one of the same
 * byte size is free. Zero-filled unless `zero` is false (then the contents are arbitrary).
 */
export function allocArray(dtype: DType, n: number, zero = true): TypedArray {
  const bytes = n * WIDTH[dtype];
  if (bytes >= MIN_BYTES) {
    const list = free.get(bytes);
    const buf = list?.pop();
    if (buf) {
      pooledBytes -= bytes;
      const a = new CTORS[dtype](buf);
      if (zero) a.fill(0);
      return a;
    }
  }
  return new CTORS[dtype](n);
}

/**
 * Gives `a`'s memory back for reuse. Only call it when nothing can read `a` any more (the
 * CPU backend does so from `free`, when the last tensor on a storage is disposed).
 */
export function recycle(a: TypedArray): void {
  if (inArena(a)) return arenaFree(a);
  const buf = a.buffer;
  const bytes = a.byteLength;
  if (
    bytes < MIN_BYTES || a.byteOffset !== 0 || buf.byteLength !== bytes ||
    !(buf instanceof ArrayBuffer) || pooledBytes + bytes > limitBytes
  ) return;
  const list = free.get(bytes);
  if (list) list.push(buf);
  else free.set(bytes, [buf]);
  pooledBytes += bytes;
}

/**
 * Sets how many bytes of freed buffers the CPU backend may keep for reuse (default 4 GiB);
 * lowering it drops what exceeds the new limit (0 turns recycling off).
 */
export function setBufferPoolLimit(bytes: number): void {
  limitBytes = bytes;
  for (const [size, list] of free) {
    while (list.length > 0 && pooledBytes > limitBytes) {
      list.pop();
      pooledBytes -= size;
    }
    if (list.length === 0) free.delete(size);
  }
}

/** Bytes currently held for reuse. */
export function bufferPoolBytes(): number {
  return pooledBytes;
}
