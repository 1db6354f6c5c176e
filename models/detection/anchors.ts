/**
 * Anchor generator of the RPN (torchvision `AnchorGenerator`, methods.md §12): per level, zero-
 * centred cell anchors `round([−w, −h, w, h] / 2)` with `h = s·√r`, `w = s/√r` (ratio-major,
 * float32, round half to even as torch), shifted to every feature-map cell at
 * `(x·stride, y·stride)` with `stride = ⌊image / grid⌋`; order (y, x, anchor).
 * @module
 */
import { type Tensor, tensor, TesseraError } from "../../tensor/mod.ts";
import { roundHalfEven } from "../../tensor/rounding.ts";

/**
 * Anchor sizes and aspect ratios (h/w), one list per pyramid level.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type AnchorConfig, DEFAULT_ANCHORS } from "./anchors.ts";
 * const c: AnchorConfig = DEFAULT_ANCHORS;
 * assert.deepEqual(c.sizes.map((s) => s[0]), [32, 64, 128, 256, 512]);
 * ```
 */
export interface AnchorConfig {
  /** Sizes (√area) per level. */
  sizes: readonly (readonly number[])[];
  /** Aspect ratios h/w per level. */
  aspectRatios: readonly (readonly number[])[];
}

/**
 * The spec's anchors: one size per level 32…512 on P2…P6, ratios 0.5, 1, 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_ANCHORS } from "./anchors.ts";
 * assert.deepEqual(DEFAULT_ANCHORS.aspectRatios[0], [0.5, 1, 2]);
 * ```
 */
export const DEFAULT_ANCHORS: AnchorConfig = {
  sizes: [[32], [64], [128], [256], [512]],
  aspectRatios: [[0.5, 1, 2], [0.5, 1, 2], [0.5, 1, 2], [0.5, 1, 2], [0.5, 1, 2]],
};

/**
 * The spec's anchors scaled by `factor` (for small canvases): sizes ×factor, same ratios.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scaledAnchors } from "./anchors.ts";
 * assert.deepEqual(scaledAnchors(0.25).sizes, [[8], [16], [32], [64], [128]]);
 * ```
 */
export function scaledAnchors(factor: number): AnchorConfig {
  if (!(factor > 0)) throw new TesseraError("scaledAnchors", `factor must be > 0, got ${factor}`);
  return {
    sizes: DEFAULT_ANCHORS.sizes.map((s) => s.map((v) => v * factor)),
    aspectRatios: DEFAULT_ANCHORS.aspectRatios,
  };
}

/** torch.round: half to even. */

/**
 * Zero-centred anchors of one level, `[ratios·sizes × 4]` flattened (torchvision
 * `generate_anchors`, in float32 like torch).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cellAnchors } from "./anchors.ts";
 * assert.deepEqual(Array.from(cellAnchors([32], [0.5, 1, 2])), [-23, -11, 23, 11, -16, -16, 16, 16, -11, -23, 11, 23]);
 * ```
 */
export function cellAnchors(sizes: readonly number[], ratios: readonly number[]): Float32Array {
  const f = Math.fround;
  const out = new Float32Array(sizes.length * ratios.length * 4);
  let k = 0;
  for (const r of ratios) {
    const hr = f(Math.sqrt(f(r))), wr = f(1 / hr);
    for (const s of sizes) {
      const w = f(wr * f(s)), h = f(hr * f(s));
      const hw = f(w / 2), hh = f(h / 2);
      out[k++] = roundHalfEven(-hw), out[k++] = roundHalfEven(-hh);
      out[k++] = roundHalfEven(hw), out[k++] = roundHalfEven(hh);
    }
  }
  return out;
}

/**
 * Result of {@link generateAnchors}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Anchors } from "./anchors.ts";
 * const count = (a: Anchors) => a.perLevel.reduce((s, n) => s + n, 0);
 * assert.equal(typeof count, "function");
 * ```
 */
export interface Anchors {
  /** float32 `[Σ_l H_l·W_l·A_l, 4]`, levels in order, each (y, x, anchor). */
  boxes: Tensor;
  /** Anchors per level. */
  perLevel: number[];
}

/**
 * All anchors of a padded image batch of size `imageSize` `[H, W]` for feature maps of
 * `gridSizes` `[[h, w], …]` (one per level). Shared by every image of the batch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateAnchors } from "./anchors.ts";
 * const a = generateAnchors([64, 64], [[2, 2]], { sizes: [[16]], aspectRatios: [[1]] });
 * assert.deepEqual(await a.boxes.toArray(), [[-8, -8, 8, 8], [24, -8, 40, 8], [-8, 24, 8, 40], [24, 24, 40, 40]]);
 * assert.deepEqual(a.perLevel, [4]);
 * ```
 */
export function generateAnchors(
  imageSize: readonly [number, number],
  gridSizes: readonly (readonly [number, number])[],
  config: AnchorConfig = DEFAULT_ANCHORS,
  opts: { backend?: string } = {},
): Anchors {
  const op = "generateAnchors";
  if (config.sizes.length !== gridSizes.length || config.aspectRatios.length !== gridSizes.length) {
    throw new TesseraError(
      op,
      `${gridSizes.length} feature maps but ${config.sizes.length} size lists and ` +
        `${config.aspectRatios.length} aspect-ratio lists`,
    );
  }
  const perLevel: number[] = [];
  const parts: Float32Array[] = [];
  gridSizes.forEach(([gh, gw], l) => {
    if (!(Number.isInteger(gh) && Number.isInteger(gw) && gh > 0 && gw > 0)) {
      throw new TesseraError(op, `grid size ${l} must be positive integers, got [${gh}, ${gw}]`);
    }
    const sy = Math.floor(imageSize[0] / gh), sx = Math.floor(imageSize[1] / gw);
    const base = cellAnchors(config.sizes[l]!, config.aspectRatios[l]!);
    const a = base.length / 4;
    const out = new Float32Array(gh * gw * a * 4);
    let k = 0;
    for (let y = 0; y < gh; y++) {
      for (let x = 0; x < gw; x++) {
        for (let j = 0; j < a; j++) {
          out[k++] = x * sx + base[4 * j]!, out[k++] = y * sy + base[4 * j + 1]!;
          out[k++] = x * sx + base[4 * j + 2]!, out[k++] = y * sy + base[4 * j + 3]!;
        }
      }
    }
    perLevel.push(gh * gw * a);
    parts.push(out);
  });
  const all = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) all.set(p, off), off += p.length;
  return { boxes: tensor(all, { shape: [all.length / 4, 4], backend: opts.backend }), perLevel };
}
