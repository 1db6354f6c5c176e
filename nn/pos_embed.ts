/**
 * Position embeddings: fixed 1-D and 2-D sin-cos tables (MAE's `get_2d_sincos_pos_embed`,
 * bit-compatible layout including its "column first" quirk), separable bilinear/bicubic
 * resizing built from `gather` (PyTorch's `F.interpolate` formulas, `align_corners` either
 * way), and `interpolatePosEmbed` to move a learned `[1, prefix + h·w, D]` table to a new grid.
 * @module
 */
import {
  add,
  concat,
  type DType,
  gather,
  mul,
  reshape,
  slice,
  type Tensor,
  tensor,
  TesseraError,
} from "../tensor/mod.ts";

function sincosRows(dim: number, positions: number[]): Float64Array {
  // MAE: omega_k = 1 / 10000^(k / (dim/2)), emb = [sin(pos·ω), cos(pos·ω)].
  const half = dim / 2;
  const out = new Float64Array(positions.length * dim);
  positions.forEach((pos, m) => {
    for (let k = 0; k < half; k++) {
      const v = pos * (1 / 10000 ** (k / half));
      out[m * dim + k] = Math.sin(v);
      out[m * dim + half + k] = Math.cos(v);
    }
  });
  return out;
}

/**
 * 1-D sin-cos embedding `[positions.length, dim]` (MAE's `get_1d_sincos_pos_embed_from_grid`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sincos1dPosEmbed } from "./pos_embed.ts";
 * const [p0, p1] = await sincos1dPosEmbed(4, [0, 1]).toArray() as number[][];
 * assert.deepEqual(p0, [0, 0, 1, 1]); // [sin, sin, cos, cos] at position 0
 * const want = [Math.sin(1), Math.sin(0.01), Math.cos(1), Math.cos(0.01)]; // frequencies 1, 1/100
 * assert.ok(p1!.every((v, i) => Math.abs(v - want[i]!) < 1e-6));
 * ```
 */
export function sincos1dPosEmbed(
  dim: number,
  positions: number[],
  opts: { dtype?: DType; backend?: string } = {},
): Tensor {
  if (!Number.isInteger(dim) || dim < 2 || dim % 2 !== 0) {
    throw new TesseraError("sincos1dPosEmbed", `dim must be a positive even integer, got ${dim}`);
  }
  return tensor(sincosRows(dim, positions), {
    shape: [positions.length, dim],
    dtype: opts.dtype ?? "float32",
    backend: opts.backend,
  });
}

/**
 * Fixed 2-D sin-cos position embedding `[1, (cls ? 1 : 0) + gridH·gridW, dim]`, as MAE's
 * `get_2d_sincos_pos_embed`: token k = row·gridW + col; the first `dim/2` features encode the
 * **column** and the last `dim/2` the row (MAE's meshgrid puts w first); the CLS slot is zeros.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sincos2dPosEmbed } from "./pos_embed.ts";
 * const pe = sincos2dPosEmbed(8, 2, 3, { clsToken: true });
 * assert.deepEqual(pe.shape, [1, 7, 8]);
 * ```
 */
export function sincos2dPosEmbed(
  dim: number,
  gridH: number,
  gridW: number = gridH,
  opts: { clsToken?: boolean; dtype?: DType; backend?: string } = {},
): Tensor {
  if (!Number.isInteger(dim) || dim < 4 || dim % 4 !== 0) {
    throw new TesseraError("sincos2dPosEmbed", `dim must be a positive multiple of 4, got ${dim}`);
  }
  const cols: number[] = [], rows: number[] = [];
  for (let r = 0; r < gridH; r++) for (let c = 0; c < gridW; c++) cols.push(c), rows.push(r);
  const half = dim / 2;
  const a = sincosRows(half, cols), b = sincosRows(half, rows);
  const pre = opts.clsToken ? 1 : 0;
  const n = gridH * gridW;
  const out = new Float64Array((pre + n) * dim);
  for (let m = 0; m < n; m++) {
    out.set(a.subarray(m * half, (m + 1) * half), (pre + m) * dim);
    out.set(b.subarray(m * half, (m + 1) * half), (pre + m) * dim + half);
  }
  return tensor(out, {
    shape: [1, pre + n, dim],
    dtype: opts.dtype ?? "float32",
    backend: opts.backend,
  });
}

/**
 * Resizing mode of {@link resizeAxes}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { InterpMode } from "./pos_embed.ts";
 * const m: InterpMode = "bilinear";
 * assert.equal(m, "bilinear");
 * ```
 */
export type InterpMode = "bilinear" | "bicubic";

/**
 * Options of {@link resizeAxes} and {@link interpolatePosEmbed}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ResizeOptions } from "./pos_embed.ts";
 * const o: ResizeOptions = { mode: "bicubic", alignCorners: false };
 * assert.equal(o.mode, "bicubic");
 * ```
 */
export interface ResizeOptions {
  /** `"bicubic"` (default; timm/DINO) or `"bilinear"`. */
  mode?: InterpMode;
  /** PyTorch's `align_corners` (default false). */
  alignCorners?: boolean;
  /** Bicubic coefficient A (default −0.75, PyTorch's non-antialiased kernel). */
  cubicA?: number;
}

/** Source taps and weights for one axis, PyTorch's upsample formulas. */
function taps(inSize: number, outSize: number, opts: ResizeOptions): [number[][], number[][]] {
  const mode = opts.mode ?? "bicubic";
  const align = opts.alignCorners ?? false;
  const ratio = align ? (outSize > 1 ? (inSize - 1) / (outSize - 1) : 0) : inSize / outSize;
  const nt = mode === "bicubic" ? 4 : 2;
  const idx = Array.from({ length: nt }, () => new Array<number>(outSize));
  const wts = Array.from({ length: nt }, () => new Array<number>(outSize));
  const clamp = (i: number) => Math.min(Math.max(i, 0), inSize - 1);
  const A = opts.cubicA ?? -0.75;
  const cc1 = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1;
  const cc2 = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  for (let o = 0; o < outSize; o++) {
    let src = align ? ratio * o : ratio * (o + 0.5) - 0.5;
    if (mode === "bilinear") {
      if (src < 0) src = 0;
      const i0 = Math.floor(src);
      const l1 = src - i0;
      idx[0]![o] = clamp(i0), idx[1]![o] = clamp(i0 < inSize - 1 ? i0 + 1 : i0);
      wts[0]![o] = 1 - l1, wts[1]![o] = l1;
    } else {
      const i0 = Math.floor(src);
      const t = src - i0;
      const w = [cc2(t + 1), cc1(t), cc1(1 - t), cc2(2 - t)];
      for (let k = 0; k < 4; k++) idx[k]![o] = clamp(i0 - 1 + k), wts[k]![o] = w[k]!;
    }
  }
  return [idx, wts];
}

function resizeAxis(x: Tensor, axis: number, outSize: number, opts: ResizeOptions): Tensor {
  const inSize = x.shape[axis]!;
  if (inSize === outSize) return x;
  const [idx, wts] = taps(inSize, outSize, opts);
  const bshape = [outSize, ...x.shape.slice(axis + 1).map(() => 1)];
  let y: Tensor | null = null;
  idx.forEach((ix, k) => {
    const g = gather(x, tensor(ix, { dtype: "int32", backend: x.backend.name }), axis);
    const w = reshape(
      tensor(wts[k]!, { dtype: x.dtype, backend: x.backend.name }),
      bshape,
    );
    const term = mul(g, w);
    y = y ? add(y, term) : term;
  });
  return y!;
}

/**
 * Resizes `x` along two axes (default the last two, i.e. `[..., H, W]`) to `size` with
 * separable bilinear or bicubic interpolation — each axis is a weighted sum of `gather`s, so
 * it is differentiable and runs on any backend. Matches PyTorch's `F.interpolate(x, size,
 * mode, align_corners)` without antialiasing (border taps are clamped, A = −0.75).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resizeAxes } from "./pos_embed.ts";
 * import { tensor } from "../mod.ts";
 * const x = tensor([[[[0, 1], [2, 3]]]]);
 * assert.deepEqual(
 *   await resizeAxes(x, [1, 4], { mode: "bilinear" }).toArray(),
 *   [[[[1, 1.25, 1.75, 2]]]],
 * );
 * ```
 */
export function resizeAxes(
  x: Tensor,
  size: readonly [number, number],
  opts: ResizeOptions & { axes?: readonly [number, number] } = {},
): Tensor {
  const axes = (opts.axes ?? [-2, -1]).map((a) => (a < 0 ? a + x.ndim : a));
  const mode = opts.mode ?? "bicubic";
  if (mode !== "bilinear" && mode !== "bicubic") {
    throw new TesseraError("resizeAxes", `mode must be "bilinear" or "bicubic", got ${mode}`);
  }
  if (axes.some((a) => !(a >= 0 && a < x.ndim)) || axes[0] === axes[1]) {
    throw new TesseraError(
      "resizeAxes",
      `bad axes ${JSON.stringify(opts.axes)} for rank ${x.ndim}`,
    );
  }
  if (!size.every((s) => Number.isInteger(s) && s >= 1)) {
    throw new TesseraError(
      "resizeAxes",
      `size must be positive integers, got ${JSON.stringify(size)}`,
    );
  }
  if (x.dtype !== "float32" && x.dtype !== "float64") {
    throw new TesseraError("resizeAxes", `needs a float tensor, got ${x.dtype}`);
  }
  return resizeAxis(resizeAxis(x, axes[0]!, size[0], opts), axes[1]!, size[1], opts);
}

/**
 * Resamples a position-embedding table `[1, prefix + h·w, D]` from grid `from` = `[h, w]` to
 * `to` = `[h', w']` (timm's `resample_abs_pos_embed`, DINO's `interpolate_pos_encoding`):
 * the `numPrefixTokens` leading rows (CLS) are kept, the grid is resized (bicubic by default).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { interpolatePosEmbed, sincos2dPosEmbed } from "./pos_embed.ts";
 * const pe = sincos2dPosEmbed(8, 4, 4, { clsToken: true }); // [1, 17, 8]
 * assert.deepEqual(interpolatePosEmbed(pe, [4, 4], [6, 6]).shape, [1, 37, 8]);
 * ```
 */
export function interpolatePosEmbed(
  posEmbed: Tensor,
  from: readonly [number, number],
  to: readonly [number, number],
  opts: ResizeOptions & { numPrefixTokens?: number } = {},
): Tensor {
  const pre = opts.numPrefixTokens ?? 1;
  const [h, w] = from;
  if (posEmbed.ndim !== 3 || posEmbed.shape[0] !== 1 || posEmbed.shape[1] !== pre + h * w) {
    throw new TesseraError(
      "interpolatePosEmbed",
      `table [${posEmbed.shape.join(", ")}] is not [1, ${pre} + ${h}·${w}, D]`,
    );
  }
  if (from[0] === to[0] && from[1] === to[1]) return posEmbed;
  const d = posEmbed.shape[2]!;
  const grid = reshape(slice(posEmbed, [null, [pre, null]]), [1, h, w, d]);
  const resized = reshape(resizeAxes(grid, to, { ...opts, axes: [1, 2] }), [1, to[0] * to[1], d]);
  return pre > 0 ? concat([slice(posEmbed, [null, [0, pre]]), resized], 1) : resized;
}
