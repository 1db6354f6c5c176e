/**
 * Recycling of large CPU buffers. Fresh multi-megabyte typed arrays cost page faults and
 * kernel zeroing that can exceed the kernel's own work (a float32 add over 3M elements:
 * ~9 ms fresh vs ~2.5 ms reused), so storage freed by `dispose`/`scope` goes to a
 * per-size free list and later kernel outputs of the same byte size take it back
 * (zero-filled). Small arrays (< 64 KiB) are left to the garbage collector.
 * @module
 */
import { ARRAY_CTORS, type DType, itemSize, type TypedArray } from "../dtype.ts";
import { arenaFree, inArena } from "./shared_arena.ts";

const MIN_BYTES = 1 << 16;

const free = new Map<number, ArrayBuffer[]>();
let pooledBytes = 0;
let limitBytes = 4 * 2 ** 30;

/**
 * A typed array of `n` elements of `dtype`, reusing a recycled buffer when one of the same
 * byte size is free. Zero-filled unless `zero` is false (then the contents are arbitrary).
 */
export function allocArray(dtype: DType, n: number, zero = true): TypedArray {
  const bytes = n * itemSize(dtype);
  if (bytes >= MIN_BYTES) {
    const list = free.get(bytes);
    const buf = list?.pop();
    if (buf) {
      pooledBytes -= bytes;
      const a = new ARRAY_CTORS[dtype](buf);
      if (zero) a.fill(0);
      return a;
    }
  }
  return new ARRAY_CTORS[dtype](n);
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
