/**
 * The per-device runtime every kernel runs against: the device and its limits, the buffer
 * pool, the command batch, the pipeline cache, the batched reader and the error state.
 * @module
 */
import { TesseraError } from "../errors.ts";
import { ErrorState } from "./errors.ts";
import { PipelineCache } from "./pipelines.ts";
import { BufferPool, GpuStorage, type PoolStats, Slab, slabLayout } from "./pool.ts";
import { CommandQueue } from "./queue.ts";
import { Reader } from "./readback.ts";
import { accessOf, type Binding, grid } from "./wgsl.ts";

/** Options of the runtime (and of `initWebGPU`). */
export interface RuntimeOptions {
  /** Submit each dispatch alone inside error scopes (default: `TESSERA_WEBGPU_DEBUG=1`). */
  debug?: boolean;
  /** Most bytes the pool keeps in free lists (default 1 GiB). */
  maxPooledBytes?: number;
}

/** One dispatch as kernels describe it. */
export interface Launch {
  /** WGSL source (entry point `main`). */
  wgsl: string;
  /** Storage bindings in order, as declared in the source. */
  bindings: readonly Binding[];
  /** Buffers for those bindings. */
  buffers: readonly (GPUBuffer | GpuStorage)[];
  /** Parameter words. */
  params: Uint32Array;
  /** Number of workgroups (split into a 2-D grid when needed). */
  groups: number;
  /** Optional third grid dimension (e.g. matmul batches). */
  z?: number;
  /** Explicit 2-D grid [x, y] (instead of splitting `groups`). */
  xy?: [number, number];
}

/** A WebGPU device with everything tessera keeps per device. */
export class Runtime {
  /** The device. */
  readonly device: GPUDevice;
  /** Adapter description, for reports. */
  readonly adapterInfo: GPUAdapterInfo;
  /** Most storage buffers one shader stage may bind. */
  readonly maxStorageBuffers: number;
  /** The largest storage buffer a kernel binds (maxStorageBufferBindingSize ∧ maxBufferSize). */
  readonly maxBindingBytes: number;
  /** Alignment of a storage binding's offset (bytes): slab views start at multiples of it. */
  readonly storageAlign: number;
  /** Most workgroups per grid dimension. */
  readonly maxGroups: number;
  /** Bytes of workgroup memory available. */
  readonly maxWorkgroupBytes: number;
  /** Asynchronous error state. */
  readonly errors: ErrorState = new ErrorState();
  /** Tensor buffer pool. */
  readonly pool: BufferPool;
  /** Pending command batch. */
  readonly queue: CommandQueue;
  /** Pipeline cache. */
  readonly pipelines: PipelineCache;
  /** Batched reader. */
  readonly reader: Reader;
  /** The 4-byte index-error flag (an atomic the gather/scatter kernels OR bits into). */
  readonly flag: GPUBuffer;
  #destroyed = false;

  /**
   * @param device a device (its limits are what the kernels may use)
   * @param adapterInfo adapter description
   * @param opts options
   */
  constructor(device: GPUDevice, adapterInfo: GPUAdapterInfo, opts: RuntimeOptions = {}) {
    this.device = device;
    this.adapterInfo = adapterInfo;
    const l = device.limits;
    this.maxStorageBuffers = l.maxStorageBuffersPerShaderStage;
    this.storageAlign = Math.max(4, l.minStorageBufferOffsetAlignment);
    this.maxGroups = l.maxComputeWorkgroupsPerDimension;
    this.maxWorkgroupBytes = l.maxComputeWorkgroupStorageSize;
    const maxBytes = Math.min(l.maxStorageBufferBindingSize, l.maxBufferSize);
    this.maxBindingBytes = maxBytes;
    this.pool = new BufferPool(
      device,
      maxBytes,
      opts.maxPooledBytes ?? 2 ** 30,
      (bytes, msg) =>
        this.errors.fail(
          this.errors.currentOp,
          `out of GPU memory allocating ${bytes} bytes: ${msg}`,
        ),
    );
    this.queue = new CommandQueue(device, this.errors, opts.debug ?? false);
    this.queue.onSubmit = () => this.pool.destroyDoomed();
    this.pipelines = new PipelineCache(device, this.errors);
    this.flag = device.createBuffer({
      label: "tessera index flag",
      size: 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    this.reader = new Reader(device, this.queue, this.errors, this.flag, (s) => this.#release(s));
    device.addEventListener("uncapturederror", (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.errors.fail(this.errors.currentOp, `WebGPU error: ${e.message.trim()}`);
    });
    device.lost.then((info) => {
      if (!this.#destroyed) this.errors.lose(`${info.reason}: ${info.message}`);
    });
  }

  /** Throws a pending asynchronous error, or if the device is gone. */
  check(): void {
    if (this.#destroyed) throw new TesseraError("webgpu", "the WebGPU device was destroyed");
    this.errors.check();
  }

  /** Storages offered to the next allocations (see {@link allocInto}), first first. */
  #offered: GpuStorage[] = [];

  /**
   * New output storage of `bytes` data bytes: the first offered storage when it has that size
   * (see {@link allocInto}), else a pooled buffer.
   */
  alloc(bytes: number, op: string): GpuStorage {
    if (this.#offered.length > 0 && this.#offered[0]!.bytes === bytes) {
      return this.#offered.shift()!;
    }
    return new GpuStorage(this.pool.acquire(bytes, op), bytes);
  }

  /**
   * Runs `fn` with `targets` offered, in order, to the allocations it makes, so the kernels it
   * records write their outputs there (a `jit` program places the gradients an optimizer's
   * grouped update reads into views of one buffer, which that kernel binds once instead of
   * copying each in); targets `fn` does not take are freed. An allocation of another size
   * takes a pooled buffer and leaves the offer standing.
   */
  allocInto<T>(targets: readonly GpuStorage[], fn: () => T): T {
    const saved = this.#offered;
    this.#offered = [...targets];
    try {
      return fn();
    } finally {
      for (const s of this.#offered) this.free(s);
      this.#offered = saved;
    }
  }

  /**
   * New output storages of `bytes[k]` bytes each, cut as views from one buffer at aligned
   * offsets (see {@link slabLayout}); the buffer returns to the pool when all are freed.
   */
  allocViews(bytes: readonly number[], op: string): GpuStorage[] {
    if (bytes.length === 0) return [];
    const { offsets, total } = slabLayout(bytes, this.storageAlign);
    const slab = new Slab(this.pool.acquire(total, op), bytes.length);
    return bytes.map((b, k) => new GpuStorage(slab.buffer, b, offsets[k]!, slab));
  }

  /**
   * A view of `bytes` bytes of `s` from byte `at` (which, with `s.offset`, must be a multiple of
   * {@link storageAlign}): shares `s`'s buffer, which returns to the pool when `s` and all its
   * views are freed. Layout ops that read a contiguous aligned run return one instead of a copy.
   */
  viewOf(s: GpuStorage, at: number, bytes: number): GpuStorage {
    if ((s.offset + at) % this.storageAlign !== 0) {
      throw new TesseraError("webgpu", `internal: view offset ${s.offset + at} is not aligned`);
    }
    if (!s.slab) s.slab = new Slab(s.buffer, 1);
    s.slab.live++;
    return new GpuStorage(s.buffer, bytes, s.offset + at, s.slab);
  }

  /** Frees a storage (its buffer returns to the pool once no read still needs it). */
  free(s: GpuStorage): void {
    if (s.freed) throw new TesseraError("webgpu", "internal: storage freed twice");
    s.freed = true;
    if (s.pins === 0) this.#release(s);
  }

  #release(s: GpuStorage): void {
    if (this.#destroyed) return;
    if (!s.slab) this.pool.release(s.buffer);
    else if (--s.slab.live === 0) this.pool.release(s.slab.buffer);
  }

  /** Records one dispatch of `op`. */
  run(op: string, l: Launch): void {
    const pipeline = this.pipelines.get(op, l.wgsl, accessOf(l.bindings));
    const g: [number, number, number] = l.xy
      ? [l.xy[0], l.xy[1], l.z ?? 1]
      : grid(l.groups, this.maxGroups, op);
    if (l.z !== undefined) g[2] = l.z;
    this.queue.dispatch({
      op,
      pipeline,
      params: l.params,
      buffers: l.buffers.map((b) => (b instanceof GpuStorage ? b.binding() : b)),
      grid: g,
    });
  }

  /** Pool counters plus submission counters. */
  stats(): PoolStats & {
    submits: number;
    dispatches: number;
    passes: number;
    copies: number;
    bindGroups: number;
    readBatches: number;
    pipelines: number;
  } {
    return {
      ...this.pool.stats(),
      submits: this.queue.submits,
      dispatches: this.queue.dispatches,
      passes: this.queue.passes,
      copies: this.queue.copies,
      bindGroups: this.queue.bindGroups,
      readBatches: this.reader.batches,
      pipelines: this.pipelines.size,
    };
  }

  /** True after {@link destroy}. */
  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** Submits pending work, waits for the GPU to finish it and for outstanding error scopes. */
  async sync(): Promise<void> {
    if (this.#destroyed) return;
    this.queue.flush();
    await this.device.queue.onSubmittedWorkDone();
    await this.errors.settle();
  }

  /**
   * Destroys the device at once without waiting for queued work (process teardown: a device
   * left alive while the process exits can crash some drivers' exit handlers).
   */
  destroyNow(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.pool.trim();
    this.queue.destroy();
    this.device.destroy();
  }

  /** Waits for pending work, then destroys the device (every buffer with it). */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    try {
      this.queue.flush();
      await this.device.queue.onSubmittedWorkDone();
    } finally {
      this.#destroyed = true;
      this.pool.trim();
      this.queue.destroy();
      this.device.destroy();
    }
  }
}
