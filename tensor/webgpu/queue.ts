/**
 * Command batching. Dispatches, copies and small uploads are recorded into one pending
 * command encoder and submitted together (at a read, when the batch grows large, or on
 * `flush()`), so a training step costs a handful of submissions rather than one per op.
 *
 * Kernel parameters and small uploads are staged in one host "arena" that is written to a
 * GPU buffer (`queue.writeBuffer`) right before the batch is submitted; each dispatch binds
 * its parameter block at an aligned offset, and each small upload is a recorded copy out of
 * the arena, so it lands in command order. Large uploads submit the batch first and then use
 * `writeBuffer` directly, which the queue orders after that batch.
 *
 * Debug mode (`TESSERA_WEBGPU_DEBUG=1`) submits every dispatch on its own inside validation
 * and out-of-memory error scopes, so an error names the exact op.
 * @module
 */
import type { ErrorState } from "./errors.ts";
import type { Pipeline } from "./pipelines.ts";

/** Arena size in bytes (parameters of ~4000 dispatches, or uploads). */
const ARENA_BYTES = 1 << 20;
/** Uploads up to this size go through the arena. */
const SMALL_UPLOAD = 64 << 10;
/** Auto-submit after this many recorded commands. */
const MAX_BATCH = 512;
/** Bind groups kept for reuse (least recently used dropped first). */
const MAX_GROUPS = 16384;

/** Small integer ids of GPU objects, for bind-group cache keys. */
const ids = new WeakMap<object, number>();
let nextId = 0;
const idOf = (o: object) => {
  let id = ids.get(o);
  if (id === undefined) ids.set(o, id = nextId++);
  return id;
};

/** One dispatch: the pipeline, its parameters and storage buffers, and its size. */
export interface DispatchSpec {
  /** Op name (for errors and labels). */
  op: string;
  /** Pipeline from the cache. */
  pipeline: Pipeline;
  /** Parameter words (bound as a uniform `array<vec4<u32>, N>`; length a multiple of 4). */
  params: Uint32Array;
  /** Storage buffers (whole, or a range) for bindings 1..n, in the pipeline's order. */
  buffers: readonly (GPUBuffer | GPUBufferBinding)[];
  /** Workgroup counts [x, y, z]. */
  grid: readonly [number, number, number];
}

/** The pending batch of one device. */
export class CommandQueue {
  readonly #device: GPUDevice;
  readonly #errors: ErrorState;
  readonly #align: number;
  readonly #arena: GPUBuffer;
  readonly #host = new Uint8Array(ARENA_BYTES);
  readonly #debug: boolean;
  #used = 0;
  #encoder: GPUCommandEncoder | null = null;
  /** The open compute pass: consecutive dispatches share it (a copy ends it). */
  #pass: GPUComputePassEncoder | null = null;
  /** Nesting depth of {@link CommandQueue.hold}: no submission by count while > 0. */
  #held = 0;
  #count = 0;
  /** Compute passes begun so far. */
  passes = 0;
  /** Buffer copies recorded so far. */
  copies = 0;
  /** Bind groups created so far (a replayed program reuses its groups: see #groups). */
  bindGroups = 0;
  /**
   * Bind groups by layout, parameter size and buffers. A replay records the same dispatches
   * on the same pooled buffers, so after the first replay every group is found here; a group
   * whose buffer was destroyed is never asked for again (a new buffer has a new id) and ages out.
   */
  readonly #groups = new Map<string, GPUBindGroup>();
  /** Submissions so far (for tests and stats). */
  submits = 0;
  /** Dispatches so far. */
  dispatches = 0;
  /** Called right after each submission (the pool destroys surplus buffers then). */
  onSubmit: (() => void) | null = null;

  /**
   * @param device the device
   * @param errors error sink
   * @param debug wrap each dispatch in error scopes and submit it alone
   */
  constructor(device: GPUDevice, errors: ErrorState, debug: boolean) {
    this.#device = device;
    this.#errors = errors;
    this.#debug = debug;
    this.#align = Math.max(16, device.limits.minUniformBufferOffsetAlignment);
    this.#arena = device.createBuffer({
      label: "tessera arena",
      size: ARENA_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
  }

  #enc(): GPUCommandEncoder {
    return this.#encoder ??= this.#device.createCommandEncoder();
  }

  /** Reserves `bytes` in the arena (submitting the batch first when it is full). */
  #reserve(bytes: number): number {
    let off = Math.ceil(this.#used / this.#align) * this.#align;
    if (off + bytes > ARENA_BYTES) {
      this.flush();
      off = 0;
    }
    this.#used = off + bytes;
    return off;
  }

  #counted(): void {
    if (++this.#count >= MAX_BATCH && this.#held === 0) this.flush();
  }

  #endPass(): void {
    this.#pass?.end();
    this.#pass = null;
  }

  /**
   * Runs `fn` with its commands in one submission (unless the parameter arena fills up or a
   * large upload intervenes), submitted when it returns or throws. A `jit` replay is one.
   */
  hold<T>(fn: () => T): T {
    this.#held++;
    try {
      return fn();
    } finally {
      if (--this.#held === 0) this.flush();
    }
  }

  /** Records one compute dispatch. */
  dispatch(s: DispatchSpec): void {
    this.#errors.currentOp = s.op;
    if (this.#debug) {
      this.flush();
      this.#device.pushErrorScope("validation");
      this.#device.pushErrorScope("out-of-memory");
    }
    const bytes = s.params.byteLength;
    const off = this.#reserve(bytes);
    this.#host.set(new Uint8Array(s.params.buffer, s.params.byteOffset, bytes), off);
    const group = this.#group(s, bytes);
    if (!this.#pass) {
      this.#pass = this.#enc().beginComputePass();
      this.passes++;
    }
    const pass = this.#pass;
    pass.setPipeline(s.pipeline.pipeline);
    pass.setBindGroup(0, group, [off]);
    pass.dispatchWorkgroups(s.grid[0], s.grid[1], s.grid[2]);
    this.dispatches++;
    if (this.#debug) {
      this.flush();
      this.#errors.track(s.op, "out of GPU memory", this.#device.popErrorScope());
      this.#errors.track(s.op, "WebGPU validation error", this.#device.popErrorScope());
    } else {
      this.#counted();
    }
  }

  /** The bind group of a dispatch's buffers (parameters: `bytes` at a dynamic offset). */
  #group(s: DispatchSpec, bytes: number): GPUBindGroup {
    let key = `${idOf(s.pipeline.layout)}:${bytes}`;
    for (const b of s.buffers) {
      key += b instanceof GPUBuffer ? `,${idOf(b)}` : `,${idOf(b.buffer)}@${b.offset}+${b.size}`;
    }
    let group = this.#groups.get(key);
    if (group) {
      this.#groups.delete(key); // most recently used last
    } else {
      const entries: GPUBindGroupEntry[] = [
        { binding: 0, resource: { buffer: this.#arena, offset: 0, size: bytes } },
      ];
      s.buffers.forEach((b, i) =>
        entries.push({ binding: i + 1, resource: b instanceof GPUBuffer ? { buffer: b } : b })
      );
      group = this.#device.createBindGroup({ layout: s.pipeline.layout, entries });
      this.bindGroups++;
      if (this.#groups.size >= MAX_GROUPS) this.#groups.delete(this.#groups.keys().next().value!);
    }
    this.#groups.set(key, group);
    return group;
  }

  /** Records a buffer-to-buffer copy (offsets and size multiples of 4). */
  copy(src: GPUBuffer, srcOff: number, dst: GPUBuffer, dstOff: number, size: number): void {
    if (size === 0) return;
    this.#endPass();
    if (src === dst) {
      // WebGPU copies only between distinct buffers; ranges of one slab (views a `jit` program
      // placed side by side) go through a scratch buffer kept at the largest size needed.
      const scratch = this.#scratchOf(size);
      this.#enc().copyBufferToBuffer(src, srcOff, scratch, 0, size);
      this.#enc().copyBufferToBuffer(scratch, 0, dst, dstOff, size);
      this.copies++;
    } else {
      this.#enc().copyBufferToBuffer(src, srcOff, dst, dstOff, size);
    }
    this.copies++;
    this.#counted();
  }

  /** Whether a compute pass is open (a copy now would end it). */
  get inPass(): boolean {
    return this.#pass !== null;
  }

  #scratch: GPUBuffer | null = null;
  #retired: GPUBuffer[] = [];

  #scratchOf(size: number): GPUBuffer {
    if (!this.#scratch || this.#scratch.size < size) {
      // Commands recorded before may still use the old one: destroy it after the submission.
      if (this.#scratch) this.#retired.push(this.#scratch);
      this.#scratch = this.#device.createBuffer({
        label: "tessera copy scratch",
        size: Math.max(size, 2 * (this.#scratch?.size ?? 0)),
        usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
    }
    return this.#scratch;
  }

  /** Writes host bytes (length a multiple of 4) into `dst` at `dstOff`, in command order. */
  write(dst: GPUBuffer, dstOff: number, data: Uint8Array): void {
    const n = data.byteLength;
    if (n === 0) return;
    if (n <= SMALL_UPLOAD) {
      const off = this.#reserve(n);
      this.#host.set(data, off);
      this.copy(this.#arena, off, dst, dstOff, n);
    } else {
      this.flush();
      this.#device.queue.writeBuffer(dst, dstOff, data as Uint8Array<ArrayBuffer>);
    }
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (!this.#encoder) {
      this.#used = 0;
      return;
    }
    this.#endPass();
    if (this.#used > 0) this.#device.queue.writeBuffer(this.#arena, 0, this.#host, 0, this.#used);
    const cmd = this.#encoder.finish();
    this.#encoder = null;
    this.#count = 0;
    this.#used = 0;
    this.#device.queue.submit([cmd]);
    this.submits++;
    for (const b of this.#retired.splice(0)) b.destroy();
    this.onSubmit?.();
  }

  /** Releases the arena (the device is being destroyed). */
  destroy(): void {
    this.#pass = null;
    this.#groups.clear();
    this.#encoder = null;
    this.#arena.destroy();
    this.#scratch?.destroy();
  }
}
