/**
 * The immutable Tensor.
 * @module
 */
import type { Backend, Storage } from "./backend.ts";
import { type DType, isFloat, type TypedArray } from "./dtype.ts";
import { fmtShape, TesseraError } from "./errors.ts";
import { releaseStorage, trackTensor, untrackTensor } from "./memory.ts";
import type { Prim, PrimParams } from "./primitives.ts";
import { type Shape, sizeOf } from "./shape.ts";

/**
 * A transformation (JVP or VJP) that intercepts primitives applied to its tracers.
 * Implemented in autodiff/; defined here so the tensor layer does not import autodiff.
 */
export interface Trace {
  /** Nesting depth: a higher level is an inner transformation. */
  readonly level: number;
  /** Kind, for error messages and memory handling. */
  readonly kind: "jvp" | "vjp";
  /** Applies `prim` to inputs of which at least one is a tracer of this trace. */
  process<P extends Prim>(prim: P, inputs: readonly Tensor[], params: PrimParams[P]): Tensor;
}

/** What a tracer tensor carries instead of storage. */
export interface TracerState {
  /** The transformation this tracer belongs to. */
  readonly trace: Trace;
  /** The value at the level below (concrete or a lower-level tracer). */
  readonly primal: Tensor;
  /** Tensors this tracer keeps alive (primal, tangent), for memory walks. */
  children(): Tensor[];
}

/**
 * An immutable n-dimensional array. Either concrete (owns backend storage) or a tracer used
 * by autodiff (carries a primal value and transformation state). Create tensors with
 * `tensor`, `zeros`, `arange`, … and combine them with ops such as `add` and `matmul`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "../mod.ts";
 * const t = tensor([[1, 2], [3, 4]]);
 * assert.deepEqual(t.shape, [2, 2]);
 * assert.equal(t.dtype, "float32");
 * assert.deepEqual(await t.toArray(), [[1, 2], [3, 4]]);
 * t.dispose();
 * ```
 */
export class Tensor {
  /** Dimension sizes. */
  readonly shape: Shape;
  /** Element type. */
  readonly dtype: DType;
  /** The backend that owns (or will own) this tensor's data. */
  readonly backend: Backend;
  /** Autodiff state when this tensor is a tracer, otherwise null. Internal. */
  readonly tracer: TracerState | null;
  #storage: Storage | null;
  #disposed = false;

  /**
   * Internal constructor: use the creation functions instead.
   * @param shape dimension sizes
   * @param dtype element type
   * @param backend owning backend
   * @param storage backend storage (concrete tensors) or null (tracers)
   * @param tracer autodiff state (tracers) or null
   */
  constructor(
    shape: Shape,
    dtype: DType,
    backend: Backend,
    storage: Storage | null,
    tracer: TracerState | null = null,
  ) {
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.backend = backend;
    this.#storage = storage;
    this.tracer = tracer;
    if (storage) trackTensor(this);
  }

  /** Number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** True once `dispose()` has been called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** The backend storage; throws if this tensor was disposed or is a tracer. Internal. */
  get storage(): Storage {
    if (this.#disposed) {
      throw new TesseraError(
        "Tensor",
        `tensor ${fmtShape(this.shape)} ${this.dtype} used after dispose()`,
      );
    }
    if (!this.#storage) throw new TesseraError("Tensor", "tracer has no storage");
    return this.#storage;
  }

  /** The innermost concrete value (this tensor itself unless it is a tracer). */
  concrete(): Tensor {
    return this.tracer ? this.tracer.primal.concrete() : this;
  }

  /** Reads the elements (row-major) into a new typed array. Tracers read their primal. */
  async data(): Promise<TypedArray> {
    const c = this.concrete();
    return await c.backend.read(c.storage, c.dtype, c.size);
  }

  /** Reads the elements synchronously; only backends with synchronous memory (CPU) allow it. */
  dataSync(): TypedArray {
    const c = this.concrete();
    if (!c.backend.readSync) {
      throw new TesseraError(
        "dataSync",
        `backend "${c.backend.name}" reads asynchronously: use await t.data()`,
      );
    }
    return c.backend.readSync(c.storage, c.dtype, c.size);
  }

  /** Reads the elements as nested arrays (numbers, or booleans for bool tensors). */
  async toArray(): Promise<NestedArray> {
    // An empty tensor still nests: [1e9, 0] would be a billion empty arrays.
    const zero = this.shape.indexOf(0);
    if (zero > 0 && sizeOf(this.shape.slice(0, zero)) > 2 ** 24) {
      throw new TesseraError(
        "toArray",
        `empty tensor ${fmtShape(this.shape)} would nest ${
          sizeOf(this.shape.slice(0, zero))
        } arrays`,
      );
    }
    return nest(await this.data(), this.shape, this.dtype === "bool");
  }

  /** Reads a single-element tensor as a number. */
  async item(): Promise<number> {
    if (this.size !== 1) {
      throw new TesseraError("item", `needs a 1-element tensor, got ${fmtShape(this.shape)}`);
    }
    return (await this.data())[0]!;
  }

  /** Short description; includes the values when they can be read synchronously. */
  toString(): string {
    const head = `Tensor(${fmtShape(this.shape)}, ${this.dtype}, ${this.backend.name}`;
    if (this.#disposed) return `${head}, disposed)`;
    const c = this.concrete();
    if (!c.backend.readSync || c.disposed) return `${head})`;
    const vals = c.backend.readSync(c.storage, c.dtype, c.size);
    return `${head}) ${formatValues(vals, this.shape, this.dtype)}`;
  }

  /** Frees the storage now (idempotent). Using the tensor afterwards throws. */
  dispose(): void {
    if (this.#disposed || !this.#storage) return;
    this.#disposed = true;
    untrackTensor(this);
    releaseStorage(this.backend, this.#storage);
    this.#storage = null;
  }

  /** `using t = …` disposes at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Nested JavaScript arrays as returned by `toArray()`. */
export type NestedArray = number | boolean | NestedArray[];

function nest(data: TypedArray, shape: Shape, asBool: boolean): NestedArray {
  const conv = (v: number): number | boolean => (asBool ? v !== 0 : v);
  if (shape.length === 0) return conv(data[0]!);
  const build = (dim: number, offset: number): NestedArray[] => {
    const n = shape[dim]!;
    const inner = sizeOf(shape.slice(dim + 1));
    const out: NestedArray[] = [];
    for (let i = 0; i < n; i++) {
      out.push(
        dim === shape.length - 1 ? conv(data[offset + i]!) : build(dim + 1, offset + i * inner),
      );
    }
    return out;
  };
  return build(0, 0);
}

function formatValues(data: TypedArray, shape: Shape, dtype: DType, limit = 64): string {
  if (data.length === 0) return "[]"; // the shape is in the head; [1e12, 0] has no values
  if (data.length > limit) {
    const head = Array.from(data.subarray(0, 8), (v) => fmtNum(v, dtype)).join(", ");
    return `[${head}, … (${data.length} values)]`;
  }
  // Nested brackets like JSON, but NaN/±Infinity printed as such (JSON would say null).
  const build = (dim: number, offset: number): string => {
    if (dim === shape.length) return fmtNum(data[offset]!, dtype);
    const inner = sizeOf(shape.slice(dim + 1));
    const parts: string[] = [];
    for (let i = 0; i < shape[dim]!; i++) parts.push(build(dim + 1, offset + i * inner));
    return `[${parts.join(",")}]`;
  };
  return build(0, 0);
}

/** Floats to 6 significant digits; integers (int32, uint32: counts, indices, PRNG keys) exactly. */
function fmtNum(v: number, dtype: DType): string {
  if (dtype === "bool") return String(v !== 0);
  return isFloat(dtype) ? String(Number(v.toPrecision(6))) : String(v);
}
