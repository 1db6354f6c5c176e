/**
 * The COCO JSON types: the ground-truth file's images, categories and annotations, the indexed
 * ground truth, and results (as written and as loaded). Spec data-eval.md §1.2, §2.
 *
 * @module
 */

import type { Bbox, Rle } from "./rle.ts";

/** A compressed (string counts) or uncompressed (number counts) COCO RLE object. */
export interface CocoRleJson {
  /** `[height, width]`. */
  size: [number, number];
  /** Compact string or plain run lengths. */
  counts: string | number[];
}

/** A COCO segmentation: polygon parts, or an RLE object. */
export type CocoSegmentation = number[][] | CocoRleJson;

/** One image record. */
export interface CocoImage {
  /** Image id (integer). */
  id: number;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** File name, relative to the image folder. */
  file_name: string;
  /** Other fields are kept and ignored. */
  [extra: string]: unknown;
}

/** One category record. */
export interface CocoCategory {
  /** Category id (integer; COCO's have gaps). */
  id: number;
  /** Category name. */
  name: string;
  /** Parent name. */
  supercategory?: string;
  /** Other fields are kept and ignored. */
  [extra: string]: unknown;
}

/** One ground-truth annotation. */
export interface CocoAnnotation {
  /** Annotation id, unique, ≥ 1. */
  id: number;
  /** The image's id. */
  image_id: number;
  /** The category's id. */
  category_id: number;
  /** Box `[x, y, w, h]`. */
  bbox: Bbox;
  /** Area in px² (COCO: the mask's pixel count); area ranges use it. */
  area: number;
  /** 1 for a crowd region (matches are ignored, union = detection area). */
  iscrowd: 0 | 1;
  /** Polygons or RLE; needed for segm evaluation. */
  segmentation?: CocoSegmentation;
  /** Other fields (e.g. debugging) are kept and ignored. */
  [extra: string]: unknown;
}

/** A ground-truth file's contents. */
export interface CocoDataset {
  /** Free-form description. */
  info?: unknown;
  /** Free-form licences. */
  licenses?: unknown;
  /** The images. */
  images: CocoImage[];
  /** The annotations. */
  annotations: CocoAnnotation[];
  /** The categories. */
  categories: CocoCategory[];
}

/** One result as written by a detector (`bbox` and/or compressed `segmentation`). */
export interface CocoResult {
  /** The image's id (must exist in the ground truth). */
  image_id: number;
  /** The category's id. */
  category_id: number;
  /** Confidence (finite). */
  score: number;
  /** Box `[x, y, w, h]`. */
  bbox?: Bbox;
  /** Compressed RLE of the mask. */
  segmentation?: CocoRleJson;
}

/** A loaded result: pycocotools' `loadRes` fields added. */
export interface CocoDetection {
  /** 1-based position in the results array. */
  id: number;
  /** The image's id. */
  image_id: number;
  /** The category's id. */
  category_id: number;
  /** Confidence. */
  score: number;
  /** Box `[x, y, w, h]` (the mask's tight box when the result had none). */
  bbox: Bbox;
  /** Box area when the results carry boxes, else the mask's pixel count. */
  area: number;
  /** The mask, when the result has one. */
  segmentation?: Rle;
}

/** A validated, indexed ground-truth set. */
export interface CocoGt {
  /** The parsed file. */
  readonly dataset: CocoDataset;
  /** Images by id. */
  readonly images: ReadonlyMap<number, CocoImage>;
  /** Categories by id. */
  readonly categories: ReadonlyMap<number, CocoCategory>;
  /** Sorted image ids. */
  readonly imgIds: readonly number[];
  /** Sorted category ids. */
  readonly catIds: readonly number[];
}
