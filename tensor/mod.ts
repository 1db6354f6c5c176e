/**
 * tessera's tensor layer: the immutable Tensor, creation, every op, memory scopes and
 * backends. Importing it registers the CPU backend.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matmul, tensor } from "./mod.ts";
 * const y = matmul(tensor([[1, 2]]), tensor([[3], [4]]));
 * assert.deepEqual(await y.toArray(), [[11]]);
 * assert.equal(y.backend.name, "cpu");
 * ```
 * @module
 */
import "./cpu/mod.ts";
export {
  type BlasInfo,
  cpuFastPathInfo,
  type FastPathInfo,
  type GemmPath,
  getCpuThreads,
  setCpuBlas,
  setCpuBufferPoolLimit,
  setCpuFastPath,
  setCpuThreads,
  shutdownCpuThreads,
  type WasmGemmInfo,
} from "./cpu/mod.ts";

export { Tensor } from "./tensor.ts";
export type { NestedArray } from "./tensor.ts";
export { type DType, DTYPES, type TypedArray } from "./dtype.ts";
export { TesseraError } from "./errors.ts";
export type { Shape } from "./shape.ts";
export {
  arange,
  type ArrayLike,
  type CreateOptions,
  eye,
  fromArray,
  full,
  linspace,
  ones,
  onesLike,
  tensor,
  zeros,
  zerosLike,
} from "./creation.ts";
export { dispose, type MemoryStats, memoryStats, scope } from "./memory.ts";
export {
  type Backend,
  type FusedKernel,
  type FusedKernels,
  type FusedName,
  type FusedParams,
  getBackend,
  type Kernel,
  listBackends,
  type Operand,
  registerBackend,
  setBackend,
  type Storage,
} from "./backend.ts";
export type { Trace, TracerState } from "./tensor.ts";
export type { Aval } from "./aval.ts";
export type {
  ElementwiseNode,
  ElementwiseProgram,
  ElementwiseRead,
  ElementwiseRef,
  FusedReduceOp,
  FusiblePrim,
} from "./elementwise_program.ts";
export { toBackend } from "./transfer.ts";
export * from "./ops/elementwise.ts";
export * from "./ops/unary.ts";
export * from "./ops/comparison.ts";
export * from "./ops/bitwise.ts";
export * from "./ops/reshaping.ts";
export * from "./ops/slicing.ts";
export * from "./ops/joining.ts";
export * from "./ops/reduce.ts";
export * from "./ops/linalg.ts";
export * from "./ops/indexing.ts";
export * from "./ops/sort.ts";
export * from "./ops/activations.ts";
export * from "./ops/vision.ts";
export * from "./ops/boxes.ts";
export * from "./ops/nms.ts";
export type {
  Conv2dParams,
  Conv2dWeightGradParams,
  ConvTranspose2dParams,
  MaxPool2dParams,
  NmsKeepParams,
  Pair,
  Resample1d,
  Resample2dParams,
  RoiAlignGradParams,
  RoiAlignParams,
} from "./vision_params.ts";
export type { TensorLike } from "./ops/_util.ts";
export * from "./primitives.ts";
export * as random from "./random.ts";
export { erfinv } from "./ops/special.ts";
export {
  type DecodedSafetensors,
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  type LoadSafetensorsOptions,
  MAX_HEADER_SIZE,
  type SafetensorsEntry,
  saveSafetensors,
} from "./safetensors.ts";
export { readSafetensorsFile, writeSafetensorsFile } from "./safetensors_file.ts";
export * from "./webgpu/mod.ts";
export { initBackendFromEnv } from "./webgpu/env.ts";
