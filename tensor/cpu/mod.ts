/**
 * The `cpu` backend: plain TypeScript kernels over typed arrays (float32 and float64 and the
 * integer/bool dtypes). It is the reference every other backend is tested against.
 *
 * matmul and the convolutions' GEMMs have fast paths (`gemm.ts`): a native BLAS through
 * `Deno.dlopen` (`blas.ts`; float32 and float64) where FFI is permitted and a library such as
 * OpenBLAS is installed, else a generated WebAssembly SIMD GEMM (`wasm/`; float32) that splits
 * large products across worker threads. {@link cpuFastPathInfo} says which path is active and
 * why; `TESSERA_BLAS=off|auto|PATH` or {@link setCpuBlas} chooses. {@link setCpuThreads} sets
 * the thread count of both (default: `navigator.hardwareConcurrency`, or the
 * `TESSERA_CPU_THREADS` environment variable where env access is granted); workers never keep
 * the process alive.
 * @module
 */
import {
  type Backend,
  type Kernel,
  type Operand,
  registerBackend,
  type Storage,
} from "../backend.ts";
import type { DType, TypedArray } from "../dtype.ts";
import { TesseraError } from "../errors.ts";
import type { Prim, PrimParams } from "../primitives.ts";
import type { Aval } from "../aval.ts";
import { cpuKernels } from "./kernels.ts";
import { cpuFused } from "./fused.ts";
import { cpuCanFuse, cpuFusedElementwise } from "./fused_elementwise.ts";
import { shutdownFusedThreads } from "./fused_threads.ts";
import { allocArray, recycle, setBufferPoolLimit } from "./buffers.ts";
import { arr, CpuStorage } from "./storage.ts";
import {
  getThreads,
  setFastPathEnabled,
  setThreads,
  shutdownThreads,
  type WasmGemmInfo,
} from "./wasm/gemm.ts";
import { type FastPathInfo, fastPathInfo, type GemmPath } from "./gemm.ts";
import { type BlasInfo, setBlasMode } from "./blas.ts";

export type { BlasInfo, FastPathInfo, GemmPath, WasmGemmInfo };

/**
 * Sets how many threads (the calling thread included) large float32 matmuls on the CPU
 * backend may use; `1` turns the worker threads off. Running workers are stopped and
 * re-created lazily with the new count. A native BLAS's count is process-wide (shared with
 * other Workers of the process), and changing it while another Worker is inside a matmul
 * corrupts that matmul, so the BLAS takes the count configured at the process's first matmul
 * (`openblas_set_num_threads`) and keeps it: call this before the first matmul.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getCpuThreads, setCpuThreads } from "./mod.ts";
 * const before = getCpuThreads();
 * setCpuThreads(1);
 * assert.equal(getCpuThreads(), 1);
 * setCpuThreads(before);
 * ```
 */
export function setCpuThreads(n: number): void {
  setThreads(n);
}

/**
 * The number of threads large float32 matmuls may use (see {@link setCpuThreads}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getCpuThreads } from "./mod.ts";
 * assert.equal(getCpuThreads() >= 1, true);
 * ```
 */
export function getCpuThreads(): number {
  return getThreads();
}

/**
 * Stops the CPU backend's worker threads now, the matmul's and the fused loops' (they come back on the
 * next large matmul or loop).
 * Workers are unref'd and never hold a process open, so calling this is optional; it frees
 * their memory and lets tests account for every thread. Returns whether all exited cleanly.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shutdownCpuThreads } from "./mod.ts";
 * assert.equal(shutdownCpuThreads(), true);
 * ```
 */
export function shutdownCpuThreads(): boolean {
  shutdownFusedThreads();
  return shutdownThreads();
}

/**
 * Which path the CPU backend's GEMMs take (`path`: `"blas"`, `"wasm"` or `"reference"`), the
 * native BLAS detection (`blas`: active, library, and the reason, e.g. a missing FFI
 * permission), and the WebAssembly GEMM's state (SIMD, relaxed-SIMD FMA, threads).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cpuFastPathInfo, getCpuThreads } from "./mod.ts";
 * const info = cpuFastPathInfo();
 * assert.equal(info.path === "blas", info.blas.active);
 * assert.equal(typeof info.blas.reason, "string");
 * assert.equal(info.threads === getCpuThreads(), true);
 * ```
 */
export function cpuFastPathInfo(): FastPathInfo {
  return fastPathInfo();
}

/**
 * Sets how many bytes of freed CPU tensor memory the backend keeps for reuse (default 4 GiB;
 * buffers of 64 KiB and more are recycled by size, which avoids page faults on the next
 * allocation of that size). Lowering it releases what exceeds the new limit; 0 disables it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setCpuBufferPoolLimit } from "./mod.ts";
 * import { matmul, ones } from "../mod.ts";
 * setCpuBufferPoolLimit(0);
 * assert.deepEqual(await matmul(ones([2, 2]), ones([2, 2])).toArray(), [[2, 2], [2, 2]]);
 * setCpuBufferPoolLimit(4 * 1024 ** 3);
 * ```
 */
export function setCpuBufferPoolLimit(bytes: number): void {
  if (!(bytes >= 0)) {
    throw new TesseraError("setCpuBufferPoolLimit", `expected bytes >= 0, got ${bytes}`);
  }
  setBufferPoolLimit(bytes);
}

/**
 * Chooses the native BLAS path: `"off"` (the WebAssembly GEMM runs), `"auto"` (the usual
 * OpenBLAS, BLIS or CBLAS library of the OS), or a library path. Detection (FFI permission,
 * library, a small correctness probe) runs again now and the new state is returned; without
 * permission or library the WebAssembly path stays active and `blas.reason` says why. The
 * initial mode comes from `TESSERA_BLAS` where env access is granted, else `"auto"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cpuFastPathInfo, setCpuBlas } from "./mod.ts";
 * import { matmul, tensor } from "../mod.ts";
 * const before = cpuFastPathInfo().blas.mode;
 * assert.equal(setCpuBlas("off").path, "wasm");
 * assert.deepEqual(await matmul(tensor([[1, 2]]), tensor([[3], [4]])).toArray(), [[11]]);
 * setCpuBlas(before);
 * ```
 */
export function setCpuBlas(mode: "off" | "auto" | (string & Record<never, never>)): FastPathInfo {
  setBlasMode(mode);
  return fastPathInfo();
}

/**
 * Enables or disables the matmul/convolution fast paths, native BLAS and WebAssembly alike
 * (disabled: the plain TypeScript reference kernels run). For comparisons and debugging; on
 * by default.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setCpuFastPath } from "./mod.ts";
 * import { matmul, ones } from "../mod.ts";
 * setCpuFastPath(false);
 * assert.deepEqual(await matmul(ones([1, 3]), ones([3, 1])).toArray(), [[3]]);
 * setCpuFastPath(true);
 * ```
 */
export function setCpuFastPath(enabled: boolean): void {
  setFastPathEnabled(enabled);
}

/** The CPU backend object (registered as `"cpu"` on import). */
export const cpuBackend: Backend = {
  name: "cpu",
  supportsDtype(_dtype: DType): boolean {
    return true;
  },
  upload(data: TypedArray, dtype: DType): Storage {
    // Uploads draw from the recycled buffers too, else every step's fresh batch would add one
    // never-reused buffer to the free lists.
    const a = allocArray(dtype, data.length, false);
    a.set(data);
    return new CpuStorage(a);
  },
  read(storage: Storage, dtype: DType, size: number): Promise<TypedArray> {
    return Promise.resolve(this.readSync!(storage, dtype, size));
  },
  readSync(storage: Storage, _dtype: DType, size: number): TypedArray {
    const a = arr(storage);
    if (a.length !== size) {
      throw new TesseraError("read", `storage holds ${a.length}, want ${size}`);
    }
    return a.slice();
  },
  fused: cpuFused,
  fusedElementwise: cpuFusedElementwise,
  canFuseElementwise: cpuCanFuse,
  free(storage: Storage): void {
    // Large buffers are kept for reuse (./buffers.ts); the rest is left to the GC.
    recycle(arr(storage));
  },
  execute<P extends Prim>(
    prim: P,
    inputs: readonly Operand[],
    params: PrimParams[P],
    out: Aval,
  ): Storage {
    const kernel = cpuKernels[prim] as Kernel<P>;
    return kernel(inputs, params, out);
  },
};

registerBackend(cpuBackend);
