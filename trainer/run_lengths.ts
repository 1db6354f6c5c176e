/**
 * A run's steps per epoch ({@link stepsPerEpoch}) and lengths in steps from its flags
 * ({@link runLengths}), and the Task fields and `resolved` config entries that every training
 * Task derives from them ({@link runLengthFields}).
 * @module
 */
import { resolveSpan, UsageError } from "./flags.ts";
import type { Task } from "./train_loop.ts";

/** The run-length settings of a training command (`--steps`, `--epochs`, the spans). */
export interface RunLengthOptions {
  /** `--steps` (null: `--epochs`). */
  steps: number | null;
  /** `--epochs`. */
  epochs: number;
  /** `--warmup` as written (`200` or `1ep`). */
  warmup: string;
  /** `--eval-every` as written. */
  evalEvery: string;
  /** `--ckpt-every` as written. */
  ckptEvery: string;
}

/** A run's lengths in steps. */
export interface RunLengths {
  /** Steps of the run. */
  total: number;
  /** Warm-up steps (at most the total). */
  warmup: number;
  /** Evaluation period (at least 1). */
  evalEvery: number;
  /** Checkpoint period (at least 1). */
  ckptEvery: number;
}

/**
 * Steps per epoch of `images` training images in batches of `batch` (the last partial batch
 * dropped); fewer images than a batch is a {@link UsageError} naming `--batch`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stepsPerEpoch } from "./run_lengths.ts";
 * assert.equal(stepsPerEpoch(130, 64), 2);
 * assert.throws(() => stepsPerEpoch(8, 16), /--batch 16 is larger than the 8 training images/);
 * ```
 */
export function stepsPerEpoch(images: number, batch: number): number {
  const spe = Math.floor(images / batch);
  if (spe < 1) {
    throw new UsageError(`--batch ${batch} is larger than the ${images} training images`);
  }
  return spe;
}

/**
 * A run's lengths in steps from its flags: `total` (`--steps`, else `--epochs` × steps per
 * epoch, at least 1), `warmup` (at most the total), and the evaluation and checkpoint periods
 * (at least 1); spans are steps (`200`) or epochs (`1ep`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runLengths } from "./run_lengths.ts";
 * const o = { steps: null, epochs: 2, warmup: "1ep", evalEvery: "1ep", ckptEvery: "5" };
 * assert.deepEqual(runLengths(o, 10), { total: 20, warmup: 10, evalEvery: 10, ckptEvery: 5 });
 * ```
 */
export function runLengths(o: RunLengthOptions, spe: number): RunLengths {
  const total = o.steps ?? Math.max(1, Math.round(o.epochs * spe));
  return {
    total,
    warmup: Math.min(resolveSpan(o.warmup, spe), total),
    evalEvery: Math.max(1, resolveSpan(o.evalEvery, spe)),
    ckptEvery: Math.max(1, resolveSpan(o.ckptEvery, spe)),
  };
}

/**
 * The run lengths of a training Task named `name` ({@link runLengths}), its length fields
 * (`runName`, `label`, `total`, `stepsPerEpoch`, the asked-for `warmup` the loop warns about,
 * the periods) and the first entries of its `resolved` config (`warmup_steps`, `eval_every`,
 * `ckpt_every`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runLengthFields } from "./run_lengths.ts";
 * const o = { steps: 5, epochs: 1, warmup: "1ep", evalEvery: "1ep", ckptEvery: "2" };
 * const { lengths, fields, resolved } = runLengthFields("demo", o, 10);
 * assert.deepEqual([lengths.total, lengths.warmup, fields.warmup, fields.stepsPerEpoch], [5, 5, 10, 10]);
 * assert.deepEqual(resolved, { warmup_steps: 5, eval_every: 10, ckpt_every: 2 });
 * ```
 */
export function runLengthFields(name: string, o: RunLengthOptions, spe: number): {
  lengths: RunLengths;
  fields: Pick<
    Task,
    "runName" | "label" | "total" | "stepsPerEpoch" | "warmup" | "evalEvery" | "ckptEvery"
  >;
  resolved: { warmup_steps: number; eval_every: number; ckpt_every: number };
} {
  const lengths = runLengths(o, spe);
  const { total, warmup, evalEvery, ckptEvery } = lengths;
  return {
    lengths,
    fields: {
      runName: name,
      label: name,
      total,
      stepsPerEpoch: spe,
      warmup: resolveSpan(o.warmup, spe),
      evalEvery,
      ckptEvery,
    },
    resolved: { warmup_steps: warmup, eval_every: evalEvery, ckpt_every: ckptEvery },
  };
}

/**
 * A run's plan line: `<label>: N steps (E epochs of S), batch B<extra>, run directory D`, then
 * `; resuming at step K` when `step` > 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stepsLine } from "./run_lengths.ts";
 * assert.equal(
 *   stepsLine("demo", { total: 30, spe: 20, batch: 8, dir: "runs/x", step: 5 }),
 *   "demo: 30 steps (1.50 epochs of 20), batch 8, run directory runs/x; resuming at step 5\n",
 * );
 * ```
 */
export function stepsLine(
  label: string,
  r: { total: number; spe: number; batch: number; dir: string; step: number; extra?: string },
): string {
  return `${label}: ${r.total} steps (${(r.total / r.spe).toFixed(2)} epochs of ${r.spe}), batch ` +
    `${r.batch}${r.extra ?? ""}, run directory ${r.dir}` +
    `${r.step > 0 ? `; resuming at step ${r.step}` : ""}\n`;
}
