/**
 * The flag table of `train.ts pretrain` ({@link PRETRAIN}; the run is in `pretrain.ts`, the
 * methods in `pretrain_methods.ts`). Defaults follow BEiT (SplitMask, BEiT) and DINO
 * (methods.md §6, §9), scaled to 28×28 Fashion-MNIST images with 7×7 patches; the choices the
 * paper leaves open are recorded in docs/RESULTS.md.
 * @module
 */
import {
  adjust,
  choice,
  type CommandFlags,
  group,
  int,
  num,
  on,
  type OptionsOf,
  preset,
  row,
  showValue,
  UsageError,
} from "../trainer/flags.ts";
import { ACCUM, BACKEND, DATA, JIT, LOG, MODEL, OPTIM, RUN, VAL } from "./flag_groups.ts";
import { CLI_MODELS } from "../trainer/models.ts";
import {
  methodDefaults,
  PRETRAIN_METHODS,
  type PretrainMethodName,
} from "../trainer/pretrain_methods.ts";

/** `--help` text of a null default that means the method's (`1.5e-3 splitmask/beit, 5e-4 dino`). */
function byMethod(
  k: "lr" | "weightDecay" | "weightDecayEnd" | "maskRatio",
  ms: readonly PretrainMethodName[] = PRETRAIN_METHODS,
): string {
  const by = Map.groupBy(ms, (m) => methodDefaults(m)[k]);
  return [...by].map(([v, names]) => `${showValue(v)} ${names.join("/")}`).join(", ");
}

const pos = int({ min: 1 }), nonNeg = int({ min: 0 }), posNum = num({ min: 0, above: true });
const unit = num({ min: 0, max: 1 });
const TOKENIZERS = ["kmeans", "random-projection", "random-patches"] as const;

const FLAGS = [
  ...group("Data", [
    row("method", "NAME", choice(PRETRAIN_METHODS), "splitmask", PRETRAIN_METHODS.join(" | ")),
  ]),
  ...adjust(DATA, {
    data: { help: "FMNIST IDX or scenes folder" },
    trainLimit: { default: null, implies: { trainSubset: null } },
    trainSubset: { default: 4000 },
  }),
  ...adjust(VAL, { valSplit: { help: "held out" } }),
  ...RUN,
  ...BACKEND,
  ...ACCUM,
  ...adjust(LOG, { ckptEvery: { default: "10ep" } }),
  ...JIT,
  ...group("Run", [
    preset("smoke", "quick check", {
      trainSubset: 100,
      steps: 3,
      batch: 16,
      dim: 16,
      depth: 1,
      heads: 2,
      warmup: "1",
    }),
  ]),
  ...adjust(MODEL, {
    clsToken: {
      flag: "no-cls-token",
      parse: on(false),
      default: true,
      help: "no CLS token (not DINO)",
    },
    dropPath: { default: 0.1, help: "drop path" },
  }),
  ...adjust(OPTIM, {
    epochs: { default: 100 },
    batch: { parse: int({ min: 2 }) },
    lr: { default: null, none: byMethod("lr") },
    minLr: { default: 1e-5 },
    warmup: { default: "10ep" },
    weightDecay: { default: null, help: "weight decay", none: byMethod("weightDecay") },
  }),
  ...group("Optimisation (AdamW, cosine lr, linear warmup)", [
    row("weight-decay-end", "X", num({ min: 0 }), null, "final (cosine)", {
      none: byMethod("weightDecayEnd"),
    }),
    row("clip-grad", "X", num({ min: 0 }), 3, "MIM: global norm, DINO: per tensor"),
  ]),
  ...group("SplitMask and BEiT (masked image modelling)", [
    row("tokenizer", "KIND", choice(TOKENIZERS), "kmeans", TOKENIZERS.join(" | ")),
    row("vocab", "N", int({ min: 2, max: 65536 }), 256, "vocabulary"),
    row("kmeans-iters", "N", pos, 20, "k-means iters"),
    row("mask-ratio", "X", num({ min: 0, max: 1, above: true }), null, "masked", {
      none: byMethod("maskRatio", ["splitmask", "beit"]),
    }),
    row(
      "splitmask-mode",
      "M",
      choice(["both", "inpaint", "match"]),
      "both",
      "both|inpaint|match",
    ),
    row("masking", "M", choice(["block", "disjoint"]), "block", "block|disjoint"),
    row("decoder-depth", "N", pos, 2, "blocks"),
    row("tau", "X", posNum, 0.2, "InfoNCE τ"),
    row("crop-scale", "X", num({ min: 0, max: 1, above: true }), 0.4, "crop min area"),
    row("jitter", "X", unit, 0.4, "colour jitter"),
    row("flip", "P", unit, 0.5, "flip prob."),
    row("solarize", "P", unit, 0, "solarize prob."),
    row("blur", "P", unit, 0, "blur prob."),
  ]),
  ...group("DINO", [
    row("out-dim", "K", int({ min: 2 }), 1024, "prototypes"),
    row("hidden-dim", "N", pos, 256, "head width"),
    row("bottleneck-dim", "N", pos, 64, "head"),
    row("local-crops", "N", nonNeg, 6, "local crops"),
    row("local-size", "N", pos, 14, "their side"),
    row("teacher-temp", "X", posNum, 0.04, "τ"),
    row("warmup-teacher-temp", "X", posNum, 0.04, "at start"),
    row("teacher-temp-epochs", "N", nonNeg, 0, "τ warmup"),
    row("momentum-teacher", "X", unit, 0.996, "EMA"),
    row("freeze-last-layer", "N", nonNeg, 1, "epochs"),
  ]),
] as const;

/**
 * The flag table of `pretrain`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultsOf } from "../trainer/flags.ts";
 * import { PRETRAIN } from "./pretrain_flags.ts";
 * const d = defaultsOf(PRETRAIN.flags);
 * assert.deepEqual([d.method, d.vocab, d.clsToken, d.trainSubset, d.lr], ["splitmask", 256, true, 4000, null]);
 * ```
 */
export const PRETRAIN: CommandFlags<typeof FLAGS> = {
  name: "pretrain",
  title: "self-supervised pre-training of a ViT encoder on Fashion-MNIST",
  usage: "--method splitmask|beit|dino [flags]",
  intro: "The run dir gets metrics.jsonl, plots, checkpoint, tokenizer (MIM); then: " +
    "finetune|probe --init DIR",
  flags: FLAGS,
  exclusive: [["steps", "epochs"]],
  footer: "Exit codes: 0 done, 1 non-finite, 2 bad flags or data, 130 interrupted.",
};

/** Every setting of a pretrain run; stored in the checkpoint so `--resume` continues with it. */
export type PretrainOptions = OptionsOf<typeof FLAGS>;

/**
 * Checks the combination of settings (things single flags cannot check).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultsOf } from "../trainer/flags.ts";
 * import { checkPretrainOptions, PRETRAIN } from "./pretrain_flags.ts";
 * assert.throws(() => checkPretrainOptions({ ...defaultsOf(PRETRAIN.flags), method: "dino", clsToken: false }), {
 *   message: "--method dino needs the CLS token (drop --no-cls-token)",
 * });
 * ```
 */
export function checkPretrainOptions(o: PretrainOptions): void {
  if (o.method === "dino" && !o.clsToken) {
    throw new UsageError("--method dino needs the CLS token (drop --no-cls-token)");
  }
  if (o.masking === "disjoint" && o.method !== "splitmask") {
    throw new UsageError(`--masking disjoint is SplitMask's (got --method ${o.method})`);
  }
  if (o.masking === "disjoint" && o.maskRatio !== null && o.maskRatio < 0.5) {
    throw new UsageError(
      `--masking disjoint needs --mask-ratio >= 0.5 (each branch keeps 1 − ratio), got ${o.maskRatio}`,
    );
  }
  const patch = o.patch ?? CLI_MODELS[o.model]!.patch;
  if (o.method === "dino" && o.localCrops > 0 && o.localSize % patch !== 0) {
    throw new UsageError(
      `--local-size ${o.localSize} is not a multiple of the patch size ${patch}`,
    );
  }
}
