/**
 * The float32 matmul fast path of the CPU backend: the generated WebAssembly SIMD GEMM
 * (`matmul_kernel.ts`) on one shared memory, fanned out over worker threads (`pool.ts`) for
 * large products. Everything is synchronous: inputs are copied into the module's memory,
 * the job is split into entries (batch items, or row/column chunks of a big matrix), and
 * the result is copied out.
 * @module
 */
import { TesseraError } from "../../errors.ts";
import { allocArray } from "../buffers.ts";
import { buildGemmModule, ENTRY, type GemmConfig } from "./matmul_kernel.ts";
import {
  CTL,
  CTL_BYTES,
  ENTRY_BYTES,
  MAX_THREADS,
  type ThreadKind,
  ThreadPool,
  threadsAvailable,
  threadSupport,
} from "./pool.ts";

/** Tuned on a 2-core AMD EPYC (Zen 5): 6×8 micro-tile, KC 256, MC 120, NC 2048. */
const BASE: Omit<GemmConfig, "fma"> = { mr: 6, nr: 8, mc: 120, kc: 256, nc: 2048, ku: 4 };
const PAGE = 65536;
const MAX_PAGES = 32768; // 2 GiB: byte addresses stay positive i32

let enabled = true;

/** Turns the float32 fast path on or off (off: the reference kernel runs; for comparisons). */
export function setFastPathEnabled(on: boolean): void {
  enabled = on;
}

/** Whether float32 matmuls may use the fast path. */
export function fastPathEnabled(): boolean {
  return enabled;
}

/** Products below this many flops (2·M·N·K·batch) run on the calling thread alone. */
let parallelMinFlops = 1 << 22;

interface Runtime {
  cfg: GemmConfig;
  bytes: Uint8Array<ArrayBuffer>;
  memory: WebAssembly.Memory;
  shared: boolean;
  gemm: (entry: number, pa: number, pb: number, tile: number) => void;
}

let runtime: Runtime | null | undefined;
let pool: ThreadPool | undefined;
let threads = defaultThreads();
let threadKind: ThreadKind = "auto";
/** Whether worker threads of each kind can be used here (checked once). */
const available: Partial<Record<ThreadKind, boolean>> = {};

function defaultThreads(): number {
  let n = typeof navigator !== "undefined" ? navigator.hardwareConcurrency ?? 1 : 1;
  try {
    // deno-lint-ignore no-explicit-any
    const D = (globalThis as any).Deno;
    const q = D?.permissions?.querySync?.({ name: "env", variable: "TESSERA_CPU_THREADS" });
    const v = q?.state === "granted" ? D.env.get("TESSERA_CPU_THREADS") : undefined;
    if (v !== undefined && /^\d+$/.test(v) && +v > 0) n = +v;
  } catch {
    // no env access: keep the default
  }
  return Math.max(1, Math.min(MAX_THREADS, n));
}

/** Whether this engine validates a module using `f32x4.relaxed_madd`. */
export function relaxedSimdSupported(): boolean {
  try {
    return WebAssembly.validate(buildGemmModule({ ...BASE, fma: true }, {
      initial: 1,
      maximum: 1,
      shared: false,
    }));
  } catch {
    return false;
  }
}

function init(): Runtime | null {
  if (typeof WebAssembly === "undefined") return null;
  const fma = relaxedSimdSupported();
  const cfg: GemmConfig = { ...BASE, fma };
  let memory: WebAssembly.Memory, shared = true;
  try {
    memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
  } catch {
    shared = false;
    memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES });
  }
  const bytes = buildGemmModule(cfg, { initial: 1, maximum: MAX_PAGES, shared });
  if (!WebAssembly.validate(bytes)) return null; // no SIMD: the reference path is used
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  const gemm = inst.exports.gemm as Runtime["gemm"];
  return { cfg, bytes, memory, shared, gemm };
}

function rt(): Runtime | null {
  if (runtime === undefined) runtime = init();
  return runtime;
}

/** Facts about the WebAssembly GEMM on this engine (for benchmarks and tests). */
export interface WasmGemmInfo {
  /** WebAssembly SIMD is available (the fast path is on). */
  simd: boolean;
  /** The micro-kernel uses relaxed-SIMD FMA. */
  relaxedSimd: boolean;
  /** Configured participants (calling thread + workers). */
  threads: number;
  /** Workers currently running. */
  workersAlive: number;
  /** Current size of the module's memory in bytes. */
  memoryBytes: number;
  /** Job entries (batch items or matrix chunks) run by worker threads so far. */
  workerEntries: number;
  /**
   * What large matmuls run on: `"node"` (`node:worker_threads`) or `"web"` (module Web
   * Workers) threads sharing the module's memory, or `"single"` (the calling thread alone).
   */
  threading: "node" | "web" | "single";
  /** Why: the thread implementation, or what rules threads out here. */
  threadingReason: string;
}

/** Reports the state of the WebAssembly GEMM. */
export function wasmGemmInfo(): WasmGemmInfo {
  const r = rt();
  return {
    simd: r !== null,
    relaxedSimd: r?.cfg.fma ?? false,
    threads,
    workersAlive: pool?.alive ?? 0,
    memoryBytes: r?.memory.buffer.byteLength ?? 0,
    workerEntries: r ? Atomics.load(new Int32Array(r.memory.buffer, 0, 16), CTL.workerEntries) : 0,
    ...threading(r),
  };
}

function threading(r: Runtime | null): Pick<WasmGemmInfo, "threading" | "threadingReason"> {
  const single = (why: string) => ({ threading: "single" as const, threadingReason: why });
  if (r === null) return single("no WebAssembly");
  if (!r.shared) {
    return single("no shared WebAssembly memory (a browser page must be cross-origin isolated)");
  }
  if (threads === 1) return single("1 thread configured (setCpuThreads)");
  const t = threadSupport(threadKind);
  return t.kind === "none" ? single(t.reason) : { threading: t.kind, threadingReason: t.reason };
}

/**
 * Sets the number of threads (calling thread included) used by large float32 matmuls;
 * 1 disables workers. Running workers are shut down and re-created lazily.
 */
export function setThreads(n: number, kind: ThreadKind = threadKind): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new TesseraError("setCpuThreads", `expected an integer in 1..${MAX_THREADS}, got ${n}`);
  }
  shutdownThreads();
  threads = n;
  threadKind = kind;
}

/** The configured thread count. */
export function getThreads(): number {
  return threads;
}

/** Stops the workers (they are re-created on the next large matmul). Returns whether all exited. */
export function shutdownThreads(): boolean {
  const p = pool;
  pool = undefined;
  return p ? p.shutdown() : true;
}

/** Sets the flop count from which work is split across threads (tests use 0). */
export function setParallelMinFlops(flops: number): void {
  parallelMinFlops = flops;
}

function slotBytes(c: GemmConfig): { pa: number; pb: number; slot: number } {
  const pa = c.mc * c.kc * 4, pb = c.kc * c.nc * 4;
  return { pa, pb, slot: Math.ceil((pa + pb + c.mr * c.nr * 4) / 64) * 64 };
}

/** Problem description in elements: matrix dims, per-matrix strides and batch offsets. */
export interface GemmProblem {
  /** Rows of C. */
  m: number;
  /** Columns of C. */
  n: number;
  /** Shared dimension. */
  k: number;
  /** Element strides of A's rows and columns (transposes swap them). */
  rsa: number;
  /** See `rsa`. */
  csa: number;
  /** Element strides of B's rows and columns. */
  rsb: number;
  /** See `rsb`. */
  csb: number;
  /** Element offsets of each batch item's A, B and C, as `[a0, b0, c0, a1, b1, c1, …]`. */
  offsets: Int32Array;
}

/**
 * Computes the float32 products described by `p` (C row stride = n) into a new array of
 * `cSize` elements, or returns `undefined` when the fast path is unavailable or the problem
 * does not fit in 2 GiB of WebAssembly memory (the caller then uses the reference kernel).
 */
export function gemmF32(
  a: Float32Array,
  b: Float32Array,
  cSize: number,
  p: GemmProblem,
): Float32Array | undefined {
  const r = rt();
  if (r === null) return undefined;
  const { m, n, k } = p;
  const count = p.offsets.length / 3;
  if (cSize === 0 || k === 0 || count === 0) return allocArray("float32", cSize) as Float32Array;
  const flops = 2 * m * n * k * count;
  const par = threads > 1 && r.shared && flops >= parallelMinFlops ? threads : 1;
  // Split into entries: batch items, and big matrices into row (or column) chunks.
  const c = r.cfg;
  // Two entries per thread balance load; chunks of ≥ 96 rows (columns) keep the operand
  // that every chunk packs again (B for row chunks, A for column chunks) cheap.
  const want = par > 1 ? 2 * par : 1;
  const splitRows = m >= n;
  const dim = splitRows ? m : n, unit = splitRows ? c.mr : c.nr;
  const chunks = count >= want
    ? 1
    : Math.max(1, Math.min(Math.ceil(want / count), Math.floor(dim / 96)));
  const chunk = Math.ceil(Math.ceil(dim / chunks) / unit) * unit;
  const per = Math.ceil(dim / chunk);
  const entries = count * per;
  const sb = slotBytes(c);
  const scratch = CTL_BYTES, aAt = scratch + par * sb.slot;
  const bAt = aAt + Math.ceil(a.length / 16) * 64, cAt = bAt + Math.ceil(b.length / 16) * 64;
  const tAt = cAt + Math.ceil(cSize / 16) * 64, end = tAt + entries * ENTRY_BYTES;
  if (end > MAX_PAGES * PAGE || entries >= 0xfffff) return undefined;
  const have = r.memory.buffer.byteLength;
  if (end > have) {
    try {
      r.memory.grow(Math.ceil((end - have) / PAGE));
    } catch {
      return undefined; // the engine refused more memory: the reference kernel runs instead
    }
  }
  const buf = r.memory.buffer;
  new Float32Array(buf, aAt, a.length).set(a);
  new Float32Array(buf, bAt, b.length).set(b);
  const t = new Int32Array(buf, tAt, entries * (ENTRY_BYTES / 4));
  const E = ENTRY_BYTES / 4;
  let e = 0;
  for (let q = 0; q < count; q++) {
    const ao = p.offsets[3 * q]!, bo = p.offsets[3 * q + 1]!, co = p.offsets[3 * q + 2]!;
    for (let s = 0; s < per; s++, e++) {
      const lo = s * chunk, len = Math.min(chunk, dim - lo), o = e * E;
      t[o + ENTRY.a / 4] = aAt + 4 * (ao + (splitRows ? lo * p.rsa : 0));
      t[o + ENTRY.b / 4] = bAt + 4 * (bo + (splitRows ? 0 : lo * p.csb));
      t[o + ENTRY.c / 4] = cAt + 4 * (co + (splitRows ? lo * n : lo));
      t[o + ENTRY.m / 4] = splitRows ? len : m;
      t[o + ENTRY.n / 4] = splitRows ? n : len;
      t[o + ENTRY.k / 4] = k;
      t[o + ENTRY.rsa / 4] = 4 * p.rsa;
      t[o + ENTRY.csa / 4] = 4 * p.csa;
      t[o + ENTRY.rsb / 4] = 4 * p.rsb;
      t[o + ENTRY.csb / 4] = 4 * p.csb;
      t[o + ENTRY.ldc / 4] = 4 * n;
    }
  }
  const ctl = new Int32Array(buf, 0, CTL_BYTES / 4);
  Atomics.store(ctl, CTL.scratch, scratch);
  Atomics.store(ctl, CTL.slotBytes, sb.slot);
  Atomics.store(ctl, CTL.paBytes, sb.pa);
  Atomics.store(ctl, CTL.pbBytes, sb.pb);
  if (par > 1 && entries > 1) {
    available[threadKind] ??= threadsAvailable(threadKind);
    if (pool === undefined && available[threadKind]) {
      pool = new ThreadPool(par, r.bytes, r.memory, threadKind);
    }
  }
  if (par > 1 && entries > 1 && pool !== undefined) {
    pool.run(entries, tAt, r.gemm);
  } else {
    for (let i = 0; i < entries; i++) {
      r.gemm(tAt + i * ENTRY_BYTES, scratch, scratch + sb.pa, scratch + sb.pa + sb.pb);
    }
  }
  const out = allocArray("float32", cSize, false) as Float32Array;
  out.set(new Float32Array(buf, cAt, cSize));
  return out;
}
