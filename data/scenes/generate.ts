/**
 * Generates the FMNIST-Scenes data set on disk (spec data-eval.md §6.4):
 *
 * ```text
 * fmnist-scenes-<version>/
 *   images/{train,val}/000001.png            RGB PNG
 *   annotations/instances_{train,val}.json   COCO ground truth (RLE of the visible masks)
 *   semantic/{train,val}/000001.png          1-channel ADE-style label PNG
 *   meta.json                                parameters, counts, SHA-256 of decoded pixels
 * ```
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import { TesseraError } from "../../tensor/errors.ts";
import type { CocoAnnotation, CocoCategory, CocoDataset, CocoImage } from "../coco/json.ts";
import { rleToJson } from "../coco/json.ts";
import { rleArea, rleEncode, rleToBbox } from "../coco/rle.ts";
import { FASHION_MNIST_CLASSES, loadFashionMnist } from "../fashion_mnist.ts";
import { loadSharp } from "../image_folder.ts";
import { encodeLabelPng } from "../label_png.ts";
import {
  type ItemPool,
  renderScene,
  type Scene,
  SCENE_RULES,
  type ScenesVersion,
} from "./scene.ts";

const SUPER = [
  "clothing",
  "clothing",
  "clothing",
  "clothing",
  "clothing",
  "footwear",
  "clothing",
  "footwear",
  "accessory",
  "footwear",
];

/**
 * The ten COCO categories: id = Fashion-MNIST label + 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SCENES_CATEGORIES } from "./generate.ts";
 * assert.deepEqual(SCENES_CATEGORIES[9], { id: 10, name: "Ankle boot", supercategory: "footwear" });
 * ```
 */
export const SCENES_CATEGORIES: readonly CocoCategory[] = FASHION_MNIST_CLASSES.map((name, i) => ({
  id: i + 1,
  name,
  supercategory: SUPER[i]!,
}));

/** 6-digit file name of image `index` (1-based). */
const fileName = (index: number) => `${String(index).padStart(6, "0")}.png`;

/**
 * The COCO annotations of one scene: one per instance, the RLE of its visible mask, area and
 * tight box from that RLE, ids from `firstId`.
 *
 * @param scene the rendered scene
 * @param imageId its image id
 * @param firstId the first annotation id to use
 * @returns the annotations in drawing order
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sceneAnnotations } from "./generate.ts";
 * import { renderScene, SCENES_VERSIONS } from "./scene.ts";
 * const pool = { images: new Uint8Array(784).fill(255), labels: Uint8Array.of(4), count: 1 };
 * const anns = sceneAnnotations(renderScene(SCENES_VERSIONS.tiny, "val", 2, pool), 2, 7);
 * assert.equal(anns[0]!.id, 7);
 * assert.equal(anns[0]!.category_id, 5);
 * ```
 */
export function sceneAnnotations(scene: Scene, imageId: number, firstId: number): CocoAnnotation[] {
  const S = scene.size, mask = new Uint8Array(S * S);
  return scene.instances.map((inst, k) => {
    for (let p = 0; p < S * S; p++) mask[p] = scene.owner[p] === k ? 1 : 0;
    const rle = rleEncode(mask, S, S);
    return {
      id: firstId + k,
      image_id: imageId,
      category_id: inst.label + 1,
      bbox: rleToBbox(rle),
      area: rleArea(rle),
      iscrowd: inst.crowd ? 1 : 0,
      segmentation: rleToJson(rle),
      z: k,
      src_index: inst.crowd ? inst.srcIndex : inst.srcIndex[0],
      scale: inst.crowd ? inst.scale : inst.scale[0],
    };
  });
}

/**
 * The item pool of a version's split: the first `pool.train` Fashion-MNIST train items, or
 * the first `pool.val` t10k items. tiny fits in the bundled sample (read from there unless
 * `dir` is given); small needs the full set (Debian `dataset-fashion-mnist`).
 *
 * @param version the version
 * @param split `"train"` or `"val"`
 * @param dir Fashion-MNIST folder (default: the Debian path, else the bundled sample)
 * @returns the pool
 * @throws {TesseraError} (op `scenesPool`) when the files hold fewer items than the version needs
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scenesPool } from "./generate.ts";
 * import { SCENES_VERSIONS } from "./scene.ts";
 * const pool = await scenesPool(SCENES_VERSIONS.tiny, "val");
 * assert.equal(pool.count, 1000);
 * ```
 */
export async function scenesPool(
  version: ScenesVersion,
  split: "train" | "val",
  dir?: string,
): Promise<ItemPool> {
  const need = version.pool[split];
  const fm = await loadFashionMnist({
    split: split === "train" ? "train" : "test",
    limit: need,
    dir,
  });
  if (fm.count < need) {
    throw new TesseraError(
      "scenesPool",
      `version ${version.name} draws ${split} items from ${need} Fashion-MNIST items but ` +
        `${fm.source} holds ${fm.count}; install the full set ` +
        `(apt-get install dataset-fashion-mnist) or use --version tiny`,
    );
  }
  return { images: fm.images, labels: fm.labels, count: fm.count };
}

/** Per-split counts and hashes in meta.json. */
export interface ScenesSplitMeta {
  /** Images in the split. */
  images: number;
  /** Annotations (crowd regions included). */
  annotations: number;
  /** Crowd annotations. */
  crowd: number;
  /** SHA-256 (hex) of the decoded RGB bytes of all images, in index order. */
  sha256Images: string;
  /** SHA-256 (hex) of the decoded semantic label bytes, in index order. */
  sha256Semantic: string;
}

/** meta.json. */
export interface ScenesMeta {
  /** Always `FMNIST-Scenes`. */
  dataset: "FMNIST-Scenes";
  /** The version name. */
  version: string;
  /** How each image's seed is derived. */
  seed: string;
  /** The version's parameters. */
  params: ScenesVersion;
  /** The fixed rendering constants. */
  rules: typeof SCENE_RULES;
  /** The semantic label convention. */
  semantic: string;
  /** Per split: counts and pixel hashes. */
  splits: Record<"train" | "val", ScenesSplitMeta>;
}

/** Options of {@link generateScenes}. */
export interface GenerateScenesOptions {
  /** Fashion-MNIST folder (default: the Debian path, else the bundled sample). */
  fashionMnistDir?: string;
  /** Called after each image with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Writes `fmnist-scenes-<version>/` under `outDir` and returns its meta.json content.
 *
 * @param version the version (see `SCENES_VERSIONS`)
 * @param outDir parent folder
 * @param opts data folder and progress callback
 * @returns the meta data (also written to meta.json)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateScenes } from "./generate.ts";
 * import { SCENES_VERSIONS } from "./scene.ts";
 * const out = await Deno.makeTempDir();
 * const v = { ...SCENES_VERSIONS.tiny, images: { train: 2, val: 1 } };
 * const meta = await generateScenes(v, out);
 * assert.equal(meta.splits.val.images, 1);
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export async function generateScenes(
  version: ScenesVersion,
  outDir: string,
  opts: GenerateScenesOptions = {},
): Promise<ScenesMeta> {
  const root = join(outDir, `fmnist-scenes-${version.name}`);
  const sharp = await loadSharp();
  const total = version.images.train + version.images.val;
  let done = 0;
  const splits = {} as Record<"train" | "val", ScenesSplitMeta>;
  for (const split of ["train", "val"] as const) {
    const pool = await scenesPool(version, split, opts.fashionMnistDir);
    const imgDir = join(root, "images", split), semDir = join(root, "semantic", split);
    await Deno.mkdir(imgDir, { recursive: true });
    await Deno.mkdir(semDir, { recursive: true });
    const hImg = createHash("sha256"), hSem = createHash("sha256");
    const images: CocoImage[] = [], annotations: CocoAnnotation[] = [];
    const S = version.canvas, n = version.images[split], batch = 16;
    for (let start = 1; start <= n; start += batch) {
      const ids = Array.from({ length: Math.min(batch, n - start + 1) }, (_, j) => start + j);
      const scenes = ids.map((i) => renderScene(version, split, i, pool));
      await Promise.all(scenes.map(async (sc, j) => {
        const name = fileName(ids[j]!),
          raw = { raw: { width: S, height: S, channels: 3 as const } };
        await sharp(sc.rgb, raw).png().toFile(join(imgDir, name));
        await Deno.writeFile(
          join(semDir, name),
          await encodeLabelPng({ height: S, width: S, data: sc.semantic }),
        );
      }));
      for (const [j, sc] of scenes.entries()) {
        const id = ids[j]!;
        hImg.update(sc.rgb);
        hSem.update(sc.semantic);
        images.push({ id, width: S, height: S, file_name: fileName(id) });
        annotations.push(...sceneAnnotations(sc, id, annotations.length + 1));
        opts.onProgress?.(++done, total);
      }
    }
    const gt: CocoDataset = {
      info: { description: `FMNIST-Scenes ${version.name} ${split} (tessera)` },
      images,
      annotations,
      categories: [...SCENES_CATEGORIES],
    };
    await Deno.mkdir(join(root, "annotations"), { recursive: true });
    await Deno.writeTextFile(
      join(root, "annotations", `instances_${split}.json`),
      JSON.stringify(gt),
    );
    splits[split] = {
      images: n,
      annotations: annotations.length,
      crowd: annotations.filter((a) => a.iscrowd === 1).length,
      sha256Images: hImg.digest("hex"),
      sha256Semantic: hSem.digest("hex"),
    };
  }
  const meta: ScenesMeta = {
    dataset: "FMNIST-Scenes",
    version: version.name,
    seed: `sfc32(hash32("${version.name}/<split>/<index>")), data/scenes/prng.ts`,
    params: version,
    rules: SCENE_RULES,
    semantic: "0 unlabelled ring, 1 background, 2..11 Fashion-MNIST label + 2 (reduce_zero_label)",
    splits,
  };
  await Deno.writeTextFile(join(root, "meta.json"), JSON.stringify(meta, null, 2) + "\n");
  return meta;
}
