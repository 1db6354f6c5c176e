/**
 * The `webgpu` backend: every primitive as a WGSL compute kernel on `navigator.gpu`
 * (float32, int32, uint32 and bool; bool is stored as u32 on the device).
 *
 * Initialisation is asynchronous and explicit: `await initWebGPU()` requests an adapter and
 * a device (with every limit the adapter offers), registers the backend as `"webgpu"`, and
 * throws a TesseraError when there is no adapter. Then `setBackend("webgpu")` makes it the
 * default, or `toBackend(t, "webgpu")` moves single tensors. Reads are asynchronous only
 * (`await t.data()`); reads issued in the same tick share one submission and one map.
 *
 * @example
 * ```ts ignore
import assert from "node:assert/strict";
 * import { add, setBackend, tensor } from "../mod.ts";
 * import { initWebGPU } from "./webgpu/mod.ts";
 * await initWebGPU();
 * setBackend("webgpu");
 * assert.deepEqual(await add(tensor([1, 2]), 1).toArray(), [2, 3]);
 * ```
 * @module
 */
import { type Backend, registerBackend, type Storage } from "../backend.ts";
import { arrayFor, type DType, type TypedArray } from "../dtype.ts";
import { TesseraError } from "../errors.ts";
import { opName, type Prim, type PrimParams } from "../primitives.ts";
import type { Aval } from "../aval.ts";
import type { Operand } from "../backend.ts";
import type { GpuKernel } from "./elementwise.ts";
import { webgpuKernels } from "./kernels.ts";
import { canMatmulEpilogue, matmulEpilogue, matmulView } from "./matmul.ts";
import { webgpuCanFuse, webgpuFusedElementwise, webgpuFusedPasses } from "./fused_program.ts";
import { webgpuCanGroup, webgpuFusedGroup } from "./fused_group.ts";
import type { GpuStorage, PoolStats } from "./pool.ts";
import { Runtime, type RuntimeOptions } from "./runtime.ts";
import { currentRuntime, setRuntime } from "./state.ts";

export type { PoolStats } from "./pool.ts";
export type { RuntimeOptions } from "./runtime.ts";

/** Options of {@link initWebGPU}. */
export interface WebGPUOptions extends RuntimeOptions {
  /** Adapter preference passed to `requestAdapter` (default: none). */
  powerPreference?: GPUPowerPreference;
}

/** What {@link initWebGPU} found. */
export interface WebGPUInfo {
  /** Adapter description, e.g. `"llvmpipe (LLVM 15.0.6, 256 bits)"` or a GPU's name. */
  description: string;
  /** Vendor string or id. */
  vendor: string;
  /** Architecture string (may be empty). */
  architecture: string;
  /** True for software/fallback adapters such as llvmpipe. */
  isFallbackAdapter: boolean;
  /** The device limits tessera's kernels rely on. */
  limits: {
    maxStorageBufferBindingSize: number;
    maxBufferSize: number;
    maxStorageBuffersPerShaderStage: number;
    maxComputeWorkgroupsPerDimension: number;
    maxComputeWorkgroupStorageSize: number;
    minStorageBufferOffsetAlignment: number;
  };
}

/** Counters of the webgpu backend: pool plus submissions, dispatches and read batches. */
export interface WebGPUStats extends PoolStats {
  /** Command buffers submitted. */
  submits: number;
  /** Compute dispatches recorded. */
  dispatches: number;
  /** Compute passes begun (consecutive dispatches share one; a copy ends it). */
  passes: number;
  /** Buffer-to-buffer copies recorded (layout copies, packed kernels' inputs, small uploads). */
  copies: number;
  /** Bind groups created (a replayed `jit` program reuses those of its first replay). */
  bindGroups: number;
  /** Read batches mapped (one per tick with reads). */
  readBatches: number;
  /** Distinct compute pipelines compiled. */
  pipelines: number;
}

let info: WebGPUInfo | null = null;

function envDebug(): boolean {
  try {
    return (globalThis as { Deno?: { env: { get(k: string): string | undefined } } }).Deno?.env
      .get("TESSERA_WEBGPU_DEBUG") === "1";
  } catch {
    return false; // no --allow-env
  }
}

function noF64(op: string): never {
  throw new TesseraError(
    op,
    "float64 is not supported on the webgpu backend (WGSL has no f64); cast to float32 " +
      "or move the tensor to the cpu backend",
  );
}

function makeBackend(rt: Runtime): Backend {
  return {
    name: "webgpu",
    supportsDtype(dtype: DType): boolean {
      return dtype !== "float64";
    },
    upload(data: TypedArray, dtype: DType): Storage {
      rt.check();
      if (dtype === "float64") noF64("tensor");
      const n = data.length;
      const st = rt.alloc(n * 4, "tensor");
      let bytes: Uint8Array;
      if (dtype === "bool") {
        const w = new Uint32Array(n);
        for (let i = 0; i < n; i++) w[i] = data[i] ? 1 : 0;
        bytes = new Uint8Array(w.buffer);
      } else {
        bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      }
      rt.queue.write(st.buffer, st.offset, bytes);
      return st;
    },
    read(storage: Storage, dtype: DType, size: number): Promise<TypedArray> {
      try {
        rt.check();
      } catch (e) {
        return Promise.reject(e);
      }
      if (size === 0) return Promise.resolve(arrayFor(dtype, 0));
      return rt.reader.read(storage as GpuStorage, dtype, size);
    },
    free(storage: Storage): void {
      rt.free(storage as GpuStorage);
    },
    fusedElementwise: (program, inputs) => webgpuFusedElementwise(rt, program, inputs),
    canFuseElementwise: webgpuCanFuse,
    fusedDispatches: (program) => webgpuFusedPasses(rt, program),
    fusedElementwiseGroup: (programs, inputs) => webgpuFusedGroup(rt, programs, inputs),
    canGroupElementwise: webgpuCanGroup,
    jitRewrites: true,
    allocViews: (bytes) => rt.allocViews(bytes, "jit"),
    allocInto: (targets, fn) => rt.allocInto(targets as GpuStorage[], fn),
    matmulEpilogue: (...args) => matmulEpilogue(rt, ...args),
    matmulView: (...args) => matmulView(rt, ...args),
    canMatmulEpilogue: (program, j, store) => canMatmulEpilogue(rt, program, j, store),
    batch: (fn, key) => rt.queue.hold(() => (key ? rt.pool.taped(key, fn) : fn())),
    execute<P extends Prim>(
      prim: P,
      inputs: readonly Operand[],
      params: PrimParams[P],
      out: Aval,
    ): Storage {
      rt.check();
      if (out.dtype === "float64") noF64(opName(prim, params));
      const kernel = webgpuKernels[prim] as GpuKernel<P>;
      return kernel(rt, inputs, params, out);
    },
  };
}

/**
 * True when this runtime exposes WebGPU and an adapter can be obtained (does not create a
 * device).
 *
 * @example
 * ```ts ignore
 * import { webgpuAvailable } from "./mod.ts";
 * console.log(await webgpuAvailable());
 * ```
 */
export async function webgpuAvailable(): Promise<boolean> {
  try {
    return !!(await navigator.gpu?.requestAdapter());
  } catch {
    return false;
  }
}

/**
 * Requests a WebGPU adapter and device and registers the `"webgpu"` backend (idempotent:
 * later calls return the first device's info, unless that device was lost or destroyed, in
 * which case a new one replaces it). Every limit the adapter offers is requested.
 * Throws a TesseraError when WebGPU or an adapter is missing.
 *
 * @example
 * ```ts ignore
 * import { initWebGPU } from "./mod.ts";
 * import { setBackend } from "../backend.ts";
 * const gpu = await initWebGPU();
 * console.log(gpu.description);
 * setBackend("webgpu");
 * ```
 */
export async function initWebGPU(opts: WebGPUOptions = {}): Promise<WebGPUInfo> {
  const cur = currentRuntime();
  if (cur && !cur.destroyed && !cur.errors.lost && info) return info;
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) {
    throw new TesseraError(
      "initWebGPU",
      "WebGPU is not available in this runtime (no navigator.gpu)",
    );
  }
  const adapter = await gpu.requestAdapter(
    opts.powerPreference ? { powerPreference: opts.powerPreference } : undefined,
  );
  if (!adapter) {
    throw new TesseraError(
      "initWebGPU",
      "no WebGPU adapter available (no GPU driver found; on Linux without a GPU, Mesa's " +
        "llvmpipe software adapter comes with `apt-get install mesa-vulkan-drivers`)",
    );
  }
  const requiredLimits: Record<string, number> = {};
  const limits = adapter.limits as unknown as Record<string, number>;
  for (const k in limits) {
    if (typeof limits[k] === "number") requiredLimits[k] = limits[k];
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits });
  } catch {
    device = await adapter.requestDevice();
  }
  const rt = new Runtime(device, adapter.info, { debug: opts.debug ?? envDebug(), ...opts });
  setRuntime(rt);
  registerBackend(makeBackend(rt));
  // Tear the device down before the isolate exits (Mesa's drivers have crashed in their exit
  // handlers when a live device was left to them).
  globalThis.addEventListener?.("unload", () => rt.destroyNow());
  const l = device.limits;
  info = {
    description: adapter.info.description,
    vendor: adapter.info.vendor,
    architecture: adapter.info.architecture,
    isFallbackAdapter: (adapter.info as { isFallbackAdapter?: boolean }).isFallbackAdapter ??
      false,
    limits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      minStorageBufferOffsetAlignment: l.minStorageBufferOffsetAlignment,
    },
  };
  return info;
}

function rtOrThrow(op: string): Runtime {
  const runtime = currentRuntime();
  if (!runtime) {
    throw new TesseraError(op, "the webgpu backend is not initialised: await initWebGPU() first");
  }
  return runtime;
}

/**
 * Pool and submission counters of the webgpu backend.
 *
 * @example
 * ```ts ignore
 * import { webgpuStats } from "./mod.ts";
 * console.log(webgpuStats().liveBuffers);
 * ```
 */
export function webgpuStats(): WebGPUStats {
  return rtOrThrow("webgpuStats").stats();
}

/**
 * Submits pending work and waits until the GPU has finished it (for timing and before
 * teardown); rejects with a pending device error, if any.
 *
 * @example
 * ```ts ignore
 * import { syncWebGPU } from "./mod.ts";
 * await syncWebGPU();
 * ```
 */
export async function syncWebGPU(): Promise<void> {
  await rtOrThrow("syncWebGPU").sync();
}

/**
 * Frees the pool's idle buffers (live tensors are untouched).
 *
 * @example
 * ```ts ignore
 * import { trimWebGPUPool } from "./mod.ts";
 * trimWebGPUPool();
 * ```
 */
export function trimWebGPUPool(): void {
  const rt = rtOrThrow("trimWebGPUPool");
  rt.queue.flush(); // recorded commands may still bind pooled buffers
  rt.pool.trim();
}

/**
 * Waits for pending work and destroys the device; tensors still on it become unusable (their
 * `dispose()` stays harmless). `initWebGPU()` may be called again afterwards.
 *
 * @example
 * ```ts ignore
 * import { destroyWebGPU } from "./mod.ts";
 * await destroyWebGPU();
 * ```
 */
export async function destroyWebGPU(): Promise<void> {
  const rt = currentRuntime();
  setRuntime(null);
  info = null;
  await rt?.destroy();
}
