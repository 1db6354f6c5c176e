/**
 * COCO run-length encoding, as pycocotools' `common/maskApi.c` computes it: pixels are read
 * column-major (down each column, columns left to right), counts alternate runs of 0s and 1s
 * starting with 0s, and the compact string form stores deltas in 5-bit groups (spec
 * data-eval.md §2.3). Masks passed in and out are row-major `h×w` bytes (0 = off, any other
 * value = on), the layout of {@link Image} planes.
 *
 * @module
 */

import { TesseraError } from "../../tensor/errors.ts";

/**
 * A run-length encoded binary mask of `h` rows and `w` columns; `counts` alternate 0-runs and
 * 1-runs in column-major order, starting with a (possibly empty) 0-run, and sum to `h·w`.
 */
export interface Rle {
  /** Rows (image height). */
  readonly h: number;
  /** Columns (image width). */
  readonly w: number;
  /** Run lengths. */
  readonly counts: Uint32Array;
}

/** A box `[x, y, width, height]` in pixels, top-left origin, no "+1". */
export type Bbox = [number, number, number, number];

/**
 * Encodes a row-major `h×w` mask (nonzero = on) as {@link Rle} (pycocotools `encode`).
 *
 * @param mask row-major bytes, length `h·w`
 * @param h rows
 * @param w columns
 * @returns the run-length encoding
 * @throws {TesseraError} (op `rleEncode`) when the mask length is not `h·w`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rleEncode } from "./rle.ts";
 * // 4×5 mask with a 2×3 block at rows 1–2, columns 1–3.
 * const m = new Uint8Array(20);
 * for (const y of [1, 2]) for (const x of [1, 2, 3]) m[y * 5 + x] = 1;
 * assert.deepEqual([...rleEncode(m, 4, 5).counts], [5, 2, 2, 2, 2, 2, 5]);
 * ```
 */
export function rleEncode(mask: ArrayLike<number>, h: number, w: number): Rle {
  checkSize("rleEncode", h, w);
  if (mask.length !== h * w) {
    throw new TesseraError("rleEncode", `mask has ${mask.length} values, expected h·w = ${h * w}`);
  }
  const cnts = new Uint32Array(h * w + 1);
  let k = 0, p = 0, c = 0;
  for (let x = 0; x < w; x++) {
    for (let y = 0, i = x; y < h; y++, i += w) {
      const v = mask[i]! !== 0 ? 1 : 0;
      if (v !== p) {
        cnts[k++] = c;
        c = 0;
        p = v;
      }
      c++;
    }
  }
  cnts[k++] = c;
  return { h, w, counts: cnts.slice(0, k) };
}

/**
 * Decodes an {@link Rle} into a row-major `h×w` mask of 0/1 bytes (pycocotools `decode`).
 *
 * @param rle the encoding
 * @returns row-major bytes
 * @throws {TesseraError} (op `rleDecode`) when the counts do not sum to `h·w`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rleDecode } from "./rle.ts";
 * const m = rleDecode({ h: 2, w: 2, counts: Uint32Array.of(1, 2, 1) });
 * assert.deepEqual([...m], [0, 1, 1, 0]); // column-major runs: (0,0)=0, (1,0)=1, (0,1)=1, (1,1)=0
 * ```
 */
export function rleDecode(rle: Rle): Uint8Array {
  const { h, w, counts } = rle;
  checkTotal("rleDecode", rle);
  const out = new Uint8Array(h * w);
  let j = 0; // column-major position
  for (let r = 0; r < counts.length; r++) {
    const n = counts[r]!;
    if (r % 2 === 1) {
      for (const e = j + n; j < e; j++) {
        const x = (j / h) | 0;
        out[(j - x * h) * w + x] = 1;
      }
    } else j += n;
  }
  return out;
}

/**
 * The compact string form of an {@link Rle} (pycocotools `_toString` / maskApi `rleToString`).
 *
 * @param rle the encoding
 * @returns the `counts` string of a compressed COCO RLE
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rleToString } from "./rle.ts";
 * assert.equal(rleToString({ h: 4, w: 5, counts: Uint32Array.of(5, 10, 3, 2) }), "5:3H");
 * ```
 */
export function rleToString(rle: Rle): string {
  const c = rle.counts;
  const out: number[] = [];
  for (let i = 0; i < c.length; i++) {
    let x = c[i]!;
    if (i > 2) x -= c[i - 2]!;
    let more = true;
    while (more) {
      let ch = ((x % 32) + 32) % 32;
      x = Math.floor(x / 32); // arithmetic shift, also for values beyond 31 bits
      more = (ch & 0x10) !== 0 ? x !== -1 : x !== 0;
      if (more) ch |= 0x20;
      out.push(ch + 48);
    }
  }
  return String.fromCharCode(...out);
}

/**
 * Parses the compact string form (maskApi `rleFrString`) into an {@link Rle} of size `h×w`.
 *
 * @param s the `counts` string
 * @param h rows
 * @param w columns
 * @returns the encoding
 * @throws {TesseraError} (op `rleFromString`) on a character outside `0`–`o`, a string that
 *   ends inside a value, or counts that do not sum to `h·w` (an RLE of the wrong size)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rleFromString } from "./rle.ts";
 * assert.deepEqual([...rleFromString("5:3H", 4, 5).counts], [5, 10, 3, 2]);
 * ```
 */
export function rleFromString(s: string, h: number, w: number): Rle {
  checkSize("rleFromString", h, w);
  const cnts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0, k = 0, more = true;
    while (more) {
      if (p >= s.length) {
        throw new TesseraError("rleFromString", `string ends inside a value at character ${p}`);
      }
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) {
        throw new TesseraError(
          "rleFromString",
          `character ${JSON.stringify(s[p])} at ${p} is outside '0'..'o'`,
        );
      }
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && (c & 0x10) !== 0) x -= 2 ** (5 * k);
    }
    const m = cnts.length;
    if (m > 2) x += cnts[m - 2]!;
    cnts.push(((x % 2 ** 32) + 2 ** 32) % 2 ** 32);
  }
  const rle = { h, w, counts: Uint32Array.from(cnts) };
  checkTotal("rleFromString", rle);
  return rle;
}

/**
 * Union (default) or intersection of masks of one size (maskApi `rleMerge`).
 *
 * @param rles the masks (at least one)
 * @param intersect intersection instead of union
 * @returns the merged mask
 * @throws {TesseraError} (op `rleMerge`) on an empty list or masks of different sizes
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rleArea, rleEncode, rleMerge } from "./rle.ts";
 * const a = rleEncode([1, 1, 0, 0], 2, 2), b = rleEncode([0, 1, 1, 0], 2, 2);
 * assert.equal(rleArea(rleMerge([a, b])), 3);
 * assert.equal(rleArea(rleMerge([a, b], true)), 1);
 * ```
 */
export function rleMerge(rles: readonly Rle[], intersect = false): Rle {
  const first = rles[0];
  if (!first) throw new TesseraError("rleMerge", "no masks to merge");
  const { h, w } = first;
  if (rles.length === 1) return { h, w, counts: first.counts.slice() };
  let cnts = first.counts.slice();
  for (let i = 1; i < rles.length; i++) {
    const B = rles[i]!;
    if (B.h !== h || B.w !== w) {
      throw new TesseraError(
        "rleMerge",
        `mask ${i} is ${B.h}×${B.w}, mask 0 is ${h}×${w}`,
      );
    }
    const out = new Uint32Array(cnts.length + B.counts.length + 1);
    let m = 0, cc = 0;
    const op = intersect ? (x: number, y: number) => x & y : (x: number, y: number) => x | y;
    walkRuns(cnts, B.counts, (c, va, vb, na, nb, last) => {
      cc += c;
      if (op(na, nb) !== op(va, vb) || last) {
        out[m++] = cc;
        cc = 0;
      }
    });
    cnts = out.slice(0, m);
  }
  return { h, w, counts: cnts };
}

/**
 * Walks two run-length encodings of the same size side by side, as maskApi's merge and IoU
 * loops do: `step(c, va, vb, na, nb, last)` gets each stretch of `c` pixels over which both
 * masks are constant (values `va`, `vb`), the values after it (`na`, `nb`) and whether it is
 * the last. Zero-length runs give zero-length stretches, as in the C code.
 *
 * @param A counts of the first mask
 * @param B counts of the second mask
 * @param step called once per stretch
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { walkRuns } from "./rle.ts";
 * const seen: number[][] = [];
 * walkRuns(Uint32Array.of(1, 3), Uint32Array.of(2, 2), (c, va, vb) => seen.push([c, va, vb]));
 * assert.deepEqual(seen, [[1, 0, 0], [1, 1, 0], [2, 1, 1]]);
 * ```
 */
export function walkRuns(
  A: Uint32Array,
  B: Uint32Array,
  step: (c: number, va: number, vb: number, na: number, nb: number, last: boolean) => void,
): void {
  let ca = A[0]!, cb = B[0]!, va = 0, vb = 0, a = 1, b = 1, ct = 1;
  while (ct > 0) {
    const c = Math.min(ca, cb), pa = va, pb = vb;
    ct = 0;
    ca -= c;
    if (!ca && a < A.length) {
      ca = A[a++]!;
      va ^= 1;
    }
    ct += ca;
    cb -= c;
    if (!cb && b < B.length) {
      cb = B[b++]!;
      vb ^= 1;
    }
    ct += cb;
    step(c, pa, pb, va, vb, ct === 0);
  }
}

/**
 * Pixel count of a mask: the sum of the odd-index runs (maskApi `rleArea`).
 *
 * @param rle the mask
 * @returns the number of on pixels
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rleArea } from "./rle.ts";
 * assert.equal(rleArea({ h: 4, w: 5, counts: Uint32Array.of(5, 10, 3, 2) }), 12);
 * ```
 */
export function rleArea(rle: Rle): number {
  let a = 0;
  for (let j = 1; j < rle.counts.length; j += 2) a += rle.counts[j]!;
  return a;
}

/**
 * Tight box `[x, y, w, h]` of a mask (maskApi `rleToBbox`); `[0, 0, 0, 0]` when empty. As in
 * pycocotools, a run of on-pixels that continues from one column into the next makes the box
 * span the full height.
 *
 * @param rle the mask
 * @returns the box
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rleToBbox } from "./rle.ts";
 * assert.deepEqual(rleToBbox({ h: 4, w: 5, counts: Uint32Array.of(5, 10, 3, 2) }), [1, 0, 4, 4]);
 * ```
 */
export function rleToBbox(rle: Rle): Bbox {
  const { h, w, counts } = rle;
  const m = Math.floor(counts.length / 2) * 2;
  if (m === 0) return [0, 0, 0, 0];
  let xs = w, ys = h, xe = 0, ye = 0, cc = 0, xp = 0;
  for (let j = 0; j < m; j++) {
    cc = (cc + counts[j]!) >>> 0;
    const t = (cc - (j % 2)) >>> 0;
    const y = t % h, x = (t - y) / h;
    if (j % 2 === 0) xp = x;
    else if (xp < x) {
      ys = 0;
      ye = h - 1;
    }
    xs = Math.min(xs, x);
    xe = Math.max(xe, x);
    ys = Math.min(ys, y);
    ye = Math.max(ye, y);
  }
  return [xs, ys, xe - xs + 1, ye - ys + 1];
}

function checkSize(op: string, h: number, w: number): void {
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 0 || w < 0 || h * w >= 2 ** 32) {
    throw new TesseraError(op, `size [${h}, ${w}] is not a pair of non-negative integers`);
  }
}

function checkTotal(op: string, rle: Rle): void {
  let s = 0;
  for (let i = 0; i < rle.counts.length; i++) s += rle.counts[i]!;
  if (s !== rle.h * rle.w) {
    throw new TesseraError(
      op,
      `counts sum to ${s} pixels but size [${rle.h}, ${rle.w}] has ${rle.h * rle.w}`,
    );
  }
}
