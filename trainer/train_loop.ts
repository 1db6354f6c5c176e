/**
 * The one training loop of `train.ts`: {@link train} runs a {@link Task} (finetune, each
 * pretrain method) and owns everything around its steps — the settings (defaults ← a resumed
 * checkpoint's ← the flags given now), the backend, the run directory, `--resume`, the JSONL
 * log, progress, Ctrl-C (checkpoint, exit 130), periodic evaluation and checkpoints, the final
 * record, and the non-finite abort: a NaN/Inf loss, metric or parameter stops the run with exit
 * code 1, and the last checkpoint on disk (always a finite one) is kept.
 *
 * Determinism: the state comes from `foldIn(root, 0)`, the loader's seed is `foldIn(root, 1)`
 * and step `s` gets `foldIn(foldIn(root, 2), s)`, with `root = key(seed)` stored in the
 * checkpoint, so a run resumed at step k reaches bit-identical parameters on the CPU backend.
 * @module
 */
import { dispose, memoryStats, random, scope, Tensor } from "../tensor/mod.ts";
import type { Batch, DataLoader } from "../data/loader.ts";
import { decodeCheckpoint, saveCheckpoint } from "../nn/checkpoint.ts";
import { UsageError } from "./flags.ts";
import { selectBackend } from "./backend.ts";
import { EXIT_INTERRUPTED, StopSignal } from "./interrupt.ts";
import type { CliIO } from "./io.ts";
import { MetricsLog, readMetrics } from "./metrics.ts";
import { writeRunPlots } from "./plot.ts";
import { formatDuration, Progress } from "./progress.ts";
import { defaultRunDir, prepareRunDir, readResumePoint } from "./run_dir.ts";
import * as dist from "./dist.ts";
import { PendingSteps } from "./pending_steps.ts";

/** Steps whose loss a backend with asynchronous reads keeps on the device before reading. */
const READ_EVERY = 10;

/** Exit code of a failed run (non-finite loss, metric or parameters). */
export const EXIT_FAILED = 1;

/** What a task trains: the parameter tree and the optimizer state (both checkpointed). */
export interface TrainState {
  /** Trained tree. */
  params: unknown;
  /** Optimizer state. */
  opt: unknown;
}

/** What {@link Task.summary} gets at the end of a run. */
export interface RunSummary {
  /** Steps done. */
  steps: number;
  /** Mean of the last losses (at most 50: steps `lossSteps[0]..lossSteps[1]`). */
  loss: number;
  /** First and last step that {@link RunSummary.loss} averages. */
  lossSteps: [number, number];
  /** The last evaluation, or null. */
  eval: Record<string, number> | null;
  /** Mean seconds per training step of this invocation. */
  secondsPerStep: number;
}

/**
 * A training job as the loop sees it: the state, one step, evaluation, what goes into the
 * checkpoint and the log, the final summary. Built by a command from its settings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Task } from "./train_loop.ts";
 * const steps = (t: Task) => t.total;
 * assert.deepEqual(typeof steps, "function");
 * ```
 */
export interface Task {
  /** Prefix of the default run directory (`runs/<runName>-<time>`). */
  runName: string;
  /** Label of the progress lines. */
  label: string;
  /** Steps of the run. */
  total: number;
  /** Steps per epoch. */
  stepsPerEpoch: number;
  /** Warm-up steps asked for (before clamping to the run); the loop warns when ≥ `total`. */
  warmup?: number;
  /** Checkpoint period (steps). */
  ckptEvery: number;
  /** Evaluation period (steps), with {@link Task.evaluate}. */
  evalEvery?: number;
  /** Checkpoint template: the trees `--resume` decodes. */
  template: TrainState;
  /** Fields of the checkpoint config besides `command` and `options`. */
  config?: Record<string, unknown>;
  /** Logged as the config record's `resolved` (with total and per-epoch steps). */
  resolved: Record<string, unknown>;
  /** Logged as the config record's `data`. */
  data: Record<string, unknown>;
  /** Called once the run directory exists (before the state is made). */
  open?(dir: string, resuming: boolean): Promise<void>;
  /** The lines printed at the start (`step` > 0 when resuming). */
  describe(step: number, dir: string): string;
  /** A fresh state. */
  init(key: Tensor): TrainState;
  /** The training batches, shuffled and augmented with `seed`. */
  loader(seed: Tensor): DataLoader;
  /** One step; the loop disposes the old state, the loss and the logs. */
  step(state: TrainState, batch: Batch, step: number, key: Tensor): Promise<{
    state: TrainState;
    loss: Tensor;
    logs?: Record<string, Tensor>;
  }>;
  /** Learning rate of a step (logged). */
  lr(step: number): number;
  /** Metrics of the state (null when `stopped()` became true midway). */
  evaluate?(state: TrainState, stopped: () => boolean): Promise<Record<string, number> | null>;
  /** An evaluation as one progress line. */
  evalText?(metrics: Record<string, number>): string;
  /** Fields of the final record and the closing line. */
  summary(r: RunSummary): { fields: Record<string, unknown>; text: string };
  /** Frees what the task holds. */
  dispose?(): void;
}

/** Test hooks of {@link train}. */
export interface TrainHooks {
  /** After every step: the step count and the live tensors of the backend. */
  onStep?(step: number, liveTensors: number): void;
  /** Install the SIGINT listener (default true). */
  listenSigint?: boolean;
}

/**
 * The settings {@link train} reads itself (the CLI's RUN, BACKEND and LOG flag rows and
 * `--seed` make them); a task's own settings ride along in the same object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RunOptions } from "./train_loop.ts";
 * const o: RunOptions = {
 *   out: null, resume: null, stopAfter: null, backend: "cpu", threads: null, logEvery: 50, seed: 0,
 * };
 * assert.equal(o.seed, 0);
 * ```
 */
export interface RunOptions {
  /** Run directory (null: `runs/<runName>-<time>`, or the resumed run's). */
  out: string | null;
  /** A checkpoint file or run directory to continue (null: a new run). */
  resume: string | null;
  /** Stop as if interrupted after this step (null: run to the end). */
  stopAfter: number | null;
  /** Backend (null: `$TESSERA_BACKEND`, else the CPU). */
  backend: "cpu" | "webgpu" | null;
  /** CPU matmul threads (null: the backend's default). */
  threads: number | null;
  /** Plain progress line period (steps). */
  logEvery: number;
  /** Seed of the run's root key. */
  seed: number;
  /** Data-parallel engine (`--dist local|mpi|sim:W`; null: from the launcher's environment). */
  dist?: string | null;
}

/**
 * The loader's batches from step `start` on: epoch ⌊start/spe⌋ without its first `start mod spe`
 * batches (disposed unread), then the following epochs, until `done()` is true after a batch.
 * Breaking out early closes the loader's iterator.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DataLoader } from "../data/loader.ts";
 * import { batchesFrom } from "./train_loop.ts";
 * const data = { length: 4, get: (i: number) => ({ image: { data: new Uint8Array(1).fill(i), height: 1, width: 1, channels: 1 }, label: 0 }) };
 * const loader = new DataLoader(data, { batchSize: 2, seed: 0, shuffle: false, dropLast: true });
 * let step = 3;
 * const seen: number[] = [];
 * for await (const b of batchesFrom(loader, 2, step, () => step >= 6)) {
 *   seen.push(b.epoch * 2 + b.step), step++;
 *   b.dispose();
 * }
 * assert.deepEqual(seen, [3, 4, 5]);
 * ```
 */
export async function* batchesFrom(
  loader: DataLoader,
  spe: number,
  start: number,
  done: () => boolean,
): AsyncGenerator<Batch> {
  if (done()) return;
  for (let epoch = Math.floor(start / spe);; epoch++) {
    let skip = epoch === Math.floor(start / spe) ? start - epoch * spe : 0;
    for await (const batch of loader.epoch(epoch)) {
      if (skip > 0) {
        skip--;
        batch.dispose();
        continue;
      }
      yield batch;
      if (done()) return;
    }
  }
}

/** Losses the final record averages (the last ones of the invocation). */
export const LOSS_WINDOW = 50;

/** Steps timed before the wall-time estimate is printed (fewer in a shorter run). */
export const ESTIMATE_AFTER = 3;

/** Steps to time before estimating the rest of `left` (0: too short to estimate). */
function estimateAfter(left: number): number {
  return Math.max(0, Math.min(ESTIMATE_AFTER, left - 1));
}

/** Mean of the last {@link LOSS_WINDOW} losses, rounded to 5 decimals (0 when empty). */
function meanOf(xs: number[]): number {
  const w = xs.slice(-LOSS_WINDOW);
  return Number((w.reduce((a, c) => a + c, 0) / Math.max(1, w.length)).toFixed(5));
}

/**
 * The lines printed before the first step: the planned steps, how the wall time will be
 * estimated, and a warning when the warm-up covers the whole run (the lr then only rises and
 * the run ends at the peak).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planText } from "./train_loop.ts";
 * assert.match(planText("pretrain", { total: 20, warmup: 30 }, 0), /warning: the warm-up \(30 steps\) is not shorter than the run \(20 steps\)/);
 * assert.match(planText("finetune", { total: 20, warmup: 5 }, 8), /^finetune: plan: 20 steps, 12 to go; /);
 * ```
 */
export function planText(
  command: string,
  task: { total: number; warmup?: number },
  step: number,
): string {
  const n = estimateAfter(task.total - step);
  let s = `${command}: plan: ${task.total} steps, ${task.total - step} to go` +
    (n > 0 ? `; wall time estimated from the first ${n} step${n === 1 ? "" : "s"}\n` : "\n");
  if (task.warmup !== undefined && task.warmup > 0 && task.warmup >= task.total) {
    s += `${command}: warning: the warm-up (${task.warmup} steps) is not shorter than the run ` +
      `(${task.total} steps): the lr only rises and the run ends at the peak lr; lower --warmup\n`;
  }
  return s;
}

/**
 * The wall-time estimate printed after the first {@link ESTIMATE_AFTER} steps of an
 * invocation: their mean time × the steps left (evaluation and checkpoints not included).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { estimateText } from "./train_loop.ts";
 * assert.equal(
 *   estimateText("finetune", 1.5, 3, 103),
 *   "finetune: estimate: 1.50 s/step (mean of the first 3 steps) × 100 steps left ≈ 2:30 " +
 *     "more, plus evaluation and checkpoints",
 * );
 * ```
 */
export function estimateText(
  command: string,
  secondsPerStep: number,
  timed: number,
  left: number,
): string {
  return `${command}: estimate: ${secondsPerStep.toFixed(2)} s/step (mean of the first ${timed} ` +
    `step${timed === 1 ? "" : "s"}) × ${left - timed} step${
      left - timed === 1 ? "" : "s"
    } left ≈ ` +
    `${formatDuration(secondsPerStep * (left - timed))} more, plus evaluation and checkpoints`;
}

/**
 * Whether every float element of the tensors in `tree` is finite.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "../mod.ts";
 * import { allFinite } from "./train_loop.ts";
 * const good = tensor([1, 2]), bad = tensor([1, NaN]);
 * assert.deepEqual([await allFinite({ a: [good] }), await allFinite({ a: good, b: bad })], [true, false]);
 * good.dispose(), bad.dispose();
 * ```
 */
export async function allFinite(tree: unknown): Promise<boolean> {
  if (tree instanceof Tensor) {
    if (tree.dtype !== "float32" && tree.dtype !== "float64") return true;
    const d = (await tree.data()) as Float32Array;
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return false;
    return true;
  }
  if (tree && typeof tree === "object") {
    for (const v of Object.values(tree)) if (!(await allFinite(v))) return false;
  }
  return true;
}

/**
 * Runs a training command: settings from `defaults` ← the `--resume` checkpoint's ← `given`,
 * then `build` makes the {@link Task} (after the backend is selected), and the loop runs it.
 * Returns the exit code: 0 done, 1 non-finite (nothing finite overwritten), 130 stopped.
 *
 * @example
 * ```ts ignore
 * import { train } from "./train_loop.ts";
 * const code = await train({ command: "finetune", defaults, given, io, build: async (o) => finetuneTask(o) });
 * ```
 */
export async function train<O extends RunOptions>(setup: {
  command: string;
  defaults: O;
  given: Partial<O>;
  io: CliIO;
  hooks?: TrainHooks;
  build(o: O, saved: O | null, backend: string): Promise<Task>;
}): Promise<number> {
  const { command, hooks = {} } = setup;
  const t0 = performance.now();
  const point = setup.given.resume ? await readResumePoint<O>(setup.given.resume, command) : null;
  const o: O = { ...setup.defaults, ...point?.options, ...setup.given };
  const backend = await selectBackend(o.backend, o.threads);
  // Data parallelism (trainer/dist.ts): only rank 0 prints and keeps its run directory.
  const ranks = dist.openDist(o.dist);
  const io = dist.isRootRank() ? setup.io : dist.quietIO;
  let threw = false;
  const task = await setup.build(o, point?.options ?? null, backend);
  const { total, stepsPerEpoch: spe } = task;
  let state: TrainState | null = null, root: Tensor | null = null, keys: Tensor[] = [];
  let log: MetricsLog | null = null, stop: StopSignal | null = null;
  let pending: PendingSteps | null = null;
  try {
    if (point && point.step > total) {
      throw new UsageError(
        `--resume: the checkpoint is at step ${point.step}, past the run's ${total} steps`,
      );
    }
    const paths = await prepareRunDir(
      await dist.rankRunDir(o.out ?? point?.runDir ?? defaultRunDir(task.runName)),
      point !== null,
    );
    await task.open?.(paths.dir, point !== null);
    const { out: _o, resume: _r, stopAfter, ...options } = o;
    const config = { command, ...task.config, options };
    let step = 0;
    if (point) {
      const bad = (why: string) => new UsageError(`--resume ${o.resume}: ${why}`);
      let ck;
      try {
        ck = decodeCheckpoint(point.bytes, {
          params: task.template.params,
          optState: task.template.opt,
        });
      } catch (e) {
        throw bad((e as Error).message);
      }
      state = { params: ck.params, opt: ck.optState }, root = ck.rngKey, step = ck.step;
      if (!root) throw bad("the checkpoint has no RNG key");
      if (!(await allFinite(state))) throw bad("the checkpoint's parameters are not finite");
    } else {
      root = random.key(o.seed);
      const k = random.foldIn(root, 0);
      state = task.init(k);
      k.dispose();
    }
    state = await dist.fromRankZero(state);
    const [dataKey, stepRoot] = keys = scope(
      () => [random.foldIn(root!, 1), random.foldIn(root!, 2)],
    );
    const loader = task.loader(dataKey!);
    log = await MetricsLog.open(paths.metrics);
    const progress = new Progress(io, { total, every: o.logEvery, label: task.label, start: step });
    stop = new StopSignal(io, { listen: hooks.listenSigint ?? true });
    const losses: number[] = [];
    // Asynchronous reads (WebGPU) are batched: the device runs ahead of the host.
    pending = new PendingSteps(backend === "cpu" ? 1 : READ_EVERY);
    let lastEval: Record<string, number> | null = null, lastCkpt = -1, seconds = 0, timed = 0;
    let finiteCkpt = point ? step : -1;
    log.write({
      type: "config",
      ...config,
      ...(point ? { resume_step: step, resumed_from: o.resume } : {}),
      resolved: { total_steps: total, steps_per_epoch: spe, ...task.resolved },
      backend,
      data: task.data,
      run_dir: paths.dir,
      started: new Date().toISOString(),
    });
    io.err(task.describe(step, paths.dir));
    io.err(planText(command, task, step));
    const left = total - step, estimateAt = estimateAfter(left);
    const plots = async () => await writeRunPlots(paths.dir, await readMetrics(paths.metrics));
    const abort = async (why: string) => {
      progress.done();
      log!.write({ type: "abort", step, reason: why });
      await plots();
      io.err(
        `${command}: ${why}; stopped at step ${step}/${total}; ` +
          (finiteCkpt >= 0
            ? `the last finite checkpoint (step ${finiteCkpt}) is ${paths.checkpoint}\n`
            : "no checkpoint was written\n"),
      );
      return EXIT_FAILED;
    };
    /** Writes a checkpoint unless the state is non-finite (false then). */
    const checkpoint = async () => {
      if (!(await allFinite(state))) return false;
      if (dist.isRootRank()) {
        await saveCheckpoint(paths.checkpoint, {
          params: state!.params,
          optState: state!.opt,
          step,
          rngKey: root!,
          config,
        });
      }
      lastCkpt = finiteCkpt = step;
      log!.write({ type: "checkpoint", step, path: paths.checkpoint });
      return true;
    };
    const nonFinite = `the parameters became non-finite by step`;
    for await (
      const batch of batchesFrom(loader, spe, step, () => stop!.requested || step >= total)
    ) {
      const ts = performance.now();
      const lr = task.lr(step);
      const key = random.foldIn(stepRoot!, step);
      const mine = dist.shardBatch(batch);
      let r;
      try {
        r = await task.step(state!, mine, step, key);
      } finally {
        key.dispose();
        mine.dispose();
      }
      dispose([state!.params, state!.opt]);
      state = r.state;
      pending.add(step + 1, lr, r.loss, r.logs);
      seconds += (performance.now() - ts) / 1000, timed++;
      step++;
      if (step % dist.CHECKSUM_EVERY === 0) await dist.checkReplicas(state);
      if (timed === estimateAt) {
        progress.log(estimateText(command, seconds / timed, timed, left));
      }
      if (stopAfter !== null && step >= stopAfter) stop.request("--stop-after");
      if (dist.anyRank(stop.requested)) stop.request("another rank stopped");
      const evalNow = task.evaluate && (step % task.evalEvery! === 0 || step === total);
      const ckptNow = step % task.ckptEvery === 0 && step < total;
      if (pending.full || evalNow || ckptNow || stop.requested || step >= total) {
        for (const s of await pending.drain()) {
          if (!Number.isFinite(s.loss)) {
            return await abort(`the training loss became ${s.loss} at step ${s.step}; lower --lr?`);
          }
          losses.push(s.loss);
          log.write({
            type: "train",
            step: s.step,
            epoch: s.step / spe,
            loss: s.loss,
            lr: s.lr,
            ...s.logs,
          });
          progress.update(s.step, {
            loss: s.loss,
            lr: s.lr,
            epoch: Math.floor((s.step - 1) / spe) + 1,
          });
          hooks.onStep?.(s.step, memoryStats()[root.backend.name]?.tensors ?? 0);
        }
      }
      if (evalNow && task.evaluate) {
        const m = await task.evaluate(state, () => stop!.requested);
        if (m && !Object.values(m).every(Number.isFinite)) {
          const shown = Object.entries(m).map(([k, v]) => `${k} ${v}`).join(", ");
          return await abort(`the evaluation at step ${step} is not finite (${shown})`);
        }
        if (m) {
          lastEval = m;
          log.write({ type: "eval", step, epoch: step / spe, ...m });
          progress.log(
            `eval  step ${step}/${total}  ${task.evalText?.(m) ?? JSON.stringify(m)}  ` +
              `elapsed ${formatDuration(progress.elapsed)}`,
          );
          await plots();
        }
      }
      if (ckptNow) {
        if (!(await checkpoint())) return await abort(`${nonFinite} ${step}`);
        await plots();
      }
    }
    progress.done();
    const checksum = await dist.checkReplicas(state);
    if (lastCkpt !== step && !(await checkpoint())) return await abort(`${nonFinite} ${step}`);
    if (stop.requested) {
      log.write({ type: "interrupt", step, reason: stop.reason });
      await plots();
      io.err(
        `${command}: stopped (${stop.reason}) at step ${step}/${total}; checkpoint ` +
          `${paths.checkpoint}\nresume with: deno run -A train.ts ${command} --resume ` +
          `${paths.checkpoint}\n`,
      );
      return EXIT_INTERRUPTED;
    }
    const averaged = Math.min(LOSS_WINDOW, losses.length);
    const lossSteps: [number, number] = [step - averaged + 1, step];
    const s = task.summary({
      steps: step,
      loss: meanOf(losses),
      lossSteps,
      eval: lastEval,
      secondsPerStep: Number((seconds / Math.max(1, timed)).toFixed(4)),
    });
    const final = {
      command,
      ...s.fields,
      loss_over_steps: lossSteps,
      steps: step,
      epochs: Number((step / spe).toFixed(3)),
      seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
      backend,
      run_dir: paths.dir,
      checkpoint: paths.checkpoint,
      ...(checksum === null ? {} : { ranks: ranks.coll.size, replica_checksum: checksum }),
    };
    log.write({ type: "final", ...final });
    await plots();
    io.err(`${command}: done in ${formatDuration(final.seconds)}; ${s.text}\n`);
    io.out(JSON.stringify(final));
    return 0;
  } catch (e) {
    threw = true;
    throw e;
  } finally {
    pending?.dispose();
    stop?.dispose();
    log?.close();
    if (state) dispose([state.params, state.opt]);
    dispose([root, keys]);
    task.dispose?.();
    await dist.closeDist(ranks, threw);
  }
}
