/**
 * Polygon and box rasterisation into {@link Rle}, exactly as pycocotools' maskApi
 * `rleFrPoly` / `rleFrBbox` (upsample ×5, walk the edges, keep the x-boundary crossings,
 * round back): the masks COCO's polygon annotations stand for.
 *
 * @module
 */

import type { Bbox, Rle } from "./rle.ts";
import { rleMerge } from "./rle.ts";

/**
 * Rasterises one polygon `[x1, y1, x2, y2, …]` (continuous coordinates) into an `h×w` mask.
 * A square from 2 to 12 covers pixels 2..11.
 *
 * @param xy flat vertex list
 * @param h rows
 * @param w columns
 * @returns the mask
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rleFromPolygon } from "./polygon.ts";
 * import { rleArea, rleToBbox } from "./rle.ts";
 * const r = rleFromPolygon([2.5, 2.5, 2.5, 11.5, 11.5, 11.5, 11.5, 2.5], 20, 20);
 * assert.equal(rleArea(r), 81);
 * assert.deepEqual(rleToBbox(r), [3, 3, 9, 9]);
 * ```
 */
export function rleFromPolygon(xy: readonly number[], h: number, w: number): Rle {
  const scale = 5;
  const k = Math.floor(xy.length / 2);
  const x = new Int32Array(k + 1), y = new Int32Array(k + 1);
  for (let j = 0; j < k; j++) x[j] = Math.trunc(scale * xy[j * 2]! + 0.5);
  for (let j = 0; j < k; j++) y[j] = Math.trunc(scale * xy[j * 2 + 1]! + 0.5);
  x[k] = x[0]!;
  y[k] = y[0]!;
  let m = 0;
  for (let j = 0; j < k; j++) {
    m += Math.max(Math.abs(x[j]! - x[j + 1]!), Math.abs(y[j]! - y[j + 1]!)) + 1;
  }
  const u = new Int32Array(m), v = new Int32Array(m);
  m = 0;
  for (let j = 0; j < k; j++) {
    let xs = x[j]!, xe = x[j + 1]!, ys = y[j]!, ye = y[j + 1]!;
    const dx = Math.abs(xe - xs), dy = Math.abs(ys - ye);
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      [xs, xe] = [xe, xs];
      [ys, ye] = [ye, ys];
    }
    const s = dx >= dy ? (ye - ys) / dx : (xe - xs) / dy;
    if (dx >= dy) {
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        u[m] = t + xs;
        v[m] = Math.trunc(ys + s * t + 0.5);
        m++;
      }
    } else {
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v[m] = t + ys;
        u[m] = Math.trunc(xs + s * t + 0.5);
        m++;
      }
    }
  }
  // Points along the y-boundary, downsampled.
  const a: number[] = [];
  for (let j = 1; j < m; j++) {
    if (u[j] === u[j - 1]) continue;
    let xd = u[j]! < u[j - 1]! ? u[j]! : u[j]! - 1;
    xd = (xd + 0.5) / scale - 0.5;
    if (Math.floor(xd) !== xd || xd < 0 || xd > w - 1) continue;
    let yd = v[j]! < v[j - 1]! ? v[j]! : v[j - 1]!;
    yd = (yd + 0.5) / scale - 0.5;
    if (yd < 0) yd = 0;
    else if (yd > h) yd = h;
    yd = Math.ceil(yd);
    a.push((xd * h + yd) >>> 0);
  }
  a.push(h * w);
  a.sort((p, q) => p - q);
  let p = 0;
  for (let j = 0; j < a.length; j++) {
    const t = a[j]!;
    a[j] = t - p;
    p = t;
  }
  const b: number[] = [a[0]!];
  for (let j = 1; j < a.length;) {
    if (a[j]! > 0) b.push(a[j++]!);
    else {
      j++;
      if (j < a.length) b[b.length - 1]! += a[j++]!;
    }
  }
  return { h, w, counts: Uint32Array.from(b) };
}

/**
 * Rasterises a box `[x, y, w, h]` as the polygon of its corners (maskApi `rleFrBbox`).
 *
 * @param bbox the box
 * @param h rows
 * @param w columns
 * @returns the mask
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rleFromBbox } from "./polygon.ts";
 * import { rleArea } from "./rle.ts";
 * assert.equal(rleArea(rleFromBbox([2, 2, 10, 10], 20, 20)), 100);
 * ```
 */
export function rleFromBbox(bbox: Readonly<Bbox>, h: number, w: number): Rle {
  const [xs, ys] = bbox, xe = xs + bbox[2], ye = ys + bbox[3];
  return rleFromPolygon([xs, ys, xs, ye, xe, ye, xe, ys], h, w);
}

/**
 * The mask of a COCO polygon segmentation (a list of parts), merged into one RLE as
 * pycocotools' `annToRLE` does. Like pycocotools' `frPyObjects`, a list whose first part has
 * exactly 4 numbers is read as a list of boxes.
 *
 * @param parts polygons, each a flat `[x1, y1, …]` list
 * @param h rows
 * @param w columns
 * @returns the union of the parts
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rleFromPolygons } from "./polygon.ts";
 * import { rleArea } from "./rle.ts";
 * const sq = (a: number, b: number) => [a, a, a, b, b, b, b, a];
 * assert.equal(rleArea(rleFromPolygons([sq(0, 4), sq(2, 6)], 8, 8)), 28); // 16 + 16 − 4
 * ```
 */
export function rleFromPolygons(parts: readonly (readonly number[])[], h: number, w: number): Rle {
  if (parts.length === 0) return { h, w, counts: Uint32Array.of(h * w) };
  const asBoxes = parts[0]!.length === 4;
  const rles = parts.map((p) =>
    asBoxes ? rleFromBbox(p as unknown as Bbox, h, w) : rleFromPolygon(p, h, w)
  );
  return rleMerge(rles);
}
