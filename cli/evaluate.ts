/**
 * `train.ts evaluate coco|seg`: scores saved predictions. `coco` runs the COCO box or mask
 * evaluator (pycocotools' numbers) on a ground-truth file and a results file, prints the
 * 12-line summary on stdout as pycocotools does, then one JSON line (also written to `--out`); `seg` runs
 * mmseg's mIoU over two folders of label PNGs and prints one JSON line.
 * @module
 */
import {
  choice,
  type CommandFlags,
  group,
  helpText,
  int,
  path,
  row,
  sw,
  UsageError,
} from "../trainer/flags.ts";
import { parseOrHelp } from "./train_command.ts";
import type { CliIO } from "../trainer/io.ts";
import { loadCocoGt, loadCocoResults } from "../data/coco/json.ts";
import { accumulateCoco, cocoImageEvals } from "../data/eval/coco_eval.ts";
import { formatCocoSummary } from "../data/eval/coco_summary.ts";
import { evaluateSegFolders } from "../data/eval/seg_folders.ts";
import {
  pairedBootstrapDraws,
  pairedBootstrapMetric,
  segMiou,
} from "../data/eval/paired_metric.ts";

const OUT = row("out", "FILE", path("a file"), null, "write the JSON result there too", {
  none: "stdout only",
});

const COCO_FLAGS = group(
  "Evaluate",
  [
    row(
      "gt",
      "FILE",
      path("a COCO instances JSON"),
      null,
      "ground truth (instances JSON), required",
    ),
    row(
      "results",
      "FILE",
      path("a COCO results JSON"),
      null,
      "detections (results array), required",
    ),
    row("iou-type", "bbox|segm", choice(["bbox", "segm"] as const), "bbox", "match boxes or masks"),
    row("compare", "FILE", path("a COCO results JSON"), null, "a second method's detections", {
      none: "none",
    }),
    row("resamples", "N", int({ min: 100 }), 1000, "paired bootstrap resamples (--compare)"),
    OUT,
  ] as const,
);

/**
 * The flag table of `evaluate coco`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCommand } from "../trainer/flags.ts";
 * import { EVALUATE_COCO } from "./evaluate.ts";
 * const p = parseCommand(EVALUATE_COCO, ["--gt", "gt.json", "--results", "dt.json"]);
 * assert.ok(p !== "help");
 * assert.deepEqual([p.options.iouType, p.options.out], ["bbox", null]);
 * ```
 */
export const EVALUATE_COCO: CommandFlags<typeof COCO_FLAGS> = {
  name: "evaluate coco",
  title: "COCO AP/AR exactly as pycocotools' COCOeval",
  usage: "--gt FILE --results FILE [flags]",
  intro: "Prints the 12 summary lines, then one JSON line {iouType, stats}. --compare FILE\n" +
    "scores a second method too and adds a paired bootstrap over the images of\n" +
    "AP(results) − AP(compare), AP recomputed on each resample: diff, 95 % interval, p.",
  flags: COCO_FLAGS,
};

const SEG_FLAGS = group(
  "Evaluate",
  [
    row("gt", "DIR", path("a folder of label PNGs"), null, "ground-truth label PNGs, required"),
    row("pred", "DIR", path("a folder of label PNGs"), null, "predicted label PNGs, required"),
    row("compare", "DIR", path("a folder of label PNGs"), null, "a second method's predictions", {
      none: "none",
    }),
    row("resamples", "N", int({ min: 100 }), 10000, "paired bootstrap resamples (--compare)"),
    row("num-classes", "N", int({ min: 1, max: 255 }), 11, "classes after reduction"),
    sw("reduce-zero-label", true, false, "ADE-style ground truth"),
    OUT,
  ] as const,
);

/**
 * The flag table of `evaluate seg`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCommand } from "../trainer/flags.ts";
 * import { EVALUATE_SEG } from "./evaluate.ts";
 * const p = parseCommand(EVALUATE_SEG, ["--gt", "a", "--pred", "b", "--reduce-zero-label"]);
 * assert.ok(p !== "help");
 * assert.deepEqual([p.options.numClasses, p.options.reduceZeroLabel], [11, true]);
 * ```
 */
export const EVALUATE_SEG: CommandFlags<typeof SEG_FLAGS> = {
  name: "evaluate seg",
  title: "mIoU, mAcc, aAcc and per-class IoU as mmseg's IoUMetric",
  usage: "--gt DIR --pred DIR [flags]",
  intro: "Sums counts over every *.png of --gt against the same name in --pred (1-channel label\n" +
    "PNGs). --reduce-zero-label maps the ground truth 0 → 255 (ignored), v → v − 1 (ADE20k,\n" +
    "FMNIST-Scenes semantic/). --compare DIR scores a second method too and adds a paired\n" +
    "bootstrap over the images of mIoU(pred) − mIoU(compare): diff, 95 % interval, p.",
  flags: SEG_FLAGS,
};

/** `--help` of `evaluate`: both modes. */
const EVALUATE_HELP =
  `train.ts evaluate — score saved predictions: evaluate coco | evaluate seg\n\n` +
  `${helpText(EVALUATE_COCO)}\n\n${helpText(EVALUATE_SEG)}`;

async function exists(flag: string, p: string): Promise<void> {
  try {
    await Deno.stat(p);
  } catch {
    throw new UsageError(`--${flag}: ${p} does not exist`);
  }
}

/** The paths of `flags` (`[flag, value]`): each required (`--flag WHAT`), then each existing. */
async function inputs(what: string, ...flags: [string, string | null][]): Promise<string[]> {
  const paths = flags.map(([f, v]) => {
    if (v === null) throw new UsageError(`--${f} ${what} is required`);
    return v;
  });
  for (const [i, [f]] of flags.entries()) await exists(f, paths[i]!);
  return paths;
}

/**
 * Runs `evaluate` with its flags; returns the exit code (a {@link UsageError} — exit 2 in
 * `main` — on bad usage naming the flag, or on a missing input naming the path).
 *
 * @param argv the arguments after `evaluate` (the mode first)
 * @param io where output goes
 * @returns the exit code
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { captureIO } from "../trainer/io.ts";
 * import { main } from "./main.ts";
 * const io = captureIO();
 * assert.equal(await main(["evaluate", "coco", "--gt", "a.json"], io), 2);
 * assert.match(io.stderr, /--results FILE is required/);
 * ```
 */
export async function evaluateCommand(argv: string[], io: CliIO): Promise<number> {
  const [mode, ...rest] = argv;
  if (mode === "-h" || mode === "--help") {
    io.out(EVALUATE_HELP);
    return 0;
  }
  if (mode !== "coco" && mode !== "seg") {
    throw new UsageError(`expected "coco" or "seg" first, got "${mode ?? ""}"`);
  }
  const other = mode === "coco" ? EVALUATE_SEG : EVALUATE_COCO;
  const mine = mode === "coco" ? EVALUATE_COCO : EVALUATE_SEG;
  for (const a of rest) {
    const f = a.startsWith("--") ? a.slice(2).split("=")[0]! : "";
    if (
      other.flags.some((x) => x.flag === f) && !mine.flags.some((x) => x.flag === f)
    ) throw new UsageError(`--${f} does not apply to evaluate ${mode}`);
  }
  let result: Record<string, unknown>, out: string | null;
  if (mode === "coco") {
    const p = parseOrHelp(EVALUATE_COCO, rest, io);
    if (!p) return 0;
    const o = p.options;
    const [gtPath, resPath] = await inputs("FILE", ["gt", o.gt], ["results", o.results]);
    const gt = await loadCocoGt(gtPath!);
    const dts = await loadCocoResults(resPath!, gt);
    const ea = cocoImageEvals(gt, dts, o.iouType);
    const { stats } = accumulateCoco(ea);
    for (const line of formatCocoSummary(stats)) io.out(line);
    result = { iouType: o.iouType, images: gt.imgIds.length, detections: dts.length, stats };
    if (o.compare !== null) {
      const [cmpPath] = await inputs("FILE", ["compare", o.compare]);
      const eb = cocoImageEvals(gt, await loadCocoResults(cmpPath!, gt), o.iouType);
      const ap = (e: typeof ea) => (d: Int32Array) => accumulateCoco(e, d).stats[0]!;
      const b = pairedBootstrapDraws(gt.imgIds.length, ap(ea), ap(eb), { resamples: o.resamples });
      result.compare = {
        stats: accumulateCoco(eb).stats,
        diff: b.diff,
        ci: b.ci,
        p: b.p,
        resamples: b.resamples,
        confidence: b.confidence,
      };
    }
    out = o.out;
  } else {
    const p = parseOrHelp(EVALUATE_SEG, rest, io);
    if (!p) return 0;
    const o = p.options;
    const [gtDir, predDir] = await inputs("DIR", ["gt", o.gt], ["pred", o.pred]);
    const segOpts = { numClasses: o.numClasses, reduceZeroLabel: o.reduceZeroLabel };
    const r = await evaluateSegFolders(gtDir!, predDir!, segOpts);
    let compare: Record<string, unknown> | undefined;
    if (o.compare !== null) {
      const [cmpDir] = await inputs("DIR", ["compare", o.compare]);
      const c = await evaluateSegFolders(gtDir!, cmpDir!, segOpts);
      const b = pairedBootstrapMetric(r.perImage, c.perImage, segMiou, { resamples: o.resamples });
      compare = {
        mIoU: c.mIoU,
        aAcc: c.aAcc,
        diff: b.diff,
        ci: b.ci,
        p: b.p,
        resamples: b.resamples,
        confidence: b.confidence,
      };
    }
    const nan = (v: number) => (Number.isNaN(v) ? null : v);
    result = {
      images: r.images,
      numClasses: o.numClasses,
      aAcc: r.aAcc,
      mIoU: r.mIoU,
      mAcc: r.mAcc,
      iou: [...r.iou].map(nan),
      acc: [...r.acc].map(nan),
      ...(compare ? { compare } : {}),
    };
    out = o.out;
  }
  const json = JSON.stringify(result);
  io.out(json);
  if (out) await Deno.writeTextFile(out, json + "\n");
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
