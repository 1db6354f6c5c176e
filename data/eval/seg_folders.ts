/**
 * mIoU over two folders of label PNGs (ground truth and predictions, same basenames), as
 * mmseg evaluates ADE20k: every ground-truth PNG needs a prediction of the same size, counts
 * are summed over the whole folder, and ADE-style ground truth goes through
 * `reduce_zero_label`. Predictions are read as class indices `0..C−1`, or, with
 * `predictionsOffset: 1`, as written for the ADE benchmark (class + 1).
 *
 * @module
 */

import { join } from "node:path";
import { TesseraError } from "../../tensor/errors.ts";
import { readLabelPng } from "../label_png.ts";
import {
  reduceZeroLabel,
  type SegAreas,
  segAreas,
  type SegMetrics,
  segMetrics,
  sumSegAreas,
} from "./seg_metrics.ts";

/** Options of {@link evaluateSegFolders}. */
export interface SegFolderOptions {
  /** C, the number of classes after reduction (FMNIST-Scenes: 11, ADE20k: 150). */
  numClasses: number;
  /** Apply `reduce_zero_label` to the ground truth (ADE convention; default true). */
  reduceZeroLabel?: boolean;
  /** Subtracted from every prediction value before scoring (default 0). */
  predictionsOffset?: number;
}

/** The result of {@link evaluateSegFolders}. */
export interface SegFolderResult extends SegMetrics {
  /** Images scored. */
  readonly images: number;
  /** The data-set totals. */
  readonly total: SegAreas;
  /** Each image's counts, in `names` order (for a paired bootstrap: data/eval/paired_metric.ts). */
  readonly perImage: readonly SegAreas[];
  /** The ground-truth file names scored, sorted. */
  readonly names: readonly string[];
}

/**
 * Scores every `*.png` of `gtDir` against the same name in `predDir`.
 *
 * @param gtDir ground-truth label PNGs
 * @param predDir predicted label PNGs
 * @param opts classes and label conventions
 * @returns the metrics and the totals
 * @throws {TesseraError} (op `evaluateSegFolders`) on an empty folder, a missing prediction or
 *   a prediction of another size
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeLabelPng } from "../label_png.ts";
 * import { evaluateSegFolders } from "./seg_folders.ts";
 * const gt = await Deno.makeTempDir(), pred = await Deno.makeTempDir();
 * await writeLabelPng(`${gt}/a.png`, { height: 1, width: 3, data: Uint8Array.of(0, 1, 2) });
 * await writeLabelPng(`${pred}/a.png`, { height: 1, width: 3, data: Uint8Array.of(1, 0, 1) });
 * const r = await evaluateSegFolders(gt, pred, { numClasses: 2 }); // gt reduced: 255, 0, 1
 * assert.deepEqual([r.images, r.mIoU, r.aAcc], [1, 1, 1]);
 * await Deno.remove(gt, { recursive: true });
 * await Deno.remove(pred, { recursive: true });
 * ```
 */
export async function evaluateSegFolders(
  gtDir: string,
  predDir: string,
  opts: SegFolderOptions,
): Promise<SegFolderResult> {
  const op = "evaluateSegFolders";
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(gtDir)) {
      if (e.isFile && e.name.toLowerCase().endsWith(".png")) names.push(e.name);
    }
  } catch (e) {
    throw new TesseraError(op, `${gtDir}: cannot list (${e instanceof Error ? e.message : e})`);
  }
  if (names.length === 0) throw new TesseraError(op, `${gtDir} holds no .png label maps`);
  names.sort();
  const offset = opts.predictionsOffset ?? 0, reduce = opts.reduceZeroLabel ?? true;
  const areas: SegAreas[] = [];
  for (const name of names) {
    const gtPath = join(gtDir, name), predPath = join(predDir, name);
    try {
      await Deno.stat(predPath);
    } catch {
      throw new TesseraError(op, `no prediction ${predPath} for ${gtPath}`);
    }
    const g = await readLabelPng(gtPath), p = await readLabelPng(predPath);
    if (g.height !== p.height || g.width !== p.width) {
      throw new TesseraError(
        op,
        `${predPath} is ${p.width}×${p.height}, its ground truth ${g.width}×${g.height}`,
      );
    }
    const label = reduce ? reduceZeroLabel(g.data) : g.data;
    const pred = offset === 0 ? p.data : Int16Array.from(p.data, (v) => v - offset);
    areas.push(segAreas(pred, label, opts.numClasses));
  }
  const total = sumSegAreas(areas);
  return { ...segMetrics(total), images: names.length, total, perImage: areas, names };
}
