/**
 * The current webgpu runtime (set by `initWebGPU`). Internal: tests and benchmarks use it to
 * reach the device; applications use the functions of mod.ts.
 * @module
 */
import type { Runtime } from "./runtime.ts";

let current: Runtime | null = null;

/** The runtime of the registered webgpu backend, or null before `initWebGPU`. */
export function currentRuntime(): Runtime | null {
  return current;
}

/** Internal: installs (or clears) the current runtime. */
export function setRuntime(rt: Runtime | null): void {
  current = rt;
}
