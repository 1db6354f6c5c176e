/**
 * Shared setup of the WebGPU test files: initialises the webgpu backend once per test module
 * (module load, outside any test, so the sanitizers see no op of the device's own), or
 * reports that there is no adapter so every test is registered with `ignore: true`.
 * @module
 */
import { initWebGPU, webgpuAvailable, type WebGPUInfo } from "../../tensor/webgpu/mod.ts";

/** The adapter found, or null when WebGPU or an adapter is missing (tests are skipped). */
export const gpu: WebGPUInfo | null = (await webgpuAvailable()) ? await initWebGPU() : null;

/** True when the WebGPU tests must be skipped. */
export const noGpu: boolean = gpu === null;

/** `Deno.test` that is ignored without an adapter; names are prefixed with `webgpu: `. */
export function gpuTest(name: string, fn: () => Promise<void> | void): void {
  Deno.test({ name: `webgpu: ${name}`, ignore: noGpu, fn });
}
