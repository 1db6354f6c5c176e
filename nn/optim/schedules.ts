/**
 * Schedules of the learning rate, weight decay or EMA momentum as functions of the step:
 * BEiT/DINO's per-iteration `cosine_scheduler` (exact, including numpy's linspace warmup),
 * its function form `cosineSchedule`, a step (multi-step) schedule with optional warmup, and
 * mmseg's poly schedule with mmcv's linear warmup (`polySchedule`).
 * @module
 */
import { TesseraError } from "../../tensor/mod.ts";
import type { Schedule } from "./types.ts";

/**
 * Options of {@link cosineScheduler}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CosineSchedulerOptions } from "./schedules.ts";
 * const o: CosineSchedulerOptions = { warmupEpochs: 10, startWarmupValue: 0 };
 * assert.equal(o.warmupEpochs, 10);
 * ```
 */
export interface CosineSchedulerOptions {
  /** Warmup length in epochs (default 0). */
  warmupEpochs?: number;
  /** Warmup length in iterations; overrides `warmupEpochs` when > 0. */
  warmupSteps?: number;
  /** First warmup value (default 0). */
  startWarmupValue?: number;
}

/**
 * BEiT/DINO `utils.cosine_scheduler`, one value per iteration (`epochs · itersPerEpoch` of
 * them): warmup `linspace(start, base, W)` including both ends, then for `i ∈ [0, T − W)`
 * `final + ½(base − final)(1 + cos(π i / (T − W)))`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cosineScheduler } from "./schedules.ts";
 * const s = cosineScheduler(1, 0, 2, 2, { warmupEpochs: 1 }); // T = 4, W = 2
 * assert.deepEqual(s, [0, 1, 1, 0.5]);
 * ```
 */
export function cosineScheduler(
  baseValue: number,
  finalValue: number,
  epochs: number,
  itersPerEpoch: number,
  opts: CosineSchedulerOptions = {},
): number[] {
  const total = epochs * itersPerEpoch;
  const w = (opts.warmupSteps ?? 0) > 0
    ? opts.warmupSteps!
    : (opts.warmupEpochs ?? 0) * itersPerEpoch;
  if (!Number.isInteger(total) || total < 0 || !Number.isInteger(w) || w < 0 || w > total) {
    throw new TesseraError(
      "cosineScheduler",
      `needs integer lengths with 0 <= warmup (${w}) <= epochs·itersPerEpoch (${total})`,
    );
  }
  const start = opts.startWarmupValue ?? 0;
  const out: number[] = [];
  if (w > 0) {
    const step = (baseValue - start) / (w - 1); // numpy.linspace: i·step + start, last = stop
    for (let i = 0; i < w; i++) {
      out.push(i === w - 1 ? (w === 1 ? start : baseValue) : i * step + start);
    }
  }
  const n = total - w;
  for (let i = 0; i < n; i++) {
    out.push(finalValue + 0.5 * (baseValue - finalValue) * (1 + Math.cos((Math.PI * i) / n)));
  }
  return out;
}

/**
 * Options of {@link cosineSchedule}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CosineScheduleOptions } from "./schedules.ts";
 * const o: CosineScheduleOptions = { base: 1.5e-3, final: 1e-5, totalSteps: 1000, warmupSteps: 100 };
 * assert.equal(o.warmupStart ?? 0, 0);
 * ```
 */
export interface CosineScheduleOptions {
  /** Peak value, reached at the end of warmup. */
  base: number;
  /** Final value (min_lr). */
  final: number;
  /** Total steps T. */
  totalSteps: number;
  /** Warmup steps W (default 0). */
  warmupSteps?: number;
  /** Warmup start value (default 0). */
  warmupStart?: number;
}

/**
 * {@link cosineScheduler} as a function of the step (same values; steps past the end keep the
 * last value).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cosineSchedule } from "./schedules.ts";
 * const lr = cosineSchedule({ base: 1, final: 0, totalSteps: 4, warmupSteps: 2 });
 * assert.deepEqual([0, 1, 2, 3, 9].map(lr), [0, 1, 1, 0.5, 0.5]);
 * ```
 */
export function cosineSchedule(opts: CosineScheduleOptions): Schedule {
  const values = cosineScheduler(opts.base, opts.final, opts.totalSteps, 1, {
    warmupSteps: opts.warmupSteps ?? 0,
    startWarmupValue: opts.warmupStart ?? 0,
  });
  if (values.length === 0) throw new TesseraError("cosineSchedule", "totalSteps must be >= 1");
  const at = (step: number) => values[Math.min(Math.max(0, Math.floor(step)), values.length - 1)]!;
  return Object.assign(at, { table: values }); // the table lets a tensor step count index it
}

/**
 * Options of {@link stepSchedule}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { StepScheduleOptions } from "./schedules.ts";
 * const o: StepScheduleOptions = { base: 0.02, milestones: [60000, 80000], gamma: 0.1 };
 * assert.equal(o.milestones.length, 2);
 * ```
 */
export interface StepScheduleOptions {
  /** Value before the first milestone. */
  base: number;
  /** Steps at which the value is multiplied by `gamma` (sorted). */
  milestones: readonly number[];
  /** Factor per milestone (default 0.1). */
  gamma?: number;
  /** Linear warmup steps from `warmupFactor·base` (default 0; detectron2 style). */
  warmupSteps?: number;
  /** Start factor of the warmup (default 0.001). */
  warmupFactor?: number;
}

/**
 * Multi-step schedule `base · gamma^(number of milestones ≤ step)` (PyTorch `MultiStepLR`),
 * optionally with detectron2's linear warmup: factor `warmupFactor·(1 − α) + α`,
 * `α = step / warmupSteps`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stepSchedule } from "./schedules.ts";
 * const lr = stepSchedule({ base: 1, milestones: [2, 4], gamma: 0.5 });
 * assert.deepEqual([0, 1, 2, 3, 4, 5].map(lr), [1, 1, 0.5, 0.5, 0.25, 0.25]);
 * ```
 */
export function stepSchedule(opts: StepScheduleOptions): Schedule {
  const gamma = opts.gamma ?? 0.1;
  const ms = [...opts.milestones];
  if (ms.some((m, i) => i > 0 && m < ms[i - 1]!)) {
    throw new TesseraError("stepSchedule", `milestones must be sorted, got ${JSON.stringify(ms)}`);
  }
  const wsteps = opts.warmupSteps ?? 0, wf = opts.warmupFactor ?? 0.001;
  return (step) => {
    let v = opts.base * gamma ** ms.filter((m) => m <= step).length;
    if (step < wsteps) {
      const a = step / wsteps;
      v *= wf * (1 - a) + a;
    }
    return v;
  };
}

/**
 * mmseg's poly schedule with mmcv's linear warmup: `lr(s) = base·(1 − s/T)^power` (to 0 when
 * `final` is 0), times `1 − (1 − s/W)(1 − ratio)` while `s < W`. Its `table` (the values of
 * steps 0…max(T, W), constant after) lets a jitted step index it with a traced step count.
 *
 * @param o base lr, final lr, total and warmup steps, power (default 1), warmup ratio
 *   (default 1e-6)
 * @returns the schedule
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { polySchedule } from "./schedules.ts";
 * const lr = polySchedule({ base: 1, final: 0, totalSteps: 10, warmupSteps: 0 });
 * assert.deepEqual([lr(0), lr(5)], [1, 0.5]);
 * assert.deepEqual([lr.table!.length, lr.table![5]], [11, 0.5]);
 * ```
 */
export function polySchedule(o: {
  base: number;
  final: number;
  totalSteps: number;
  warmupSteps: number;
  power?: number;
  warmupRatio?: number;
}): Schedule {
  const p = o.power ?? 1, ratio = o.warmupRatio ?? 1e-6;
  const at = (s: number) => {
    const t = Math.min(s, o.totalSteps);
    const lr = (o.base - o.final) * (1 - t / o.totalSteps) ** p + o.final;
    return s < o.warmupSteps ? lr * (1 - (1 - s / o.warmupSteps) * (1 - ratio)) : lr;
  };
  const n = Math.max(o.totalSteps, o.warmupSteps) + 1;
  return Object.assign(at, { table: Array.from({ length: n }, (_, s) => at(s)) });
}
