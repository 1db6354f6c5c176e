/**
 * Step results waiting to be read. On a backend whose reads are asynchronous (WebGPU), reading
 * the loss after every step stalls the device: the host waits for the step to finish before it
 * records the next one. The loop instead keeps up to `every` steps' loss and log tensors on the
 * device and reads them together (one submission and one map on WebGPU), before anything that
 * needs them: an evaluation, a checkpoint, the end of the run, a stop.
 * @module
 */
import { dispose, type Tensor } from "../tensor/mod.ts";

/** One step's values, read. */
export interface ReadStep {
  /** The step number after it ran (1-based). */
  step: number;
  /** Its learning rate. */
  lr: number;
  /** Its loss. */
  loss: number;
  /** Its logged scalars. */
  logs: Record<string, number>;
}

/**
 * Steps whose tensors are not read yet.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PendingSteps } from "./pending_steps.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const p = new PendingSteps(2);
 * p.add(1, 0.1, tensor(0.5), {});
 * assert.equal(p.full, false);
 * p.add(2, 0.1, tensor(0.25), { acc: tensor(1) });
 * assert.equal(p.full, true);
 * const read = await p.drain();
 * assert.deepEqual(read.map((r) => [r.step, r.loss, r.logs]), [[1, 0.5, {}], [2, 0.25, { acc: 1 }]]);
 * ```
 */
export class PendingSteps {
  readonly #every: number;
  #steps: { step: number; lr: number; loss: Tensor; logs: Record<string, Tensor> }[] = [];

  /** @param every read after this many steps (1: after each) */
  constructor(every: number) {
    this.#every = Math.max(1, every);
  }

  /** Keeps a step's loss and logs (the caller hands them over). */
  add(step: number, lr: number, loss: Tensor, logs: Record<string, Tensor> = {}): void {
    this.#steps.push({ step, lr, loss, logs });
  }

  /** True when the steps kept should be read now. */
  get full(): boolean {
    return this.#steps.length >= this.#every;
  }

  /** Reads every kept step (all reads issued at once), in order, and frees their tensors. */
  async drain(): Promise<ReadStep[]> {
    const steps = this.#steps;
    this.#steps = [];
    try {
      const losses = await Promise.all(steps.map((s) => s.loss.item()));
      const logs = await Promise.all(steps.map(async (s) => {
        const out: Record<string, number> = {};
        const keys = Object.keys(s.logs),
          vals = await Promise.all(keys.map((k) => s.logs[k]!.item()));
        keys.forEach((k, i) => (out[k] = vals[i]!));
        return out;
      }));
      return steps.map((s, i) => ({ step: s.step, lr: s.lr, loss: losses[i]!, logs: logs[i]! }));
    } finally {
      for (const s of steps) dispose([s.loss, s.logs]);
    }
  }

  /** Frees every kept tensor unread (the run is failing). */
  dispose(): void {
    for (const s of this.#steps) dispose([s.loss, s.logs]);
    this.#steps = [];
  }
}
