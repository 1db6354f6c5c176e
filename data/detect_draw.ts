/**
 * A picture of detections for `train.ts detect --eval`: each image scaled up, its masks
 * overlaid in the category's colour, boxes outlined and labelled (category name and score in
 * a 3×5 pixel font), the images tiled in a grid, and the grid encoded as an RGB PNG.
 * @module
 */
import { loadSharp } from "./image_folder.ts";
import { TesseraError } from "../tensor/errors.ts";

/** An 8-bit RGB picture, row-major, 3 bytes a pixel. */
export interface RgbImage {
  /** Height in pixels. */
  height: number;
  /** Width in pixels. */
  width: number;
  /** `height × width × 3` bytes. */
  data: Uint8Array;
}

/** One detection to draw, in the source image's pixel coordinates. */
export interface DrawnDetection {
  /** `[x1, y1, x2, y2]`. */
  box: readonly number[];
  /** The text above the box (upper-cased; characters outside the font are drawn as blanks). */
  label: string;
  /** The colour index (category), into a fixed 10-colour palette. */
  colour: number;
  /** Optional binary mask, `h × w` of the source image. */
  mask?: Uint8Array;
}

/**
 * Ten distinct colours, one a category (index mod 10), for detection and scene pictures.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CATEGORY_PALETTE } from "./detect_draw.ts";
 * assert.deepEqual([CATEGORY_PALETTE.length, CATEGORY_PALETTE[0]], [10, [230, 25, 75]]);
 * ```
 */
export const CATEGORY_PALETTE: readonly (readonly [number, number, number])[] = [
  [230, 25, 75],
  [60, 180, 75],
  [255, 225, 25],
  [0, 130, 200],
  [245, 130, 48],
  [145, 30, 180],
  [70, 240, 240],
  [240, 50, 230],
  [210, 245, 60],
  [250, 190, 212],
];

/** 3×5 glyphs, rows top to bottom, 3 bits a row. */
const FONT: Record<string, string> = {
  "0": "111101101101111",
  "1": "010110010010111",
  "2": "111001111100111",
  "3": "111001111001111",
  "4": "101101111001001",
  "5": "111100111001111",
  "6": "111100111101111",
  "7": "111001001010010",
  "8": "111101111101111",
  "9": "111101111001111",
  A: "010101111101101",
  B: "110101110101110",
  C: "011100100100011",
  D: "110101101101110",
  E: "111100110100111",
  F: "111100110100100",
  G: "011100101101011",
  H: "101101111101101",
  I: "111010010010111",
  J: "001001001101010",
  K: "101101110101101",
  L: "100100100100111",
  M: "101111111101101",
  N: "110101101101101",
  O: "010101101101010",
  P: "110101110100100",
  Q: "010101101110011",
  R: "110101110101101",
  S: "011100010001110",
  T: "111010010010010",
  U: "101101101101111",
  V: "101101101101010",
  W: "101101111111101",
  X: "101101010101101",
  Y: "101101010010010",
  Z: "111001010100111",
  ".": "000000000000010",
  "-": "000000111000000",
  "/": "001001010100100",
};

function put(img: RgbImage, x: number, y: number, c: readonly number[], alpha = 1): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  const o = 3 * (y * img.width + x);
  for (let k = 0; k < 3; k++) {
    img.data[o + k] = Math.round(img.data[o + k]! * (1 - alpha) + c[k]! * alpha);
  }
}

/** Text at (x, y) (top-left), each font pixel `s × s`, on a filled background. */
function text(img: RgbImage, x: number, y: number, s: string, fg: number[], bg: readonly number[]) {
  const w = 4 * s.length + 1;
  for (let dy = 0; dy < 7; dy++) for (let dx = 0; dx < w; dx++) put(img, x + dx, y + dy, bg);
  [...s.toUpperCase()].forEach((ch, i) => {
    const g = FONT[ch];
    if (!g) return;
    for (let r = 0; r < 5; r++) {
      for (let c = 0; c < 3; c++) {
        if (g[3 * r + c] === "1") put(img, x + 1 + 4 * i + c, y + 1 + r, fg);
      }
    }
  });
}

/**
 * Draws `dets` on `image` (1 or 3 channels, `h × w`) scaled up `scale`× (nearest): masks
 * blended at 45 %, box outlines, labels above the boxes (inside when at the top edge).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { drawDetections } from "./detect_draw.ts";
 * const image = { height: 4, width: 4, channels: 1, data: new Uint8Array(16) };
 * const mask = new Uint8Array(16).fill(1);
 * const pic = drawDetections(image, [{ box: [0, 0, 4, 4], label: "a", colour: 0, mask }], 4);
 * assert.deepEqual([pic.height, pic.width], [16, 16]);
 * assert.deepEqual([...pic.data.subarray(0, 3)], [230, 25, 75]); // the box outline
 * assert.deepEqual([...pic.data.subarray(3 * (15 * 16 + 8), 3 * (15 * 16 + 8) + 3)], [230, 25, 75]);
 * ```
 */
export function drawDetections(
  image: { height: number; width: number; channels: number; data: Uint8Array },
  dets: readonly DrawnDetection[],
  scale = 2,
): RgbImage {
  const { height: h, width: w, channels: ch, data } = image;
  if (data.length !== h * w * ch || (ch !== 1 && ch !== 3) || scale < 1) {
    throw new TesseraError(
      "drawDetections",
      `expected a ${h}×${w} image of 1 or 3 channels (${h * w * ch} bytes) and a scale ≥ 1, ` +
        `got ${data.length} bytes, ${ch} channels, scale ${scale}`,
    );
  }
  const H = h * scale, W = w * scale;
  const img: RgbImage = { height: H, width: W, data: new Uint8Array(H * W * 3) };
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = Math.floor(y / scale) * w + Math.floor(x / scale);
      for (let k = 0; k < 3; k++) {
        img.data[3 * (y * W + x) + k] = data[i * ch + (ch === 3 ? k : 0)]!;
      }
    }
  }
  for (const d of dets) {
    const c = CATEGORY_PALETTE[d.colour % CATEGORY_PALETTE.length]!;
    if (d.mask) {
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          if (d.mask[Math.floor(y / scale) * w + Math.floor(x / scale)]) put(img, x, y, c, 0.45);
        }
      }
    }
    const [x1, y1, x2, y2] = d.box.map((v) => Math.round(v * scale)) as [
      number,
      number,
      number,
      number,
    ];
    for (let x = x1; x < x2; x++) put(img, x, y1, c), put(img, x, y2 - 1, c);
    for (let y = y1; y < y2; y++) put(img, x1, y, c), put(img, x2 - 1, y, c);
  }
  for (const d of dets) {
    const c = CATEGORY_PALETTE[d.colour % CATEGORY_PALETTE.length]!;
    const x = Math.round(d.box[0]! * scale), y = Math.round(d.box[1]! * scale);
    text(img, x, y >= 7 ? y - 7 : y, d.label, [0, 0, 0], c);
  }
  return img;
}

/**
 * Tiles pictures of one size into a grid of `cols` columns with a 4-pixel grey gutter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tileImages } from "./detect_draw.ts";
 * const a = { height: 2, width: 3, data: new Uint8Array(18).fill(9) };
 * const g = tileImages([a, a, a], 2);
 * assert.deepEqual([g.height, g.width], [2 * 2 + 4, 2 * 3 + 4]);
 * assert.equal(g.data[0], 9);
 * ```
 */
export function tileImages(pics: readonly RgbImage[], cols: number): RgbImage {
  const p = pics[0];
  if (!p || cols < 1 || pics.some((q) => q.height !== p.height || q.width !== p.width)) {
    throw new TesseraError(
      "tileImages",
      `expected pictures of one size and cols ≥ 1, got ${pics.length} and ${cols}`,
    );
  }
  const n = Math.min(cols, pics.length), rows = Math.ceil(pics.length / n), g = 4;
  const H = rows * p.height + (rows - 1) * g, W = n * p.width + (n - 1) * g;
  const out: RgbImage = { height: H, width: W, data: new Uint8Array(H * W * 3).fill(128) };
  pics.forEach((q, i) => {
    const oy = Math.floor(i / n) * (p.height + g), ox = (i % n) * (p.width + g);
    for (let y = 0; y < q.height; y++) {
      out.data.set(
        q.data.subarray(3 * y * q.width, 3 * (y + 1) * q.width),
        3 * ((oy + y) * W + ox),
      );
    }
  });
  return out;
}

/**
 * An RGB picture as PNG bytes (sharp).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeRgbPng } from "./detect_draw.ts";
 * const png = await encodeRgbPng({ height: 1, width: 2, data: new Uint8Array(6) });
 * assert.deepEqual([...png.subarray(1, 4)], [80, 78, 71]); // "PNG"
 * ```
 */
export async function encodeRgbPng(img: RgbImage): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const raw = { raw: { width: img.width, height: img.height, channels: 3 as const } };
  return new Uint8Array(await sharp(img.data, raw).png().toBuffer());
}
