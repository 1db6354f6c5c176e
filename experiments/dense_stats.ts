/**
 * The statistics of `experiment-dense`: each fine-tuning run's scores on the comparison images
 * (val images from `compareFrom` on, by file name) — box AP and mask AP recomputed from its COCO
 * detections, mIoU from its label PNGs — and, for every ordering the paper claims, the two-level
 * paired bootstrap (runs, then images; data/eval/paired_metric.ts) of the difference between
 * the arms' mean metrics, the metric recomputed on each resample as COCOeval and mmseg do.
 * @module
 */
import { loadCocoGt, loadCocoResults } from "../data/coco/json.ts";
import { accumulateCoco, type CocoImageEvals, cocoImageEvals } from "../data/eval/coco_eval.ts";
import { cocoEvalParams } from "../data/eval/coco_params.ts";
import { evaluateSegFolders } from "../data/eval/seg_folders.ts";
import { pairedBootstrapRunDraws, segMiou } from "../data/eval/paired_metric.ts";
import type { PairedBootstrapResult } from "../data/eval/paired_stats.ts";
import type { SegAreas } from "../data/eval/seg_metrics.ts";
import { verdictOf } from "./cls_stats.ts";
import { runName, TASKS } from "./dense_jobs.ts";

/** A claimed ordering of two arms (`>` better, `>=` not worse). */
export interface DenseClaim {
  a: string;
  b: string;
  claim: ">" | ">=";
  /** Where the paper says so. */
  source: string;
}

/**
 * The paper's orderings for dense transfer (Fig. 1, Tables 4–5): self-supervised pre-training
 * on the target images alone matches or beats supervised pre-training on the classification
 * set, which beats random init; DINO gains least.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DENSE_CLAIMS } from "./dense_stats.ts";
 * assert.ok(DENSE_CLAIMS.some((c) => c.a === "splitmask" && c.b === "supervised"));
 * ```
 */
export const DENSE_CLAIMS: readonly DenseClaim[] = [
  {
    a: "splitmask",
    b: "supervised",
    claim: ">=",
    source: "Tab. 4–5: SSL on the target ≥ supervised",
  },
  { a: "beit", b: "supervised", claim: ">=", source: "Tab. 4–5: SSL on the target ≥ supervised" },
  { a: "supervised", b: "random", claim: ">", source: "Tab. 4: pre-training beats random init" },
  { a: "splitmask", b: "random-long", claim: ">", source: "Tab. 4: also a long random schedule" },
  { a: "beit", b: "random-long", claim: ">", source: "Tab. 4: also a long random schedule" },
  { a: "splitmask", b: "dino", claim: ">", source: "Fig. 1: DINO gains least" },
  { a: "beit", b: "dino", claim: ">", source: "Fig. 1: DINO gains least" },
];

/** The metrics: box and mask AP of `det`, mIoU of `seg`. */
export const DENSE_METRICS = [
  { key: "box_ap", task: "det", label: "box AP" },
  { key: "mask_ap", task: "det", label: "mask AP" },
  { key: "miou", task: "seg", label: "mIoU" },
] as const;

/** A metric key. */
export type DenseMetric = (typeof DENSE_METRICS)[number]["key"];

/** One run's records on the comparison images, as the bootstrap redraws them. */
type RunRecords =
  | { kind: "coco"; evals: CocoImageEvals; keep: Int32Array }
  | { kind: "seg"; areas: readonly SegAreas[] };

/** The metric of a run on a draw of comparison images (indices into the kept images). */
function runMetric(r: RunRecords, draw: Int32Array): number {
  if (r.kind === "seg") return segMiou(r.areas, draw);
  const picked = new Int32Array(draw.length);
  for (let i = 0; i < draw.length; i++) picked[i] = r.keep[draw[i]!]!;
  return Math.max(0, accumulateCoco(r.evals, picked).stats[0]!);
}

/** An arm's runs of one metric: their names, records and scores on all comparison images. */
export interface ArmMetric {
  runs: string[];
  scores: number[];
  mean: number;
  std: number;
}

/** A claim measured on one metric. */
export interface DenseComparison extends DenseClaim {
  metric: DenseMetric;
  result: PairedBootstrapResult & { runsA: number; runsB: number };
  holds: boolean;
  verdict: string;
}

/** What {@link denseStatistics} returns. */
export interface DenseStatistics {
  /** Comparison images per task. */
  images: Record<string, number>;
  /** By metric, then arm. */
  arms: Record<string, Record<string, ArmMetric>>;
  comparisons: DenseComparison[];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};

/**
 * Scores every run of `arms` (names as {@link runName}, over `pretrainSeeds` × `seeds`) kept in
 * `out` on val images `[from, end)` of `scenes`, and measures every claim whose arms both ran.
 *
 * @example
 * ```ts ignore
 * import { denseStatistics } from "./dense_stats.ts";
 * const s = await denseStatistics("runs/x", "runs/x/data/fmnist-scenes-tiny", ["random", "beit"], [0], [0], 8, 200);
 * ```
 */
export async function denseStatistics(
  out: string,
  scenes: string,
  arms: readonly string[],
  pretrainSeeds: readonly number[],
  seeds: readonly number[],
  from: number,
  resamples: number,
): Promise<DenseStatistics> {
  const gt = await loadCocoGt(`${scenes}/annotations/instances_val.json`);
  // The comparison images by file name: the first `from` names are left out.
  const params = cocoEvalParams(gt);
  const names = params.imgIds.map((id) => gt.images.get(id)!.file_name);
  const order = [...names].sort();
  const left = new Set(order.slice(0, from));
  const keep = Int32Array.from(names.flatMap((n, i) => (left.has(n) ? [] : [i])));
  const records = new Map<string, RunRecords>(); // `${metric}/${run}`
  const runsOf = (task: string, arm: string) =>
    pretrainSeeds.flatMap((p) => seeds.map((s) => runName(task as "det", arm, p, s)));
  for (const task of TASKS) {
    for (const arm of arms) {
      for (const run of runsOf(task, arm)) {
        if (task === "det") {
          const dts = await loadCocoResults(`${out}/${run}/eval/detections_val.json`, gt);
          for (const [key, type] of [["box_ap", "bbox"], ["mask_ap", "segm"]] as const) {
            records.set(`${key}/${run}`, {
              kind: "coco",
              evals: cocoImageEvals(gt, dts, type),
              keep,
            });
          }
        } else {
          const r = await evaluateSegFolders(`${scenes}/semantic/val`, `${out}/${run}/eval/pred`, {
            numClasses: 11,
          });
          records.set(`miou/${run}`, { kind: "seg", areas: r.perImage.slice(from) });
        }
      }
    }
  }
  const nImages = (m: DenseMetric) => (m === "miou" ? names.length - from : keep.length);
  const all = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
  const armTable: Record<string, Record<string, ArmMetric>> = {};
  for (const m of DENSE_METRICS) {
    armTable[m.key] = {};
    for (const arm of arms) {
      const runs = runsOf(m.task, arm);
      const scores = runs.map((r) => runMetric(records.get(`${m.key}/${r}`)!, all(nImages(m.key))));
      armTable[m.key]![arm] = { runs, scores, mean: mean(scores), std: std(scores) };
    }
  }
  const comparisons: DenseComparison[] = [];
  for (const [i, c] of DENSE_CLAIMS.entries()) {
    if (!arms.includes(c.a) || !arms.includes(c.b)) continue;
    for (const [j, m] of DENSE_METRICS.entries()) {
      const recs = (arm: string) => runsOf(m.task, arm).map((r) => records.get(`${m.key}/${r}`)!);
      const result = pairedBootstrapRunDraws(nImages(m.key), recs(c.a), recs(c.b), runMetric, {
        resamples,
        seed: 1 + 10 * i + j,
      });
      const v = verdictOf(c.claim, result.ci);
      comparisons.push({ ...c, metric: m.key, result, holds: v.holds, verdict: v.text });
    }
  }
  return {
    images: { det: keep.length, seg: names.length - from },
    arms: armTable,
    comparisons,
  };
}
