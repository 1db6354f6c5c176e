/**
 * Label maps (semantic segmentation ground truth and predictions) as 1-channel 8-bit PNG
 * files, read and written through sharp with the pitfalls of spec data-eval.md §3.6 handled:
 * greyscale is written with `toColourspace("b-w")` (else sharp writes RGB) and read with
 * `extractChannel(0)` (else sharp returns 3 channels); palette PNGs, whose pixels decode to
 * colours rather than indices, are refused.
 *
 * @module
 */

import { TesseraError } from "../tensor/errors.ts";
import { loadSharp } from "./image_folder.ts";

/** A label map: one byte per pixel, row-major. */
export interface LabelMap {
  /** Rows. */
  readonly height: number;
  /** Columns. */
  readonly width: number;
  /** `height·width` label values. */
  readonly data: Uint8Array;
}

/**
 * Reads a 1-channel label PNG with its exact values.
 *
 * @param src a file path or encoded bytes
 * @param name name used in errors (defaults to the path)
 * @param expect the image size and class count it must fit ({@link checkLabelMap})
 * @returns the label map
 * @throws {TesseraError} (op `readLabelPng`) when the file cannot be decoded, is a palette
 *   PNG, has more than one channel, or does not meet `expect`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeLabelPng, readLabelPng } from "./label_png.ts";
 * const png = await encodeLabelPng({ height: 1, width: 3, data: Uint8Array.of(0, 7, 255) });
 * assert.deepEqual([...(await readLabelPng(png)).data], [0, 7, 255]);
 * ```
 */
export async function readLabelPng(
  src: string | Uint8Array,
  name?: string,
  expect?: LabelExpectation,
): Promise<LabelMap> {
  const label = name ?? (typeof src === "string" ? src : "label buffer");
  const map = await decodeLabelPng(src, label);
  if (expect) checkLabelMap(map, label, expect);
  return map;
}

/** What a label map must be for its use: its image's size, and values below a class count. */
export interface LabelExpectation {
  /** The image's rows. */
  height?: number;
  /** The image's columns. */
  width?: number;
  /** Values must be `< numClasses` or the ignore value. */
  numClasses?: number;
  /** The value that marks pixels to ignore (default 255). */
  ignoreIndex?: number;
}

/**
 * Checks a label map against what its use needs (size of its image, values below the class
 * count or the ignore value).
 *
 * @param map the label map
 * @param name the file, for the message
 * @param expect the expectations
 * @throws {TesseraError} (op `readLabelPng`) naming the file and the first offending pixel
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkLabelMap } from "./label_png.ts";
 * const map = { height: 1, width: 3, data: Uint8Array.of(0, 255, 4) };
 * checkLabelMap(map, "a.png", { height: 1, width: 3, numClasses: 5 });
 * assert.throws(() => checkLabelMap(map, "a.png", { numClasses: 4 }),
 *   { message: "readLabelPng: a.png: pixel 2 (row 0, column 2) is 4, not a class in 0..3 or 255 (ignored)" });
 * assert.throws(() => checkLabelMap(map, "a.png", { height: 2, width: 3 }), /a\.png is 3×1, its image 3×2/);
 * ```
 */
export function checkLabelMap(map: LabelMap, name: string, expect: LabelExpectation): void {
  const { height = map.height, width = map.width, numClasses, ignoreIndex = 255 } = expect;
  if (map.height !== height || map.width !== width) {
    throw new TesseraError(
      "readLabelPng",
      `${name} is ${map.width}×${map.height}, its image ${width}×${height}`,
    );
  }
  if (numClasses === undefined) return;
  const i = map.data.findIndex((v) => v >= numClasses && v !== ignoreIndex);
  if (i >= 0) {
    throw new TesseraError(
      "readLabelPng",
      `${name}: pixel ${i} (row ${Math.floor(i / map.width)}, column ${i % map.width}) is ` +
        `${map.data[i]}, not a class in 0..${numClasses - 1} or ${ignoreIndex} (ignored)`,
    );
  }
}

async function decodeLabelPng(src: string | Uint8Array, label: string): Promise<LabelMap> {
  const sharp = await loadSharp();
  try {
    const img = sharp(src);
    const meta = await img.metadata();
    if (meta.isPalette) {
      throw new TesseraError(
        "readLabelPng",
        `${label}: palette PNG (pixels would decode to colours, not class indices); ` +
          `write labels as 1-channel greyscale`,
      );
    }
    if (meta.channels !== 1) {
      throw new TesseraError(
        "readLabelPng",
        `${label}: ${meta.channels} channels, a label map has 1 (greyscale)`,
      );
    }
    const { data, info } = await img.extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    return { height: info.height, width: info.width, data: new Uint8Array(data) };
  } catch (e) {
    if (e instanceof TesseraError) throw e;
    throw new TesseraError(
      "readLabelPng",
      `${label}: cannot decode (${e instanceof Error ? e.message : e})`,
    );
  }
}

/**
 * Encodes a label map as a 1-channel 8-bit greyscale PNG.
 *
 * @param map the label map
 * @returns the PNG bytes
 * @throws {TesseraError} (op `encodeLabelPng`) when the data length is not height·width
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import sharp from "npm:sharp@0.34.5";
 * import { encodeLabelPng } from "./label_png.ts";
 * const png = await encodeLabelPng({ height: 2, width: 2, data: Uint8Array.of(1, 2, 3, 4) });
 * assert.equal((await sharp(png).metadata()).channels, 1);
 * ```
 */
export async function encodeLabelPng(map: LabelMap): Promise<Uint8Array> {
  const { height, width, data } = map;
  if (data.length !== height * width) {
    throw new TesseraError(
      "encodeLabelPng",
      `data has ${data.length} bytes, expected ${height}×${width}`,
    );
  }
  const sharp = await loadSharp();
  const raw = { raw: { width, height, channels: 1 as const } };
  return new Uint8Array(await sharp(data, raw).toColourspace("b-w").png().toBuffer());
}

/**
 * Writes a label map as a 1-channel PNG file ({@link encodeLabelPng}).
 *
 * @param path the output file
 * @param map the label map
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLabelPng, writeLabelPng } from "./label_png.ts";
 * const p = await Deno.makeTempFile({ suffix: ".png" });
 * await writeLabelPng(p, { height: 1, width: 2, data: Uint8Array.of(3, 250) });
 * assert.deepEqual([...(await readLabelPng(p)).data], [3, 250]);
 * await Deno.remove(p);
 * ```
 */
export async function writeLabelPng(path: string, map: LabelMap): Promise<void> {
  await Deno.writeFile(path, await encodeLabelPng(map));
}
