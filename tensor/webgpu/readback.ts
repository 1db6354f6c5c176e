/**
 * Asynchronous readback, batched. `read` records nothing at once: it pins the storage (so its
 * buffer cannot return to the pool) and queues the request; a microtask then copies every
 * request queued in the same tick into one staging buffer, submits once and maps once. In
 * Deno a map takes about one device-poll interval (~10 ms) however small it is, so
 * `Promise.all([a.data(), b.data()])` costs one round trip instead of two.
 *
 * The device's index-error flag (set by gather/scatterAdd on an out-of-range index) is copied
 * along with every batch; when set, the batch's reads reject with a TesseraError.
 * @module
 */
import { arrayFor, type DType, type TypedArray } from "../dtype.ts";
import { TesseraError } from "../errors.ts";
import type { ErrorState } from "./errors.ts";
import type { GpuStorage } from "./pool.ts";
import type { CommandQueue } from "./queue.ts";

interface Request {
  storage: GpuStorage;
  dtype: DType;
  size: number;
  resolve: (a: TypedArray) => void;
  reject: (e: unknown) => void;
}

/** Flag bits written by kernels that detect bad indices. */
export const FLAG_GATHER = 1, FLAG_SCATTER = 2, FLAG_BOXES = 4;

/** Batched reader of one device. */
export class Reader {
  readonly #device: GPUDevice;
  readonly #queue: CommandQueue;
  readonly #errors: ErrorState;
  readonly #flag: GPUBuffer;
  readonly #unpin: (s: GpuStorage) => void;
  #batch: Request[] = [];
  /** Batches mapped so far (for tests). */
  batches = 0;

  /**
   * @param device the device
   * @param queue its command batch
   * @param errors error sink
   * @param flag the 4-byte index-error flag buffer
   * @param unpin called once a storage's copy has been recorded
   */
  constructor(
    device: GPUDevice,
    queue: CommandQueue,
    errors: ErrorState,
    flag: GPUBuffer,
    unpin: (s: GpuStorage) => void,
  ) {
    this.#device = device;
    this.#queue = queue;
    this.#errors = errors;
    this.#flag = flag;
    this.#unpin = unpin;
  }

  /** Reads `size` elements of `storage` as `dtype` (bool arrives as 0/1 bytes). */
  read(storage: GpuStorage, dtype: DType, size: number): Promise<TypedArray> {
    return new Promise((resolve, reject) => {
      storage.pins++;
      if (this.#batch.length === 0) queueMicrotask(() => this.#flush());
      this.#batch.push({ storage, dtype, size, resolve, reject });
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#batch;
    this.#batch = [];
    const offsets: number[] = [];
    let total = 0;
    for (const r of batch) {
      offsets.push(total);
      total += Math.ceil((r.size * 4) / 8) * 8;
    }
    const flagAt = total;
    total += 8;
    let staging: GPUBuffer | null = null;
    try {
      staging = this.#device.createBuffer({
        label: "tessera readback",
        size: total,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      batch.forEach((r, i) =>
        this.#queue.copy(r.storage.buffer, r.storage.offset, staging!, offsets[i]!, r.size * 4)
      );
      this.#queue.copy(this.#flag, 0, staging, flagAt, 4);
      this.#queue.flush();
    } catch (e) {
      this.#finish(batch);
      staging?.destroy();
      for (const r of batch) r.reject(e);
      return;
    }
    this.#finish(batch);
    try {
      await staging.mapAsync(GPUMapMode.READ);
      const bytes = new Uint8Array(staging.getMappedRange().slice(0));
      staging.unmap();
      const flag = new Uint32Array(bytes.buffer, flagAt, 1)[0]!;
      this.batches++;
      await this.#errors.settle();
      if (flag !== 0) {
        // A queue write, not a recorded copy: it must survive a command buffer that a
        // failed pipeline invalidates.
        this.#device.queue.writeBuffer(this.#flag, 0, new Uint32Array(1));
        if (!(flag & (FLAG_GATHER | FLAG_SCATTER))) {
          throw new TesseraError(
            "roiAlign",
            "invalid box (detected on the GPU): a box needs an integer batch index in " +
              "[0, N), finite coordinates, x2 >= x1 and y2 >= y1; results are undefined",
          );
        }
        const op = flag & FLAG_GATHER ? "gather" : "scatterAdd";
        throw new TesseraError(
          op,
          "index out of range (detected on the GPU; an op before this read got an index " +
            "outside [0, size) of its axis, and its result is undefined)",
        );
      }
      batch.forEach((r, i) => r.resolve(decode(bytes, offsets[i]!, r.dtype, r.size)));
    } catch (e) {
      for (const r of batch) r.reject(e);
    } finally {
      staging.destroy();
    }
  }

  #finish(batch: Request[]): void {
    for (const r of batch) {
      r.storage.pins--;
      if (r.storage.pins === 0 && r.storage.freed) this.#unpin(r.storage);
    }
  }
}

/** Copies `size` 32-bit elements at `offset` into a new typed array of `dtype`. */
function decode(bytes: Uint8Array, offset: number, dtype: DType, size: number): TypedArray {
  const words = new Uint32Array(bytes.buffer, offset, size);
  if (dtype === "bool") {
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i++) out[i] = words[i] !== 0 ? 1 : 0;
    return out;
  }
  const out = arrayFor(dtype, size);
  new Uint32Array(out.buffer).set(words);
  return out;
}
