/**
 * CPU storage: a typed array.
 * @module
 */
import type { Storage } from "../backend.ts";
import type { TypedArray } from "../dtype.ts";

/** CPU tensor memory: a host typed array (Uint8Array for bool). */
export class CpuStorage implements Storage {
  /** The elements, row-major. Kernels must never write into an input's array. */
  readonly data: TypedArray;
  /** Live tensors sharing this storage. */
  refs = 0;
  /** @param data the elements */
  constructor(data: TypedArray) {
    this.data = data;
  }
  /** Size in bytes. */
  get bytes(): number {
    return this.data.byteLength;
  }
}

/** The typed array behind a CPU storage. */
export function arr(s: Storage): TypedArray {
  return (s as CpuStorage).data;
}
