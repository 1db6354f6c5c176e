/**
 * `train.ts detect --eval CKPT --data DIR`: scores a detect checkpoint on a COCO folder's val
 * split, writes the COCO results (boxes and RLE masks) and a PNG of the predictions on the first
 * few val images, and prints one JSON line with the 12 COCO numbers for bbox and segm. Also the
 * parts `train.ts detect` shares with it: the Mask R-CNN config of a run's settings
 * ({@link detectModelConfig}), the input preparation ({@link detectPrep}), predictions as COCO
 * results ({@link predictCoco}) and their scores ({@link cocoStats}).
 * @module
 */
import { dispose, scope } from "../mod.ts";
import { maskRcnnPredict } from "../models/detection/mask_rcnn.ts";
import {
  type MaskRcnnConfig,
  type MaskRcnnParams,
  maskRcnnSpec,
} from "../models/detection/mask_rcnn_model.ts";
import type { VitConfig } from "../models/vit.ts";
import { decodeCheckpoint } from "../nn/checkpoint.ts";
import { cocoDetectionFolder, type CocoFolder, type DenseItem } from "../data/dense_folder.ts";
import { DenseLoader } from "../data/dense_loader.ts";
import { type DenseSample, normalizeDense } from "../data/dense_transforms/sample.ts";
import type { Dataset } from "../data/loader.ts";
import {
  type CocoGt,
  type CocoResult,
  parseCocoGt,
  parseCocoResults,
  rleFromJson,
  rleToJson,
} from "../data/coco/json.ts";
import { rleDecode, rleEncode } from "../data/coco/rle.ts";
import { evaluateCoco } from "../data/eval/coco_eval.ts";
import {
  type CommandFlags,
  group,
  helpText,
  int,
  limit,
  num,
  parseCommand,
  path,
  row,
  UsageError,
} from "../trainer/flags.ts";
import { BACKEND } from "./flag_groups.ts";
import type { CliIO } from "../trainer/io.ts";
import { cliVitConfig, type ModelOverrides } from "./models.ts";
import { selectBackend } from "../trainer/backend.ts";
import { runPaths } from "../trainer/run_dir.ts";
import { drawDetections, type DrawnDetection, encodeRgbPng, tileImages } from "./detect_draw.ts";
import { join } from "node:path";

/** The names of COCO's 12 summary numbers, in `stats` order. */
export const DETECT_STATS = [
  "AP",
  "AP50",
  "AP75",
  "APs",
  "APm",
  "APl",
  "AR1",
  "AR10",
  "AR100",
  "ARs",
  "ARm",
  "ARl",
] as const;

/** The settings of a detect run that fix the model (a subset of `DetectOptions`). */
export interface DetectShapeOptions extends ModelOverrides {
  /** `--model`. */
  model: string;
  /** `--drop-path`. */
  dropPath: number;
  /** The encoder's image size (`--init`), else null (the canvas, rounded up to 32). */
  imgSize: number | null;
  /** The encoder's channels (`--init`), else null (the images'). */
  inChans: number | null;
  /** `--cls-token`. */
  clsToken: boolean;
}

/**
 * The Mask R-CNN of a detect run: the ViT of its settings on a `canvas`² canvas of `inChans`
 * channels, FPN/mask width = ViT width, box head 4× that, anchors and RoI levels scaled by
 * `canvas / 256`, 64 RPN and RoI samples, 200/100 pre-NMS and 100 post-NMS proposals.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectModelConfig } from "./detect_eval.ts";
 * const o = { model: "vit-tiny-fmnist", patch: 16, dim: 32, depth: 2, heads: 2, dropPath: 0, imgSize: null, inChans: null, clsToken: false };
 * const cfg = detectModelConfig(o, 11, 128, 3);
 * assert.deepEqual([cfg.vit.imgSize, cfg.fpnChannels, cfg.boxRepresentation, cfg.canvasScale], [128, 32, 128, 0.5]);
 * ```
 */
export function detectModelConfig(
  o: DetectShapeOptions,
  numClasses: number,
  canvas: number,
  inChans: number,
): MaskRcnnConfig {
  const vit: VitConfig = {
    ...cliVitConfig(o.model, o, {
      dropPath: o.dropPath,
      imgSize: o.imgSize ?? Math.ceil(canvas / 32) * 32,
      inChans,
      numClasses: 0,
    }),
    classToken: o.clsToken,
  };
  const d = vit.embedDim;
  return {
    vit,
    numClasses,
    fpnChannels: d,
    boxRepresentation: 4 * d,
    maskDim: d,
    canvasScale: canvas / 256,
    posEmbed: "sincos",
    rpnBatchSize: 64,
    roiBatchSize: 64,
    rpnPreNmsTopN: { train: 200, test: 100 },
    rpnPostNmsTopN: 100,
  };
}

/** RGB → one channel (the channel mean, rounded), for a greyscale encoder. */
function toGrey(s: DenseSample): DenseSample {
  const { data, height, width, channels } = s.image;
  if (channels === 1) return s;
  const out = new Uint8Array(height * width);
  for (let i = 0; i < out.length; i++) {
    let t = 0;
    for (let c = 0; c < channels; c++) t += data[i * channels + c]!;
    out[i] = Math.round(t / channels);
  }
  return { ...s, image: { data: out, height, width, channels: 1 } };
}

/**
 * The input transform of a detect model of `inChans` channels: greyscale when 1, then
 * (x / 255 − 0.5) / 0.25 per channel.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectPrep } from "./detect_eval.ts";
 * const s = { image: { data: Uint8Array.of(0, 255, 255), height: 1, width: 1, channels: 3 } };
 * const out = detectPrep(1)(s) as unknown as { image: { data: Float32Array; channels: number } };
 * assert.equal(out.image.channels, 1);
 * assert.ok(Math.abs(out.image.data[0]! - (170 / 255 - 0.5) / 0.25) < 1e-6);
 * ```
 */
export function detectPrep(inChans: number): (x: DenseSample) => DenseSample {
  const mean = Array(inChans).fill(0.5), std = Array(inChans).fill(0.25);
  return (x) => normalizeDense(inChans === 1 ? toGrey(x) : x, mean, std) as unknown as DenseSample;
}

/**
 * Runs {@link maskRcnnPredict} over `loader`'s first epoch and returns COCO results (category
 * ids from `catIds`, boxes `[x, y, w, h]`, masks thresholded at 0.5 and RLE-encoded); null
 * when `stopped()` turns true between batches.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { predictCoco } from "./detect_eval.ts";
 * assert.equal(typeof predictCoco, "function"); // exercised end to end by tests/cli/detect_eval_test.ts
 * ```
 */
export async function predictCoco(
  params: MaskRcnnParams,
  cfg: MaskRcnnConfig,
  loader: DenseLoader,
  catIds: readonly number[],
  stopped: () => boolean = () => false,
): Promise<CocoResult[] | null> {
  const results: CocoResult[] = [];
  for await (const batch of loader.epoch(0)) {
    try {
      await scope(async () => {
        const dets = await maskRcnnPredict(params, batch.images, batch.imageSizes, cfg);
        for (const [i, det] of dets.entries()) {
          const [h, w] = batch.imageSizes[i]!;
          const boxes = await det.boxes.data(), scores = await det.scores.data();
          const labels = await det.labels.data(), masks = await det.masks.data();
          for (let j = 0; j < scores.length; j++) {
            const [x1, y1, x2, y2] = boxes.subarray(4 * j, 4 * j + 4) as Float32Array;
            const m = new Uint8Array(h * w);
            for (let q = 0; q < m.length; q++) m[q] = masks[j * h * w + q]! >= 0.5 ? 1 : 0;
            results.push({
              image_id: batch.imageIds[i]!,
              category_id: catIds[labels[j]! - 1]!,
              score: scores[j]!,
              bbox: [x1!, y1!, x2! - x1!, y2! - y1!],
              segmentation: rleToJson(rleEncode(m, h, w)),
            });
          }
        }
      });
    } finally {
      batch.dispose();
    }
    if (stopped()) return null;
  }
  return results;
}

/**
 * The 12 COCO numbers of `results` against `gt` for boxes and masks, as `bbox_AP`, …,
 * `segm_ARl`, plus `detections` (the count).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cocoStats } from "./detect_eval.ts";
 * import { parseCocoGt } from "../data/coco/json.ts";
 * const gt = parseCocoGt({
 *   images: [{ id: 1, height: 4, width: 4 }],
 *   categories: [{ id: 1, name: "a" }],
 *   annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 2, 2], area: 4, iscrowd: 0, segmentation: [[0, 0, 2, 0, 2, 2, 0, 2]] }],
 * });
 * import { rleToJson } from "../data/coco/json.ts";
 * import { rleEncode } from "../data/coco/rle.ts";
 * const seg = rleToJson(rleEncode(Uint8Array.of(1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 4, 4));
 * const m = cocoStats(gt, [{ image_id: 1, category_id: 1, score: 1, bbox: [0, 0, 2, 2], segmentation: seg }]);
 * assert.equal(m.detections, 1);
 * assert.ok(m.bbox_AP! > 0.999 && m.segm_AP! > 0.999); // a perfect match (AP 1 up to rounding)
 * ```
 */
export function cocoStats(gt: CocoGt, results: readonly CocoResult[]): Record<string, number> {
  const m: Record<string, number> = { detections: results.length };
  for (const type of ["bbox", "segm"] as const) {
    const dts = parseCocoResults(
      type === "bbox"
        ? results.map(({ segmentation: _s, ...r }) => r)
        : results.map(({ bbox: _b, ...r }) => r),
      gt,
    );
    const { stats } = evaluateCoco(gt, dts, type);
    DETECT_STATS.forEach((n, k) => m[`${type}_${n}`] = stats[k]!);
  }
  return m;
}

/** The message of a library error without its op prefix. */
function detail(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/^\w+: /, "");
}

/**
 * A COCO folder's split, every problem (missing files, malformed JSON, no images) a
 * {@link UsageError} naming `--data`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openDetectSplit } from "./detect_eval.ts";
 * await assert.rejects(openDetectSplit("/no/such/dir", "val"), /--data \/no\/such\/dir: /);
 * ```
 */
export async function openDetectSplit(dir: string, split: string): Promise<CocoFolder> {
  try {
    const ds = await cocoDetectionFolder(dir, split);
    if (ds.length === 0) throw new Error(`the ${split} split has no images`);
    return ds;
  } catch (e) {
    throw new UsageError(`--data ${dir}: ${detail(e)}`);
  }
}

/**
 * The first `n` items of `ds` and their ground truth (null: all).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { firstImages } from "./detect_eval.ts";
 * assert.equal(typeof firstImages, "function"); // used on real folders by detect and detect --eval
 * ```
 */
export function firstImages(
  ds: CocoFolder,
  n: number | null,
): { set: Dataset<DenseItem>; gt: CocoGt } {
  const length = n === null ? ds.length : Math.min(n, ds.length);
  const set = { length, get: (i: number) => ds.get(i) };
  if (length === ds.length) return { set, gt: ds.gt };
  const keep = new Set(ds.imgIds.slice(0, length));
  const d = ds.gt.dataset;
  const gt = parseCocoGt({
    ...d,
    images: d.images.filter((im) => keep.has(im.id)),
    annotations: d.annotations.filter((a) => keep.has(a.image_id)),
  });
  return { set, gt };
}

const FLAGS = [
  ...group("Evaluate", [
    row("eval", "CKPT", path("a checkpoint file or run directory"), null, "detect checkpoint"),
    row("data", "DIR", path("a directory"), null, "COCO folder; its val split is scored", {
      none: "required",
    }),
    row("val-limit", "N|all", limit, null, "first N val images", { none: "all" }),
    row("out", "DIR", path("a directory"), null, "where the results and picture go", {
      none: "the checkpoint's directory",
    }),
    row("show", "N", int({ min: 0, max: 64 }), 6, "val images in the picture"),
    row("min-score", "X", num({ min: 0, max: 1 }), 0.5, "detections drawn: score at least"),
  ]),
  ...BACKEND,
] as const;

/**
 * The flag table of `detect --eval`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultsOf } from "../trainer/flags.ts";
 * import { DETECT_EVAL } from "./detect_eval.ts";
 * const d = defaultsOf(DETECT_EVAL.flags);
 * assert.deepEqual([d.eval, d.show, d.minScore], [null, 6, 0.5]);
 * ```
 */
export const DETECT_EVAL: CommandFlags<typeof FLAGS> = {
  name: "detect --eval",
  title: "score a detect checkpoint on a COCO folder's val split",
  usage: "--eval CKPT --data DIR [flags]",
  intro:
    "Writes detections_val.json (COCO results: boxes and RLE masks) and predictions_val.png\n" +
    "(boxes, masks and labels on the first --show val images), then prints one JSON line with\n" +
    "the 12 COCO numbers for bbox and segm.",
  flags: FLAGS,
};

/** The checkpoint file `p` names (a file, or a run directory's latest checkpoint). */
async function checkpointFile(p: string): Promise<string> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(p);
  } catch {
    throw new UsageError(`--eval ${p}: no such file or directory`);
  }
  return info.isDirectory ? runPaths(p).checkpoint : p;
}

/**
 * Runs `detect --eval` with `argv`; returns the exit code (bad flags, data or checkpoint are
 * {@link UsageError}s: exit 2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { captureIO } from "../trainer/io.ts";
 * import { detectEvalCommand } from "./detect_eval.ts";
 * await assert.rejects(detectEvalCommand(["--eval", "x.safetensors"], captureIO()), /--data DIR is required/);
 * ```
 */
export async function detectEvalCommand(argv: string[], io: CliIO): Promise<number> {
  const p = parseCommand(DETECT_EVAL, argv);
  if (p === "help") {
    io.out(helpText(DETECT_EVAL));
    return 0;
  }
  const o = p.options;
  if (o.eval === null) throw new UsageError("--eval CKPT is required");
  if (o.data === null) throw new UsageError("--data DIR is required (a COCO folder)");
  const file = await checkpointFile(o.eval);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch (e) {
    throw new UsageError(`--eval ${file}: ${detail(e)}`);
  }
  const folder = await openDetectSplit(o.data, "val");
  const { set, gt } = firstImages(folder, o.valLimit);
  const first = (await set.get(0)).sample.image;
  const backend = await selectBackend(o.backend, o.threads);
  let cfg: MaskRcnnConfig, saved: DetectShapeOptions, ck;
  try {
    const peek = decodeCheckpoint(bytes);
    dispose([peek.params, peek.optState, peek.rngKey]);
    const c = peek.config as { command?: string; options?: DetectShapeOptions } | null;
    if (c?.command !== "detect" || !c.options) {
      throw new Error("it is not a checkpoint of a detect run (no detect config)");
    }
    saved = c.options;
    const inChans = saved.inChans ?? first.channels;
    cfg = detectModelConfig(
      saved,
      folder.catIds.length + 1,
      Math.max(first.height, first.width),
      inChans,
    );
    ck = decodeCheckpoint(bytes, { params: maskRcnnSpec(cfg) });
  } catch (e) {
    throw new UsageError(`--eval ${file}: ${detail(e)}`);
  }
  const params = ck.params as MaskRcnnParams;
  try {
    const loader = new DenseLoader(set, {
      batchSize: 4,
      seed: 0,
      shuffle: false,
      prefetch: 1,
      transform: detectPrep(cfg.vit.inChans),
    });
    const t0 = performance.now();
    io.err(
      `detect --eval: ${file} (step ${ck.step}) on ${set.length} val images of ${o.data}, ${backend}\n`,
    );
    const results = (await predictCoco(params, cfg, loader, folder.catIds))!;
    const m = cocoStats(gt, results);
    const out = o.out ?? join(file, "..");
    await Deno.mkdir(out, { recursive: true });
    const resultsFile = join(out, "detections_val.json"),
      picture = join(out, "predictions_val.png");
    await Deno.writeTextFile(resultsFile, JSON.stringify(results));
    const names = new Map(gt.dataset.categories.map((c) => [c.id, c.name]));
    const pics = [];
    for (let i = 0; i < Math.min(o.show, set.length); i++) {
      const item = await set.get(i);
      const img = item.sample.image;
      const dets: DrawnDetection[] = results
        .filter((r) => r.image_id === item.imageId && r.score >= o.minScore)
        .map((r) => {
          const [x, y, w, h] = r.bbox!;
          return {
            box: [x, y, x + w, y + h],
            label: `${(names.get(r.category_id) ?? String(r.category_id)).slice(0, 7)} ${
              r.score.toFixed(2)
            }`,
            colour: folder.catIds.indexOf(r.category_id),
            mask: rleDecode(rleFromJson(r.segmentation!)),
          };
        });
      pics.push(drawDetections(img, dets, 2));
    }
    if (pics.length > 0) await Deno.writeFile(picture, await encodeRgbPng(tileImages(pics, 3)));
    const stats = (t: string) => DETECT_STATS.map((n) => m[`${t}_${n}`]!);
    io.err(
      `detect --eval: bbox AP ${(m.bbox_AP! * 100).toFixed(2)}, segm AP ${
        (m.segm_AP! * 100).toFixed(2)
      } ` +
        `(${results.length} detections) in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
        `wrote ${resultsFile}${pics.length > 0 ? ` and ${picture}` : ""}\n`,
    );
    io.out(JSON.stringify({
      command: "detect --eval",
      checkpoint: file,
      step: ck.step,
      val_images: set.length,
      detections: results.length,
      bbox: stats("bbox"),
      segm: stats("segm"),
      results: resultsFile,
      picture: pics.length > 0 ? picture : null,
      backend,
    }));
    return 0;
  } finally {
    dispose([params, ck.optState, ck.rngKey]);
  }
}
