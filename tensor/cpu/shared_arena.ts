/**
 * One growable SharedArrayBuffer that the CPU backend's fused-loop workers (./fused_threads.ts)
 * were given at start-up, so that arrays allocated in it can be shared with them by offset alone
 * (posting a large SharedArrayBuffer to a `node:worker_threads` worker costs ~25 ms per MB in
 * Deno, which would eat the gain). Blocks are recycled by exact byte size, like ./buffers.ts;
 * the arena only grows (up to {@link ARENA_MAX_BYTES} of reserved address space).
 * @module
 */
import { ARRAY_CTORS, type DType, itemSize, type TypedArray } from "../dtype.ts";

/** Address space reserved for the arena (only what is used is committed). */
export const ARENA_MAX_BYTES = 16 * 2 ** 30;
const ALIGN = 64;

let arena: SharedArrayBuffer | undefined | null;
let top = 0;
const free = new Map<number, number[]>();
/** Blocks whose array is garbage-collected undisposed go back to the free lists too. */
const lost = new FinalizationRegistry<[number, number]>(([size, off]) => giveBack(size, off));

function giveBack(size: number, off: number): void {
  const list = free.get(size);
  if (list) list.push(off);
  else free.set(size, [off]);
}

/** The arena (created on first use), or null where growable shared memory is unavailable. */
export function sharedArena(): SharedArrayBuffer | null {
  if (arena !== undefined) return arena;
  try {
    arena = new SharedArrayBuffer(1 << 16, { maxByteLength: ARENA_MAX_BYTES });
    if (!arena.growable) arena = null;
  } catch {
    arena = null;
  }
  return arena;
}

/** Byte offset of a free block of `bytes` (rounded up to 64), growing the arena if needed. */
function take(bytes: number): number | undefined {
  const a = sharedArena();
  if (!a) return undefined;
  const size = blockSize(bytes);
  const off = free.get(size)?.pop();
  if (off !== undefined) return off;
  if (top + size > a.byteLength) {
    const want = Math.min(ARENA_MAX_BYTES, Math.max(top + size, 2 * a.byteLength));
    if (top + size > want) return undefined;
    try {
      a.grow(want);
    } catch {
      return undefined;
    }
  }
  const at = top;
  top += size;
  return at;
}

/**
 * A typed array of `n` elements of `dtype` in the arena (contents arbitrary), or undefined when
 * the arena is unavailable or full.
 */
export function arenaAlloc(dtype: DType, n: number): TypedArray | undefined {
  const off = take(n * itemSize(dtype));
  if (off === undefined) return undefined;
  // The typed-array types here are ArrayBuffer-backed; a shared one behaves the same.
  const a = new ARRAY_CTORS[dtype](arena as unknown as ArrayBuffer, off, n);
  lost.register(a, [blockSize(n * itemSize(dtype)), off], a);
  return a;
}

/** Whether `a` lives in the arena. */
export function inArena(a: TypedArray): boolean {
  return !!arena && (a.buffer as unknown) === arena;
}

/** Gives an arena array's block back for reuse (call only when nothing reads it any more). */
export function arenaFree(a: TypedArray): void {
  if (lost.unregister(a)) giveBack(blockSize(a.byteLength), a.byteOffset);
}

function blockSize(bytes: number): number {
  return Math.ceil(Math.max(bytes, 1) / ALIGN) * ALIGN;
}

/** Bytes of the arena in use or on its free lists (it never shrinks). */
export function arenaBytes(): number {
  return top;
}
