/**
 * Dtype conversion kernels (`cast`, `bitcast`) and the random-bits source (`randomBits`).
 * @module
 */
import type { Kernel, Storage } from "../backend.ts";
import { isFloat } from "../dtype.ts";
import { TesseraError } from "../errors.ts";
import { sizeOf } from "../shape.ts";
import { randomBitsHost } from "../threefry.ts";
import { alloc, input, wrap } from "./iter.ts";

const INT32_MIN = -2147483648, INT32_MAX = 2147483647, UINT32_MAX = 4294967295;

/**
 * `cast(dtype)`. Float → int32/uint32 truncates toward zero, saturates at the target range and
 * maps NaN to 0 (as WGSL does). Anything → bool is `x != 0` (NaN → true). int32 ↔ uint32
 * keeps the bit pattern (wraps). Other conversions are exact, then rounded to float32 if needed.
 */
export const castKernel: Kernel<"cast"> = (inputs, params, out): Storage => {
  const x = input(inputs, 0);
  const from = inputs[0]!.dtype, to = params.dtype;
  if (from === to) return wrap(x.slice());
  const o = alloc(out);
  const n = x.length;
  if (to === "bool") {
    for (let i = 0; i < n; i++) o[i] = x[i] !== 0 ? 1 : 0;
  } else if (isFloat(from) && to === "int32") {
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      o[i] = v !== v ? 0 : v >= INT32_MAX ? INT32_MAX : v <= INT32_MIN ? INT32_MIN : Math.trunc(v);
    }
  } else if (isFloat(from) && to === "uint32") {
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      o[i] = v !== v ? 0 : v >= UINT32_MAX ? UINT32_MAX : v <= 0 ? 0 : Math.trunc(v);
    }
  } else {
    // Exact value copy (float32 rounding and int32↔uint32 wrapping happen in the store).
    for (let i = 0; i < n; i++) o[i] = x[i]!;
  }
  return wrap(o);
};

/** `bitcast(dtype)`: the same 32-bit patterns read as another of float32/int32/uint32. */
export const bitcastKernel: Kernel<"bitcast"> = (inputs, _params, out): Storage => {
  const x = input(inputs, 0);
  const o = alloc(out);
  new Uint8Array(o.buffer, o.byteOffset, o.byteLength).set(
    new Uint8Array(x.buffer, x.byteOffset, x.byteLength),
  );
  return wrap(o);
};

/** `randomBits(shape)`: Threefry-2x32 bits from a uint32 `[2]` key (see tensor/threefry.ts). */
export const randomBitsKernel: Kernel<"randomBits"> = (inputs, _params, out): Storage => {
  const key = input(inputs, 0).slice() as Uint32Array;
  const n = sizeOf(out.shape);
  const bits = randomBitsHost(key, n);
  if (bits.length !== n) {
    throw new TesseraError(
      "randomBits",
      `randomBitsHost returned ${bits.length} values, want ${n}`,
    );
  }
  return wrap(bits);
};
