/**
 * The one error class every tessera op throws on bad input.
 * @module
 */

/**
 * Error thrown by tessera when an op is given bad input or a tensor is misused. The message
 * always starts with the op name, e.g. `matmul: inner dimensions differ: [2,3] @ [4,5]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TesseraError } from "./errors.ts";
 * const e = new TesseraError("matmul", "inner dimensions differ: [2,3] @ [4,5]");
 * assert.equal(e.message, "matmul: inner dimensions differ: [2,3] @ [4,5]");
 * ```
 */
export class TesseraError extends Error {
  /** The op (or API function) that rejected its input. */
  readonly op: string;
  /**
   * Creates the error; the message is `${op}: ${detail}`.
   * @param op name of the op or function that failed
   * @param detail what was wrong, naming the offending shapes, dtypes, axes or values
   */
  constructor(op: string, detail: string) {
    super(`${op}: ${detail}`);
    this.name = "TesseraError";
    this.op = op;
  }
}

/** Formats a shape as `[2,3]` for error messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/**
 * Formats any value for an error message: JSON-like (`[2,3]`, `{"eps":-1}`, `"abc"`) but with
 * numbers as JavaScript prints them, so NaN and ±Infinity stay visible (JSON.stringify would
 * print `null`), BigInts as `10n`, and never throws (cycles print as `[Circular]`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fmtValue } from "./errors.ts";
 * assert.equal(fmtValue([NaN, -Infinity, 2]), "[NaN,-Infinity,2]");
 * assert.equal(fmtValue({ eps: NaN, mode: "x" }), '{"eps":NaN,"mode":"x"}');
 * assert.equal(fmtValue(10n), "10n");
 * ```
 */
export function fmtValue(v: unknown): string {
  return fmtInner(v, new Set());
}

function fmtInner(v: unknown, seen: Set<unknown>): string {
  if (typeof v === "number") return Object.is(v, -0) ? "0" : String(v);
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "string") return JSON.stringify(v);
  if (v === null || typeof v !== "object") {
    return typeof v === "function" ? `function ${v.name || "(anonymous)"}` : String(v);
  }
  if (seen.has(v)) return "[Circular]";
  seen.add(v);
  try {
    if (Array.isArray(v)) return fmtList(v, seen);
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      return v.constructor.name + fmtList(v as unknown as ArrayLike<number>, seen);
    }
    if (typeof (v as { toJSON?: unknown }).toJSON === "function") {
      return fmtInner((v as { toJSON(): unknown }).toJSON(), seen);
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return proto?.constructor?.name ?? "object";
    const parts: string[] = [];
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined || typeof x === "function" || typeof x === "symbol") continue;
      parts.push(`${JSON.stringify(k)}:${fmtInner(x, seen)}`);
    }
    return `{${parts.join(",")}}`;
  } catch {
    return "object";
  } finally {
    seen.delete(v);
  }
}

/** At most {@link MAX_ITEMS} items of a list, then `…`. */
function fmtList(v: ArrayLike<unknown>, seen: Set<unknown>): string {
  const n = Math.min(v.length, MAX_ITEMS);
  const items: string[] = [];
  for (let i = 0; i < n; i++) items.push(fmtInner(v[i], seen));
  if (v.length > n) items.push(`… (${v.length} items)`);
  return `[${items.join(",")}]`;
}

const MAX_ITEMS = 64;
