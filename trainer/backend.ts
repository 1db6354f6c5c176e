/**
 * `--backend` and `--threads` of the `train.ts` commands.
 * @module
 */
import { setBackend, setCpuThreads } from "../tensor/mod.ts";
import { initBackendFromEnv } from "../tensor/webgpu/env.ts";
import { initWebGPU } from "../tensor/webgpu/mod.ts";
import { UsageError } from "./flags.ts";

/**
 * Makes `choice` the default backend (null: `$TESSERA_BACKEND`, else the CPU) and sets the
 * CPU matmul threads; returns a description for the logs. Failures are {@link UsageError}s
 * naming `--backend`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectBackend } from "./backend.ts";
 * assert.deepEqual(await selectBackend("cpu", null), "cpu");
 * ```
 */
export async function selectBackend(
  choice: "cpu" | "webgpu" | null,
  threads: number | null,
): Promise<string> {
  let backend: string;
  try {
    if (choice === "webgpu") {
      const gpu = await initWebGPU();
      setBackend("webgpu");
      backend = `webgpu (${gpu.description || gpu.vendor || "adapter"})`;
    } else if (choice === "cpu") {
      setBackend("cpu");
      backend = "cpu";
    } else backend = await initBackendFromEnv();
  } catch (e) {
    throw new UsageError(
      `--backend ${choice ?? "(from TESSERA_BACKEND)"}: ${(e as Error).message}`,
    );
  }
  if (threads !== null) setCpuThreads(threads);
  return backend;
}
