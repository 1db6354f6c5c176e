/**
 * tessera's trainer: {@link train} runs a {@link Task} (the state, one step, evaluation,
 * summary) and owns the run around it — the run directory and `resume`, the JSONL metrics log,
 * the progress line with its wall-time estimate, Ctrl-C (checkpoint, exit 130), the checkpoint
 * and evaluation cadence, SVG plots of the log, the non-finite abort, and backend selection.
 * `train.ts`'s commands are Tasks built from flag tables ({@link Flag}: one row per flag, from
 * which the options type, defaults, `--help` and the parser derive); the pre-training methods
 * (SplitMask, BEiT, DINO) are here as Task parts ({@link methodRunner}), and Mask R-CNN
 * detection and UperNet segmentation as whole Tasks ({@link detectTask}, {@link segmentTask})
 * with the run lengths ({@link runLengthFields}) and model presets ({@link cliVitConfig}) they
 * share with the commands.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { captureIO, formatDuration, runPaths } from "./mod.ts";
 * assert.equal(formatDuration(75), "1:15");
 * assert.equal(runPaths("runs/x").metrics, "runs/x/metrics.jsonl");
 * assert.deepEqual(captureIO().stdout, []);
 * ```
 * @module
 */
export * from "./train_loop.ts";
export * from "./run_dir.ts";
export * from "./metrics.ts";
export * from "./progress.ts";
export * from "./interrupt.ts";
export * from "./plot.ts";
export * from "./io.ts";
export * from "./backend.ts";
export * from "./flags.ts";
export * from "./pretrain_methods.ts";
export type { MimInputOptions } from "./mim_masking.ts";
export * from "./run_lengths.ts";
export * from "./models.ts";
export * from "./detect_task.ts";
export * from "./detect_coco.ts";
export * from "./segment_task.ts";
export * from "./segment_data.ts";
export * from "./dense_loaders.ts";
export * from "./predictions.ts";
