/**
 * Helpers of the WebGPU parity tests: seeded random host data, moving tensors to a backend,
 * and comparing a webgpu result with the CPU reference (NaN matches NaN, infinities exactly,
 * integers and bools exactly, floats within rtol/atol).
 * @module
 */
import assert from "node:assert/strict";
import { type DType, type Tensor, tensor } from "../../mod.ts";
import { rng } from "../_helpers.ts";

/** Relative/absolute tolerance. */
export interface Tol {
  rtol?: number;
  atol?: number;
}

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Host data factory bound to one seed. */
export class Gen {
  #r: () => number;
  /** @param seed the seed */
  constructor(seed: number) {
    this.#r = rng(seed);
  }
  /** Uniform floats in [lo, hi). */
  f(shape: number[], lo = -3, hi = 3, backend = "cpu"): Tensor {
    const a = new Float32Array(size(shape)).map(() => lo + (hi - lo) * this.#r());
    return tensor(a, { shape, backend });
  }
  /** Floats with some NaN, ±Infinity, ±0 and repeated values mixed in. */
  special(shape: number[], backend = "cpu"): Tensor {
    const pool = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 2.5];
    const a = new Float32Array(size(shape)).map(() => {
      const u = this.#r();
      return u < 0.3 ? pool[Math.floor(this.#r() * pool.length)]! : (this.#r() - 0.5) * 8;
    });
    return tensor(a, { shape, backend });
  }
  /** Integers in [lo, hi] as `dtype`. */
  i(shape: number[], lo: number, hi: number, dtype: DType = "int32", backend = "cpu"): Tensor {
    const n = size(shape);
    const a = dtype === "uint32" ? new Uint32Array(n) : new Int32Array(n);
    for (let k = 0; k < n; k++) a[k] = lo + Math.floor((hi - lo + 1) * this.#r());
    return tensor(a, { shape, backend, dtype });
  }
  /** Full-range 32-bit integers. */
  bits(shape: number[], dtype: "int32" | "uint32", backend = "cpu"): Tensor {
    const a = new Uint32Array(size(shape)).map(() => Math.floor(this.#r() * 4294967296));
    return tensor(dtype === "int32" ? new Int32Array(a.buffer) : a, { shape, backend });
  }
  /** Random bools. */
  b(shape: number[], backend = "cpu"): Tensor {
    const a = new Uint8Array(size(shape)).map(() => (this.#r() < 0.5 ? 1 : 0));
    return tensor(a, { shape, backend });
  }
}

/**
 * Asserts `got` (any backend) equals `want` (CPU) in shape, dtype and values; returns the
 * largest relative error seen on floats.
 */
export async function expectClose(
  got: Tensor,
  want: Tensor,
  tol: Tol = {},
  what = "",
): Promise<number> {
  assert.deepEqual([...got.shape], [...want.shape], `${what}: shape`);
  assert.equal(got.dtype, want.dtype, `${what}: dtype`);
  const [g, w] = await Promise.all([got.data(), want.data()]);
  const isF = want.dtype === "float32" || want.dtype === "float64";
  const rtol = isF ? tol.rtol ?? 1e-6 : 0, atol = isF ? tol.atol ?? 0 : 0;
  let worst = 0;
  for (let i = 0; i < w.length; i++) {
    const a = g[i]!, b = w[i]!;
    if (Number.isNaN(b)) {
      assert.ok(Number.isNaN(a), `${what}: element ${i} is ${a}, expected NaN`);
      continue;
    }
    if (!Number.isFinite(b)) {
      assert.equal(a, b, `${what}: element ${i} is ${a}, expected ${b}`);
      continue;
    }
    const err = Math.abs(a - b);
    if (!(err <= atol + rtol * Math.abs(b))) {
      assert.fail(
        `${what}: element ${i} is ${a}, expected ${b} (|diff| ${err.toExponential(2)}, ` +
          `rtol ${rtol}, atol ${atol})`,
      );
    }
    if (b !== 0) worst = Math.max(worst, err / Math.abs(b));
  }
  return worst;
}

/** Bit patterns of a tensor's data (for bit-identity checks). */
export async function bitsOf(t: Tensor): Promise<Uint32Array> {
  const d = await t.data();
  return new Uint32Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength));
}
