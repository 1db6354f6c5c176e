/**
 * The `cpu` backend: plain TypeScript kernels over typed arrays (float32 and float64 and the
 * integer/bool dtypes). It is the reference every other backend is tested against.
 * @module
 */
import {
  type Backend,
  type Kernel,
  type Operand,
  registerBackend,
  type Storage,
} from "../backend.ts";
import type { DType, TypedArray } from "../dtype.ts";
import { TesseraError } from "../errors.ts";
import type { Prim, PrimParams } from "../primitives.ts";
import type { Aval } from "../shape_rules.ts";
import { cpuKernels } from "./kernels.ts";
import { arr, CpuStorage } from "./storage.ts";

/** The CPU backend object (registered as `"cpu"` on import). */
export const cpuBackend: Backend = {
  name: "cpu",
  supportsDtype(_dtype: DType): boolean {
    return true;
  },
  upload(data: TypedArray, _dtype: DType): Storage {
    return new CpuStorage(data.slice());
  },
  read(storage: Storage, dtype: DType, size: number): Promise<TypedArray> {
    return Promise.resolve(this.readSync!(storage, dtype, size));
  },
  readSync(storage: Storage, _dtype: DType, size: number): TypedArray {
    const a = arr(storage);
    if (a.length !== size) {
      throw new TesseraError("read", `storage holds ${a.length}, want ${size}`);
    }
    return a.slice();
  },
  free(_storage: Storage): void {
    // Typed arrays are reclaimed by the JS garbage collector.
  },
  execute<P extends Prim>(
    prim: P,
    inputs: readonly Operand[],
    params: PrimParams[P],
    out: Aval,
  ): Storage {
    const kernel = cpuKernels[prim] as Kernel<P>;
    return kernel(inputs, params, out);
  },
};

registerBackend(cpuBackend);
