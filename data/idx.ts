/**
 * Reader and writer for IDX files, the format of MNIST and Fashion-MNIST.
 *
 * An IDX file is a big-endian header followed by the raw elements in row-major order:
 * two zero bytes, a dtype code (`0x08` = unsigned byte, the only code tessera reads), the
 * number of dimensions, then one uint32 per dimension. Images are `0x00000803`
 * (`[count, rows, cols]`), labels `0x00000801` (`[count]`). Files may be gzip-compressed;
 * they are inflated with the web `DecompressionStream`.
 *
 * @module
 */

import { TesseraError } from "../tensor/errors.ts";

/** The contents of an IDX file: its dimension sizes and its elements (row-major). */
export interface Idx {
  /** Dimension sizes, outermost first, e.g. `[10000, 28, 28]` for 10,000 28×28 images. */
  dims: number[];
  /** The elements, `dims` multiplied together of them. */
  data: Uint8Array;
}

const UBYTE = 0x08;
const DTYPE_NAMES: Record<number, string> = {
  0x08: "unsigned byte",
  0x09: "signed byte",
  0x0b: "int16",
  0x0c: "int32",
  0x0d: "float32",
  0x0e: "float64",
};

/** True when `bytes` starts with the gzip magic number `1f 8b`. */
function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Inflates gzip data with the web `DecompressionStream`. */
async function gunzip(
  bytes: Uint8Array,
  fail: (detail: string) => TesseraError,
): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new DecompressionStream("gzip"));
  try {
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw fail(`gzip data is corrupt or truncated (${why})`);
  }
}

function hex(n: number, digits: number): string {
  return `0x${n.toString(16).padStart(digits, "0")}`;
}

/** Parses uncompressed IDX bytes; `fail` builds the error (its message may name the file). */
function parseIdx(bytes: Uint8Array, fail: (detail: string) => TesseraError): Idx {
  if (bytes.length < 4) {
    throw fail(`truncated header: ${bytes.length} bytes, an IDX file starts with 4 magic bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw fail(`bad magic ${hex(magic, 8)}: an IDX file starts with two zero bytes`);
  }
  const code = bytes[2]!;
  if (code !== UBYTE) {
    const name = DTYPE_NAMES[code] ?? "unknown";
    throw fail(
      `unsupported dtype code ${hex(code, 2)} (${name}) in magic ${hex(magic, 8)}: ` +
        `only ${hex(UBYTE, 2)} (unsigned byte) is supported`,
    );
  }
  const ndim = bytes[3]!;
  if (ndim === 0) throw fail(`bad magic ${hex(magic, 8)}: zero dimensions`);
  const headerSize = 4 + 4 * ndim;
  if (bytes.length < headerSize) {
    throw fail(
      `truncated header: ${ndim} dimensions need ${headerSize} bytes, got ${bytes.length}`,
    );
  }
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i));
  const size = dims.reduce((a, b) => a * b, 1);
  const body = bytes.length - headerSize;
  if (body < size) {
    throw fail(
      `truncated data: dims [${dims.join(",")}] need ${size} bytes after the header, got ${body}`,
    );
  }
  if (body > size) {
    throw fail(
      `${body - size} unexpected bytes after the data of dims [${dims.join(",")}] (${size} bytes)`,
    );
  }
  return { dims, data: bytes.subarray(headerSize) };
}

/**
 * Parses an IDX file held in memory, gzip-compressed (starting with `1f 8b`) or raw.
 * Only unsigned-byte data (dtype code `0x08`) is supported. For raw input, `data` is a
 * view into `bytes` (no copy).
 *
 * @param bytes the file's contents
 * @returns the dimension sizes and the elements
 * @throws {TesseraError} (op `readIdx`) on bad magic, an unsupported dtype code, truncated
 *   or corrupt data, or trailing bytes
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeIdx, readIdx } from "./idx.ts";
 * const bytes = encodeIdx([2, 3], new Uint8Array([1, 2, 3, 4, 5, 6]));
 * const { dims, data } = await readIdx(bytes);
 * assert.deepEqual(dims, [2, 3]);
 * assert.equal(data[5], 6);
 * ```
 */
export async function readIdx(bytes: Uint8Array): Promise<Idx> {
  const fail = (detail: string) => new TesseraError("readIdx", detail);
  if (!(bytes instanceof Uint8Array)) {
    const hint = typeof bytes === "string" || (bytes as unknown) instanceof URL
      ? " (to read a file, use readIdxFile(path))"
      : "";
    throw fail(`bytes must be a Uint8Array, got ${kindOf(bytes)}${hint}`);
  }
  return parseIdx(isGzip(bytes) ? await gunzip(bytes, fail) : bytes, fail);
}

/** A short description of a wrongly typed argument. */
function kindOf(x: unknown): string {
  if (x === null) return "null";
  if (typeof x === "string") return `the string ${JSON.stringify(x.slice(0, 40))}`;
  if (typeof x === "object") return (x as object).constructor?.name ?? "an object";
  return typeof x;
}

/**
 * Reads the bytes at a path or URL: `fetch` for http(s) URLs, `Deno.readFile` otherwise.
 * Internal helper shared by the data loaders (not re-exported from `data/mod.ts`).
 *
 * @param path a file path, or a `file:`/`http:`/`https:` URL
 * @param op the op name for errors
 * @returns the bytes
 * @throws {TesseraError} (op `op`) naming the path when it can't be read
 */
export async function readBytes(path: string | URL, op: string): Promise<Uint8Array> {
  const url = typeof path === "string" && /^(https?|file):/.test(path) ? new URL(path) : path;
  if (url instanceof URL && (url.protocol === "http:" || url.protocol === "https:")) {
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new TesseraError(op, `cannot fetch ${url.href}: ${why}`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new TesseraError(op, `cannot fetch ${url.href}: HTTP ${res.status} ${res.statusText}`);
    }
    return new Uint8Array(await res.arrayBuffer());
  }
  try {
    return await Deno.readFile(url);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new TesseraError(op, `cannot read ${url instanceof URL ? url.href : url}: ${why}`);
  }
}

/**
 * Reads an IDX file (gzip-compressed or raw) from a path or URL. `file:` URLs and paths
 * are read with `Deno.readFile` (needs `--allow-read`), `http(s):` URLs with `fetch`
 * (needs `--allow-net`). Error messages name the file.
 *
 * @param path a file path, or a `file:`/`http:`/`https:` URL
 * @returns the dimension sizes and the elements
 * @throws {TesseraError} (op `readIdx`) when the file can't be read or is not a valid
 *   unsigned-byte IDX file
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readIdxFile } from "./idx.ts";
 * const url = new URL("./sample/fashion-mnist/t10k-labels-idx1-ubyte.gz", import.meta.url);
 * const { dims, data } = await readIdxFile(url);
 * assert.deepEqual(dims, [1000]);
 * assert.equal(data[0], 9);
 * ```
 */
export async function readIdxFile(path: string | URL): Promise<Idx> {
  if (typeof path !== "string" && !(path instanceof URL)) {
    throw new TesseraError("readIdx", `path must be a string or URL, got ${kindOf(path)}`);
  }
  const name = path instanceof URL ? path.href : path;
  const fail = (detail: string) => new TesseraError("readIdx", `${name}: ${detail}`);
  const bytes = await readBytes(path, "readIdx");
  return parseIdx(isGzip(bytes) ? await gunzip(bytes, fail) : bytes, fail);
}

/**
 * Encodes unsigned bytes as an uncompressed IDX file (dtype code `0x08`).
 *
 * @param dims dimension sizes, outermost first (1 to 255 of them)
 * @param data the elements in row-major order; its length must be the product of `dims`
 * @returns the file's bytes: header then data
 * @throws {TesseraError} (op `encodeIdx`) when `dims` is empty or invalid, or `data`
 *   has the wrong length
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeIdx } from "./idx.ts";
 * const labels = encodeIdx([3], new Uint8Array([9, 0, 0]));
 * assert.equal(labels.length, 11); // 4 magic + 4 count + 3 labels
 * ```
 */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  if (!Array.isArray(dims)) {
    throw new TesseraError("encodeIdx", `dims must be an array, got ${kindOf(dims)}`);
  }
  if (!(data instanceof Uint8Array)) {
    throw new TesseraError("encodeIdx", `data must be a Uint8Array, got ${kindOf(data)}`);
  }
  if (dims.length < 1 || dims.length > 255) {
    throw new TesseraError("encodeIdx", `needs 1 to 255 dimensions, got ${dims.length}`);
  }
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) {
      throw new TesseraError("encodeIdx", `bad dimension ${d} in [${dims.join(",")}]`);
    }
  }
  const size = dims.reduce((a, b) => a * b, 1);
  if (data.length !== size) {
    throw new TesseraError(
      "encodeIdx",
      `dims [${dims.join(",")}] need ${size} bytes of data, got ${data.length}`,
    );
  }
  const headerSize = 4 + 4 * dims.length;
  const out = new Uint8Array(headerSize + size);
  const view = new DataView(out.buffer);
  view.setUint32(0, (UBYTE << 8) | dims.length);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(data, headerSize);
  return out;
}
