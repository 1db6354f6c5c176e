/**
 * Moving tensors between backends.
 * @module
 */
import { getBackend } from "./backend.ts";
import { TesseraError } from "./errors.ts";
import { Tensor } from "./tensor.ts";

/**
 * Copies a concrete tensor to another backend (returns `t` itself when already there).
 * Reading from an asynchronous backend requires `await`, so this is async.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor, toBackend } from "../mod.ts";
 * const t = await toBackend(tensor([1, 2]), "cpu");
 * assert.equal(t.backend.name, "cpu");
 * assert.deepEqual(await t.toArray(), [1, 2]); // same values on the target backend
 * ```
 */
export async function toBackend(t: Tensor, name: string): Promise<Tensor> {
  if (!(t instanceof Tensor)) throw new TesseraError("toBackend", "expected a Tensor");
  const target = getBackend(name);
  if (t.backend === target) return t;
  if (t.tracer) {
    throw new TesseraError("toBackend", "cannot move a tensor that is being differentiated");
  }
  if (!target.supportsDtype(t.dtype)) {
    throw new TesseraError("toBackend", `backend "${name}" does not support dtype ${t.dtype}`);
  }
  const data = await t.data();
  return new Tensor(t.shape, t.dtype, target, target.upload(data, t.dtype));
}
