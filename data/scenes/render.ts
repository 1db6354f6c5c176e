/**
 * FMNIST-Scenes drawing pieces (spec data-eval.md §6.2–6.3), in integer and IEEE basic
 * arithmetic only so every engine draws the same bytes: the half-pixel bilinear item resize,
 * the 8-direction background gradient, distractor shapes, and the item tint rule.
 *
 * @module
 */

import type { SceneRng } from "./prng.ts";

/**
 * Resizes one 28×28 Fashion-MNIST item to `s×s` with half-pixel bilinear sampling
 * (`src = (dst + 0.5)·28/s − 0.5`, clamped to `[0, 27]`), rounded to bytes; `flip` mirrors it.
 *
 * @param item 784 bytes, row-major
 * @param s output side
 * @param flip mirror horizontally
 * @returns `s·s` intensities
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resizeItem } from "./render.ts";
 * const item = new Uint8Array(784).fill(200);
 * assert.deepEqual([...new Set(resizeItem(item, 16, false))], [200]);
 * const ramp = Uint8Array.from({ length: 784 }, (_, i) => (i % 28) * 9);
 * const r = resizeItem(ramp, 28, true); // same size: an exact mirror
 * assert.deepEqual([r[0], r[27]], [243, 0]);
 * ```
 */
export function resizeItem(item: Uint8Array, s: number, flip: boolean): Uint8Array {
  const out = new Uint8Array(s * s);
  const x0 = new Int32Array(s), x1 = new Int32Array(s), fx = new Float64Array(s);
  for (let d = 0; d < s; d++) {
    let v = ((d + 0.5) * 28) / s - 0.5;
    v = v < 0 ? 0 : v > 27 ? 27 : v;
    const f = Math.floor(v);
    x0[d] = f;
    x1[d] = Math.min(f + 1, 27);
    fx[d] = v - f;
  }
  for (let y = 0; y < s; y++) {
    const r0 = x0[y]! * 28, r1 = x1[y]! * 28, wy = fx[y]!;
    for (let x = 0; x < s; x++) {
      const a = x0[x]!, b = x1[x]!, wx = fx[x]!;
      const top = (1 - wx) * item[r0 + a]! + wx * item[r0 + b]!;
      const bot = (1 - wx) * item[r1 + a]! + wx * item[r1 + b]!;
      out[y * s + (flip ? s - 1 - x : x)] = Math.round((1 - wy) * top + wy * bot);
    }
  }
  return out;
}

/** The 8 gradient directions (dx, dy). */
const DIRS = [[1, 0], [1, 1], [0, 1], [-1, 1], [-1, 0], [-1, -1], [0, -1], [1, -1]] as const;

/**
 * Paints the background of an `S×S` RGB canvas: a linear gradient between two random
 * colours along one of 8 directions, then 0–3 flat distractor rectangles or discs (side
 * `6..S/3`, random colour). Draws from `rng` in a fixed order.
 *
 * @param rng the image's generator
 * @param S canvas side
 * @returns `S·S·3` RGB bytes
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sceneRng } from "./prng.ts";
 * import { paintBackground } from "./render.ts";
 * const a = paintBackground(sceneRng(3), 32), b = paintBackground(sceneRng(3), 32);
 * assert.equal(a.length, 32 * 32 * 3);
 * assert.deepEqual(a, b); // deterministic
 * ```
 */
export function paintBackground(rng: SceneRng, S: number): Uint8Array {
  const c0 = [rng.int(256), rng.int(256), rng.int(256)];
  const c1 = [rng.int(256), rng.int(256), rng.int(256)];
  const [dx, dy] = DIRS[rng.int(8)]!;
  const pmin = Math.min(0, dx * (S - 1)) + Math.min(0, dy * (S - 1));
  const den = (Math.abs(dx) + Math.abs(dy)) * (S - 1);
  const rgb = new Uint8Array(S * S * 3);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const num = dx * x + dy * y - pmin;
      for (let c = 0; c < 3; c++) {
        rgb[(y * S + x) * 3 + c] = Math.floor((c0[c]! * (den - num) + c1[c]! * num) / den);
      }
    }
  }
  const n = rng.int(4);
  for (let k = 0; k < n; k++) {
    const disc = rng.int(2) === 1, side = rng.range(6, Math.floor(S / 3));
    const x0 = rng.int(S - side + 1), y0 = rng.int(S - side + 1);
    const col = [rng.int(256), rng.int(256), rng.int(256)];
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const ex = 2 * x + 1 - side, ey = 2 * y + 1 - side;
        if (disc && ex * ex + ey * ey > side * side) continue;
        const p = ((y0 + y) * S + x0 + x) * 3;
        rgb[p] = col[0]!;
        rgb[p + 1] = col[1]!;
        rgb[p + 2] = col[2]!;
      }
    }
  }
  return rgb;
}

/**
 * Draws an item colour: channels in `64..255`, re-drawn (at most 10 draws, the last kept)
 * until its L1 distance to the mean background colour under the box `[x, y, w, h]` is ≥ 96.
 *
 * @param rng the image's generator
 * @param bg the background canvas (`S·S·3`)
 * @param S canvas side
 * @param box the item's box
 * @returns the tint `[r, g, b]`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sceneRng } from "./prng.ts";
 * import { chooseTint } from "./render.ts";
 * const bg = new Uint8Array(8 * 8 * 3).fill(100);
 * const t = chooseTint(sceneRng(5), bg, 8, [0, 0, 8, 8]);
 * assert.ok(t.every((c) => c >= 64 && c <= 255));
 * assert.ok(t.reduce((s, c) => s + Math.abs(c - 100), 0) >= 96);
 * ```
 */
export function chooseTint(
  rng: SceneRng,
  bg: Uint8Array,
  S: number,
  [bx, by, bw, bh]: readonly [number, number, number, number],
): [number, number, number] {
  const sum = [0, 0, 0], n = bw * bh;
  for (let y = by; y < by + bh; y++) {
    for (let x = bx; x < bx + bw; x++) {
      for (let c = 0; c < 3; c++) sum[c]! += bg[(y * S + x) * 3 + c]!;
    }
  }
  let t: [number, number, number] = [0, 0, 0];
  for (let k = 0; k < 10; k++) {
    t = [rng.range(64, 255), rng.range(64, 255), rng.range(64, 255)];
    const dist = Math.abs(t[0] * n - sum[0]!) + Math.abs(t[1] * n - sum[1]!) +
      Math.abs(t[2] * n - sum[2]!);
    if (dist >= 96 * n) break;
  }
  return t;
}

/**
 * The drawn value of an item pixel of intensity `v` and tint channel `tint`:
 * `round(tint·(0.4 + 0.6·v/255))`, computed exactly in integers.
 *
 * @param tint a tint channel (64..255)
 * @param v the resized item intensity (0..255)
 * @returns the byte
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shade } from "./render.ts";
 * assert.deepEqual([shade(200, 255), shade(200, 0), shade(101, 0)], [200, 80, 40]); // 40.4 → 40
 * ```
 */
export function shade(tint: number, v: number): number {
  return Math.floor((2 * tint * (510 + 3 * v) + 1275) / 2550);
}
