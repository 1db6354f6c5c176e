/**
 * COCO JSON: the ground-truth file (`images`, `annotations`, `categories`) and the results
 * array, parsed with validation (errors name the file, the annotation id or result index and
 * the field), indexed by image and category, and written back. Results are loaded as
 * pycocotools' `COCO.loadRes` does (ids from 1, `iscrowd` 0, area from the box when results
 * have boxes, else from the mask). Spec data-eval.md §1.2, §2.
 *
 * @module
 */

import { TesseraError } from "../../tensor/errors.ts";
import { type Bbox, type Rle, rleArea, rleFromString, rleToBbox } from "./rle.ts";
import { rleFromJson } from "./rle_json.ts";
import type {
  CocoCategory,
  CocoDataset,
  CocoDetection,
  CocoGt,
  CocoImage,
  CocoResult,
  CocoRleJson,
} from "./types.ts";

export type * from "./types.ts";
export { rleFromJson, rleToJson, segmentationToRle } from "./rle_json.ts";

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const show = (v: unknown) => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + "..." : s;
};

/**
 * Validates and indexes a parsed ground-truth object. A missing or boolean `iscrowd` is
 * normalised to 0/1 in place (the object is kept as `dataset`, not copied).
 *
 * @param json the parsed JSON
 * @param name file name for errors
 * @returns the indexed set
 * @throws {TesseraError} (op `loadCocoGt`) naming the file, the record and the field at fault
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCocoGt } from "./json.ts";
 * const gt = parseCocoGt({
 *   images: [{ id: 1, width: 100, height: 100, file_name: "a.png" }],
 *   categories: [{ id: 3, name: "cat" }],
 *   annotations: [{ id: 1, image_id: 1, category_id: 3, bbox: [1, 2, 3, 4], area: 12, iscrowd: 0 }],
 * });
 * assert.deepEqual(gt.catIds, [3]);
 * assert.throws(() => parseCocoGt({ images: [], categories: [], annotations: [{ id: 1 }] }, "x.json"),
 *   /x\.json: annotation id 1: image_id undefined is not an image id/);
 * ```
 */
export function parseCocoGt(json: unknown, name = "ground truth"): CocoGt {
  const fail = (what: string): never => {
    throw new TesseraError("loadCocoGt", `${name}: ${what}`);
  };
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    fail("top level is not an object");
  }
  const d = json as Record<string, unknown>;
  for (const k of ["images", "annotations", "categories"]) {
    if (!Array.isArray(d[k])) fail(`"${k}" is missing or not an array`);
  }
  const images = new Map<number, CocoImage>();
  for (const [i, im] of (d.images as Record<string, unknown>[]).entries()) {
    const at = `images[${i}]`;
    if (typeof im !== "object" || im === null) fail(`${at} is not an object`);
    if (!isInt(im.id)) fail(`${at}: id ${show(im.id)} is not an integer`);
    const id = im.id as number;
    if (images.has(id)) fail(`image id ${id} appears twice`);
    for (const f of ["width", "height"]) {
      if (!isInt(im[f]) || (im[f] as number) < 1) {
        fail(`image id ${id}: ${f} ${show(im[f])} is not a positive integer`);
      }
    }
    if (im.file_name !== undefined && typeof im.file_name !== "string") {
      fail(`image id ${id}: file_name ${show(im.file_name)} is not a string`);
    }
    images.set(id, im as unknown as CocoImage);
  }
  const categories = new Map<number, CocoCategory>();
  for (const [i, c] of (d.categories as Record<string, unknown>[]).entries()) {
    if (typeof c !== "object" || c === null) fail(`categories[${i}] is not an object`);
    if (!isInt(c.id)) fail(`categories[${i}]: id ${show(c.id)} is not an integer`);
    if (categories.has(c.id as number)) fail(`category id ${c.id} appears twice`);
    categories.set(c.id as number, c as unknown as CocoCategory);
  }
  const annIds = new Set<number>();
  for (const [i, a] of (d.annotations as Record<string, unknown>[]).entries()) {
    if (typeof a !== "object" || a === null) fail(`annotations[${i}] is not an object`);
    if (!isInt(a.id) || a.id < 1) {
      fail(
        `annotations[${i}]: id ${show(a.id)} is not an integer ≥ 1 ` +
          `(pycocotools can never match an annotation with id 0)`,
      );
    }
    const id = a.id as number, at = `annotation id ${id}`;
    if (annIds.has(id)) fail(`${at} appears twice`);
    annIds.add(id);
    const img = isInt(a.image_id) ? images.get(a.image_id) : undefined;
    if (!img) fail(`${at}: image_id ${show(a.image_id)} is not an image id`);
    if (!isInt(a.category_id) || !categories.has(a.category_id)) {
      fail(`${at}: category_id ${show(a.category_id)} is not a category id`);
    }
    checkBbox(a.bbox, (w) => fail(`${at}: bbox ${w}`));
    if (!isNum(a.area) || a.area < 0) {
      fail(`${at}: area ${show(a.area)} is not a finite number ≥ 0`);
    }
    if (a.iscrowd === undefined || a.iscrowd === false) a.iscrowd = 0;
    else if (a.iscrowd === true) a.iscrowd = 1;
    if (a.iscrowd !== 0 && a.iscrowd !== 1) fail(`${at}: iscrowd ${show(a.iscrowd)} is not 0 or 1`);
    if (a.segmentation !== undefined) {
      checkSegmentation(a.segmentation, img!, (w) => fail(`${at}: segmentation ${w}`));
    }
  }
  const num = (x: number, y: number) => x - y;
  return {
    dataset: d as unknown as CocoDataset,
    images,
    categories,
    imgIds: [...images.keys()].sort(num),
    catIds: [...categories.keys()].sort(num),
  };
}

function checkBbox(b: unknown, fail: (what: string) => never): void {
  if (!Array.isArray(b) || b.length !== 4 || !b.every(isNum)) {
    fail(`${show(b)} is not [x, y, w, h] of 4 finite numbers`);
  }
  if ((b[2] as number) < 0 || (b[3] as number) < 0) {
    fail(`${show(b)} has a negative width or height`);
  }
}

function checkSegmentation(s: unknown, img: CocoImage, fail: (what: string) => never): void {
  if (Array.isArray(s)) {
    for (const [j, p] of s.entries()) {
      if (!Array.isArray(p) || p.length < 4 || p.length % 2 !== 0 || !p.every(isNum)) {
        fail(`polygon ${j} is not a flat list of an even number (≥ 4) of finite numbers`);
      }
    }
    return;
  }
  checkRleJson(s, img, fail);
}

function checkRleJson(s: unknown, img: CocoImage, fail: (what: string) => never): void {
  if (typeof s !== "object" || s === null) fail(`${show(s)} is neither polygons nor an RLE`);
  const r = s as Record<string, unknown>;
  const size = r.size;
  if (!Array.isArray(size) || size.length !== 2 || !size.every(isInt)) {
    fail(`size ${show(size)} is not [height, width]`);
  }
  const [h, w] = size as [number, number];
  if (h !== img.height || w !== img.width) {
    fail(`RLE size [${h}, ${w}] differs from image ${img.id}'s [${img.height}, ${img.width}]`);
  }
  if (typeof r.counts === "string") {
    try {
      rleFromString(r.counts, h, w);
    } catch (e) {
      fail(`counts: ${e instanceof Error ? e.message : e}`);
    }
  } else if (Array.isArray(r.counts) && r.counts.every((c) => isInt(c) && c >= 0)) {
    const total = (r.counts as number[]).reduce((x, y) => x + y, 0);
    if (total !== h * w) fail(`counts sum to ${total}, size [${h}, ${w}] has ${h * w} pixels`);
  } else fail(`counts ${show(r.counts)} is neither a string nor a list of integers ≥ 0`);
}

/**
 * Reads, validates and indexes a ground-truth file.
 *
 * @param path the `instances_*.json` file
 * @returns the indexed set
 * @throws {TesseraError} (op `loadCocoGt`) naming the file on a read, JSON or content error
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadCocoGt } from "./json.ts";
 * await assert.rejects(loadCocoGt("/nonexistent.json"), /\/nonexistent\.json/);
 * ```
 */
export async function loadCocoGt(path: string): Promise<CocoGt> {
  return parseCocoGt(await readJson("loadCocoGt", path), path);
}

async function readJson(op: string, path: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new TesseraError(op, `${path}: cannot read (${e instanceof Error ? e.message : e})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TesseraError(op, `${path}: not JSON (${e instanceof Error ? e.message : e})`);
  }
}

/**
 * Validates a results array against a ground truth and loads it as pycocotools' `loadRes`:
 * ids `1..n` in array order; when results carry boxes the area is the box area (even if a mask
 * is present), else the mask's pixel count and its tight box.
 *
 * @param json the parsed results array
 * @param gt the ground truth it refers to
 * @param name file name for errors
 * @returns the loaded detections
 * @throws {TesseraError} (op `loadCocoResults`) on an unknown image or category id, a
 *   malformed box, a NaN or missing score, an RLE of the wrong size, or mixed records
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCocoGt, parseCocoResults } from "./json.ts";
 * const gt = parseCocoGt({
 *   images: [{ id: 1, width: 10, height: 10, file_name: "a.png" }],
 *   categories: [{ id: 1, name: "x" }], annotations: [],
 * });
 * const dt = parseCocoResults([{ image_id: 1, category_id: 1, bbox: [0, 0, 2, 3], score: 0.5 }], gt);
 * assert.deepEqual([dt[0]!.id, dt[0]!.area], [1, 6]);
 * assert.throws(() => parseCocoResults([{ image_id: 2, category_id: 1, bbox: [0, 0, 1, 1], score: 1 }], gt),
 *   /result 0: image_id 2 is not an image of the ground truth/);
 * ```
 */
export function parseCocoResults(json: unknown, gt: CocoGt, name = "results"): CocoDetection[] {
  const fail = (what: string): never => {
    throw new TesseraError("loadCocoResults", `${name}: ${what}`);
  };
  if (!Array.isArray(json)) fail("top level is not an array of results");
  const arr = json as Record<string, unknown>[];
  const withBox = arr.length > 0 && typeof arr[0] === "object" && arr[0] !== null &&
    arr[0].bbox !== undefined;
  return arr.map((r, i): CocoDetection => {
    const at = `result ${i}`;
    if (typeof r !== "object" || r === null) fail(`${at} is not an object`);
    const img = isInt(r.image_id) ? gt.images.get(r.image_id) : undefined;
    if (!img) fail(`${at}: image_id ${show(r.image_id)} is not an image of the ground truth`);
    if (!isInt(r.category_id) || !gt.categories.has(r.category_id)) {
      fail(`${at}: category_id ${show(r.category_id)} is not a category of the ground truth`);
    }
    if (!isNum(r.score)) fail(`${at}: score ${show(r.score)} is not a finite number`);
    let seg: Rle | undefined;
    if (r.segmentation !== undefined) {
      if (typeof (r.segmentation as CocoRleJson)?.counts !== "string") {
        fail(`${at}: segmentation must be a compressed RLE ({size, counts: string})`);
      }
      checkRleJson(r.segmentation, img!, (w) => fail(`${at}: segmentation ${w}`));
      seg = rleFromJson(r.segmentation as CocoRleJson);
    }
    let bbox: Bbox, area: number;
    if (withBox) {
      if (r.bbox === undefined) fail(`${at}: has no bbox but result 0 has one`);
      checkBbox(r.bbox, (w) => fail(`${at}: bbox ${w}`));
      bbox = [...(r.bbox as Bbox)];
      area = bbox[2] * bbox[3];
    } else {
      if (!seg) fail(`${at}: has neither bbox nor segmentation`);
      area = rleArea(seg!);
      if (r.bbox !== undefined) checkBbox(r.bbox, (w) => fail(`${at}: bbox ${w}`));
      bbox = r.bbox !== undefined ? [...(r.bbox as Bbox)] : rleToBbox(seg!);
    }
    const det: CocoDetection = {
      id: i + 1,
      image_id: img!.id,
      category_id: r.category_id as number,
      score: r.score as number,
      bbox,
      area,
    };
    if (seg) det.segmentation = seg;
    return det;
  });
}

/**
 * Reads a results file and loads it against a ground truth ({@link parseCocoResults}).
 *
 * @param path the results JSON file
 * @param gt the ground truth
 * @returns the loaded detections
 * @throws {TesseraError} (op `loadCocoResults`) naming the file
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadCocoResults, parseCocoGt } from "./json.ts";
 * const gt = parseCocoGt({ images: [], categories: [], annotations: [] });
 * await assert.rejects(loadCocoResults("/nonexistent.json", gt), /cannot read/);
 * ```
 */
export async function loadCocoResults(path: string, gt: CocoGt): Promise<CocoDetection[]> {
  return parseCocoResults(await readJson("loadCocoResults", path), gt, path);
}

/**
 * Writes results as the JSON array COCO expects.
 *
 * @param path the output file
 * @param results the results
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeCocoResults } from "./json.ts";
 * const p = await Deno.makeTempFile({ suffix: ".json" });
 * await writeCocoResults(p, [{ image_id: 1, category_id: 2, bbox: [0, 0, 1, 1], score: 0.5 }]);
 * assert.equal(JSON.parse(await Deno.readTextFile(p))[0].category_id, 2);
 * await Deno.remove(p);
 * ```
 */
export async function writeCocoResults(
  path: string,
  results: readonly CocoResult[],
): Promise<void> {
  await Deno.writeTextFile(path, JSON.stringify(results));
}
