/**
 * The parts of a `train.ts` training loop that `finetune` and `pretrain` share: iterating the
 * loader from any step (so a resumed run sees exactly the batches an uninterrupted one would),
 * the running mean of recent losses, and the message of a stopped run.
 * @module
 */
import type { Batch, DataLoader } from "../data/loader.ts";
import type { CliIO } from "./io.ts";

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

/**
 * The last `size` losses and their mean (the `train_loss`/`loss` of a run's final record).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RecentLosses } from "./train_loop.ts";
 * const r = new RecentLosses(2);
 * [3, 2, 1].forEach((x) => r.push(x));
 * assert.deepEqual(r.mean(), 1.5);
 * ```
 */
export class RecentLosses {
  readonly #xs: number[] = [];
  /**
   * Creates the window.
   * @param size how many losses to keep (default 50)
   */
  constructor(readonly size = 50) {}
  /** Adds a loss. */
  push(x: number): void {
    this.#xs.push(x);
    if (this.#xs.length > this.size) this.#xs.shift();
  }
  /** Mean of the window, rounded to 5 decimals (0 when empty). */
  mean(): number {
    const n = Math.max(1, this.#xs.length);
    return Number((this.#xs.reduce((a, c) => a + c, 0) / n).toFixed(5));
  }
}

/**
 * Tells the user where a stopped run's checkpoint is and how to resume it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { captureIO } from "./io.ts";
 * import { reportStopped } from "./train_loop.ts";
 * const io = captureIO();
 * reportStopped(io, "pretrain", "SIGINT", 5, 10, "runs/x/ckpt_latest.safetensors");
 * assert.deepEqual(io.stderr.split("\n")[1], "resume with: deno run -A train.ts pretrain --resume runs/x/ckpt_latest.safetensors");
 * ```
 */
export function reportStopped(
  io: CliIO,
  command: string,
  reason: string,
  step: number,
  total: number,
  checkpoint: string,
): void {
  io.err(
    `${command}: stopped (${reason}) at step ${step}/${total}; checkpoint ${checkpoint}\n` +
      `resume with: deno run -A train.ts ${command} --resume ${checkpoint}\n`,
  );
}
