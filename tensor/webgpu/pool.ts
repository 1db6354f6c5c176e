/**
 * GPU memory: the tensor storage type and a size-bucketed buffer pool.
 *
 * Buckets are "power-of-two-ish": four sizes per octave (2^k · {1, 1.25, 1.5, 1.75}), so a
 * request wastes at most 25% and a training step that frees and re-creates the same shapes
 * hits the pool every time. A buffer goes back to the pool only when its storage is freed
 * (its last tensor disposed) *and* no batched read still has to copy from it; the pool
 * tracks every buffer it has handed out and refuses to hand one out twice.
 *
 * Reusing a buffer whose old contents are still read by queued, unsubmitted commands is safe:
 * WebGPU executes commands in submission order, and every write into a buffer (a dispatch or
 * an upload) is recorded after those reads.
 * @module
 */
import type { Storage } from "../backend.ts";
import { TesseraError } from "../errors.ts";

/** Usage flags of every tensor buffer. */
export const TENSOR_USAGE: number = 0x80 /* STORAGE */ | 0x04 /* COPY_SRC */ | 0x08; /* COPY_DST */

/** Smallest buffer handed out (also what zero-element tensors get, so they can be bound). */
export const MIN_BUFFER_BYTES = 256;

/**
 * One pooled buffer shared by several storages (views at aligned offsets): a packed fused
 * kernel writes all its outputs into one buffer, and each output is a view of it. The buffer
 * returns to the pool when its last view is released.
 */
export class Slab {
  /** Views not yet released. */
  live: number;
  /**
   * @param buffer the pooled buffer
   * @param views how many views were cut from it
   */
  constructor(readonly buffer: GPUBuffer, views: number) {
    this.live = views;
  }
}

/**
 * A tensor's memory on the WebGPU backend: a pooled `GPUBuffer`, or a view of `bytes` bytes at
 * `offset` into a {@link Slab}'s buffer. Every binding, copy and read uses `offset`.
 */
export class GpuStorage implements Storage {
  /** Live tensors using this storage (maintained by tensor/memory.ts). */
  refs = 0;
  /** Reads that still have to copy from the buffer; it returns to the pool only at 0. */
  pins = 0;
  /** Set once the backend's `free` ran. */
  freed = false;
  /**
   * @param buffer the pooled buffer (its size is the bucket size, ≥ `bytes`)
   * @param bytes bytes of tensor data (4 per element; bool is stored as u32)
   * @param offset where the data starts in `buffer` (a multiple of the device's
   *   minStorageBufferOffsetAlignment; nonzero only for slab views)
   * @param slab the slab this storage is a view of, if any (a plain storage gets one when a
   *   view of it is first cut, see `Runtime.viewOf`)
   */
  constructor(
    readonly buffer: GPUBuffer,
    readonly bytes: number,
    readonly offset = 0,
    public slab: Slab | null = null,
  ) {}

  /** The binding of this storage (whole buffer, or the view's range, at least one word). */
  binding(): GPUBuffer | GPUBufferBinding {
    return this.slab
      ? { buffer: this.buffer, offset: this.offset, size: Math.max(4, this.bytes) }
      : this.buffer;
  }
}

/** Counters of a {@link BufferPool}. */
export interface PoolStats {
  /** Buffers currently handed out (held by live storages or pinned by reads). */
  liveBuffers: number;
  /** Their total bucket bytes. */
  liveBytes: number;
  /** Free buffers kept for reuse. */
  pooledBuffers: number;
  /** Their total bytes. */
  pooledBytes: number;
  /** Requests served from the pool. */
  hits: number;
  /** Requests that created a new buffer. */
  misses: number;
}

/** The bucket (allocation) size for a request of `bytes`. */
export function bucketSize(bytes: number): number {
  const n = Math.max(bytes, MIN_BUFFER_BYTES);
  const p = 2 ** Math.ceil(Math.log2(n)); // n ≤ p
  const half = p / 2;
  for (let q = 1; q <= 4; q++) {
    const s = half + (half * q) / 4;
    if (s >= n && Number.isInteger(s) && s % 4 === 0) return s;
  }
  return p;
}

/** Size-bucketed pool of tensor buffers for one device. */
export class BufferPool {
  readonly #device: GPUDevice;
  readonly #free = new Map<number, GPUBuffer[]>();
  readonly #out = new Set<GPUBuffer>();
  readonly #maxBytes: number;
  readonly #maxPooled: number;
  readonly #doomed: GPUBuffer[] = [];
  readonly #onOom: (bytes: number, detail: string) => void;
  #pooledBytes = 0;
  #liveBytes = 0;
  #hits = 0;
  #misses = 0;
  /** The running taped call: its acquisitions so far, and the ones it prefers. */
  #tape: { now: GPUBuffer[]; want: readonly GPUBuffer[] | null; wanted: Set<GPUBuffer> } | null =
    null;
  /** Per key, the acquisitions of its last two taped calls (older first). */
  readonly #tapes = new WeakMap<object, GPUBuffer[][]>();

  /**
   * @param device the device that owns the buffers
   * @param maxBytes largest bindable buffer (maxStorageBufferBindingSize ∧ maxBufferSize)
   * @param maxPooled most bytes kept in free lists (excess buffers are destroyed)
   * @param onOom called (asynchronously) when creating a buffer reports out-of-memory
   */
  constructor(
    device: GPUDevice,
    maxBytes: number,
    maxPooled: number,
    onOom: (bytes: number, detail: string) => void,
  ) {
    this.#device = device;
    this.#maxBytes = maxBytes;
    this.#maxPooled = maxPooled;
    this.#onOom = onOom;
  }

  /** A buffer of at least `bytes` (bucketed); `op` names the caller in errors. */
  acquire(bytes: number, op: string): GPUBuffer {
    if (bytes > this.#maxBytes) {
      throw new TesseraError(
        op,
        `a tensor of ${bytes} bytes exceeds the WebGPU device's largest storage binding ` +
          `(maxStorageBufferBindingSize = ${this.#maxBytes} bytes); split it into smaller tensors`,
      );
    }
    const size = Math.min(bucketSize(bytes), Math.max(this.#maxBytes, MIN_BUFFER_BYTES));
    const list = this.#free.get(size);
    let buf = this.#preferred(list, size) ?? this.#unwanted(list);
    if (buf) {
      this.#hits++;
      this.#pooledBytes -= size;
    } else {
      this.#misses++;
      this.#device.pushErrorScope("out-of-memory");
      buf = this.#device.createBuffer({ size, usage: TENSOR_USAGE });
      this.#device.popErrorScope().then((e) => {
        if (e) this.#onOom(size, e.message);
      }, () => {});
    }
    if (this.#out.has(buf)) {
      throw new TesseraError(op, "internal: buffer pool handed out a buffer still in use");
    }
    this.#out.add(buf);
    this.#liveBytes += size;
    this.#tape?.now.push(buf);
    return buf;
  }

  /** The free buffer a taped call's next acquisition got two calls ago, if it is free now. */
  #preferred(list: GPUBuffer[] | undefined, size: number): GPUBuffer | undefined {
    const w = this.#tape?.want?.[this.#tape.now.length];
    if (!list || !w || w.size !== size) return undefined;
    const at = list.lastIndexOf(w);
    if (at < 0) return undefined;
    list.splice(at, 1);
    this.#tape!.wanted.delete(w);
    return w;
  }

  /** A free buffer of the list, not one a later acquisition of the taped call prefers if possible. */
  #unwanted(list: GPUBuffer[] | undefined): GPUBuffer | undefined {
    const wanted = this.#tape?.wanted;
    if (!list || !wanted?.size) return list?.pop();
    for (let k = list.length - 1; k >= 0; k--) {
      if (!wanted.has(list[k]!)) return list.splice(k, 1)[0];
    }
    return list.pop();
  }

  /**
   * Runs `fn` with its acquisitions taped under `key`: the i-th prefers the buffer the i-th got
   * two calls ago when that one is free. A replayed `jit` program frees and acquires in the
   * same order every call, and the outputs of call k − 1 are still held (they are call k's
   * inputs) while those of call k − 2 are free, so its buffers repeat with period two and its
   * bind groups are found in the queue's cache.
   */
  taped<T>(key: object, fn: () => T): T {
    if (this.#tape) return fn();
    const hist = this.#tapes.get(key) ?? [];
    const want = hist.length === 2 ? hist[0]! : null;
    const tape = this.#tape = { now: [] as GPUBuffer[], want, wanted: new Set(want) };
    try {
      return fn();
    } finally {
      this.#tape = null;
      this.#tapes.set(key, [...hist.slice(-1), tape.now]);
    }
  }

  /** Returns a buffer; it must have come from {@link acquire} and not been released. */
  release(buf: GPUBuffer): void {
    if (!this.#out.delete(buf)) {
      throw new TesseraError("webgpu", "internal: buffer released twice or not from this pool");
    }
    this.#liveBytes -= buf.size;
    if (this.#pooledBytes + buf.size > this.#maxPooled) {
      // Commands recorded but not yet submitted may still bind it: destroy after the submit.
      this.#doomed.push(buf);
      return;
    }
    let list = this.#free.get(buf.size);
    if (!list) this.#free.set(buf.size, list = []);
    list.push(buf);
    this.#pooledBytes += buf.size;
  }

  /** Destroys surplus buffers released since the last submission (call after a submit). */
  destroyDoomed(): void {
    for (const b of this.#doomed) b.destroy();
    this.#doomed.length = 0;
  }

  /** True while `buf` is handed out. */
  isLive(buf: GPUBuffer): boolean {
    return this.#out.has(buf);
  }

  /** Destroys every pooled (free) buffer. */
  trim(): void {
    this.destroyDoomed();
    for (const list of this.#free.values()) for (const b of list) b.destroy();
    this.#free.clear();
    this.#pooledBytes = 0;
  }

  /** Current counters. */
  stats(): PoolStats {
    let pooledBuffers = 0;
    for (const l of this.#free.values()) pooledBuffers += l.length;
    return {
      liveBuffers: this.#out.size,
      liveBytes: this.#liveBytes,
      pooledBuffers,
      pooledBytes: this.#pooledBytes,
      hits: this.#hits,
      misses: this.#misses,
    };
  }
}

/**
 * Where views of `bytes[k]` bytes go in one slab: each at a multiple of `align` bytes, each at
 * least one word long (a binding is never empty).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { slabLayout } from "./pool.ts";
 * assert.deepEqual(slabLayout([12, 0, 40], 32), { offsets: [0, 32, 64], total: 104 });
 * ```
 */
export function slabLayout(
  bytes: readonly number[],
  align: number,
): { offsets: number[]; total: number } {
  const offsets: number[] = [];
  let at = 0;
  for (const b of bytes) {
    at = Math.ceil(at / align) * align;
    offsets.push(at);
    at += Math.max(4, b);
  }
  return { offsets, total: at };
}
