/**
 * Reading and writing the Hugging Face safetensors format, as bytes (no file system, so it
 * works in browsers). Layout: a u64 little-endian header length `N`, `N` bytes of UTF-8 JSON
 * (padded with spaces to a multiple of 8) mapping each tensor name to
 * `{dtype, shape, data_offsets: [begin, end]}` plus an optional `"__metadata__"` object of
 * strings, then the data buffer; offsets are relative to the buffer start. File helpers are in
 * `safetensors_file.ts`; the byte codec itself is in `safetensors_codec.ts`.
 * @module
 */
import { tensor } from "./creation.ts";
import { Tensor } from "./tensor.ts";
import { fail, put, q } from "./_safetensors_util.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  type SafetensorsEntry,
} from "./safetensors_codec.ts";

export {
  type DecodedSafetensors,
  decodeSafetensors,
  encodeSafetensors,
  MAX_HEADER_SIZE,
  type SafetensorsEntry,
} from "./safetensors_codec.ts";

/**
 * Encodes tensors (read with `await t.data()`, so any backend works) as safetensors bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadSafetensors, saveSafetensors } from "./safetensors.ts";
 * import { tensor } from "./creation.ts";
 * import "./cpu/mod.ts";
 * const bytes = await saveSafetensors({ w: tensor([[1, 2], [3, 4]]) }, { step: "10" });
 * const { tensors, metadata } = loadSafetensors(bytes);
 * assert.deepEqual(await tensors.w!.toArray(), [[1, 2], [3, 4]]);
 * assert.equal(metadata.step, "10");
 * ```
 */
export async function saveSafetensors(
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
): Promise<Uint8Array> {
  if (tensors === null || typeof tensors !== "object") fail("tensors must be an object");
  const entries: Record<string, SafetensorsEntry> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (!(t instanceof Tensor)) fail(`tensor ${q(name)}: expected a Tensor, got ${typeof t}`);
    put(entries, name, { dtype: t.dtype, shape: [...t.shape], data: await t.data() });
  }
  return encodeSafetensors(entries, metadata);
}

/**
 * Options for `loadSafetensors`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type LoadSafetensorsOptions, loadSafetensors, saveSafetensors } from "./safetensors.ts";
 * import { tensor } from "./creation.ts";
 * import "./cpu/mod.ts";
 * const opts: LoadSafetensorsOptions = { backend: "cpu" };
 * const { tensors } = loadSafetensors(await saveSafetensors({ x: tensor([1]) }), opts);
 * assert.equal(tensors.x!.backend.name, "cpu");
 * ```
 */
export interface LoadSafetensorsOptions {
  /** Backend to create the tensors on (default: the current default backend). */
  backend?: string;
}

/**
 * Decodes safetensors bytes into tensors (see `decodeSafetensors` for the accepted dtypes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadSafetensors, saveSafetensors } from "./safetensors.ts";
 * import { tensor } from "./creation.ts";
 * import "./cpu/mod.ts";
 * const bytes = await saveSafetensors({ n: tensor(new Int32Array([7]), { shape: [] }) });
 * assert.equal(await loadSafetensors(bytes, { backend: "cpu" }).tensors.n!.item(), 7);
 * ```
 */
export function loadSafetensors(
  bytes: Uint8Array,
  opts: LoadSafetensorsOptions = {},
): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const { entries, metadata } = decodeSafetensors(bytes);
  const tensors: Record<string, Tensor> = {};
  try {
    for (const [name, e] of Object.entries(entries)) {
      put(tensors, name, tensor(e.data, { shape: e.shape, dtype: e.dtype, backend: opts.backend }));
    }
  } catch (e) {
    for (const t of Object.values(tensors)) t.dispose();
    throw e;
  }
  return { tensors, metadata };
}
