/**
 * The backend interface (what `cpu` and `webgpu` implement) and the backend registry.
 * @module
 */
import type { ElementwiseProgram, FusiblePrim } from "./elementwise_program.ts";
import type { DType, TypedArray } from "./dtype.ts";
import { TesseraError } from "./errors.ts";
import type { Prim, PrimParams } from "./primitives.ts";
import type { Aval } from "./aval.ts";

/**
 * A backend-owned block of memory holding one tensor's elements, contiguous row-major.
 * Several tensors may share one storage (reshape is free); `refs` counts them.
 */
export interface Storage {
  /** Size in bytes (for memory accounting). */
  readonly bytes: number;
  /** Number of live tensors using this storage; freed when it drops to 0. */
  refs: number;
}

/** A kernel input: storage plus its shape and dtype. */
export interface Operand {
  /** The input's memory. */
  readonly storage: Storage;
  /** The input's shape. */
  readonly shape: readonly number[];
  /** The input's dtype. */
  readonly dtype: DType;
}

/** Kernel implementing primitive `P` on a backend: inputs, params, output aval → new storage. */
export type Kernel<P extends Prim> = (
  inputs: readonly Operand[],
  params: PrimParams[P],
  out: Aval,
) => Storage;

/**
 * Parameters of each composite a backend may run as one fused kernel. The composite (the
 * public op's primitives) is always the definition and the fallback: see `fusedOr`
 * (tensor/dispatch.ts).
 */
export interface FusedParams {
  /** Exact (erf) GELU, `0.5·x·(1 + erf(x/√2))`, elementwise on a float tensor. */
  gelu: Record<string, never>;
}

/**
 * A composite that backends may fuse.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { FusedName } from "./backend.ts";
 * const name: FusedName = "gelu";
 * assert.equal(name, "gelu");
 * ```
 */
export type FusedName = keyof FusedParams;

/**
 * A fused kernel: the forward value of composite `F` in one kernel, from inputs the public op
 * has validated; `out` is the composite's output aval.
 */
export type FusedKernel<F extends FusedName> = (
  inputs: readonly Operand[],
  params: FusedParams[F],
  out: Aval,
) => Storage;

/** A backend's optional fused kernels: any subset, one backend at a time. */
export type FusedKernels = { readonly [F in FusedName]?: FusedKernel<F> };

/** A compute backend. All of tessera's math reaches a backend only through `execute`. */
export interface Backend {
  /** Registry name, e.g. `"cpu"` or `"webgpu"`. */
  readonly name: string;
  /** Whether tensors of `dtype` can live on this backend. */
  supportsDtype(dtype: DType): boolean;
  /** Copies host data (already of the right typed-array kind) into new storage. */
  upload(data: TypedArray, dtype: DType): Storage;
  /** Reads a copy of the storage back to the host. */
  read(storage: Storage, dtype: DType, size: number): Promise<TypedArray>;
  /** Synchronous read where the backend can do it (CPU); undefined elsewhere. */
  readSync?(storage: Storage, dtype: DType, size: number): TypedArray;
  /** Releases storage (called when its last tensor is disposed). */
  free(storage: Storage): void;
  /**
   * Fused kernels of composites (optional, any subset): where an entry is missing, and always
   * under an autodiff trace, the composite's primitives run instead.
   */
  readonly fused?: FusedKernels;
  /**
   * Runs a fused elementwise program (optional): `inputs` are its operands' storages, the
   * result one new storage per program output. `jit` fuses chains of `unary`/`binary`
   * equations only on backends that have it.
   */
  fusedElementwise?(program: ElementwiseProgram, inputs: readonly Storage[]): Storage[];
  /** Which ops `fusedElementwise` implements (with it); `op` is "" for `broadcastTo`. */
  canFuseElementwise?(prim: FusiblePrim, op: string): boolean;
  /**
   * Runs a matmul (`a`, `b`, its params, its output aval) whose result is input `fromMatmul` of
   * a pure fused program, the program in the matmul's stores (optional; `jit` merges them only
   * where {@link Backend.canMatmulEpilogue} agrees). `others` are the program's other inputs in
   * order; the result is one new storage per program output, after the product's own when
   * `storeProduct`.
   */
  matmulEpilogue?(
    a: Operand,
    b: Operand,
    params: PrimParams["matmul"],
    out: Aval,
    program: ElementwiseProgram,
    fromMatmul: number,
    others: readonly Storage[],
    storeProduct: boolean,
  ): Storage[];
  /**
   * A matmul whose operands are read, and whose product is written, through strided views of
   * their buffers (optional; `jit` folds permutes and slices into matmuls where it exists).
   * `a`/`b` carry the operand's logical shape and the storage the view reads; the result is a
   * new storage of the product's size, laid out as `views.c` says (contiguous if absent).
   */
  matmulView?(
    a: Operand,
    b: Operand,
    params: PrimParams["matmul"],
    out: Aval,
    views: {
      readonly a?: { readonly base: number; readonly strides: readonly number[] };
      readonly b?: { readonly base: number; readonly strides: readonly number[] };
      readonly c?: { readonly base: number; readonly strides: readonly number[] };
    },
  ): Storage;
  /** Whether {@link Backend.matmulEpilogue} can run `program` with input `fromMatmul` fused. */
  canMatmulEpilogue?(
    program: ElementwiseProgram,
    fromMatmul: number,
    storeProduct: boolean,
  ): boolean;
  /**
   * Runs independent fused programs (none reads another's outputs) as one kernel — a horizontal
   * group over segments of different sizes, such as an optimizer's update of every parameter
   * (optional; `jit` groups only programs {@link Backend.canGroupElementwise} accepts). Returns
   * each program's output storages.
   */
  fusedElementwiseGroup?(
    programs: readonly ElementwiseProgram[],
    inputs: readonly (readonly Storage[])[],
  ): Storage[][];
  /** Whether `program` may join a group of `fusedElementwiseGroup` (with it). */
  canGroupElementwise?(program: ElementwiseProgram): boolean;
  /**
   * New storages of `bytes[k]` bytes, views of one buffer (optional; with
   * {@link Backend.allocInto}, `jit` has producers write the many inputs of a grouped kernel
   * into one buffer the group binds once).
   */
  allocViews?(bytes: readonly number[]): Storage[];
  /**
   * Runs `fn` with `targets` (from {@link Backend.allocViews}) offered, in order, to the output
   * storages its kernels allocate; targets it does not take are freed.
   */
  allocInto?<T>(targets: readonly Storage[], fn: () => T): T;
  /**
   * Whether `jit` may rewrite a program into one equal up to signed zeros (a sum of pads into a
   * concat; see autodiff/jit_tiles.ts). Absent on the CPU, whose replays are bit-identical to eager.
   */
  jitRewrites?: boolean;
  /** Kernel dispatches `fusedElementwise` records for `program` (absent: one). */
  fusedDispatches?(program: ElementwiseProgram): number;
  /**
   * Runs `fn`, whose kernels this backend records, as one batch (WebGPU: one submission when
   * `fn` returns). `jit` replays run inside it, keyed by their program, so a backend may reuse
   * what the program's earlier replays allocated; absent, `fn` simply runs.
   */
  batch?<T>(fn: () => T, key?: object): T;
  /** Runs one primitive. Inputs are already validated by the shape rule. */
  execute<P extends Prim>(
    prim: P,
    inputs: readonly Operand[],
    params: PrimParams[P],
    out: Aval,
  ): Storage;
}

const registry = new Map<string, Backend>();
let defaultName = "cpu";

/**
 * Registers a backend under its name (the CPU backend registers itself on import).
 *
 * @example
 * ```ts
 * import { registerBackend, getBackend } from "./backend.ts";
 * import "./cpu/mod.ts";
 * registerBackend(getBackend("cpu")); // re-registering is harmless
 * ```
 */
export function registerBackend(b: Backend): void {
  registry.set(b.name, b);
}

/**
 * Returns a registered backend (default: the current default backend).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getBackend } from "./backend.ts";
 * import "./cpu/mod.ts";
 * assert.equal(getBackend().name, "cpu");
 * ```
 */
export function getBackend(name?: string, op = "getBackend"): Backend {
  const n = name ?? defaultName;
  const b = registry.get(n);
  if (!b) {
    throw new TesseraError(
      op,
      `unknown backend "${n}"; registered: ${[...registry.keys()].join(", ") || "none"}`,
    );
  }
  return b;
}

/**
 * Sets the default backend for newly created tensors — the only global state in tessera.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getBackend, setBackend } from "./backend.ts";
 * import "./cpu/mod.ts"; // registers the CPU backend
 * setBackend("cpu");
 * assert.equal(getBackend().name, "cpu");
 * assert.throws(() => setBackend("tpu"), /tpu/);
 * ```
 */
export function setBackend(name: string): void {
  getBackend(name);
  defaultName = name;
}

/**
 * Names of all registered backends.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listBackends } from "../mod.ts";
 * assert.equal(listBackends().includes("cpu"), true);
 * ```
 */
export function listBackends(): string[] {
  return [...registry.keys()];
}
