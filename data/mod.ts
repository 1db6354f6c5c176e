/**
 * Data sets, file formats and the input pipeline: an IDX reader (MNIST/Fashion-MNIST files,
 * gzipped or raw), a Fashion-MNIST loader that falls back to a small sample shipped with
 * tessera, ImageFolder (PNG/JPEG via sharp), image transforms with explicit randomness
 * (torchvision/timm semantics, see `./transforms/mod.ts`) and a seeded, prefetching
 * {@link DataLoader}. Dense prediction: COCO JSON and RLE masks (`./coco/`, as pycocotools),
 * the COCO box/mask evaluator and mmseg's mIoU (`./eval/`), 1-channel label PNGs, and the
 * generated FMNIST-Scenes detection/segmentation set (`./scenes/`); transforms that move boxes,
 * masks and label maps with the image (`./dense_transforms/`), COCO and segmentation folders
 * and a padded-batch {@link DenseLoader}.
 *
 * Needs `--allow-read` for local files (or `--allow-net` when tessera is imported by URL);
 * decoding images loads sharp's native addon, which needs `--allow-ffi` (use `-A`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FASHION_MNIST_CLASSES, loadFashionMnist } from "./mod.ts";
 * const train = await loadFashionMnist({ split: "train", limit: 100 });
 * assert.equal(train.count, 100);
 * assert.equal(train.rows, 28);
 * assert.equal(train.cols, 28);
 * assert.equal(FASHION_MNIST_CLASSES[train.labels[0]!], "Ankle boot");
 * ```
 *
 * @module
 */

export { encodeIdx, type Idx, readIdx, readIdxFile } from "./idx.ts";
export {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_SYSTEM_DIR,
  type FashionMnist,
  type FashionMnistOptions,
  loadFashionMnist,
} from "./fashion_mnist.ts";
export {
  type FashionMnistDataset,
  fashionMnistDataset,
  type FashionMnistDatasetOptions,
} from "./fashion_mnist_dataset.ts";
export {
  decodeImage,
  type DecodeOptions,
  ImageFolder,
  type ImageFolderOptions,
  type ImageSample,
  IMG_EXTENSIONS,
  loadSharp,
  type Sharp,
} from "./image_folder.ts";
export {
  type Batch,
  DataLoader,
  type Dataset,
  type LabeledImage,
  type LoaderOptions,
} from "./loader.ts";
export {
  cocoDetectionFolder,
  type CocoFolder,
  type CocoFolderOptions,
  type DenseItem,
  type SegFolderDatasetOptions,
  segmentationFolder,
} from "./dense_folder.ts";
export {
  type DenseBatch,
  DenseLoader,
  type DenseLoaderOptions,
  type DenseTargets,
} from "./dense_loader.ts";
export { Rng, rngFromKey, rngFromSeed } from "../tensor/host_rng.ts";
export * from "./transforms/mod.ts";
export * from "./dense_transforms/mod.ts";
export { FASHION_MNIST_MEAN, FASHION_MNIST_STD } from "./fashion_mnist_stats.ts";
export {
  type Bbox,
  type Rle,
  rleArea,
  rleDecode,
  rleEncode,
  rleFromString,
  rleMerge,
  rleToBbox,
  rleToString,
  walkRuns,
} from "./coco/rle.ts";
export { rleFromBbox, rleFromPolygon, rleFromPolygons } from "./coco/polygon.ts";
export { bboxIou, type IouMatrix, rleIou } from "./coco/iou.ts";
export {
  type CocoAnnotation,
  type CocoCategory,
  type CocoDataset,
  type CocoDetection,
  type CocoGt,
  type CocoImage,
  type CocoResult,
  type CocoRleJson,
  type CocoSegmentation,
  loadCocoGt,
  loadCocoResults,
  parseCocoGt,
  parseCocoResults,
  rleFromJson,
  rleToJson,
  segmentationToRle,
  writeCocoResults,
} from "./coco/json.ts";
export { type CocoEvalResult, evaluateCoco } from "./eval/coco_eval.ts";
export { type CocoEvalParams, cocoEvalParams, type ImageEval } from "./eval/coco_params.ts";
export {
  accumulateCategory,
  formatCocoSummary,
  meanValid,
  summarizeCoco,
} from "./eval/coco_summary.ts";
export { npSum } from "./eval/np_sum.ts";
export {
  mmsegPercent,
  reduceZeroLabel,
  type SegAreas,
  segAreas,
  type SegMetrics,
  segMetrics,
  sumSegAreas,
} from "./eval/seg_metrics.ts";
export {
  evaluateSegFolders,
  type SegFolderOptions,
  type SegFolderResult,
} from "./eval/seg_folders.ts";
export {
  checkLabelMap,
  encodeLabelPng,
  type LabelExpectation,
  type LabelMap,
  readLabelPng,
  writeLabelPng,
} from "./label_png.ts";
export { hash32, type SceneRng, sceneRng } from "./scenes/prng.ts";
export { chooseTint, paintBackground, resizeItem, shade } from "./scenes/render.ts";
export {
  type ItemPool,
  renderScene,
  type Scene,
  SCENE_RULES,
  type SceneInstance,
  SCENES_VERSIONS,
  type ScenesVersion,
} from "./scenes/scene.ts";
export {
  generateScenes,
  type GenerateScenesOptions,
  sceneAnnotations,
  SCENES_CATEGORIES,
  type ScenesMeta,
  scenesPool,
  type ScenesSplitMeta,
} from "./scenes/generate.ts";

export {
  CATEGORY_PALETTE,
  drawDetections,
  type DrawnDetection,
  encodeRgbPng,
  type RgbImage,
  tileImages,
} from "./detect_draw.ts";

// Types referenced by the public signatures above, re-exported so the entry point documents them.
export type * from "../tensor/core_types.ts";
export {
  mcnemar,
  type McnemarResult,
  pairedBootstrap,
  type PairedBootstrapOptions,
  type PairedBootstrapResult,
} from "./eval/paired_stats.ts";
export { pairedBootstrapRuns, type PairedRunsResult } from "./eval/paired_runs.ts";
