/**
 * Ctrl-C handling for training loops (conventions §2.11): the first SIGINT asks the loop to
 * stop after the current step (it then writes a checkpoint and exits with 130); a second one
 * exits at once. The listener is removed by `dispose()`, so tests and library callers are
 * left with no signal handler.
 * @module
 */
import type { CliIO } from "./io.ts";

/** Exit code of an interrupted run (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

/**
 * A stop request flag fed by SIGINT (and by code, e.g. `--stop-after`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { captureIO } from "./io.ts";
 * import { StopSignal } from "./interrupt.ts";
 * using stop = new StopSignal(captureIO(), { listen: false });
 * stop.request("test");
 * assert.deepEqual([stop.requested, stop.reason], [true, "test"]);
 * ```
 */
export class StopSignal {
  #requested = false;
  #reason = "";
  readonly #handler: () => void;
  #listening = false;

  /**
   * Installs the SIGINT listener.
   * @param io where to print the notice
   * @param opts `listen: false` skips installing the SIGINT listener
   */
  constructor(io: CliIO, opts: { listen?: boolean } = {}) {
    this.#handler = () => {
      if (this.#requested) {
        io.err("\nsecond Ctrl-C: exiting without a checkpoint\n");
        Deno.exit(EXIT_INTERRUPTED);
      }
      this.request("SIGINT");
      io.err(
        "\nCtrl-C: stopping after this step and writing a checkpoint (Ctrl-C again to quit)\n",
      );
    };
    if (opts.listen ?? true) {
      try {
        Deno.addSignalListener("SIGINT", this.#handler);
        this.#listening = true;
      } catch {
        // Signals unsupported here (e.g. some embedders): the run just can't be interrupted.
      }
    }
  }

  /** Whether a stop was requested. */
  get requested(): boolean {
    return this.#requested;
  }

  /** Why: "SIGINT" or the reason given to {@link StopSignal.request}. */
  get reason(): string {
    return this.#reason;
  }

  /** Requests a stop. */
  request(reason: string): void {
    if (!this.#requested) this.#reason = reason;
    this.#requested = true;
  }

  /** Removes the signal listener (idempotent). */
  dispose(): void {
    if (this.#listening) Deno.removeSignalListener("SIGINT", this.#handler);
    this.#listening = false;
  }

  /** Same as {@link StopSignal.dispose}. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
