/**
 * The arms and presets of `experiment-dense` (issue 15, part 2): the paper's Fig. 1 and Tables
 * 4–5 at small scale. Every encoder has the same shape; the self-supervised arms pre-train on
 * the scene images alone (labels unused), the supervised arm on Fashion-MNIST classification
 * (the "ImageNet-supervised" analogue, resized so a garment spans about as many pixels as in a
 * scene), and random init fine-tunes from scratch at the equal budget and at a longer one.
 * Every arm is then fine-tuned with Mask R-CNN (`detect`) and UperNet (`segment`) at one fixed
 * recipe per task: nothing is tuned inside the experiment, and the comparison uses the val
 * images from `compareFrom` on, which no earlier setting choice looked at (issues 13/14 chose
 * their recipes on the first 200 val images).
 * @module
 */

/** One pre-trained arm: a self-supervised method on the scenes, or supervised on FMNIST. */
export interface DenseArm {
  /** Job-name key (`pre-<name>-p0`, `seg-<name>-p0-s0`, …). */
  name: string;
  /** Row label of the report. */
  label: string;
  /** `pretrain --method`, or `supervised` (`finetune` on Fashion-MNIST). */
  method: "beit" | "splitmask" | "dino" | "supervised";
  /** Extra flags of its pre-training run. */
  flags: string[];
}

/**
 * A preset of the experiment.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DENSE_PRESETS } from "./dense_presets.ts";
 * const q = DENSE_PRESETS.quick;
 * assert.equal(q.scenes, "tiny");
 * assert.deepEqual(q.arms.map((a) => a.name), ["supervised", "beit", "splitmask", "dino"]);
 * ```
 */
export interface DenseExperimentConfig {
  /** FMNIST-Scenes version (generated into the output folder unless `--data` is given). */
  scenes: "tiny" | "small";
  /** Pre-training seeds (random init: initialisation replicates). */
  pretrainSeeds: number[];
  /** Fine-tuning seeds per encoder. */
  seeds: number[];
  /** Encoder shape: shared by every pretrain, the supervised run and random init. */
  encoder: string[];
  /** Flags of every self-supervised pretrain run (length, batch). */
  pretrain: string[];
  /** Flags of the supervised run (`finetune` on Fashion-MNIST). */
  supervised: string[];
  /** The pre-trained arms. */
  arms: DenseArm[];
  /** Flags of every `detect` fine-tuning run (its budget in `--epochs` or `--steps`). */
  detect: string[];
  /** Flags of every `segment` fine-tuning run. */
  segment: string[];
  /** `segment` flags of the pre-trained arms (the paper's layer decay). */
  segmentPretrained: string[];
  /** `segment` flags of random init (no layer decay: no pre-trained layer to protect). */
  segmentRandom: string[];
  /** Random init's longer schedule: this many times the fine-tuning budget (arm `random-long`). */
  randomLong: number;
  /** The comparison uses val images `[compareFrom, end)` (sorted by name). */
  compareFrom: number;
  /** Bootstrap resamples per comparison. */
  resamples: number;
}

/** The names of the presets. */
export type DensePresetName = "full" | "quick";

const words = (s: string) => s.split(" ");

/** The arms, with a preset's DINO and supervised flags. */
function arms(dino: string[]): DenseArm[] {
  return [
    { name: "supervised", label: "Supervised (FMNIST classes)", method: "supervised", flags: [] },
    { name: "beit", label: "BEiT (scenes only)", method: "beit", flags: [] },
    {
      name: "splitmask",
      label: "SplitMask (scenes only)",
      method: "splitmask",
      flags: words("--decoder-depth 1"),
    },
    { name: "dino", label: "DINO (scenes only)", method: "dino", flags: dino },
  ];
}

/**
 * The presets: `full` (FMNIST-Scenes small; tens of core-hours on a CPU, not yet run end to end:
 * the GPU protocol) and
 * `quick` (tiny scenes, minutes: the suite's end-to-end check).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DENSE_PRESETS } from "./dense_presets.ts";
 * assert.ok(DENSE_PRESETS.full.pretrainSeeds.length * DENSE_PRESETS.full.seeds.length >= 2);
 * ```
 */
export const DENSE_PRESETS: Readonly<Record<DensePresetName, DenseExperimentConfig>> = Object
  .freeze({
    full: {
      scenes: "small",
      pretrainSeeds: [0, 1],
      seeds: [0, 1],
      // Patch 16 on 128² scenes: an 8 × 8 grid (the detect/segment settings of issues 13/14).
      encoder: words("--model vit-tiny-fmnist --patch 16 --dim 128 --depth 4 --heads 4"),
      pretrain: words("--epochs 30 --batch 64 --warmup 3ep --log-every 100"),
      // 64² Fashion-MNIST (a 4 × 4 grid): garments of 64 px, inside the scenes' 20–80 px range.
      supervised: words(
        "--img-size 64 --epochs 30 --batch 64 --warmup 3ep --label-smoothing 0.1 --eval-every 30ep " +
          "--log-every 200",
      ),
      // DINO for small images: K 256, teacher τ warm-up, lr by the batch rule, 64-px local crops.
      arms: arms(words(
        "--out-dim 256 --local-crops 4 --local-size 64 --warmup-teacher-temp 0.04 " +
          "--teacher-temp 0.07 --teacher-temp-epochs 10 --lr 1.25e-4",
      )),
      detect: words(
        "--epochs 6 --batch 4 --lr 1e-4 --warmup 500 --eval-every 6ep --val-limit 200 " +
          "--log-every 100",
      ),
      segment: words(
        "--epochs 6 --batch 8 --warmup 500 --ratio-min 1 --ratio-max 1 --channels 64 " +
          "--aux-channels 32 --eval-every 6ep --val-limit 200 --log-every 100",
      ),
      segmentPretrained: words("--layer-decay 0.65"),
      segmentRandom: words("--layer-decay 1"),
      randomLong: 2,
      compareFrom: 200,
      resamples: 1000,
    },
    quick: {
      scenes: "tiny",
      pretrainSeeds: [0],
      seeds: [0],
      encoder: words("--model vit-tiny-fmnist --patch 16 --dim 16 --depth 2 --heads 2"),
      pretrain: words("--steps 3 --batch 8 --vocab 16 --warmup 1 --log-every 1"),
      supervised: words("--img-size 32 --steps 3 --batch 32 --warmup 1 --log-every 1"),
      arms: arms(words("--local-crops 2 --local-size 32 --out-dim 64 --hidden-dim 32")),
      detect: words("--steps 3 --batch 2 --warmup 1 --train-limit 16 --val-limit 4 --log-every 1"),
      segment: words(
        "--steps 3 --batch 2 --warmup 1 --train-limit 16 --val-limit 4 --channels 16 " +
          "--aux-channels 8 --log-every 1",
      ),
      segmentPretrained: words("--layer-decay 0.65"),
      segmentRandom: words("--layer-decay 1"),
      randomLong: 2,
      compareFrom: 8,
      resamples: 100,
    },
  });
