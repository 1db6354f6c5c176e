/**
 * The safetensors byte format itself: `encodeSafetensors` and `decodeSafetensors` between
 * host typed arrays and bytes, with full header and layout validation. Re-exported by
 * safetensors.ts.
 * @module
 */
import { arrayFor, type DType, itemSize, type TypedArray } from "./dtype.ts";
import { fmtShape } from "./errors.ts";
import {
  ARRAYS,
  compareBytes,
  fail,
  numelOf,
  put,
  q,
  READ_TYPES,
  swapToHost,
  WRITE_NAMES,
} from "./_safetensors_util.ts";

/**
 * Largest header accepted when decoding (the limit of the reference implementation).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeSafetensors, MAX_HEADER_SIZE } from "./safetensors.ts";
 * // the first 8 bytes give the header length; a longer header is refused before it is read
 * const bytes = new Uint8Array(8);
 * new DataView(bytes.buffer).setBigUint64(0, BigInt(MAX_HEADER_SIZE + 1), true);
 * assert.throws(() => decodeSafetensors(bytes), /exceeds the maximum of 100000000 bytes/);
 * ```
 */
export const MAX_HEADER_SIZE = 100_000_000;

/**
 * One tensor's host data, as encoded into or decoded from safetensors bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeSafetensors, encodeSafetensors, type SafetensorsEntry } from "./safetensors.ts";
 * const e: SafetensorsEntry = { dtype: "bool", shape: [2], data: Uint8Array.of(1, 0) };
 * assert.deepEqual(decodeSafetensors(encodeSafetensors({ m: e })).entries.m, e); // round trip
 * ```
 */
export interface SafetensorsEntry {
  /** Element type. */
  dtype: DType;
  /** Dimension sizes (`[]` for a scalar). */
  shape: number[];
  /** The elements, row-major, in the dtype's typed array (Uint8Array of 0/1 for bool). */
  data: TypedArray;
}

/**
 * What `decodeSafetensors` returns.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type DecodedSafetensors, decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
 * const d: DecodedSafetensors = decodeSafetensors(encodeSafetensors({}, { a: "b" }));
 * assert.deepEqual(d.entries, {});
 * assert.deepEqual(d.metadata, { a: "b" });
 * ```
 */
export interface DecodedSafetensors {
  /** The tensors, in file-layout order. */
  entries: Record<string, SafetensorsEntry>;
  /** The `__metadata__` strings (empty when the file has none). */
  metadata: Record<string, string>;
}

/**
 * Encodes tensors (and optional string metadata) as safetensors bytes. Tensors are laid out
 * contiguously, sorted by descending element size then by name; the header is padded with
 * spaces to a multiple of 8 bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
 * const bytes = encodeSafetensors(
 *   { w: { dtype: "float32", shape: [2], data: new Float32Array([1, 2]) } },
 *   { format: "pt" },
 * );
 * const { entries, metadata } = decodeSafetensors(bytes);
 * assert.deepEqual(entries.w!.shape, [2]);
 * assert.deepEqual(entries.w!.data, Float32Array.of(1, 2));
 * assert.equal(metadata.format, "pt");
 * ```
 */
export function encodeSafetensors(
  entries: Record<string, SafetensorsEntry>,
  metadata?: Record<string, string>,
): Uint8Array {
  const enc = new TextEncoder();
  if (entries === null || typeof entries !== "object") fail("entries must be an object");
  const list = Object.entries(entries).map(([name, e]) => {
    if (name === "__metadata__") fail(`"__metadata__" is reserved and cannot name a tensor`);
    if (e === null || typeof e !== "object") fail(`tensor ${q(name)}: entry must be an object`);
    const { dtype, shape, data } = e;
    if (!Object.hasOwn(WRITE_NAMES, dtype)) {
      fail(`tensor ${q(name)}: unknown dtype ${q(String(dtype))}`);
    }
    if (!(data instanceof ARRAYS[dtype])) {
      fail(`tensor ${q(name)}: data must be the typed array for dtype ${dtype}`);
    }
    const n = numelOf(name, shape);
    if (data.length !== n) {
      fail(`tensor ${q(name)}: ${data.length} values do not fill shape ${fmtShape(shape)}`);
    }
    if (dtype === "bool" && data.some((v) => v !== 0 && v !== 1)) {
      fail(`tensor ${q(name)}: bool data must hold only 0 and 1`);
    }
    return { name, key: enc.encode(name), dtype, shape: [...shape], data, size: itemSize(dtype) };
  });
  list.sort((a, b) => b.size - a.size || compareBytes(a.key, b.key));

  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) {
      fail("metadata must be an object of strings");
    }
    const meta: Record<string, string> = {};
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") {
        fail(`metadata value for ${q(k)} must be a string, got ${typeof v}`);
      }
      put(meta, k, v);
    }
    put(header, "__metadata__", meta);
  }
  let offset = 0;
  for (const t of list) {
    const end = offset + t.data.byteLength;
    put(header, t.name, {
      dtype: WRITE_NAMES[t.dtype],
      shape: t.shape,
      data_offsets: [offset, end],
    });
    offset = end;
  }
  const json = enc.encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let pos = 8 + padded;
  for (const { data } of list) {
    const dst = out.subarray(pos, pos += data.byteLength);
    dst.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    swapToHost(dst, data.BYTES_PER_ELEMENT); // host order to little-endian
  }
  return out;
}

/** Reads `n` stored elements of type `st` at `bytes[begin..]` into a new typed array. */
function readData(
  name: string,
  st: string,
  bytes: Uint8Array,
  begin: number,
  n: number,
): TypedArray {
  const [size, dtype, get] = READ_TYPES[st]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset + begin, n * size);
  const out = arrayFor(dtype, n);
  if (st === "I64" || st === "U64") {
    const [lo, hi] = st === "I64" ? [-(2n ** 31n), 2n ** 31n - 1n] : [0n, 2n ** 32n - 1n];
    for (let i = 0; i < n; i++) {
      const v = st === "I64" ? view.getBigInt64(i * 8, true) : view.getBigUint64(i * 8, true);
      if (v < lo || v > hi) {
        fail(`tensor ${q(name)}: ${st} element ${i} = ${v} does not fit in ${dtype}`);
      }
      out[i] = Number(v);
    }
  } else if (get) {
    for (let i = 0; i < n; i++) out[i] = get(view, i);
  } else {
    // Stored exactly as tessera holds it: one copy into the fresh, aligned array.
    const raw = new Uint8Array(out.buffer);
    raw.set(bytes.subarray(begin, begin + n * size));
    swapToHost(raw, size);
  }
  const bad = st === "BOOL" ? out.findIndex((v) => v > 1) : -1;
  if (bad >= 0) fail(`tensor ${q(name)}: BOOL element ${bad} is ${out[bad]}, not 0 or 1`);
  return out;
}

/**
 * Decodes safetensors bytes, validating the header and layout. F32/F64/I32/U32/BOOL map to
 * tessera's dtypes; F16 and BF16 widen to float32; I8/U8/I16/U16 widen to int32; I64/U64
 * narrow to int32/uint32 (an out-of-range value is an error). The data is always copied, so
 * the result never aliases `bytes`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeSafetensors } from "./safetensors.ts";
 * const header = new TextEncoder().encode('{"x":{"dtype":"I32","shape":[],"data_offsets":[0,4]}}');
 * const bytes = new Uint8Array(8 + header.length + 4);
 * new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
 * bytes.set(header, 8);
 * bytes[8 + header.length] = 42;
 * assert.deepEqual(
 *   decodeSafetensors(bytes).entries.x,
 *   { dtype: "int32", shape: [], data: Int32Array.of(42) },
 * );
 * ```
 */
export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  if (!(bytes instanceof Uint8Array)) fail("input must be a Uint8Array");
  if (bytes.length < 8) {
    fail(`file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  }
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_SIZE)) {
    fail(`header length ${n64} exceeds the maximum of ${MAX_HEADER_SIZE} bytes`);
  }
  const n = Number(n64);
  if (8 + n > bytes.length) {
    fail(`header length ${n} runs past the end of the ${bytes.length}-byte file`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(
      bytes.subarray(8, 8 + n),
    );
  } catch {
    fail("header is not valid UTF-8");
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    fail(
      `header must be a JSON object, got ${Array.isArray(header) ? "an array" : String(header)}`,
    );
  }
  const bufLen = bytes.length - 8 - n;
  const metadata: Record<string, string> = {};
  const infos: {
    name: string;
    st: string;
    shape: number[];
    begin: number;
    end: number;
    numel: number;
  }[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (info === null || typeof info !== "object" || Array.isArray(info)) {
        fail(`"__metadata__" must be an object of strings`);
      }
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== "string") {
          fail(`"__metadata__" value for ${q(k)} must be a string, got ${typeof v}`);
        }
        put(metadata, k, v);
      }
      continue;
    }
    if (info === null || typeof info !== "object" || Array.isArray(info)) {
      fail(`tensor ${q(name)}: entry must be an object with dtype, shape and data_offsets`);
    }
    const { dtype: st, shape, data_offsets: offs } = info as Record<string, unknown>;
    if (typeof st !== "string") fail(`tensor ${q(name)}: missing or non-string dtype`);
    const rt = Object.hasOwn(READ_TYPES, st) ? READ_TYPES[st]! : undefined;
    if (!rt) fail(`tensor ${q(name)}: unsupported dtype ${q(st)}`);
    if (shape === undefined) fail(`tensor ${q(name)}: missing shape`);
    const numel = numelOf(name, shape);
    if (
      !Array.isArray(offs) || offs.length !== 2 ||
      !offs.every((o) => Number.isSafeInteger(o) && o >= 0)
    ) {
      fail(`tensor ${q(name)}: data_offsets must be [begin, end] non-negative integers`);
    }
    const [begin, end] = offs as [number, number];
    if (begin > end) fail(`tensor ${q(name)}: data_offsets begin ${begin} > end ${end}`);
    if (end > bufLen) {
      fail(`tensor ${q(name)}: data_offsets end ${end} is beyond the ${bufLen}-byte data buffer`);
    }
    if (end - begin !== numel * rt[0]) {
      fail(
        `tensor ${q(name)}: ${end - begin} bytes but shape ${
          fmtShape(shape as number[])
        } of ${st} needs ${numel * rt[0]}`,
      );
    }
    infos.push({ name, st, shape: [...(shape as number[])], begin, end, numel });
  }
  infos.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev = "";
  for (const t of infos) {
    if (t.begin < pos) {
      fail(`tensor ${q(t.name)}: data range [${t.begin},${t.end}) overlaps tensor ${q(prev)}`);
    }
    if (t.begin > pos) {
      fail(`tensor ${q(t.name)}: gap in the data buffer at bytes [${pos},${t.begin})`);
    }
    pos = t.end;
    prev = t.name;
  }
  if (pos !== bufLen) fail(`data buffer is ${bufLen} bytes but the tensors cover only ${pos}`);
  const entries: Record<string, SafetensorsEntry> = {};
  const base = 8 + n;
  for (const t of infos) {
    const data = readData(t.name, t.st, bytes, base + t.begin, t.numel);
    put(entries, t.name, { dtype: READ_TYPES[t.st]![1], shape: t.shape, data });
  }
  return { entries, metadata };
}
