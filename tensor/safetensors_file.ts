/**
 * Reading and writing safetensors files with Deno's file system API. The byte-level format
 * lives in `safetensors.ts`, which needs no file system.
 * @module
 */
import { loadSafetensors, type LoadSafetensorsOptions, saveSafetensors } from "./safetensors.ts";
import { TesseraError } from "./errors.ts";
import type { Tensor } from "./tensor.ts";
import { hostFs } from "./host_fs.ts";

/**
 * Writes tensors to a safetensors file atomically: the bytes go to `${path}.tmp-<random>`,
 * are flushed to disk, and the temporary file is then renamed over `path`. A failure removes
 * the temporary file, so `path` always holds either its old contents or the complete new file,
 * and throws a TesseraError naming `path` and the cause (`cannot write ck.safetensors: No such
 * file or directory (os error 2)`, ENOSPC, …); the file system's error is its `cause`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSafetensorsFile, writeSafetensorsFile } from "./safetensors_file.ts";
 * import { tensor } from "./creation.ts";
 * import "./cpu/mod.ts";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await writeSafetensorsFile(path, { w: tensor([1, 2, 3]) }, { epoch: "3" });
 * const { tensors, metadata } = await readSafetensorsFile(path);
 * assert.deepEqual(await tensors.w!.toArray(), [1, 2, 3]);
 * assert.equal(metadata.epoch, "3");
 * await Deno.remove(path);
 * ```
 */
export async function writeSafetensorsFile(
  path: string | URL,
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  const fs = hostFs("writeSafetensorsFile");
  const bytes = await saveSafetensors(tensors, metadata);
  const rand = Array.from(
    crypto.getRandomValues(new Uint8Array(8)),
    (b) => b.toString(16).padStart(2, "0"),
  );
  const suffix = `.tmp-${rand.join("")}`;
  const tmp = path instanceof URL ? new URL(path.href + suffix) : path + suffix;
  try {
    {
      using file = await fs.open(tmp, { write: true, createNew: true });
      let off = 0;
      while (off < bytes.length) off += await file.write(bytes.subarray(off));
      await file.syncData();
    }
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.remove(tmp).catch(() => {});
    throw writeError(path, e);
  }
}

/** The error for a failed write: names the target (not the temporary file) and the cause. */
function writeError(path: string | URL, e: unknown): TesseraError {
  const name = path instanceof URL ? path.href : path;
  let why = e instanceof Error ? e.message : String(e);
  // Deno appends the syscall and the (temporary) path: "…(os error 2): open '/d/x.tmp-ab12'".
  why = why.replace(/: (open|rename|write|fsync|fdatasync) '.*'$/s, "");
  const code = (e as { code?: unknown })?.code;
  if (typeof code === "string" && !why.includes(code)) why += ` [${code}]`;
  const err = new TesseraError("writeSafetensorsFile", `cannot write ${name}: ${why}`);
  err.cause = e;
  return err;
}

/**
 * Reads a safetensors file into tensors (see `loadSafetensors`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSafetensorsFile, writeSafetensorsFile } from "./safetensors_file.ts";
 * import { tensor } from "./creation.ts";
 * import "./cpu/mod.ts";
 * const path = await Deno.makeTempFile();
 * await writeSafetensorsFile(path, { b: tensor([true, false]) });
 * assert.equal((await readSafetensorsFile(path, { backend: "cpu" })).tensors.b!.dtype, "bool");
 * await Deno.remove(path);
 * ```
 */
export async function readSafetensorsFile(
  path: string | URL,
  opts: LoadSafetensorsOptions = {},
): Promise<{ tensors: Record<string, Tensor>; metadata: Record<string, string> }> {
  return loadSafetensors(await hostFs("readSafetensorsFile").readFile(path), opts);
}
