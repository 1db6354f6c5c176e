/**
 * Where Deno keeps `@tensorflow/tfjs-backend-wasm`'s .wasm files (its npm cache or a local
 * node_modules), as a path prefix for `setWasmPaths`.
 * @module
 */

/** The directory (with trailing slash) holding tfjs-backend-wasm 4.22.0's `.wasm` files. */
export function tfjsWasmDir(): string {
  const url = import.meta.resolve("npm:@tensorflow/tfjs-backend-wasm@4.22.0");
  if (url.startsWith("file:")) {
    const path = new URL(url).pathname;
    return path.slice(0, path.lastIndexOf("/dist/") + 6);
  }
  const home = Deno.env.get("DENO_DIR") ??
    `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`}/deno`;
  return `${home}/npm/registry.npmjs.org/@tensorflow/tfjs-backend-wasm/4.22.0/dist/`;
}
