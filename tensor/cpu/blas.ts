/**
 * The native BLAS fast path of the CPU backend: `cblas_sgemm` / `cblas_dgemm` of OpenBLAS
 * (or BLIS, Accelerate, any CBLAS) through `Deno.dlopen`, on the backend's typed arrays
 * without copies (Deno FFI `"buffer"` parameters; a batch item at an offset is a `subarray`).
 *
 * Detection runs once, when the CPU backend is first imported (a library opened later inside
 * a test would count as a leaked resource): the mode (`TESSERA_BLAS=off|auto|PATH`, read only
 * where env access is already granted), the `Deno.dlopen` API (absent in browsers), the FFI
 * permission (queried, never prompted), the library, and a tiny probe that checks both GEMMs,
 * transposes and offsets against known answers. Every failure is recorded as a reason and the
 * WebAssembly path runs instead. `blasInfo()` says which library is active and why (not).
 * @module
 */
import type { TypedArray } from "../dtype.ts";
import { allocArray } from "./buffers.ts";
import { type GemmProblem, getThreads } from "./wasm/gemm.ts";

/** What the native BLAS detection found. */
export interface BlasInfo {
  /** A BLAS library is loaded and used for float32/float64 GEMMs. */
  active: boolean;
  /** Requested mode: `"auto"`, `"off"`, or a library path. */
  mode: string;
  /** The library name or path that was opened (null if none). */
  library: string | null;
  /** Why the native path is (not) active, in words. */
  reason: string;
  /** The library's own description (`openblas_get_config()`), when it has one. */
  config: string | null;
  /** Threads the library says it uses (`openblas_get_num_threads()`), when it can tell. */
  threads: number | null;
}

const ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;
const GEMM_ARGS = (
  t: "f32" | "f64",
) => [
  "i32",
  "i32",
  "i32",
  "i32",
  "i32",
  "i32",
  t,
  "buffer",
  "i32",
  "buffer",
  "i32",
  t,
  "buffer",
  "i32",
];
const SYMBOLS = {
  cblas_sgemm: { parameters: GEMM_ARGS("f32"), result: "void" },
  cblas_dgemm: { parameters: GEMM_ARGS("f64"), result: "void" },
  openblas_set_num_threads: { parameters: ["i32"], result: "void", optional: true },
  openblas_get_num_threads: { parameters: [], result: "i32", optional: true },
  openblas_get_config: { parameters: [], result: "pointer", optional: true },
  bli_thread_set_num_threads: { parameters: ["i64"], result: "void", optional: true },
} as const;

type GemmFn = (
  order: number,
  ta: number,
  tb: number,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: TypedArray,
  lda: number,
  b: TypedArray,
  ldb: number,
  beta: number,
  c: TypedArray,
  ldc: number,
) => void;

interface Lib {
  sgemm: GemmFn;
  dgemm: GemmFn;
  setThreads: ((n: number) => void) | null;
  getThreads: (() => number) | null;
  config: string | null;
}

/** Libraries tried in `auto` mode, per OS (sonames resolve through the loader's path). */
const CANDIDATES: Record<string, readonly string[]> = {
  linux: ["libopenblas.so.0", "libopenblas.so", "libblis.so.4", "libblis.so", "libblas.so.3"],
  darwin: [
    "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
    "/usr/local/opt/openblas/lib/libopenblas.dylib",
    "/System/Library/Frameworks/Accelerate.framework/Accelerate",
  ],
  windows: ["libopenblas.dll", "openblas.dll"],
};

let mode = "auto";
let lib: Lib | null = null;
let info: BlasInfo = {
  active: false,
  mode,
  library: null,
  reason: "not detected",
  config: null,
  threads: null,
};
let threadsSet = 0;
/** Opened libraries by name: never closed (a BLAS keeps threads inside its code). */
const opened = new Map<string, Lib>();

// deno-lint-ignore no-explicit-any
type AnyDeno = any;
function denoGlobal(): AnyDeno {
  return (globalThis as AnyDeno).Deno;
}

/** `TESSERA_BLAS`, where env access is already granted (never prompts); else `"auto"`. */
function envMode(): string {
  try {
    const D = denoGlobal();
    const q = D?.permissions?.querySync?.({ name: "env", variable: "TESSERA_BLAS" });
    const v = q?.state === "granted" ? D.env.get("TESSERA_BLAS") : undefined;
    return v === undefined || v === "" ? "auto" : v;
  } catch {
    return "auto";
  }
}

function ffiGranted(D: AnyDeno, path: string): boolean {
  try {
    if (D.permissions.querySync({ name: "ffi" }).state === "granted") return true;
    return D.permissions.querySync({ name: "ffi", path }).state === "granted";
  } catch {
    return false;
  }
}

/** Checks both GEMMs on a 2×3·3×2 product, with transposes and an offset view. */
function probe(l: Lib): string | null {
  const want = [4, 5, 10, 11];
  for (
    const [name, Arr, f] of [["sgemm", Float32Array, l.sgemm], [
      "dgemm",
      Float64Array,
      l.dgemm,
    ]] as const
  ) {
    const a = new Arr([9, 1, 2, 3, 4, 5, 6]); // A = [[1,2,3],[4,5,6]] at offset 1
    const bt = new Arr([1, 0, 1, 0, 1, 1]); // Bᵀ: B = [[1,0],[0,1],[1,1]]
    const at = new Arr([1, 4, 2, 5, 3, 6]); // Aᵀ
    const b = new Arr([1, 0, 0, 1, 1, 1]);
    const c1 = new Arr(4).fill(NaN), c2 = new Arr(4).fill(NaN);
    f(ROW_MAJOR, NO_TRANS, TRANS, 2, 2, 3, 1, a.subarray(1), 3, bt, 3, 0, c1, 2);
    f(ROW_MAJOR, TRANS, NO_TRANS, 2, 2, 3, 1, at, 2, b, 2, 0, c2, 2);
    for (let i = 0; i < 4; i++) {
      if (c1[i] !== want[i] || c2[i] !== want[i]) {
        return `${name} probe gave [${[...c1]}] / [${[...c2]}], want [${want}]`;
      }
    }
  }
  return null;
}

function open(D: AnyDeno, name: string): Lib {
  const cached = opened.get(name);
  if (cached) return cached;
  quietIdleThreads(D);
  const dl = D.dlopen(name, SYMBOLS);
  const s = dl.symbols;
  let config: string | null = null;
  const p = s.openblas_get_config?.();
  if (p) config = D.UnsafePointerView.getCString(p);
  const setThreads = s.openblas_set_num_threads
    ? (n: number) => s.openblas_set_num_threads(n)
    : s.bli_thread_set_num_threads
    ? (n: number) => s.bli_thread_set_num_threads(BigInt(n))
    : null;
  const getThreads = s.openblas_get_num_threads ? () => s.openblas_get_num_threads() : null;
  const l: Lib = { sgemm: s.cblas_sgemm, dgemm: s.cblas_dgemm, setThreads, getThreads, config };
  opened.set(name, l);
  return l;
}

/**
 * OpenBLAS's idle threads spin for 2^28 cycles (~0.1 s) after every GEMM, which takes the core
 * the fused-loop workers (./fused_threads.ts) need right after it: unless the user chose a
 * value, ask it to sleep at once (`OPENBLAS_THREAD_TIMEOUT=4`, read when the library loads).
 */
function quietIdleThreads(D: AnyDeno): void {
  try {
    if (D.permissions.querySync({ name: "env" }).state !== "granted") return;
    if (D.env.get("OPENBLAS_THREAD_TIMEOUT") === undefined) {
      D.env.set("OPENBLAS_THREAD_TIMEOUT", "4");
    }
  } catch {
    // no env access: OpenBLAS keeps its default
  }
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
}

function detect(): void {
  lib = null;
  threadsSet = 0;
  const set = (reason: string, library: string | null = null, config: string | null = null) => {
    info = { active: lib !== null, mode, library, reason, config, threads: null };
  };
  if (mode === "off") return set('off (TESSERA_BLAS=off or setCpuBlas("off"))');
  const D = denoGlobal();
  if (typeof D?.dlopen !== "function" || typeof D?.permissions?.querySync !== "function") {
    return set("no Deno.dlopen here (browser or another runtime)");
  }
  const names = mode === "auto" ? CANDIDATES[D.build?.os] ?? CANDIDATES.linux! : [mode];
  const allowed = names.filter((n) => ffiGranted(D, n));
  if (allowed.length === 0) {
    return set("FFI permission not granted (run with --allow-ffi or -A to use a native BLAS)");
  }
  const errors: string[] = [];
  for (const name of allowed) {
    let l: Lib;
    try {
      l = open(D, name);
    } catch (e) {
      errors.push(`${name}: ${firstLine(e)}`);
      continue;
    }
    const bad = probe(l);
    if (bad) {
      errors.push(`${name}: ${bad}`);
      continue;
    }
    lib = l;
    return set(`${l.config ?? "CBLAS"} via ${name}`, name, l.config);
  }
  set(`no usable BLAS library (${errors.join("; ")})`);
}

/**
 * Selects the native path: `"off"`, `"auto"` (the OS's usual OpenBLAS/BLIS/CBLAS names), or a
 * library path. Detection runs again now; opened libraries stay loaded for reuse.
 */
export function setBlasMode(m: string): BlasInfo {
  mode = m === "" ? "auto" : m;
  detect();
  return blasInfo();
}

/** Whether float32/float64 GEMMs go to the native BLAS. */
export function blasActive(): boolean {
  return lib !== null;
}

/** The state of the native path (a copy). */
export function blasInfo(): BlasInfo {
  return { ...info, active: blasActive(), threads: lib?.getThreads?.() ?? null };
}

/** CBLAS operand description of a strided matrix: transpose flag and leading dimension. */
function operand(rs: number, cs: number, rows: number, cols: number): [number, number] | null {
  if (cs === 1 && rs >= Math.max(1, cols)) return [NO_TRANS, rs];
  if (rs === 1 && cs >= Math.max(1, rows)) return [TRANS, cs];
  if (rows === 1 && cs >= 1) return [TRANS, cs]; // a single row: any column stride
  if (cols === 1 && rs >= 1) return [NO_TRANS, rs]; // a single column: any row stride
  return null;
}

const I32_MAX = 0x7fffffff;

/** Environment variable through which the isolates of one process agree on the BLAS's count. */
const THREADS_LATCH = "TESSERA_BLAS_THREADS_FIXED";

/**
 * Reads (or, with `value`, writes) the process-wide latch; `undefined` when unset, without env
 * access, or when inherited from a parent process (the value carries the writer's pid).
 */
function latch(value?: number): string | undefined {
  try {
    const D = denoGlobal();
    const q = D?.permissions?.querySync?.({ name: "env", variable: THREADS_LATCH });
    if (q?.state !== "granted") return undefined;
    if (value !== undefined) D.env.set(THREADS_LATCH, `${D.pid}:${value}`);
    const v: string | undefined = D.env.get(THREADS_LATCH);
    return v?.startsWith(`${D.pid}:`) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Gives the library the configured thread count ({@link getThreads}) once per process. The
 * count is process-wide in OpenBLAS and BLIS — shared by every Worker and, under
 * `deno test --parallel`, by every test module of the process — and changing it while another
 * thread is inside a GEMM corrupts that GEMM's result (OpenBLAS 0.3.21: Workers configured with
 * 1 and 2 threads gave wrong values in about 40 of 600 products, tests/tensor/cpu_blas_workers_test.ts).
 * So the first GEMM of the process fixes the count and records it in the process environment,
 * which every isolate shares; later GEMMs, in any isolate, and later `setCpuThreads` calls leave
 * it alone (set the count before the first matmul). Small products run single-threaded by the
 * library's own size threshold.
 */
function syncThreads(l: Lib): void {
  if (threadsSet !== 0 || !l.setThreads) return;
  const t = getThreads();
  if (latch() === undefined) {
    if (l.getThreads?.() !== t) l.setThreads(t);
    latch(t);
  }
  threadsSet = t;
}

/**
 * Computes the float32 or float64 products described by `p` (C row stride = n) with the native
 * BLAS into a new array of `cSize` elements, or returns `undefined` when the native path is not
 * active or the strides have no CBLAS layout (the caller then uses the next path).
 */
export function blasGemm(
  a: TypedArray,
  b: TypedArray,
  cSize: number,
  p: GemmProblem,
): TypedArray | undefined {
  if (!blasActive()) return undefined;
  const f64 = a instanceof Float64Array;
  if (!f64 && !(a instanceof Float32Array)) return undefined;
  const { m, n, k } = p;
  const dtype = f64 ? "float64" : "float32";
  const count = p.offsets.length / 3;
  if (cSize === 0 || k === 0 || count === 0 || m === 0 || n === 0) {
    return allocArray(dtype, cSize);
  }
  const oa = operand(p.rsa, p.csa, m, k), ob = operand(p.rsb, p.csb, k, n);
  if (!oa || !ob || Math.max(m, n, k, oa[1], ob[1]) > I32_MAX) return undefined;
  const l = lib!;
  syncThreads(l);
  const gemm = f64 ? l.dgemm : l.sgemm;
  const c = allocArray(dtype, cSize, false);
  for (let q = 0; q < count; q++) {
    const ao = p.offsets[3 * q]!, bo = p.offsets[3 * q + 1]!, co = p.offsets[3 * q + 2]!;
    gemm(
      ROW_MAJOR,
      oa[0],
      ob[0],
      m,
      n,
      k,
      1,
      ao === 0 ? a : a.subarray(ao),
      oa[1],
      bo === 0 ? b : b.subarray(bo),
      ob[1],
      0,
      co === 0 ? c : c.subarray(co),
      n,
    );
  }
  return c;
}

/**
 * One native GEMM into an existing array: `C = A·B + beta·C` for row-major operands at element
 * offsets `ao`/`bo`/`co` (each with its transpose flag and leading dimension, as CBLAS takes
 * them). Returns false, writing nothing, when the native path is not active or a size exceeds
 * int32. Used by the stride-1 convolutions, which accumulate one GEMM per kernel tap.
 */
export function blasGemmInto(
  a: TypedArray,
  ao: number,
  transA: boolean,
  lda: number,
  b: TypedArray,
  bo: number,
  transB: boolean,
  ldb: number,
  c: TypedArray,
  co: number,
  ldc: number,
  m: number,
  n: number,
  k: number,
  beta: number,
): boolean {
  if (!blasActive() || Math.max(m, n, k, lda, ldb, ldc) > I32_MAX) return false;
  const f64 = c instanceof Float64Array;
  if (!f64 && !(c instanceof Float32Array)) return false;
  if (m === 0 || n === 0) return true;
  const l = lib!;
  syncThreads(l);
  (f64 ? l.dgemm : l.sgemm)(
    ROW_MAJOR,
    transA ? TRANS : NO_TRANS,
    transB ? TRANS : NO_TRANS,
    m,
    n,
    k,
    1,
    ao === 0 ? a : a.subarray(ao),
    lda,
    bo === 0 ? b : b.subarray(bo),
    ldb,
    beta,
    co === 0 ? c : c.subarray(co),
    ldc,
  );
  return true;
}

mode = envMode();
detect();
