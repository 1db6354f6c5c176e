/**
 * Choosing the backend from the environment: `TESSERA_BACKEND=webgpu` (or `cpu`).
 * @module
 */
import { getBackend, setBackend } from "../backend.ts";
import { TesseraError } from "../errors.ts";
import { initWebGPU } from "./mod.ts";

/**
 * Reads `TESSERA_BACKEND` (`cpu` or `webgpu`; unset means the current default), initialises
 * WebGPU when asked, makes it the default backend and returns the backend's name. Without
 * permission to read the environment (or outside Deno) it keeps the current default.
 *
 * @example
 * ```ts ignore
 * import { initBackendFromEnv } from "./env.ts";
 * console.error(`backend: ${await initBackendFromEnv()}`);
 * ```
 */
export async function initBackendFromEnv(): Promise<string> {
  let name: string | undefined;
  try {
    name = (globalThis as { Deno?: { env: { get(k: string): string | undefined } } }).Deno?.env
      .get("TESSERA_BACKEND");
  } catch {
    name = undefined; // no --allow-env
  }
  if (!name) return getBackend().name;
  if (name === "webgpu") await initWebGPU();
  else if (name !== "cpu") {
    throw new TesseraError("TESSERA_BACKEND", `unknown backend "${name}" (use cpu or webgpu)`);
  }
  setBackend(name);
  return name;
}
