/**
 * Private helpers of the random samplers (tensor/random*.ts): key and dtype validation, scalar
 * bounds as tensors on the key's backend, broadcast checks and a host `nextafter`.
 *
 * @module
 */
import type { DType } from "./dtype.ts";
import { fmtShape, TesseraError } from "./errors.ts";
import { full } from "./creation.ts";
import { broadcastShapes, type Shape } from "./shape.ts";
import { Tensor } from "./tensor.ts";
import type { TensorLike } from "./ops/_util.ts";

/** Float dtypes the samplers produce. */
export type FloatDType = "float32" | "float64";

/** `k` if it is a key (uint32, shape [2]); otherwise a TesseraError naming `op`. */
export function checkKey(op: string, k: unknown): Tensor {
  if (!(k instanceof Tensor)) {
    throw new TesseraError(op, `key must be a Tensor (use random.key(seed)), got ${typeof k}`);
  }
  if (k.dtype !== "uint32" || k.shape.length !== 1 || k.shape[0] !== 2) {
    throw new TesseraError(
      op,
      `key must be a uint32 tensor of shape [2], got ${k.dtype} ${fmtShape(k.shape)}` +
        (k.shape.length === 2 && k.shape[1] === 2
          ? " (index a split result, or use splitKeys)"
          : ""),
    );
  }
  return k;
}

/** `d` if it is float32 or float64; otherwise a TesseraError naming `op`. */
export function checkFloatDType(op: string, d: unknown): FloatDType {
  if (d !== "float32" && d !== "float64") {
    throw new TesseraError(op, `dtype must be "float32" or "float64", got ${JSON.stringify(d)}`);
  }
  return d;
}

/** A rank-0 tensor of `v` in `dtype` on the key's backend. */
export function constant(k: Tensor, v: number, dtype: DType): Tensor {
  return full([], v, { dtype, backend: k.backend.name });
}

/** A number becomes a rank-0 tensor of `dtype` on the key's backend; tensors must match. */
export function asTensor(op: string, name: string, k: Tensor, v: TensorLike, dtype: DType): Tensor {
  if (v instanceof Tensor) {
    if (v.dtype !== dtype) {
      throw new TesseraError(op, `${name} has dtype ${v.dtype}, expected ${dtype}`);
    }
    return v;
  }
  if (typeof v !== "number") throw new TesseraError(op, `${name} must be a number or a Tensor`);
  return constant(k, v, dtype);
}

/** The result of `op` must have exactly `shape` (bounds may broadcast up to it, not beyond). */
export function checkBroadcastsTo(op: string, name: string, from: Shape, shape: Shape): void {
  const b = broadcastShapes(op, from, shape);
  if (b.length !== shape.length || b.some((d, i) => d !== shape[i])) {
    throw new TesseraError(
      op,
      `${name} of shape ${fmtShape(from)} does not broadcast to the sample shape ${
        fmtShape(shape)
      }`,
    );
  }
}

/** `nextafter(x, ±∞)` in float32 or float64, on the host. */
export function nextAfter(x: number, up: boolean, dtype: FloatDType): number {
  if (Number.isNaN(x)) return x;
  if (dtype === "float32") {
    const f = new Float32Array([x]);
    const u = new Uint32Array(f.buffer);
    if (f[0] === (up ? Infinity : -Infinity)) return f[0]!;
    if (f[0] === 0) u[0] = up ? 1 : 0x80000001;
    else if ((f[0]! > 0) === up) u[0]!++;
    else u[0]!--;
    return f[0]!;
  }
  const f = new Float64Array([x]);
  const u = new BigUint64Array(f.buffer);
  if (x === (up ? Infinity : -Infinity)) return x;
  if (x === 0) u[0] = up ? 1n : 0x8000000000000001n;
  else if ((x > 0) === up) u[0]! += 1n;
  else u[0]! -= 1n;
  return f[0]!;
}
