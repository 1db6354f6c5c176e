/**
 * COCO RLE JSON objects ↔ {@link Rle}, and a ground-truth segmentation (polygons or RLE) as
 * its mask (pycocotools `annToRLE`).
 *
 * @module
 */

import { rleFromPolygons } from "./polygon.ts";
import { type Rle, rleFromString, rleToString } from "./rle.ts";
import type { CocoRleJson, CocoSegmentation } from "./types.ts";

/**
 * An RLE as the compressed COCO JSON object.
 *
 * @param rle the mask
 * @returns `{size: [h, w], counts: string}`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rleToJson } from "./rle_json.ts";
 * assert.deepEqual(rleToJson({ h: 4, w: 5, counts: Uint32Array.of(20) }), { size: [4, 5], counts: "d0" });
 * ```
 */
export function rleToJson(rle: Rle): CocoRleJson {
  return { size: [rle.h, rle.w], counts: rleToString(rle) };
}

/**
 * A COCO RLE object (compressed or uncompressed) as an {@link Rle}.
 *
 * @param obj the JSON object
 * @returns the mask
 * @throws {TesseraError} (op `rleFromString`) on a malformed or wrongly sized counts string
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rleFromJson } from "./rle_json.ts";
 * assert.deepEqual([...rleFromJson({ size: [4, 5], counts: [0, 20] }).counts], [0, 20]);
 * ```
 */
export function rleFromJson(obj: CocoRleJson): Rle {
  const [h, w] = obj.size;
  return typeof obj.counts === "string"
    ? rleFromString(obj.counts, h, w)
    : { h, w, counts: Uint32Array.from(obj.counts) };
}

/**
 * The mask of a ground-truth segmentation on its image (pycocotools `annToRLE`): polygons
 * rasterised and merged, RLE objects decoded.
 *
 * @param seg the segmentation
 * @param h image height
 * @param w image width
 * @returns the mask
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { segmentationToRle } from "./rle_json.ts";
 * import { rleArea } from "./rle.ts";
 * assert.equal(rleArea(segmentationToRle([[2, 2, 2, 12, 12, 12, 12, 2]], 20, 20)), 100);
 * ```
 */
export function segmentationToRle(seg: CocoSegmentation, h: number, w: number): Rle {
  return Array.isArray(seg) ? rleFromPolygons(seg, h, w) : rleFromJson(seg);
}
