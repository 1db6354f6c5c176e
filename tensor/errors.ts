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

/** Formats any value for an error message (never throws, unlike JSON.stringify on BigInt). */
export function fmtValue(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `${x}n` : x)) ?? String(v);
  } catch {
    return String(v);
  }
}
