/**
 * The flag table of `train.ts segment` (UperNet, methods.md §13). The Task is
 * `segmentTask` (trainer/segment_task.ts); the command with `--eval CKPT` is in
 * cli/segment_eval.ts.
 * @module
 */
import {
  adjust,
  choice,
  type CommandFlags,
  group,
  int,
  num,
  type OptionsOf,
  path,
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

const pos = int({ min: 1 });

const FLAGS = [
  ...adjust(DENSE, { data: { help: "FMNIST-Scenes or ADE-style folder" } }),
  ...group("Data", [row("classes", "N", pos, 11, "classes after reduce_zero_label")]),
  ...INIT,
  ...group("Data", [
    row("eval", "CKPT", path("a checkpoint file or run directory"), null, "score a checkpoint"),
    sw("save-pred", true, false, "--eval: pred PNGs"),
    row("crop", "N", pos, null, "crop side", { none: "the first image's longer side" }),
  ]),
  ...ENCODER_SHAPE,
  ...denseRun(
    "mIoU on val",
    denseSmoke({ depth: 4, heads: 2, channels: 16, auxChannels: 8, warmup: "1" }),
  ),
  ...denseModel("patch side"),
  ...adjust(OPTIM, {
    epochs: { default: 40 },
    batch: { default: 8 },
    lr: { default: 7e-4 },
    minLr: { default: 0 },
    warmup: { default: "1500" },
    weightDecay: { default: 0.05 },
  }),
  ...group("Segment", [
    row("layer-decay", "X", num({ min: 0, max: 1, above: true }), 0.65, "layer-wise lr decay"),
    row("channels", "N", pos, 768, "UperHead width"),
    row("aux-channels", "N", pos, 256, "FCNHead width"),
    row("aux-weight", "X", num({ min: 0 }), 0.4, "aux loss weight"),
    row("loss-average", "valid|all", choice(["valid", "all"]), "valid", "CE mean over"),
    row("pos-embed", "learned|sincos", choice(["learned", "sincos"]), "sincos", "positions"),
    row("flip", "P", num({ min: 0, max: 1 }), 0.5, "flip prob."),
    row("ratio-min", "X", num({ min: 0, above: true }), 0.5, "resize low"),
    row("ratio-max", "X", num({ min: 0, above: true }), 2, "resize high"),
    row("cat-max-ratio", "X", num({ min: 0, max: 1, above: true }), 0.75, "crop class share"),
    sw("photometric", true, false, "photometric distortion"),
  ]),
] as const;

/**
 * The flag table of `segment`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultsOf } from "../trainer/flags.ts";
 * import { SEGMENT } from "./segment.ts";
 * const d = defaultsOf(SEGMENT.flags);
 * assert.deepEqual([d.lr, d.weightDecay, d.layerDecay, d.auxWeight], [7e-4, 0.05, 0.65, 0.4]);
 * ```
 */
export const SEGMENT: CommandFlags<typeof FLAGS> = {
  name: "segment",
  title: "train UperNet (ViT + 4-scale adapter) for semantic segmentation",
  intro: "Progress on stderr, final metrics (mIoU, aAcc, per-class IoU) as JSON on stdout; run\n" +
    "dir: metrics.jsonl, loss/lr.svg, ckpt_latest.safetensors. Inference: whole image (mmseg).",
  flags: FLAGS,
  exclusive: [["steps", "epochs"]],
  footer: "--data: images/ + semantic/{train,val}/ (FMNIST-Scenes) or\n" +
    "images/ + annotations/{training,validation}/ (ADE); labels read with reduce_zero_label.\n" +
    "--eval CKPT: score on val, write eval.png/eval.json. Exit: 0 done, 1 failed, 2 usage, 130 Ctrl-C.",
};

/** Every setting of a segment run (stored in the checkpoint, so `--resume` continues it). */
export type SegmentOptions = OptionsOf<typeof FLAGS>;
