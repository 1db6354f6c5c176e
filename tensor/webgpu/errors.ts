/**
 * Turning WebGPU's asynchronous error reports into TesseraErrors that name the op.
 *
 * WebGPU reports validation, out-of-memory and internal errors through promises (error
 * scopes) and events, never synchronously. The backend's `execute` must return at once, so an
 * error is recorded here when it arrives and thrown by the next `execute` or `read` on the
 * backend (reads also wait for every outstanding scope first, so `await t.data()` after a
 * failing op rejects). Device loss is permanent; other failures are reported once.
 * @module
 */
import { TesseraError } from "../errors.ts";

/** Collects asynchronous device errors for one device. */
export class ErrorState {
  #failure: TesseraError | null = null;
  #lost: TesseraError | null = null;
  readonly #pending = new Set<Promise<void>>();
  /** The op being encoded, used to name errors that arrive without a scope. */
  currentOp = "webgpu";

  /** Records a failure of `op` (the first one wins until it is reported). */
  fail(op: string, detail: string): void {
    if (!this.#failure) this.#failure = new TesseraError(op, detail);
  }

  /** Marks the device as lost: every later call throws. */
  lose(detail: string): void {
    this.#lost ??= new TesseraError("webgpu", `device lost: ${detail}`);
  }

  /** True once the device is lost (or destroyed). */
  get lost(): boolean {
    return this.#lost !== null;
  }

  /**
   * Tracks the result of `device.popErrorScope()` for `op`: an error becomes a failure
   * described as `what` failed.
   */
  track(op: string, what: string, scope: Promise<GPUError | null>): void {
    const p = scope.then(
      (e) => {
        if (e) this.fail(op, `${what}: ${e.constructor.name}: ${e.message.trim()}`);
      },
      (e) => this.fail(op, `${what}: ${String(e)}`),
    ).finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  /** Throws a recorded failure (once) or the device-lost error (always). */
  check(): void {
    if (this.#lost) throw this.#lost;
    const f = this.#failure;
    if (f) {
      this.#failure = null;
      throw f;
    }
  }

  /** Waits for every outstanding error scope, then {@link check}s. */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
    this.check();
  }
}
