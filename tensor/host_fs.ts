/**
 * The host file system, for the few library functions that read or write files
 * (`readSafetensorsFile`, `writeSafetensorsFile`, `loadCheckpoint(path)`, `loadEncoder`). It is
 * Deno's namespace, typed here by the parts tessera uses, so the library also type-checks for
 * browsers (no `Deno` global there) and those functions fail there with a {@link TesseraError}
 * naming the public op instead of a `ReferenceError`.
 * @module
 */
import { TesseraError } from "./errors.ts";

/** A file opened for writing (the part of `Deno.FsFile` tessera uses). */
export interface HostFile extends Disposable {
  /** Writes some of `p`; returns how many bytes were written. */
  write(p: Uint8Array): Promise<number>;
  /** Flushes the file's data to disk. */
  syncData(): Promise<void>;
}

/** The part of Deno's file system API tessera uses. */
export interface HostFs {
  /** The whole file. */
  readFile(path: string | URL): Promise<Uint8Array>;
  /** Opens a new file (failing if it exists) for writing. */
  open(path: string | URL, opts: { write: true; createNew: true }): Promise<HostFile>;
  /** Renames (atomically replaces) a file. */
  rename(from: string | URL, to: string | URL): Promise<void>;
  /** Removes a file. */
  remove(path: string | URL): Promise<void>;
  /** File information. */
  stat(path: string | URL): Promise<{ isDirectory: boolean; isFile: boolean }>;
}

/**
 * Deno's file system, or a {@link TesseraError} naming `op` where there is none (a browser).
 *
 * @param op the public op that needs files, for the error message
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostFs } from "./host_fs.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "hi");
 * assert.deepEqual(await hostFs("example").readFile(path), new TextEncoder().encode("hi"));
 * await Deno.remove(path);
 * ```
 */
export function hostFs(op: string): HostFs {
  const fs = (globalThis as { Deno?: HostFs }).Deno;
  if (!fs) {
    throw new TesseraError(
      op,
      "needs a file system (Deno); in a browser, fetch the bytes and pass them to " +
        "loadSafetensors / loadCheckpoint instead of a path",
    );
  }
  return fs;
}
