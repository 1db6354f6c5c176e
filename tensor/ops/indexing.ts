/**
 * Indexing: `gather` (take along an axis), its adjoint `scatterAdd`, `takeAlongAxis` and
 * `oneHot`.
 * @module
 */
import type { DType } from "../dtype.ts";
import { fmtShape, TesseraError } from "../errors.ts";
import { bind } from "../dispatch.ts";
import { arange } from "../creation.ts";
import { checkNumel, normAxis } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { checkInt, composite, expectTensor } from "./_util.ts";
import { equal } from "./comparison.ts";
import { add, cast, mul } from "./elementwise.ts";
import { reshape } from "./reshaping.ts";

/**
 * Picks entries of `x` along `axis` at int32 `indices` (like `numpy.take`): the result has
 * shape `x.shape[:axis] ++ indices.shape ++ x.shape[axis+1:]`. Indices outside
 * `[0, x.shape[axis])` are an error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gather, tensor } from "../../mod.ts";
 * const x = tensor([[1, 2, 3], [4, 5, 6]]);
 * assert.deepEqual(
 *   await gather(x, tensor([2, 0], { dtype: "int32" }), 1).toArray(),
 *   [[3, 1], [6, 4]],
 * );
 * ```
 */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  expectTensor("gather", x);
  expectTensor("gather", indices, "indices");
  if (x.ndim === 0) throw new TesseraError("gather", "cannot gather from a rank-0 tensor");
  return bind("gather", [x, indices], { axis: normAxis("gather", axis, x.ndim) });
}

/**
 * Adds `updates` into a copy of `x` at `indices` along `axis` (repeated indices accumulate);
 * the adjoint of {@link gather}. `updates` has the shape `gather(x, indices, axis)` would.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scatterAdd, tensor, zeros } from "../../mod.ts";
 * const idx = tensor([0, 2, 0], { dtype: "int32" });
 * assert.deepEqual(await scatterAdd(zeros([3]), idx, tensor([1, 2, 3])).toArray(), [4, 0, 2]);
 * ```
 */
export function scatterAdd(x: Tensor, indices: Tensor, updates: Tensor, axis = 0): Tensor {
  expectTensor("scatterAdd", x);
  expectTensor("scatterAdd", indices, "indices");
  expectTensor("scatterAdd", updates, "updates");
  if (x.ndim === 0) throw new TesseraError("scatterAdd", "cannot scatter into a rank-0 tensor");
  return bind("scatterAdd", [x, indices, updates], { axis: normAxis("scatterAdd", axis, x.ndim) });
}

/**
 * `numpy.take_along_axis` / `torch.gather`: `indices` has the rank of `x` and the result its
 * shape; `out[..., j, ...] = x[..., indices[..., j, ...], ...]` along `axis`. Other
 * dimensions of `indices` must equal those of `x` or be 1 (broadcast).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { takeAlongAxis, tensor } from "../../mod.ts";
 * const x = tensor([[10, 20], [30, 40]]);
 * const i = tensor([[1], [0]], { dtype: "int32" });
 * assert.deepEqual(await takeAlongAxis(x, i, 1).toArray(), [[20], [30]]);
 * ```
 */
export function takeAlongAxis(x: Tensor, indices: Tensor, axis: number): Tensor {
  return composite(() => {
    expectTensor("takeAlongAxis", x);
    expectTensor("takeAlongAxis", indices, "indices");
    const a = normAxis("takeAlongAxis", axis, x.ndim);
    if (indices.ndim !== x.ndim || indices.dtype !== "int32") {
      throw new TesseraError(
        "takeAlongAxis",
        `indices must be int32 with the rank of x: got ${indices.dtype} ${
          fmtShape(indices.shape)
        } for x ${fmtShape(x.shape)}`,
      );
    }
    const outShape = indices.shape.map((d, i) => {
      if (i === a) return d;
      if (d !== x.shape[i] && d !== 1) {
        throw new TesseraError(
          "takeAlongAxis",
          `indices ${fmtShape(indices.shape)} incompatible with x ${
            fmtShape(x.shape)
          } off axis ${a}`,
        );
      }
      return x.shape[i]!;
    });
    // Flat index = sum over dims of coord * stride, with the `axis` coordinate from `indices`.
    const n = x.shape[a]!;
    let flat: Tensor = mul(indices, strideOf(x.shape, a));
    x.shape.forEach((d, i) => {
      if (i === a) return;
      const coord = reshape(
        arange(0, d, 1, { dtype: "int32", backend: x.backend.name }),
        outShape.map((_, j) => (j === i ? d : 1)),
      );
      flat = add(flat, mul(coord, strideOf(x.shape, i)));
    });
    // Range errors for the axis index must not leak into other rows: check explicitly.
    checkRange(indices, n, "takeAlongAxis");
    return gather(reshape(x, [x.size]), flat, 0);
  });
}

function strideOf(shape: readonly number[], axis: number): number {
  let s = 1;
  for (let i = axis + 1; i < shape.length; i++) s *= shape[i]!;
  return s;
}

function checkRange(indices: Tensor, n: number, op: string): void {
  const c = indices.concrete();
  if (!c.backend.readSync) return; // device backends validate inside their gather kernel
  const d = c.backend.readSync(c.storage, c.dtype, c.size);
  for (let i = 0; i < d.length; i++) {
    if (d[i]! < 0 || d[i]! >= n) {
      throw new TesseraError(op, `index ${d[i]} out of range for axis of size ${n}`);
    }
  }
}

/**
 * One-hot encoding of int32 class ids: a new last axis of length `numClasses`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { oneHot, tensor } from "../../mod.ts";
 * assert.deepEqual(
 *   await oneHot(tensor([2, 0], { dtype: "int32" }), 3).toArray(),
 *   [[0, 0, 1], [1, 0, 0]],
 * );
 * ```
 */
export function oneHot(indices: Tensor, numClasses: number, opts: { dtype?: DType } = {}): Tensor {
  opts ??= {};
  return composite(() => {
    expectTensor("oneHot", indices, "indices");
    checkInt("oneHot", "numClasses", numClasses, 1);
    if (indices.dtype !== "int32") {
      throw new TesseraError("oneHot", `indices must be int32, got ${indices.dtype}`);
    }
    checkNumel("oneHot", [...indices.shape, numClasses], opts.dtype ?? "float32");
    checkRange(indices, numClasses, "oneHot");
    const classes = arange(0, numClasses, 1, { dtype: "int32", backend: indices.backend.name });
    const hit = equal(reshape(indices, [...indices.shape, 1]), classes);
    return cast(hit, opts.dtype ?? "float32");
  });
}
