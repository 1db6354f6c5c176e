/**
 * Worker threads for the CPU fast path. The workers share the GEMM module's
 * `WebAssembly.Memory` and take job entries from a lock-free claim word in it, so the
 * synchronous `Backend.execute` can fan a matmul out and block on `Atomics.wait` until all
 * entries are done. No messages flow after start-up.
 *
 * Threads come from `node:worker_threads` (Deno and Node; the workers are `unref`'d so they
 * never keep a process alive) or, elsewhere, from module Web Workers when the calling thread
 * may block. Where neither works the fast path stays single-threaded.
 * @module
 */
import { TesseraError } from "../../errors.ts";

/** Int32 indices of the control words at the start of the shared memory. */
export const CTL = {
  /** `(job & 0x7ff) << 20 | next entry index`; index 0xfffff = closed. */
  claim: 0,
  /** Entries in the current job. */
  count: 1,
  /** Entries finished in the current job. */
  done: 2,
  /** Bumped for every job; idle workers wait on it. */
  epoch: 3,
  /** Set to 1 to make workers exit. */
  exit: 4,
  /** Byte address of the job's entry table. */
  table: 5,
  /** Byte address of scratch slot 0 (main thread); worker w uses slot w. */
  scratch: 6,
  /** Bytes per scratch slot. */
  slotBytes: 7,
  /** Bytes of the packed-A buffer within a slot (packed B follows, then the edge tile). */
  paBytes: 9,
  /** Bytes of the packed-B buffer. */
  pbBytes: 10,
  /** Entries run by workers (not the calling thread) since the memory was created. */
  workerEntries: 11,
} as const;

/** Bytes reserved for the control words. */
export const CTL_BYTES = 256;
/** Bytes per job entry (11 × i32, see `matmul_kernel.ts`). */
export const ENTRY_BYTES = 44;
const CLOSED = 0xfffff;

/**
 * Claims and runs entries of the current job until none is left. Shared verbatim (via
 * `toString`) with the worker source, so it must stay self-contained.
 */
export function claimLoop(
  ctl: Int32Array,
  gemm: (entry: number, pa: number, pb: number, tile: number) => void,
  slot: number,
): void {
  for (;;) {
    const v = Atomics.load(ctl, 0);
    const count = Atomics.load(ctl, 1);
    const idx = v & 0xfffff;
    if (idx >= count) return;
    if (Atomics.compareExchange(ctl, 0, v, v + 1) !== v) continue;
    const scr = Atomics.load(ctl, 6) + slot * Atomics.load(ctl, 7);
    const pa = Atomics.load(ctl, 9), pb = Atomics.load(ctl, 10);
    gemm(Atomics.load(ctl, 5) + idx * 44, scr, scr + pa, scr + pa + pb);
    if (slot > 0) Atomics.add(ctl, 11, 1);
    if (Atomics.add(ctl, 2, 1) + 1 === count) Atomics.notify(ctl, 2);
  }
}

/** Int32 index of slot `s`'s state word: `gen * 4 + (0 new | 1 running | 2 exited | 3 cancelled)`. */
const STATE0 = 16;
/** Most participants a pool can have (state words fit in {@link CTL_BYTES}). */
export const MAX_THREADS = 48;

/** Start-up message of a worker. */
interface WorkerInit {
  bytes: Uint8Array<ArrayBuffer>;
  memory: WebAssembly.Memory;
  slot: number;
  gen: number;
}

/**
 * A worker's whole life: instantiate, claim its slot for this pool generation (a worker
 * that starts after its pool was shut down finds its slot cancelled and leaves), then wait
 * for jobs until told to exit.
 */
function workerMain(d: WorkerInit): void {
  const ctl = new Int32Array(d.memory.buffer, 0, 64);
  const st = 16 + d.slot, g = d.gen * 4;
  const mod = new WebAssembly.Module(d.bytes);
  const inst = new WebAssembly.Instance(mod, { env: { memory: d.memory } });
  const gemm = inst.exports.gemm as (e: number, pa: number, pb: number, t: number) => void;
  if (Atomics.compareExchange(ctl, st, g, g + 1) !== g) return;
  let seen = Atomics.load(ctl, 3);
  while (Atomics.load(ctl, 4) === 0) {
    claimLoop(ctl, gemm, d.slot);
    Atomics.wait(ctl, 3, seen);
    seen = Atomics.load(ctl, 3);
  }
  Atomics.store(ctl, st, g + 2);
  Atomics.notify(ctl, st);
}

let lastWorkerError: unknown;

/** The last error reported by a worker (a worker that fails to start takes no work). */
export function workerError(): unknown {
  return lastWorkerError;
}

interface ThreadHandle {
  terminate(): unknown;
}

type Spawner = (d: WorkerInit) => ThreadHandle;

const defs =
  `const claimLoop = ${claimLoop.toString()};\nconst workerMain = ${workerMain.toString()};\n`;

function nodeSpawner(): Spawner | undefined {
  // deno-lint-ignore no-explicit-any
  const proc = (globalThis as any).process;
  const wt = proc?.getBuiltinModule?.("node:worker_threads");
  if (!wt?.Worker) return undefined;
  const src = `${defs}require("node:worker_threads").parentPort.once("message", workerMain);`;
  return (d) => {
    const w = new wt.Worker(src, { eval: true });
    w.on("error", (e: unknown) => lastWorkerError = e);
    w.postMessage(d);
    w.unref();
    return w;
  };
}

function webSpawner(): Spawner | undefined {
  if (typeof Worker === "undefined" || typeof Blob === "undefined") return undefined;
  const src =
    `${defs}self.onmessage = (e) => { self.onmessage = null; workerMain(e.data); self.close(); };`;
  return (d) => {
    const url = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
    const w = new Worker(url, { type: "module" });
    URL.revokeObjectURL(url);
    w.onerror = (e) => {
      lastWorkerError = e;
      e.preventDefault();
    };
    w.postMessage(d);
    return w;
  };
}

/** Whether this thread may block in `Atomics.wait` (browsers forbid it on the main thread). */
export function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** Which thread implementation to use (`"auto"` prefers `node:worker_threads`). */
export type ThreadKind = "auto" | "node" | "web";

/** A pool of `size - 1` workers; the calling thread is the size-th participant. */
export class ThreadPool {
  /** Participants (workers + the calling thread). */
  readonly size: number;
  private readonly ctl: Int32Array;
  private readonly workers: ThreadHandle[] = [];
  private job = 0;
  private readonly gen: number;
  private static nextGen = 1;

  /**
   * Spawns `size - 1` workers on `memory` running the module `bytes`. Throws if no thread
   * implementation is available (check {@link threadsAvailable} first).
   */
  constructor(
    size: number,
    bytes: Uint8Array<ArrayBuffer>,
    memory: WebAssembly.Memory,
    kind: ThreadKind = "auto",
  ) {
    const spawn = kind === "web"
      ? webSpawner()
      : kind === "node"
      ? nodeSpawner()
      : nodeSpawner() ?? webSpawner();
    if (!spawn) throw new TesseraError("ThreadPool", "no worker threads here");
    if (size < 1 || size > MAX_THREADS) {
      throw new TesseraError("ThreadPool", `thread count ${size} not in 1..${MAX_THREADS}`);
    }
    this.size = size;
    this.gen = ThreadPool.nextGen++ & 0xfffffff;
    this.ctl = new Int32Array(memory.buffer, 0, CTL_BYTES / 4);
    Atomics.store(this.ctl, CTL.exit, 0);
    Atomics.store(this.ctl, CTL.claim, CLOSED);
    for (let s = 1; s < size; s++) {
      Atomics.store(this.ctl, STATE0 + s, this.gen * 4);
      this.workers.push(spawn({ bytes, memory, slot: s, gen: this.gen }));
    }
  }

  /** Workers that are currently running their job loop. */
  get alive(): number {
    let n = 0;
    for (let s = 1; s < this.size; s++) {
      if (Atomics.load(this.ctl, STATE0 + s) === this.gen * 4 + 1) n++;
    }
    return n;
  }

  /**
   * Runs `count` entries at byte address `table` on all participants and returns when all
   * are done. Scratch/buffer layout words (`CTL.scratch`, `slotBytes`, `paBytes`, `pbBytes`)
   * must already be set. Workers that have not started yet simply take no entries.
   */
  run(
    count: number,
    table: number,
    gemm: (e: number, pa: number, pb: number, t: number) => void,
  ): void {
    const ctl = this.ctl;
    if (count >= CLOSED) {
      throw new TesseraError(
        "ThreadPool.run",
        `${count} entries is too many (limit ${CLOSED - 1})`,
      );
    }
    this.job = (this.job + 1) & 0x7ff;
    Atomics.store(ctl, CTL.count, count);
    Atomics.store(ctl, CTL.table, table);
    Atomics.store(ctl, CTL.done, 0);
    Atomics.store(ctl, CTL.claim, this.job << 20);
    Atomics.add(ctl, CTL.epoch, 1);
    Atomics.notify(ctl, CTL.epoch);
    claimLoop(ctl, gemm, 0);
    for (;;) {
      const d = Atomics.load(ctl, CTL.done);
      if (d >= count) break;
      Atomics.wait(ctl, CTL.done, d);
    }
    Atomics.store(ctl, CTL.claim, CLOSED);
  }

  /**
   * Tells the workers to exit, waits (up to `timeoutMs` per worker) until every started
   * worker has left its loop, cancels those not started yet, and terminates them all.
   * The pool is unusable afterwards. Returns whether every worker was accounted for.
   */
  shutdown(timeoutMs = 2000): boolean {
    const ctl = this.ctl, g = this.gen * 4;
    Atomics.store(ctl, CTL.exit, 1);
    Atomics.add(ctl, CTL.epoch, 1);
    Atomics.notify(ctl, CTL.epoch);
    let clean = true;
    for (let s = 1; s < this.size; s++) {
      const i = STATE0 + s;
      if (Atomics.compareExchange(ctl, i, g, g + 3) === g) continue; // never started
      if (
        Atomics.load(ctl, i) === g + 1 && Atomics.wait(ctl, i, g + 1, timeoutMs) === "timed-out"
      ) {
        clean = false;
      }
    }
    for (const w of this.workers) {
      const r = w.terminate();
      if (r instanceof Promise) r.catch(() => {});
    }
    this.workers.length = 0;
    return clean;
  }
}

/**
 * Which worker threads the fast path can use from this thread (`"node"`: `node:worker_threads`,
 * `"web"`: module Web Workers), or `"none"` with the reason.
 */
export function threadSupport(kind: ThreadKind = "auto"): {
  kind: "node" | "web" | "none";
  reason: string;
} {
  if (typeof SharedArrayBuffer === "undefined") {
    return {
      kind: "none",
      reason: "no SharedArrayBuffer (a browser page must be cross-origin isolated: COOP/COEP)",
    };
  }
  if (!canBlock()) {
    return {
      kind: "none",
      reason: "this thread may not block in Atomics.wait (a browser's main thread; use a Worker)",
    };
  }
  const node = kind === "web" ? undefined : nodeSpawner();
  if (node) return { kind: "node", reason: "node:worker_threads" };
  if (kind !== "node" && webSpawner()) return { kind: "web", reason: "module Web Workers" };
  return { kind: "none", reason: `no ${kind === "auto" ? "" : kind + " "}worker threads here` };
}

/** Whether worker threads can be used from this thread at all. */
export function threadsAvailable(kind: ThreadKind = "auto"): boolean {
  if (typeof SharedArrayBuffer === "undefined" || !canBlock()) return false;
  if (kind === "node") return nodeSpawner() !== undefined;
  if (kind === "web") return webSpawner() !== undefined;
  return (nodeSpawner() ?? webSpawner()) !== undefined;
}
