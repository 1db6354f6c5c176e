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
 * @returns the label map
 * @throws {TesseraError} (op `readLabelPng`) when the file cannot be decoded, is a palette
 *   PNG, or has more than one channel
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeLabelPng, readLabelPng } from "./label_png.ts";
 * const png = await encodeLabelPng({ height: 1, width: 3, data: Uint8Array.of(0, 7, 255) });
 * assert.deepEqual([...(await readLabelPng(png)).data], [0, 7, 255]);
 * ```
 */
export async function readLabelPng(src: string | Uint8Array, name?: string): Promise<LabelMap> {
  const label = name ?? (typeof src === "string" ? src : "label buffer");
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
