/**
 * ImageFolder with torchvision's semantics, decoding PNG/JPEG/… with sharp.
 *
 * sharp is loaded lazily (`npm:sharp@0.34.5`) the first time an image is decoded; its N-API
 * addon needs `--allow-ffi` (plus `--allow-read`, `--allow-env`, `--allow-sys`), i.e.
 * `deno run -A` in practice.
 *
 * @module
 */

import { join } from "node:path";
import { TesseraError } from "../tensor/errors.ts";
import type { Dataset } from "./loader.ts";
import { type Image, luma } from "./transforms/image.ts";

/** The sharp module's default export (the `sharp(...)` constructor). */
export type Sharp = typeof import("npm:sharp@0.34.5");
let sharpModule: Promise<Sharp> | null = null;
/**
 * Loads sharp (`npm:sharp@0.34.5`) once, on first use, so pipelines that never touch an image
 * file do not load its native addon.
 *
 * @returns the `sharp` function
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadSharp } from "./image_folder.ts";
 * const sharp = await loadSharp();
 * const png = await sharp(new Uint8Array([7]), { raw: { width: 1, height: 1, channels: 1 } })
 *   .png().toBuffer();
 * assert.equal((await sharp(png).metadata()).format, "png");
 * ```
 */
export function loadSharp(): Promise<Sharp> {
  sharpModule ??= import("npm:sharp@0.34.5").then((m) =>
    (m as unknown as { default: Sharp }).default
  );
  return sharpModule;
}

/**
 * torchvision's `IMG_EXTENSIONS` (matched case-insensitively on the file name's end).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { IMG_EXTENSIONS } from "./image_folder.ts";
 * assert.equal(IMG_EXTENSIONS.includes(".png"), true);
 * assert.equal(IMG_EXTENSIONS.length, 9);
 * ```
 */
export const IMG_EXTENSIONS = [
  ".jpg",
  ".jpeg",
  ".png",
  ".ppm",
  ".bmp",
  ".pgm",
  ".tif",
  ".tiff",
  ".webp",
] as const;

/** Options of {@link decodeImage}. */
export interface DecodeOptions {
  /**
   * `"RGB"` (default): 3 channels like PIL `convert("RGB")` — greyscale replicated, alpha
   * dropped (not composited). `"L"`: 1 channel — greyscale sources exactly, colour sources
   * through PIL's luma (`(19595R + 38470G + 7471B + 2¹⁵) >> 16`).
   */
  mode?: "RGB" | "L";
  /** Name used in error messages (defaults to the path, or "image buffer"). */
  name?: string;
}

/**
 * Decodes an image file or encoded bytes into a uint8 HWC {@link Image}. EXIF orientation is
 * not applied (as with PIL's `Image.open`); 16-bit images are reduced to 8 bits; sharp
 * converts images with an ICC profile to sRGB (PIL does not), so such files can differ.
 *
 * @param src a file path or the encoded bytes
 * @param opts the channel mode and a name for errors
 * @returns the decoded image
 * @throws {TesseraError} (op `decodeImage`) naming the file when it cannot be read or decoded
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import sharp from "npm:sharp@0.34.5";
 * import { decodeImage } from "./image_folder.ts";
 * const raw = { raw: { width: 2, height: 1, channels: 1 as const } };
 * const png = await sharp(new Uint8Array([0, 200]), raw).toColourspace("b-w").png().toBuffer();
 * const rgb = await decodeImage(new Uint8Array(png)); // greyscale replicated
 * assert.equal(rgb.channels, 3);
 * assert.deepEqual([...rgb.data], [0, 0, 0, 200, 200, 200]);
 * assert.deepEqual([...(await decodeImage(new Uint8Array(png), { mode: "L" })).data], [0, 200]);
 * ```
 */
export async function decodeImage(
  src: string | Uint8Array,
  opts: DecodeOptions = {},
): Promise<Image> {
  const { mode = "RGB" } = opts;
  const name = opts.name ?? (typeof src === "string" ? src : "image buffer");
  if (mode !== "RGB" && mode !== "L") {
    throw new TesseraError("decodeImage", `mode must be "RGB" or "L", got ${JSON.stringify(mode)}`);
  }
  let bytes: Uint8Array;
  if (typeof src === "string") {
    try {
      bytes = await Deno.readFile(src);
    } catch (e) {
      throw new TesseraError("decodeImage", `cannot read ${name}: ${(e as Error).message}`);
    }
  } else {
    bytes = src;
  }
  const sharp = await loadSharp();
  try {
    const meta = await sharp(bytes).metadata();
    const grey = meta.channels !== undefined && meta.channels <= 2 &&
      (meta.space === "b-w" || meta.space === "grey16");
    if (mode === "L" && grey) {
      const { data, info } = await sharp(bytes).extractChannel(0).raw({ depth: "uchar" })
        .toBuffer({ resolveWithObject: true });
      return { data: new Uint8Array(data), height: info.height, width: info.width, channels: 1 };
    }
    const { data, info } = await sharp(bytes).removeAlpha().toColourspace("srgb")
      .raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) {
      throw new TesseraError(
        "decodeImage",
        `expected 3 channels after conversion to sRGB, got ${info.channels}`,
      );
    }
    const rgb = new Uint8Array(data.buffer, data.byteOffset, data.length);
    if (mode === "RGB") {
      return { data: rgb.slice(), height: info.height, width: info.width, channels: 3 };
    }
    const n = info.height * info.width;
    const l = new Uint8Array(n);
    for (let i = 0; i < n; i++) l[i] = luma(rgb[3 * i]!, rgb[3 * i + 1]!, rgb[3 * i + 2]!);
    return { data: l, height: info.height, width: info.width, channels: 1 };
  } catch (e) {
    if (e instanceof TesseraError) throw e;
    throw new TesseraError("decodeImage", `cannot decode ${name}: ${(e as Error).message}`);
  }
}

/** Options of {@link ImageFolder.open}. */
export interface ImageFolderOptions extends Pick<DecodeOptions, "mode"> {
  /** File name endings to keep, case-insensitive (default {@link IMG_EXTENSIONS}). */
  extensions?: readonly string[];
  /**
   * The class names the folder must have, in label order (e.g. the training split's
   * `classes` when opening a validation split). Any missing or extra class folder is an error
   * naming it, so labels can never silently shift.
   */
  classes?: readonly string[];
}

/** One ImageFolder item. */
export interface ImageSample {
  /** The decoded image (uint8 HWC). */
  image: Image;
  /** Index of its class folder in `classes`. */
  label: number;
  /** The file it came from. */
  path: string;
}

async function listDir(dir: string): Promise<Deno.DirEntry[]> {
  const out: Deno.DirEntry[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e);
  return out;
}

async function isDir(path: string, e: Deno.DirEntry): Promise<boolean> {
  if (e.isDirectory) return true;
  if (!e.isSymlink) return false;
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/** All files under `dir`, as `os.walk` + `sorted` would list them (followlinks=True). */
async function walk(dir: string): Promise<string[]> {
  const groups: [string, string[]][] = [];
  const visit = async (d: string) => {
    const files: string[] = [];
    for (const e of await listDir(d)) {
      const p = join(d, e.name);
      if (await isDir(p, e)) await visit(p);
      else files.push(e.name);
    }
    groups.push([d, files.sort()]);
  };
  await visit(dir);
  groups.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return groups.flatMap(([d, files]) => files.map((f) => join(d, f)));
}

/**
 * torchvision's `ImageFolder`: `root/<class>/.../<file>` (nested folders too); classes are the sub-folder names in
 * code-point order, label = index; files are kept by extension and listed in `os.walk` +
 * `sorted` order. Images are decoded on `get(i)` by {@link decodeImage} (RGB by default).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import sharp from "npm:sharp@0.34.5";
 * import { ImageFolder } from "./image_folder.ts";
 * const root = await Deno.makeTempDir();
 * for (const cls of ["cat", "dog"]) {
 *   await Deno.mkdir(`${root}/${cls}`);
 *   await sharp({ create: { width: 4, height: 3, channels: 3, background: "#808080" } })
 *     .png().toFile(`${root}/${cls}/0.png`);
 * }
 * const train = await ImageFolder.open(root);
 * const val = await ImageFolder.open(root, { classes: train.classes }); // same class list
 * const { image, label } = await val.get(1);
 * assert.deepEqual(train.classes, ["cat", "dog"]);
 * assert.equal(label, 1);
 * assert.equal(image.height, 3);
 * assert.equal(image.width, 4);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export class ImageFolder implements Dataset<ImageSample> {
  /** The root folder. */
  readonly root: string;
  /** Class names in label order. */
  readonly classes: readonly string[];
  /** `(path, label)` of every item, in order. */
  readonly samples: readonly { path: string; label: number }[];
  /** The channel mode images are decoded in. */
  readonly mode: "RGB" | "L";

  private constructor(
    root: string,
    classes: string[],
    samples: { path: string; label: number }[],
    mode: "RGB" | "L",
  ) {
    this.root = root;
    this.classes = classes;
    this.samples = samples;
    this.mode = mode;
  }

  /**
   * Scans `root` and returns the data set (no image is decoded yet).
   * @throws {TesseraError} (op `ImageFolder`) when `root` is unreadable, has no class
   *   folders, a class has no image files, or the classes differ from `opts.classes`
   */
  static async open(root: string, opts: ImageFolderOptions = {}): Promise<ImageFolder> {
    const OP = "ImageFolder";
    const exts = (opts.extensions ?? IMG_EXTENSIONS).map((e) => e.toLowerCase());
    let entries: Deno.DirEntry[];
    try {
      entries = await listDir(root);
    } catch (e) {
      throw new TesseraError(OP, `cannot read ${root}: ${(e as Error).message}`);
    }
    const classes: string[] = [];
    for (const e of entries) if (await isDir(join(root, e.name), e)) classes.push(e.name);
    classes.sort();
    if (classes.length === 0) throw new TesseraError(OP, `no class folders in ${root}`);
    if (opts.classes) {
      const want = new Set(opts.classes);
      const missing = opts.classes.filter((c) => !classes.includes(c));
      const extra = classes.filter((c) => !want.has(c));
      if (missing.length || extra.length) {
        const fmt = (xs: string[]) => xs.map((x) => JSON.stringify(join(root, x))).join(", ");
        throw new TesseraError(
          OP,
          `class folders of ${root} do not match the expected classes` +
            (missing.length ? `; missing: ${fmt(missing)}` : "") +
            (extra.length ? `; unexpected: ${fmt(extra)}` : ""),
        );
      }
    }
    const order = opts.classes ? [...opts.classes] : classes;
    const samples: { path: string; label: number }[] = [];
    const empty: string[] = [];
    for (const [label, cls] of order.entries()) {
      const files = (await walk(join(root, cls))).filter((p) =>
        exts.some((x) => p.toLowerCase().endsWith(x))
      );
      if (files.length === 0) empty.push(cls);
      for (const path of files) samples.push({ path, label });
    }
    if (empty.length) {
      throw new TesseraError(
        OP,
        `no image files for classes ${empty.map((c) => JSON.stringify(join(root, c))).join(", ")}` +
          ` (extensions: ${exts.join(" ")})`,
      );
    }
    return new ImageFolder(root, order, samples, opts.mode ?? "RGB");
  }

  /** Number of images. */
  get length(): number {
    return this.samples.length;
  }

  /** Decodes item `i`. @throws {TesseraError} naming the file when it cannot be decoded. */
  async get(i: number): Promise<ImageSample> {
    const s = this.samples[i];
    if (!s || !Number.isInteger(i)) {
      throw new TesseraError("ImageFolder", `index ${i} out of range [0, ${this.length})`);
    }
    return { image: await decodeImage(s.path, { mode: this.mode }), label: s.label, path: s.path };
  }
}
