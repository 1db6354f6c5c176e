/**
 * The arms and presets of `experiment-cls` (protocol v2): which pre-training methods are compared,
 * with which flags, on which images, with which fine-tuning recipe and validation grids.
 * @module
 */

/**
 * One arm of the comparison: a pre-training method and its flags (or random init).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EXPERIMENT_PRESETS } from "./cls_presets.ts";
 * const eq = EXPERIMENT_PRESETS.full.arms.find((a) => a.name === "beit-eq")!;
 * assert.deepEqual([eq.method, eq.equalComputeTo], ["beit", "splitmask"]);
 * ```
 */
export interface ArmSpec {
  /** Job-name key (`pre-<name>-p0`, `ft-<name>-p0-s0`, …). */
  name: string;
  /** Row label of the report. */
  label: string;
  /** Pre-training method; null = random init. */
  method: "splitmask" | "beit" | "dino" | null;
  /** Extra pretrain flags of this arm. */
  pretrain: string[];
  /** Extra probe flags of this arm. */
  probe: string[];
  /** A cheap extra arm (ablation): the config's `extraSeeds` pre-training seeds only. */
  extra?: boolean;
  /** Pre-trained for as many steps as this arm's FLOPs buy (same seed). */
  equalComputeTo?: string;
  /**
   * Fine-tune with the setting chosen on validation for this arm instead of a grid of its own
   * (the ablations follow their main arm, as the paper's Table 8 does).
   */
  settingOf?: string;
}

/**
 * The experiment's settings (`full` and `quick` presets).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EXPERIMENT_PRESETS } from "./cls_presets.ts";
 * const f = EXPERIMENT_PRESETS.full;
 * assert.deepEqual([f.subset, f.valSplit, f.pretrainSeeds, f.seeds], [4000, 2000, [0, 1, 2], [0, 1]]);
 * ```
 */
export interface ExperimentConfig {
  /** Class-balanced training images (drawn after the validation images are carved off). */
  subset: number;
  /** Validation images: the last N of the training file, never trained on. */
  valSplit: number;
  /** Test images (null = the full 10,000). */
  testLimit: number | null;
  /** Pre-training seeds of the main arms (random init: initialisation replicates). */
  pretrainSeeds: number[];
  /** Pre-training seeds of the extra (ablation) arms. */
  extraSeeds: number[];
  /** Fine-tuning seeds per pre-trained encoder. */
  seeds: number[];
  /** Encoder flags shared by pretrain, finetune and the random-init probe. */
  encoder: string[];
  /** Flags common to every pretrain run (with its length). */
  pretrain: string[];
  /** The arms. */
  arms: ArmSpec[];
  /** Flags common to every finetune run (budget, logging). */
  finetune: string[];
  /**
   * Fine-tuning recipes tried on validation for each pre-trained arm: the paper's Table 9 first,
   * then lighter ones (the protocol v2 run showed Table 9's augmentation underfits at CPU scale).
   */
  recipes: string[][];
  /** Fine-tuning lengths tried for each pre-trained arm (the longest equals random init's). */
  lengths: string[][];
  /** Learning rates tried on validation for each pre-trained arm. */
  lrGrid: number[];
  /** Random init's own validation grid: learning rates × lengths × recipes. */
  randomLrGrid: number[];
  randomLengths: string[][];
  randomRecipes: string[][];
  /** Shorter pre-training lengths of the curve (the main run is its last point). */
  curve: string[][];
  /** Arms of the curve. */
  curveArms: string[];
  /** Flags of every probe. */
  probe: string[];
  /** Flags of the pixel logistic regression. */
  linear: string[];
}

const words = (s: string) => s.split(" ");
// SplitMask's decoder: 1 block on a 6-block encoder, 2 branches, so a SplitMask step costs ≈ 1.3
// BEiT steps, as the paper's 2-block decoder on a 12-block ViT-B (≈ 1.05–1.33×).
const SPLITMASK = words("--decoder-depth 1");
// The paper's §5.5 small-data recipe: 75 % masking as two disjoint uniform subsets and strong
// augmentation (greyscale is the identity on Fashion-MNIST).
const SMALL = words(
  "--decoder-depth 1 --masking disjoint --mask-ratio 0.75 --solarize 0.2 --blur 0.5",
);
// The Table 9 recipe: layer decay, Mixup/CutMix, RandAugment 9/0.5, label smoothing, drop path.
const TABLE9 = words(
  "--mixup 0.8 --cutmix 1.0 --randaug 9 --label-smoothing 0.1 --drop-path 0.1",
);
// The light recipe: label smoothing and drop path only.
const LIGHT = words("--label-smoothing 0.1 --drop-path 0.1");
const DECAY = words("--layer-decay 0.75");

/** The arms, with the DINO flags of a preset. */
function arms(dino: string[]): ArmSpec[] {
  return [
    { name: "random", label: "Random init", method: null, pretrain: [], probe: [] },
    { name: "beit", label: "BEiT", method: "beit", pretrain: [], probe: [] },
    {
      name: "splitmask",
      label: "SplitMask (50 % block masks)",
      method: "splitmask",
      pretrain: SPLITMASK,
      probe: [],
    },
    {
      name: "splitmask-small",
      label: "SplitMask, small-data recipe (75 % disjoint, strong aug.)",
      method: "splitmask",
      pretrain: SMALL,
      probe: [],
    },
    {
      name: "dino",
      label: "DINO (CLS probe)",
      method: "dino",
      pretrain: dino,
      probe: ["--pool", "cls"],
    },
    {
      name: "beit-eq",
      label: "BEiT, equal compute",
      method: "beit",
      pretrain: [],
      probe: [],
      equalComputeTo: "splitmask",
    },
    {
      name: "splitmask-inpaint",
      label: "SplitMask, inpainting only",
      method: "splitmask",
      pretrain: [...SPLITMASK, "--splitmask-mode", "inpaint"],
      probe: [],
      extra: true,
      settingOf: "splitmask",
    },
    {
      name: "splitmask-match",
      label: "SplitMask, matching only",
      method: "splitmask",
      pretrain: [...SPLITMASK, "--splitmask-mode", "match"],
      probe: [],
      extra: true,
      settingOf: "splitmask",
    },
    {
      name: "beit-rp",
      label: "BEiT, random-projection tokenizer",
      method: "beit",
      pretrain: ["--tokenizer", "random-projection"],
      probe: [],
      extra: true,
      settingOf: "beit",
    },
  ];
}

/** The presets: `full` (a GPU's worth), `cpu` (the same protocol sized for a few CPU-hours), `quick` (CI). */
export type PresetName = "full" | "cpu" | "quick";

/** The presets. */
export const EXPERIMENT_PRESETS: Readonly<Record<PresetName, ExperimentConfig>> = Object
  .freeze({
    full: {
      subset: 4000,
      valSplit: 2000,
      testLimit: null,
      pretrainSeeds: [0, 1, 2],
      extraSeeds: [0],
      seeds: [0, 1],
      // Patch 4: a 7×7 grid (49 tokens), so block masks are blocks and each branch sees 24+.
      encoder: words("--model vit-tiny-fmnist --patch 4 --depth 6"),
      pretrain: words("--epochs 50 --batch 64 --warmup 5ep --log-every 200"),
      // DINO for small images: K 256, teacher τ 0.04 → 0.07 over 15 epochs, lr by DINO's batch
      // rule (5e-4 · 64/256), 12-pixel local crops (3×3 patches).
      arms: arms(words(
        "--out-dim 256 --local-crops 4 --local-size 12 --warmup-teacher-temp 0.04 " +
          "--teacher-temp 0.07 --teacher-temp-epochs 15 --lr 1.25e-4",
      )),
      finetune: words(
        "--cls-token --epochs 50 --batch 64 --warmup 5ep --eval-every 10ep --ckpt-every 25ep " +
          "--log-every 200",
      ),
      recipes: [[...DECAY, ...TABLE9], [...DECAY, ...LIGHT]],
      lengths: [["--epochs", "100"]],
      lrGrid: [1e-3, 2e-3, 4e-3],
      randomLrGrid: [1e-3, 2e-3, 4e-3],
      randomLengths: [["--epochs", "50"], ["--epochs", "100"]],
      randomRecipes: [TABLE9, LIGHT],
      curve: [["--epochs", "12"], ["--epochs", "25"]],
      curveArms: ["splitmask", "beit"],
      probe: [],
      linear: [],
    },
    // The full protocol at CPU scale (≈ 5 core-hours here): half the images, a 32-wide encoder,
    // 15 epochs; the same arms, seeds, grids and statistics.
    cpu: {
      subset: 2000,
      valSplit: 1000,
      testLimit: null,
      pretrainSeeds: [0, 1, 2],
      extraSeeds: [0],
      seeds: [0, 1],
      encoder: words("--model vit-tiny-fmnist --patch 4 --dim 32 --depth 6 --heads 2"),
      pretrain: words("--epochs 15 --batch 64 --warmup 2ep --log-every 200"),
      arms: arms(words(
        "--out-dim 256 --local-crops 2 --local-size 12 --warmup-teacher-temp 0.04 " +
          "--teacher-temp 0.07 --teacher-temp-epochs 5 --lr 1.25e-4",
      )),
      finetune: words(
        "--cls-token --epochs 15 --batch 64 --warmup 2ep --eval-every 15ep --ckpt-every 15ep " +
          "--log-every 200",
      ),
      recipes: [[...DECAY, ...TABLE9], [...DECAY, ...LIGHT]],
      lengths: [["--epochs", "30"]],
      lrGrid: [1e-3, 3e-3],
      randomLrGrid: [1e-3, 3e-3],
      randomLengths: [["--epochs", "15"], ["--epochs", "30"]],
      randomRecipes: [TABLE9, LIGHT],
      curve: [["--epochs", "5"], ["--epochs", "10"]],
      curveArms: ["splitmask", "beit"],
      probe: [],
      linear: [],
    },
    quick: {
      subset: 200,
      valSplit: 500,
      testLimit: 200,
      pretrainSeeds: [0, 1],
      extraSeeds: [0],
      seeds: [0],
      encoder: words("--model vit-tiny-fmnist --dim 16 --depth 2 --heads 2"),
      pretrain: words("--steps 4 --batch 32 --vocab 16 --warmup 1 --log-every 2"),
      arms: arms(words("--local-crops 2 --out-dim 64 --hidden-dim 32 --teacher-temp-epochs 1")),
      finetune: words("--cls-token --steps 6 --batch 32 --warmup 1 --log-every 3"),
      recipes: [[...DECAY, ...TABLE9], [...DECAY]],
      lengths: [["--steps", "6"]],
      lrGrid: [3e-3],
      randomLrGrid: [3e-3],
      randomLengths: [["--steps", "6"], ["--steps", "12"]],
      randomRecipes: [TABLE9],
      curve: [["--steps", "2"]],
      curveArms: ["splitmask", "beit"],
      probe: [],
      linear: [],
    },
  });
