/**
 * The CPU backend's fused kernels (see `fusedOr` in tensor/dispatch.ts). Each computes
 * exactly what its composite computes, rounding every intermediate to the dtype as the
 * composite's primitives do, so results are bit-identical; it only saves the intermediate
 * tensors and passes.
 * @module
 */
import type { FusedKernels } from "../backend.ts";
import { alloc, input, wrap } from "./iter.ts";
import { erf } from "./special.ts";
import { erf32 } from "./f32_math.ts";

const id = (v: number) => v;

/** CPU fused kernels: exact GELU. */
export const cpuFused: FusedKernels = {
  // gelu: mul(mul(x, 0.5), add(erf(mul(x, c)), 1)) with c = √½ in the dtype.
  gelu: (inputs, _params, out) => {
    const x = input(inputs, 0);
    const o = alloc(out);
    const f32 = out.dtype === "float32";
    const r = f32 ? Math.fround : id;
    const e = f32 ? erf32 : erf; // as the erf primitive's kernel picks it
    const c = r(Math.SQRT1_2);
    for (let i = 0; i < o.length; i++) {
      const v = x[i]!;
      o[i] = r(v * 0.5) * r(r(e(r(v * c))) + 1);
    }
    return wrap(o);
  },
};
