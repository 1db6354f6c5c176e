/**
 * The one GEMM interface of the CPU backend's matmul and convolution kernels: a strided,
 * batched problem (`GemmProblem`) goes to the native BLAS (`blas.ts`: float32 and float64)
 * when it is active, else to the WebAssembly SIMD GEMM (`wasm/gemm.ts`: float32), else the
 * caller's plain TypeScript reference loops run (`fastGemm` returns undefined).
 * @module
 */
import type { TypedArray } from "../dtype.ts";
import { blasActive, blasGemm, type BlasInfo, blasInfo } from "./blas.ts";
import {
  fastPathEnabled,
  gemmF32,
  type GemmProblem,
  type WasmGemmInfo,
  wasmGemmInfo,
} from "./wasm/gemm.ts";

/** Where a float32 GEMM runs: native BLAS, the WebAssembly SIMD kernel, or TypeScript loops. */
export type GemmPath = "blas" | "wasm" | "reference";

/** Which fast path the CPU backend's GEMMs take, and the state of each. */
export interface FastPathInfo extends WasmGemmInfo {
  /** Where float32 matmuls/convolutions run now (float64: `"blas"` or else `"reference"`). */
  path: GemmPath;
  /** The native BLAS detection: active or not, library, and why. */
  blas: BlasInfo;
}

/** Reports the active path, the BLAS detection and the WebAssembly GEMM's state. */
export function fastPathInfo(): FastPathInfo {
  const w = wasmGemmInfo();
  const path: GemmPath = !fastPathEnabled()
    ? "reference"
    : blasActive()
    ? "blas"
    : w.simd
    ? "wasm"
    : "reference";
  return { ...w, path, blas: blasInfo() };
}

/**
 * Computes the products described by `p` (C row stride = n) into a new array of `cSize`
 * elements on the fastest available path, or returns `undefined` when none applies (fast paths
 * off, an integer dtype, float64 without BLAS, or a problem the WebAssembly memory cannot hold).
 */
export function fastGemm(
  a: TypedArray,
  b: TypedArray,
  cSize: number,
  p: GemmProblem,
): TypedArray | undefined {
  if (!fastPathEnabled()) return undefined;
  const r = blasGemm(a, b, cSize, p);
  if (r) return r;
  if (a instanceof Float32Array && b instanceof Float32Array) return gemmF32(a, b, cSize, p);
  return undefined;
}
