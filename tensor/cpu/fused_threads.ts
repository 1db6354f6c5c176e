/**
 * Worker threads for the CPU backend's large fused elementwise loops (a jitted program's GELU,
 * AdamW, …): a loop's element range is cut into `getCpuThreads()` parts that the calling thread
 * and the workers claim, over arrays in the shared arena (./shared_arena.ts), and the caller
 * blocks in `Atomics.wait` until every part is done. Each element is computed by the same code as
 * single-threaded, so results are bit-identical. No messages flow after start-up: a job is a
 * descriptor in a shared control block (program id, the arrays' arena offsets, the source's
 * offset for a worker that has not compiled it yet). Workers come from `node:worker_threads`
 * (unref'd: they never hold a process open); where threads, blocking or growable shared memory
 * are unavailable (a browser page's main thread), loops run on the calling thread.
 * @module
 */
import { TesseraError } from "../errors.ts";
import type { DType } from "../dtype.ts";
import { canBlock } from "./wasm/pool.ts";
import { SCALAR_HELPERS } from "./op_exprs.ts";
import { arenaAlloc, sharedArena } from "./shared_arena.ts";

/** A compiled loop `(F, ins, outs, lo, hi)`, its source and its id (the workers' cache key). */
export interface SplitLoop {
  // deno-lint-ignore no-explicit-any
  loop: (F: typeof SCALAR_HELPERS, ins: any, outs: any, lo: number, hi: number) => void;
  id: number;
  src: string;
  /** What part bounds must be multiples of. */
  align: number;
}

/** Int32 words of the control block. */
const W = {
  epoch: 0,
  claim: 1,
  finished: 2,
  failed: 3,
  exit: 4,
  parts: 5,
  workerParts: 6,
} as const;
/** Float64 index of the job descriptor: id, n, srcOff, srcLen, dtype, nIn, nOut, chunk, pairs. */
const DESC = 8;
const CTL_BYTES = 1 << 16;
/** Most arrays one job can name. */
export const MAX_ARRAYS = (CTL_BYTES / 8 - DESC - 8) / 2;

interface Helper {
  terminate(): void;
  /** Set to 1 by the worker once it waits for jobs. */
  ready: Int32Array;
}

let helpers: Helper[] = [];
let ctl: SharedArrayBuffer | undefined;
let supported: boolean | undefined;
/** Arena offset and length of each program's source, written once. */
const sources = new Map<number, [number, number]>();

function spawn(slot: number): Helper | undefined {
  // deno-lint-ignore no-explicit-any
  const wt = (globalThis as any).process?.getBuiltinModule?.("node:worker_threads");
  if (!wt?.Worker) return undefined;
  const ready = new Int32Array(new SharedArrayBuffer(4));
  try {
    const w = new wt.Worker(new URL("./fused_worker.ts", import.meta.url), {
      workerData: { ready, ctl, arena: sharedArena(), slot },
    });
    w.on("error", () => Atomics.store(ready, 0, 2)); // it takes no parts any more
    w.unref();
    return { terminate: () => void w.terminate()?.catch?.(() => {}), ready };
  } catch {
    return undefined;
  }
}

/**
 * Whether loops can be split at all here, starting `threads - 1` workers on first use (they take
 * parts once they are up).
 */
export function splitAvailable(threads: number): boolean {
  supported ??= typeof SharedArrayBuffer !== "undefined" && canBlock() && sharedArena() !== null;
  if (!supported || threads < 2) return false;
  if (helpers.length !== threads - 1) {
    shutdownFusedThreads();
    ctl = new SharedArrayBuffer(CTL_BYTES);
    for (let s = 1; s < threads; s++) {
      const h = spawn(s);
      if (!h) break;
      helpers.push(h);
    }
  }
  return helpers.length > 0;
}

/** How long a worker may take over its part before the loop is declared failed. */
const TIMEOUT_MS = 120_000;
const DTYPE_CODE: Partial<Record<DType, number>> = { float32: 0, float64: 1 };

function sourceAt(c: SplitLoop): [number, number] | undefined {
  let at = sources.get(c.id);
  if (at) return at;
  const bytes = arenaAlloc("bool", c.src.length);
  if (!bytes) return undefined;
  for (let i = 0; i < c.src.length; i++) bytes[i] = c.src.charCodeAt(i); // generated code is ASCII
  sources.set(c.id, at = [bytes.byteOffset, c.src.length]);
  return at;
}

/**
 * Runs `c`'s loop over `0 ≤ i < n` cut into `threads` parts, claimed by the calling thread and
 * the started workers; every array of `ins` and `outs` must live in the shared arena. Returns
 * false, having run nothing, when the job cannot be described (too many arrays, arena full).
 */
export function runSplit(
  c: SplitLoop,
  dtype: DType,
  ins: readonly Float32Array[] | readonly Float64Array[],
  outs: readonly Float32Array[] | readonly Float64Array[],
  n: number,
  threads: number,
): boolean {
  const src = sourceAt(c);
  if (!ctl || !src || ins.length + outs.length > MAX_ARRAYS) return false;
  const i32 = new Int32Array(ctl), f64 = new Float64Array(ctl);
  const parts = threads, chunk = Math.ceil(Math.ceil(n / parts) / c.align) * c.align;
  const d = [c.id, n, src[0], src[1], DTYPE_CODE[dtype]!, ins.length, outs.length, chunk];
  d.forEach((v, j) => (f64[DESC + j] = v));
  let k = DESC + 8;
  for (const a of [...ins, ...outs]) {
    f64[k++] = a.byteOffset;
    f64[k++] = a.length;
  }
  // The claim word carries the job's tag (the new epoch's low bits) above the part index, so a
  // worker late for an earlier job cannot claim a part of this one.
  const tag = (Atomics.load(i32, W.epoch) + 1) & 0x7ff;
  Atomics.store(i32, W.parts, parts);
  Atomics.store(i32, W.finished, 0);
  Atomics.store(i32, W.failed, 0);
  Atomics.store(i32, W.claim, tag << 20);
  Atomics.add(i32, W.epoch, 1);
  Atomics.notify(i32, W.epoch);
  for (;;) {
    const p = Atomics.add(i32, W.claim, 1) & 0xfffff;
    if (p >= parts) break;
    c.loop(SCALAR_HELPERS, ins, outs, Math.min(n, p * chunk), Math.min(n, (p + 1) * chunk));
    Atomics.add(i32, W.finished, 1);
  }
  for (;;) {
    const done = Atomics.load(i32, W.finished);
    if (done >= parts) break;
    if (Atomics.wait(i32, W.finished, done, TIMEOUT_MS) === "timed-out") {
      shutdownFusedThreads();
      throw new TesseraError(
        "fusedElementwise",
        `a worker thread did not finish its part of a ${n}-element loop in ${TIMEOUT_MS} ms`,
      );
    }
  }
  if (Atomics.load(i32, W.failed) > 0) {
    throw new TesseraError("fusedElementwise", `a worker thread failed on a ${n}-element loop`);
  }
  return true;
}

/**
 * Parts of split loops that worker threads (not the calling thread) have run since the workers
 * started (0 when none are running).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { workerParts } from "./fused_threads.ts";
 * assert.ok(workerParts() >= 0);
 * ```
 */
export function workerParts(): number {
  return ctl ? Atomics.load(new Int32Array(ctl), W.workerParts) : 0;
}

/**
 * Stops the fused-loop workers (they are re-created by the next large loop).
 *
 * @example
 * ```ts
 * import { shutdownFusedThreads } from "./fused_threads.ts";
 * shutdownFusedThreads(); // no workers now; the next large fused loop starts them again
 * ```
 */
export function shutdownFusedThreads(): void {
  if (ctl) {
    const i32 = new Int32Array(ctl);
    Atomics.store(i32, W.exit, 1);
    Atomics.add(i32, W.epoch, 1);
    Atomics.notify(i32, W.epoch);
  }
  for (const h of helpers) h.terminate();
  helpers = [];
}
