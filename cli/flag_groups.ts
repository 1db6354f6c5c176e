/**
 * The flag rows the `train.ts` commands share, by `--help` section: DATA and TEST (which
 * images), DENSE, INIT and EVAL (the dense commands' data, `--init`, `--eval-every`), BACKEND, MODEL (preset and shape), OPTIM (run length, AdamW, cosine schedule), RUN
 * (run directory and resume), LOG (checkpoint and progress periods) and FIT (the L-BFGS softmax
 * regression). A command takes the groups it needs and {@link adjust}s the rows whose default
 * or range differs.
 * @module
 */
import {
  adjust,
  choice,
  group,
  int,
  limit,
  num,
  path,
  preset,
  row,
  span,
  sw,
  UsageError,
} from "../trainer/flags.ts";
import { CLI_MODELS } from "../trainer/models.ts";
import { VIT_PYRAMIDS } from "../models/dense/vit_adapter.ts";
import { distFlag } from "../trainer/dist.ts";

/** A class-balanced subset: a multiple of 10 (one tenth per class). */
function subset(x: string, f: string): number {
  const n = int({ min: 10 })(x, f);
  if (n % 10 !== 0) throw new UsageError(`--${f} must be a multiple of 10, got "${x}"`);
  return n;
}

const pos = int({ min: 1 });

/**
 * Training images: `--data`, `--train-limit`, `--train-subset`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DATA } from "./flag_groups.ts";
 * assert.deepEqual(DATA.map((f) => f.key), ["data", "trainLimit", "trainSubset"]);
 * ```
 */
export const DATA = group("Data", [
  row("data", "DIR", path("a directory"), null, "Fashion-MNIST IDX folder", {
    none: "Debian's, else the sample",
  }),
  row("train-limit", "N|all", limit, 4000, "first N training images"),
  row("train-subset", "N", subset, null, "N/10 per class instead"),
]);

/**
 * The data of the dense-prediction commands (detect, segment): `--data` (required),
 * `--train-limit`, `--val-limit` (default all); a command {@link adjust}s `--data`'s help.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DENSE } from "./flag_groups.ts";
 * assert.deepEqual(DENSE.map((f) => [f.key, f.default]), [["data", null], ["trainLimit", null], ["valLimit", null]]);
 * ```
 */
export const DENSE = group("Data", [
  row("data", "DIR", path("a directory"), null, "data folder", {
    none: "required: see train.ts scenes",
  }),
  row("train-limit", "N|all", limit, null, "first N training images", { none: "all" }),
  row("val-limit", "N|all", limit, null, "first N val images", { none: "all" }),
]);

/** `--init PATH`: the encoder (and its shape) of a pretrain or finetune checkpoint. */
export const INIT = group("Data", [
  row(
    "init",
    "PATH",
    path("a checkpoint file or run directory"),
    null,
    "encoder of a pretrain/finetune checkpoint (its shape)",
  ),
]);

/** `--eval-every` (default once an epoch); a command {@link adjust}s its help. */
export const EVAL = group("Run", [
  row("eval-every", "N|Xep", span(), "1ep", "evaluation period"),
]);

/**
 * The `--smoke` preset of the dense commands: 8 training and 4 val images, 3 steps, batch 2,
 * width 16, plus the command's own `more` settings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denseSmoke } from "./flag_groups.ts";
 * import type { Flag } from "../trainer/flags.ts";
 * const smoke: Omit<Flag, "group"> = denseSmoke({ depth: 2 });
 * assert.deepEqual(smoke.implies, { trainLimit: 8, valLimit: 4, steps: 3, batch: 2, dim: 16, depth: 2 });
 * ```
 */
export function denseSmoke(more: Record<string, unknown>): ReturnType<typeof preset<"smoke">> {
  return preset("smoke", "quick check", {
    trainLimit: 8,
    valLimit: 4,
    steps: 3,
    batch: 2,
    dim: 16,
    ...more,
  });
}

/**
 * The hidden `--img-size`/`--in-chans` of the dense commands: the encoder's shape, recorded from
 * an `--init` checkpoint so that `--resume` rebuilds the same model.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ENCODER_SHAPE } from "./flag_groups.ts";
 * import type { Flag } from "../trainer/flags.ts";
 * const rows: readonly Flag[] = ENCODER_SHAPE;
 * assert.deepEqual(rows.map((r) => [r.key, r.hidden]), [["imgSize", true], ["inChans", true]]);
 * ```
 */
export const ENCODER_SHAPE = group("Data", [
  row("img-size", "N", pos, null, "", { hidden: true }),
  row("in-chans", "N", int({ min: 1, max: 3 }), null, "", { hidden: true }),
]);

/**
 * The Run rows of a dense training command, in help order: {@link RUN}, {@link BACKEND},
 * {@link JIT}, {@link EVAL} (help `evalHelp`), its `--smoke` preset and {@link LOG}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denseRun, denseSmoke } from "./flag_groups.ts";
 * const rows = denseRun("mIoU on val", denseSmoke({ depth: 2 }));
 * assert.equal(rows.find((r) => r.key === "evalEvery")?.help, "mIoU on val");
 * assert.ok(rows.some((r) => r.key === "smoke") && rows.some((r) => r.key === "noJit"));
 * ```
 */
export function denseRun(evalHelp: string, smoke: ReturnType<typeof denseSmoke>) {
  return [
    ...RUN,
    ...BACKEND,
    ...JIT,
    ...adjust(EVAL, { evalEvery: { help: evalHelp } }),
    ...group("Run", [smoke]),
    ...LOG,
  ] as const;
}

/** `--test-limit`. */
export const TEST = group("Data", [row("test-limit", "N|all", limit, 1000, "test images")]);

/**
 * `--val-split N`: the last N training images become a validation split, evaluated instead of
 * the test set, so that settings are chosen without touching the test images.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VAL } from "./flag_groups.ts";
 * assert.deepEqual(VAL.map((f) => [f.key, f.default]), [["valSplit", null]]);
 * ```
 */
export const VAL = group("Data", [
  row("val-split", "N", pos, null, "evaluate on the last N training images, not on test", {
    none: "off",
  }),
]);

/** `--backend`, `--threads` (and the hidden `--dist`). */
export const BACKEND = group("Run", [
  row("backend", "cpu|webgpu", choice(["cpu", "webgpu"]), null, "", {
    none: "$TESSERA_BACKEND, else cpu",
  }),
  row("threads", "N", int({ min: 1, max: 256 }), null, "matmul threads"),
  // Hidden (the --help pages fit a screen): data parallelism, default mpi under mpirun.
  row("dist", "local|mpi|sim:W", distFlag, null, "", { hidden: true }),
]);

/**
 * `--accum N` (hidden, as `--dist`): gradient accumulation, each rank's rows of a step in N
 * micro-batches (trainer/accum.ts); finetune and pretrain.
 */
export const ACCUM = group("Run", [
  row("accum", "N", pos, 1, "micro-batches per step", { hidden: true }),
]);

/**
 * Names in brace form where they share a prefix and suffix (`vit-{tiny,small}-fmnist`), so the
 * `--model` help cell is short enough to share its line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { braceNames } from "./flag_groups.ts";
 * assert.equal(braceNames(["vit-tiny-fmnist", "vit-small-fmnist"]), "vit-{tiny,small}-fmnist");
 * assert.equal(braceNames(["a", "b"]), "{a,b}");
 * assert.equal(braceNames(["only"]), "only");
 * ```
 */
export function braceNames(names: readonly string[]): string {
  if (names.length < 2) return names.join("");
  let pre = 0, suf = 0;
  const min = Math.min(...names.map((n) => n.length));
  while (pre < min && names.every((n) => n[pre] === names[0]![pre])) pre++;
  const at = (n: string, k: number) => n[n.length - 1 - k];
  while (suf < min - pre && names.every((n) => at(n, suf) === at(names[0]!, suf))) suf++;
  const mid = names.map((n) => n.slice(pre, n.length - suf));
  return `${names[0]!.slice(0, pre)}{${mid.join(",")}}${names[0]!.slice(names[0]!.length - suf)}`;
}

/** `--model`, the shape overrides, `--cls-token`, `--drop-path`, `--stem`. */
export const MODEL = group("Model", [
  row(
    "model",
    "NAME",
    choice(Object.keys(CLI_MODELS)),
    "vit-tiny-fmnist",
    braceNames(Object.keys(CLI_MODELS)),
  ),
  row("patch", "N", pos, null, "patch side"),
  row("dim", "N", pos, null, "width"),
  row("depth", "N", pos, null, "blocks"),
  row("heads", "N", pos, null, "attention heads"),
  sw("cls-token", true, false, "prepend a CLS token (pooling: patch mean)"),
  row("drop-path", "X", num({ min: 0, max: 0.99 }), 0, "stochastic depth"),
  row("stem", "patch|conv", choice(["patch", "conv"]), "patch", "embedding"),
]);

/**
 * The Model rows of a dense command: {@link MODEL} with patch 16 by default (help `patchHelp`)
 * and `--pyramid`, the ViT → 4-scale adapter (models/dense/vit_adapter.ts): BEiT's branch at any
 * patch, or XCiT's patch-8 branch (strides 4–32 from a grid twice as fine).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denseModel } from "./flag_groups.ts";
 * const rows = denseModel("patch side");
 * assert.deepEqual(rows.filter((r) => r.key === "patch" || r.key === "pyramid").map((r) => r.default), [16, "beit"]);
 * ```
 */
export function denseModel(patchHelp: string) {
  return [
    ...adjust(MODEL, { patch: { default: 16, help: patchHelp } }),
    ...group("Model", [row("pyramid", "NAME", choice(VIT_PYRAMIDS), "beit", "adapter")]),
  ] as const;
}

/** Run length, batch, AdamW with a cosine lr and linear warmup, seed. */
export const OPTIM = group("Optimisation (AdamW, cosine lr, linear warmup)", [
  row("epochs", "X", num({ min: 0, above: true }), 25, "run length", { implies: { steps: null } }),
  row("steps", "N", pos, null, "or in steps"),
  row("batch", "N", pos, 64, "batch size"),
  row("lr", "X", num({ min: 0, above: true }), 3e-3, "peak lr"),
  row("min-lr", "X", num({ min: 0 }), 1e-6, "final lr"),
  row("warmup", "N|Xep", span({ allowZero: true }), "1ep", "warmup (steps or Xep)"),
  row("weight-decay", "X", num({ min: 0 }), 0.05, "AdamW decay (not on norms, biases)"),
  row("seed", "N", int({ min: 0, max: 2 ** 31 - 1 }), 0, "seed"),
]);

/** `--out`, `--resume` and the hidden `--stop-after N` (stop as if Ctrl-C came after step N). */
export const RUN = group("Run", [
  row("out", "DIR", path("a directory"), null, "run directory", { none: "runs/<command>-<time>" }),
  row(
    "resume",
    "PATH",
    path("a checkpoint file or run directory"),
    null,
    "continue a run (file or run dir)",
  ),
  row("stop-after", "N", pos, null, "", { hidden: true }),
]);

/** Checkpoint and progress periods. */
export const LOG = group("Run", [
  row("ckpt-every", "N|Xep", span(), "1ep", "checkpoints (+ end, Ctrl-C)"),
  row("log-every", "N", pos, 50, "plain progress period"),
]);

/** The L-BFGS softmax-regression fit of `linear` and `probe`. */
export const FIT = group("Fit (softmax regression, L-BFGS)", [
  ...adjust([OPTIM[6], LOG[1]], {
    weightDecay: { default: 1e-2, help: "L2 on the weights" },
    logEvery: { help: "progress line every N iterations" },
  }),
  row("max-iter", "N", pos, 1000, "L-BFGS iterations at most"),
]);

/** `--no-jit`: run the training step eagerly (debugging) instead of compiled by `jit`. */
export const JIT = group("Run", [sw("no-jit", true, false, "eager step (debug)")]);
