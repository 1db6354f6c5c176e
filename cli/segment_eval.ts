/**
 * `train.ts segment --eval CKPT`: rebuilds the checkpoint's UperNet from its stored settings,
 * scores the val split (whole-image inference, mmseg IoUMetric) and writes `eval.json`
 * (mIoU, mAcc, aAcc, per-class IoU) and `eval.png` (rows of image | label | prediction, the
 * classes as grey levels, ignored pixels white) into `--out` or the checkpoint's folder; with
 * `--save-pred` also `pred/NAME.png`, each prediction as a label map, for `evaluate seg`
 * (and its `--compare`, a paired bootstrap against another run).
 * @module
 */
import { basename, dirname, join } from "node:path";
import { dispose } from "../mod.ts";
import { decodeCheckpoint } from "../nn/checkpoint.ts";
import { encodeLabelPng, writeLabelPng } from "../data/label_png.ts";
import type { UperNetParams, UperNetState } from "../models/segmentation/uper_net.ts";
import { defaultsOf, parseCommand, UsageError } from "../trainer/flags.ts";
import { trainCommand } from "./train_command.ts";
import type { TrainHooks } from "../trainer/train_loop.ts";
import type { CliIO } from "../trainer/io.ts";
import { readResumePoint } from "../trainer/run_dir.ts";
import { selectBackend } from "../trainer/backend.ts";
import { SEGMENT, type SegmentOptions } from "./segment.ts";
import {
  scoreSplit,
  segmentConfig,
  segmentTask,
  segmentTemplate,
  segMetricFields,
} from "../trainer/segment_task.ts";
import { checkedSplit } from "../trainer/segment_data.ts";
import { firstItems } from "../trainer/dense_loaders.ts";

/** Images shown in `eval.png`. */
const SHOWN = 8;

/**
 * Scores a segment checkpoint (see the module doc); prints the metrics JSON on stdout.
 *
 * @param given the flags given (`eval` set; `data`, `val-limit`, `out`, `backend` optional)
 * @param io the command's IO
 * @returns the exit code
 *
 * @example
 * ```ts ignore
 * await segmentEval({ eval: "runs/segment-x" }, io);
 * ```
 */
export async function segmentEval(given: Partial<SegmentOptions>, io: CliIO): Promise<number> {
  const point = await readResumePoint<SegmentOptions>(given.eval!, "segment");
  const o: SegmentOptions = {
    ...defaultsOf(SEGMENT.flags),
    ...point.options,
    ...(given.data ? { data: given.data } : {}),
    ...(given.valLimit !== undefined ? { valLimit: given.valLimit } : {}),
    ...(given.backend ? { backend: given.backend } : {}),
  } as SegmentOptions;
  await selectBackend(o.backend, o.threads);
  if (!o.data) throw new UsageError("--eval: the checkpoint names no --data; give --data DIR");
  const val = await checkedSplit(o.data, "val", o.classes);
  const set = firstItems(val, o.valLimit), n = set.length;
  const first = (await set.get(0)).sample.image;
  const crop = o.crop ?? Math.max(first.height, first.width);
  const cfg = segmentConfig(o, crop, o.inChans ?? first.channels);
  let ck;
  try {
    ck = decodeCheckpoint(point.bytes, segmentTemplate(cfg));
  } catch (e) {
    throw new UsageError(`--eval ${given.eval}: ${(e as Error).message}`);
  }
  const bn = (ck.optState as { bn: UperNetState }).bn;
  const rows: Uint8Array[] = [];
  const { height: h, width: w } = first;
  const grey = (v: number) => v === 255 ? 255 : Math.round((v * 230) / Math.max(1, o.classes - 1));
  const params = ck.params as UperNetParams;
  const outDir = given.out ?? dirname(point.file);
  const predDir = join(outDir, "pred");
  const saved: Promise<void>[] = [];
  if (given.savePred) await Deno.mkdir(predDir, { recursive: true });
  const areas = await scoreSplit(params, bn, set, cfg, crop, undefined, (i, pred, item) => {
    if (given.savePred) {
      // Class indices 0..C−1, named as the image: `evaluate seg --gt semantic/val --pred …`
      const name = basename(item.path ?? `${i}.png`).replace(/\.[^.]*$/, "") + ".png";
      const { height, width } = item.sample.image;
      saved.push(writeLabelPng(join(predDir, name), { height, width, data: pred }));
    }
    if (i >= SHOWN || item.sample.image.height !== h || item.sample.image.width !== w) return;
    const img = item.sample.image, lab = item.sample.semantic!;
    const row = new Uint8Array(h * 3 * w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let t = 0;
        for (let c = 0; c < img.channels; c++) t += img.data[(y * w + x) * img.channels + c]!;
        row[y * 3 * w + x] = Math.round(t / img.channels);
        row[y * 3 * w + w + x] = grey(lab[y * w + x]!);
        row[y * 3 * w + 2 * w + x] = grey(pred[y * w + x]!);
      }
    }
    rows.push(row);
  });
  await Promise.all(saved);
  const m = segMetricFields(areas!);
  dispose([ck.params, ck.optState, ck.rngKey]);
  await Deno.mkdir(outDir, { recursive: true });
  const png = new Uint8Array(rows.length * h * 3 * w);
  rows.forEach((r, i) => png.set(r, i * r.length));
  if (rows.length > 0) {
    await Deno.writeFile(
      join(outDir, "eval.png"),
      await encodeLabelPng({ height: rows.length * h, width: 3 * w, data: png }),
    );
  }
  const record = {
    command: "segment",
    eval: given.eval,
    step: ck.step,
    val_images: n,
    inference: "whole",
    mIoU: m.mIoU,
    mAcc: m.mAcc,
    aAcc: m.aAcc,
    IoU: Array.from({ length: o.classes }, (_, k) => m[`IoU_${k}`]),
  };
  await Deno.writeTextFile(join(outDir, "eval.json"), JSON.stringify(record, null, 1) + "\n");
  io.err(
    `segment --eval: mIoU ${(m.mIoU! * 100).toFixed(2)}, aAcc ${(m.aAcc! * 100).toFixed(2)}, ` +
      `background IoU ${(m.IoU_0! * 100).toFixed(2)} on ${n} val images; wrote ` +
      `${join(outDir, "eval.json")}${rows.length ? " and eval.png" : ""}`,
  );
  io.out(JSON.stringify(record));
  return 0;
}

const trainSegment = trainCommand(
  SEGMENT,
  (o, saved, backend) => segmentTask(o, saved !== null, backend),
);

/**
 * The `segment` command: trains, or with `--eval CKPT` scores a checkpoint.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { captureIO } from "../trainer/io.ts";
 * import { segmentCommand } from "./segment_eval.ts";
 * const io = captureIO();
 * assert.equal(await segmentCommand(["--help"], io), 0);
 * ```
 */
export async function segmentCommand(
  argv: string[],
  io: CliIO,
  hooks?: TrainHooks,
): Promise<number> {
  const p = parseCommand(SEGMENT, argv);
  if (p !== "help" && p.given.eval) return await segmentEval(p.given, io);
  return await trainSegment(argv, io, hooks);
}
