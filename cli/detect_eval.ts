/**
 * `train.ts detect --eval CKPT --data DIR`: scores a detect checkpoint on a COCO folder's val
 * split, writes the COCO results (boxes and RLE masks) and a PNG of the predictions on the first
 * few val images, and prints one JSON line with the 12 COCO numbers for bbox and segm. The
 * model config, input preparation, predictions and scores are the ones `train.ts detect` uses
 * (trainer/detect_task.ts, trainer/detect_coco.ts).
 * @module
 */
import { join } from "node:path";
import { dispose } from "../mod.ts";
import {
  type MaskRcnnConfig,
  type MaskRcnnParams,
  maskRcnnSpec,
} from "../models/detection/mask_rcnn_model.ts";
import { decodeCheckpoint } from "../nn/checkpoint.ts";
import { encodeRgbPng } from "../data/detect_draw.ts";
import {
  type CommandFlags,
  errorDetail,
  group,
  int,
  limit,
  num,
  path,
  row,
  UsageError,
} from "../trainer/flags.ts";
import { parseOrHelp } from "./train_command.ts";
import { BACKEND } from "./flag_groups.ts";
import type { CliIO } from "../trainer/io.ts";
import { selectBackend } from "../trainer/backend.ts";
import { runPaths } from "../trainer/run_dir.ts";
import { denseEvalLoader } from "../trainer/dense_loaders.ts";
import { detectModelConfig, detectPrep, type DetectShapeOptions } from "../trainer/detect_task.ts";
import {
  cocoStats,
  DETECT_STATS,
  firstImages,
  openDetectSplit,
  predictCoco,
  predictionsPicture,
} from "../trainer/detect_coco.ts";

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
  usage: "CKPT --data DIR [flags]",
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
  const p = parseOrHelp(DETECT_EVAL, argv, io);
  if (!p) return 0;
  const o = p.options;
  if (o.eval === null) throw new UsageError("--eval CKPT is required");
  if (o.data === null) throw new UsageError("--data DIR is required (a COCO folder)");
  const file = await checkpointFile(o.eval);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch (e) {
    throw new UsageError(`--eval ${file}: ${errorDetail(e)}`);
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
    throw new UsageError(`--eval ${file}: ${errorDetail(e)}`);
  }
  const params = ck.params as MaskRcnnParams;
  try {
    const loader = denseEvalLoader(set, detectPrep(cfg.vit.inChans));
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
    const pic = await predictionsPicture(set, results, gt, folder.catIds, o.show, o.minScore);
    if (pic) await Deno.writeFile(picture, await encodeRgbPng(pic));
    const stats = (t: string) => DETECT_STATS.map((n) => m[`${t}_${n}`]!);
    io.err(
      `detect --eval: bbox AP ${(m.bbox_AP! * 100).toFixed(2)}, segm AP ${
        (m.segm_AP! * 100).toFixed(2)
      } ` +
        `(${results.length} detections) in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
        `wrote ${resultsFile}${pic ? ` and ${picture}` : ""}\n`,
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
      picture: pic ? picture : null,
      backend,
    }));
    return 0;
  } finally {
    dispose([params, ck.optState, ck.rngKey]);
  }
}
