/**
 * `train.ts evaluate coco|seg`: scores saved predictions. `coco` runs the COCO box or mask
 * evaluator (pycocotools' numbers) on a ground-truth file and a results file, prints the
 * 12-line summary on stdout as pycocotools does, then one JSON line (also written to `--out`); `seg` runs
 * mmseg's mIoU over two folders of label PNGs and prints one JSON line.
 * @module
 */
import { parseArgs } from "node:util";
import type { CliIO } from "./io.ts";
import { loadCocoGt, loadCocoResults } from "../data/coco/json.ts";
import { evaluateCoco } from "../data/eval/coco_eval.ts";
import { formatCocoSummary } from "../data/eval/coco_summary.ts";
import { evaluateSegFolders } from "../data/eval/seg_folders.ts";

/** `--help` of `evaluate`. */
export const EVALUATE_HELP = `train.ts evaluate — score saved predictions

Usage: deno run -A train.ts evaluate coco --gt FILE --results FILE [--iou-type bbox|segm]
                                          [--out FILE.json]
       deno run -A train.ts evaluate seg --gt DIR --pred DIR [--num-classes N]
                                         [--reduce-zero-label]

coco: COCO AP/AR exactly as pycocotools' COCOeval (--gt: instances JSON, --results: the
results array). Prints the 12 summary lines, then one JSON line {iouType, stats}; --out also
writes that JSON to a file.
seg: mIoU, mAcc, aAcc and per-class IoU as mmseg's IoUMetric, summed over every *.png of
--gt against the same name in --pred (1-channel label PNGs). --reduce-zero-label maps the
ground truth 0 → 255 (ignored), v → v − 1 (ADE20k, FMNIST-Scenes semantic/).

Flags:
  --gt FILE|DIR         ground truth
  --results FILE        (coco) detections, COCO results JSON
  --iou-type bbox|segm  (coco) match boxes (default) or masks
  --pred DIR            (seg) predicted label PNGs
  --num-classes N       (seg) classes after reduction (default 11, FMNIST-Scenes)
  --reduce-zero-label   (seg) ADE-style ground truth
  --out FILE            write the JSON result there too
  -h, --help            this help`;

interface Values {
  gt?: string;
  results?: string;
  pred?: string;
  "iou-type"?: string;
  "num-classes"?: string;
  "reduce-zero-label"?: boolean;
  out?: string;
  help?: boolean;
}

/**
 * Runs `evaluate` with its flags; returns the exit code (2 on bad usage naming the flag, or
 * on a missing input naming the path).
 *
 * @param argv the arguments after `evaluate` (the mode first)
 * @param io where output goes
 * @returns the exit code
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { captureIO } from "./io.ts";
 * import { evaluateCommand } from "./evaluate.ts";
 * const io = captureIO();
 * assert.equal(await evaluateCommand(["coco", "--gt", "a.json"], io), 2);
 * assert.match(io.stderr, /--results FILE is required/);
 * ```
 */
export async function evaluateCommand(argv: string[], io: CliIO): Promise<number> {
  const usage = (msg: string) => {
    io.err(`train.ts evaluate: ${msg}\nRun "deno run -A train.ts evaluate --help" for usage.\n`);
    return 2;
  };
  const [mode, ...rest] = argv;
  if (mode === "-h" || mode === "--help") {
    io.out(EVALUATE_HELP);
    return 0;
  }
  if (mode !== "coco" && mode !== "seg") {
    return usage(`expected "coco" or "seg" first, got ${JSON.stringify(mode ?? "")}`);
  }
  let values: Values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        gt: { type: "string" },
        results: { type: "string" },
        pred: { type: "string" },
        "iou-type": { type: "string" },
        "num-classes": { type: "string" },
        "reduce-zero-label": { type: "boolean" },
        out: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    return usage(e instanceof Error ? e.message : String(e));
  }
  if (values.help) {
    io.out(EVALUATE_HELP);
    return 0;
  }
  const foreign = mode === "coco"
    ? (["pred", "num-classes", "reduce-zero-label"] as const)
    : (["results", "iou-type"] as const);
  for (const f of foreign) {
    if (values[f] !== undefined) return usage(`--${f} does not apply to evaluate ${mode}`);
  }
  const need = mode === "coco" ? (["gt", "results"] as const) : (["gt", "pred"] as const);
  for (const f of need) {
    if (!values[f]) return usage(`--${f} ${mode === "coco" ? "FILE" : "DIR"} is required`);
  }
  for (const f of need) {
    try {
      await Deno.stat(values[f]!);
    } catch {
      return usage(`--${f}: ${values[f]} does not exist`);
    }
  }
  let result: Record<string, unknown>;
  if (mode === "coco") {
    const iouType = values["iou-type"] ?? "bbox";
    if (iouType !== "bbox" && iouType !== "segm") {
      return usage(`--iou-type: ${JSON.stringify(iouType)} is not one of bbox, segm`);
    }
    const gt = await loadCocoGt(values.gt!);
    const dts = await loadCocoResults(values.results!, gt);
    const { stats } = evaluateCoco(gt, dts, iouType);
    for (const line of formatCocoSummary(stats)) io.out(line);
    result = { iouType, images: gt.imgIds.length, detections: dts.length, stats };
  } else {
    const nc = values["num-classes"] ?? "11";
    const numClasses = Number(nc);
    if (!/^\d+$/.test(nc) || numClasses < 1 || numClasses > 255) {
      return usage(`--num-classes: ${JSON.stringify(nc)} is not an integer in 1..255`);
    }
    const r = await evaluateSegFolders(values.gt!, values.pred!, {
      numClasses,
      reduceZeroLabel: values["reduce-zero-label"] ?? false,
    });
    const nan = (v: number) => (Number.isNaN(v) ? null : v);
    result = {
      images: r.images,
      numClasses,
      aAcc: r.aAcc,
      mIoU: r.mIoU,
      mAcc: r.mAcc,
      iou: [...r.iou].map(nan),
      acc: [...r.acc].map(nan),
    };
  }
  const json = JSON.stringify(result);
  io.out(json);
  if (values.out) await Deno.writeTextFile(values.out, json + "\n");
  return 0;
}

/**
 * The `evaluate` entry of `train.ts`'s command table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EVALUATE_COMMAND } from "./evaluate.ts";
 * assert.match(EVALUATE_COMMAND.summary, /COCO AP/);
 * ```
 */
export const EVALUATE_COMMAND = {
  summary: "score saved predictions: coco (COCO AP, as pycocotools) | seg (mmseg mIoU)",
  run: evaluateCommand,
};
