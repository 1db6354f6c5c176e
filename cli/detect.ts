/**
 * `train.ts detect`: trains Mask R-CNN + FPN on a ViT backbone (methods.md §11–12) on a COCO
 * detection folder such as FMNIST-Scenes (`train.ts scenes`). Its flag table is
 * {@link DETECT}; the Task is {@link detectTask} (trainer/detect_task.ts) and the run
 * (directory, `--resume`, log, progress, Ctrl-C, checkpoints) the shared `train` loop.
 * `--eval CKPT` scores a checkpoint instead (cli/detect_eval.ts).
 * @module
 */
import {
  adjust,
  type CommandFlags,
  group,
  num,
  type OptionsOf,
  row,
  sw,
} from "../trainer/flags.ts";
import {
  DENSE,
  denseModel,
  denseRun,
  denseSmoke,
  ENCODER_SHAPE,
  INIT,
  OPTIM,
} from "./flag_groups.ts";
import { trainCommand } from "./train_command.ts";
import type { TrainHooks } from "../trainer/train_loop.ts";
import type { CliIO } from "../trainer/io.ts";
import { detectTask } from "../trainer/detect_task.ts";
import { detectEvalCommand } from "./detect_eval.ts";

const FLAGS = [
  ...adjust(DENSE, { data: { help: "COCO folder (images/, annotations/)" } }),
  ...INIT,
  ...ENCODER_SHAPE,
  ...denseRun("COCO evaluation on val", denseSmoke({ depth: 2, heads: 2, warmup: "1" })),
  ...denseModel("patch side (divides 32)"),
  ...adjust(OPTIM, {
    epochs: { default: 12 },
    batch: { default: 4 },
    lr: { default: 1e-4 },
  }),
  ...group("Detect", [
    row("clip-grad", "X", num({ min: 0 }), 0, "global gradient-norm clip, 0 = off"),
    row("flip", "P", num({ min: 0, max: 1 }), 0.5, "horizontal flip prob."),
    sw("lsj", true, false, "large-scale jitter (scale 0.1–2, crop to the canvas)"),
  ]),
] as const;

/**
 * The flag table of `detect`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultsOf } from "../trainer/flags.ts";
 * import { DETECT } from "./detect.ts";
 * const d = defaultsOf(DETECT.flags);
 * assert.deepEqual([d.data, d.batch, d.lr, d.flip, d.lsj], [null, 4, 1e-4, 0.5, false]);
 * ```
 */
export const DETECT: CommandFlags<typeof FLAGS> = {
  name: "detect",
  title: "train Mask R-CNN (ViT + FPN) on a COCO folder such as FMNIST-Scenes",
  intro: "Progress on stderr, one JSON line of final metrics (COCO bbox and segm stats) on\n" +
    "stdout; the run directory gets metrics.jsonl, loss.svg, lr.svg and ckpt_latest.safetensors.",
  flags: FLAGS,
  exclusive: [["steps", "epochs"]],
  footer: "--data: images/{train,val}/ + annotations/instances_{train,val}.json.\n" +
    "train.ts detect --eval CKPT --data DIR scores a checkpoint (--eval --help).\n" +
    "Exit codes: 0 done, 1 failed (non-finite), 2 bad flags or data, 130 interrupted.",
};

/** Every setting of a detect run (stored in the checkpoint, so `--resume` continues it). */
export type DetectOptions = OptionsOf<typeof FLAGS>;

const trainDetect = trainCommand(
  DETECT,
  (o, saved, backend) => detectTask(o, saved !== null, backend),
);

/**
 * The `detect` command: parses `argv` and runs the loop; with `--eval CKPT` it scores a
 * checkpoint instead ({@link detectEvalCommand}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { captureIO } from "../trainer/io.ts";
 * import { detectCommand } from "./detect.ts";
 * const io = captureIO();
 * assert.equal(await detectCommand(["--eval", "x", "--help"], io), 0);
 * assert.match(io.stdout.join("\n"), /--min-score X/);
 * ```
 */
export function detectCommand(argv: string[], io: CliIO, hooks?: TrainHooks): Promise<number> {
  return argv.includes("--eval") ? detectEvalCommand(argv, io) : trainDetect(argv, io, hooks);
}
