/**
 * Training progress on stderr (conventions §2.11): on a terminal, one live line redrawn with
 * `\r` and sized to the console (step/total, a bar, loss, lr, it/s, ETA); elsewhere (pipes,
 * CI) a plain line every `every` steps, with no escape codes. Colour only on a terminal and
 * never under `NO_COLOR`.
 * @module
 */
import type { CliIO } from "./io.ts";

/**
 * Options of {@link Progress}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ProgressOptions } from "./progress.ts";
 * const o: ProgressOptions = { total: 100, every: 10, label: "finetune" };
 * assert.deepEqual(o.total, 100);
 * ```
 */
export interface ProgressOptions {
  /** Total steps. */
  total: number;
  /** Plain mode: print a line every this many steps (and at the last step). */
  every: number;
  /** Prefix of each line. */
  label: string;
  /** Step the run starts from (resume), so it/s and ETA count only new steps. */
  start?: number;
  /** Minimum milliseconds between live redraws (default 100). */
  redrawMs?: number;
}

/**
 * Formats seconds as `m:ss` or `h:mm:ss`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDuration } from "./progress.ts";
 * assert.deepEqual([formatDuration(75), formatDuration(3725)], ["1:15", "1:02:05"]);
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = h > 0 ? String(m).padStart(2, "0") : String(m);
  return `${h > 0 ? `${h}:` : ""}${mm}:${String(r).padStart(2, "0")}`;
}

/**
 * A progress reporter; call {@link Progress.update} after every step, {@link Progress.log} for
 * other messages (it keeps the live line intact), {@link Progress.done} at the end.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { captureIO } from "./io.ts";
 * import { Progress } from "./progress.ts";
 * const io = captureIO();
 * const p = new Progress(io, { total: 4, every: 2, label: "demo" });
 * for (let s = 1; s <= 4; s++) p.update(s, { loss: 1 / s, lr: 1e-3 });
 * p.done();
 * assert.deepEqual(io.stderr.trim().split("\n").length, 2);
 * ```
 */
export class Progress {
  readonly #io: CliIO;
  readonly #o: Required<ProgressOptions>;
  readonly #t0 = performance.now();
  #lastDraw = -Infinity;
  #live = "";
  #rate = NaN;
  #lastT = performance.now();
  #lastStep: number;

  /**
   * Starts the clock.
   * @param io where to write
   * @param opts totals and cadence
   */
  constructor(io: CliIO, opts: ProgressOptions) {
    this.#io = io;
    this.#o = { start: 0, redrawMs: 100, ...opts };
    this.#lastStep = this.#o.start;
  }

  /** Steps per second (smoothed), NaN before the second update. */
  get rate(): number {
    return this.#rate;
  }

  /** Reports that `step` steps are done, with the latest metrics. */
  update(step: number, m: { loss: number; lr: number; epoch?: number }): void {
    const now = performance.now();
    const dt = (now - this.#lastT) / 1000, ds = step - this.#lastStep;
    if (ds > 0 && dt > 0) {
      const r = ds / dt;
      // The first step after a start pays for compilation; begin the average from the second.
      this.#rate = step - this.#o.start <= 1
        ? NaN
        : Number.isNaN(this.#rate)
        ? r
        : 0.9 * this.#rate + 0.1 * r;
    }
    this.#lastT = now, this.#lastStep = step;
    const last = step >= this.#o.total;
    if (this.#io.isTerminal) {
      if (last || now - this.#lastDraw >= this.#o.redrawMs) {
        this.#lastDraw = now;
        this.#drawLive(this.#line(step, m, true));
      }
    } else if (step % this.#o.every === 0 || last) {
      this.#io.err(`${this.#line(step, m, false)}\n`);
    }
  }

  /** Prints a full line (above the live line on a terminal). */
  log(line: string): void {
    if (this.#io.isTerminal && this.#live) {
      this.#io.err(`\r${" ".repeat(this.#live.length)}\r${line}\n${this.#styled(this.#live)}`);
    } else this.#io.err(`${line}\n`);
  }

  /** Ends the live line (prints the newline). */
  done(): void {
    if (this.#io.isTerminal && this.#live) this.#io.err("\n");
    this.#live = "";
  }

  /** Seconds since the reporter was created. */
  get elapsed(): number {
    return (performance.now() - this.#t0) / 1000;
  }

  #line(step: number, m: { loss: number; lr: number; epoch?: number }, live: boolean): string {
    const { total, label } = this.#o;
    const w = String(total).length;
    const eta = (total - step) / this.#rate;
    const fields = [
      `${String(step).padStart(w)}/${total}`,
      ...(m.epoch === undefined ? [] : [`ep ${m.epoch}`]),
      `loss ${m.loss.toFixed(4)}`,
      `lr ${m.lr.toExponential(2)}`,
      `${Number.isNaN(this.#rate) ? "-" : this.#rate.toFixed(2)} it/s`,
      `ETA ${formatDuration(eta)}`,
      ...(live ? [] : [`elapsed ${formatDuration(this.elapsed)}`]),
    ];
    const text = fields.join("  ");
    if (!live) return `${label} ${text}`;
    const cols = Math.max(20, this.#io.columns()) - 1;
    const room = cols - label.length - text.length - 5;
    const barLen = Math.min(30, room);
    let bar = "";
    if (barLen >= 5) {
      const fill = Math.round((step / total) * barLen);
      bar = `[${"#".repeat(fill)}${".".repeat(barLen - fill)}] `;
    }
    const plain = `${label} ${bar}${text}`.slice(0, cols);
    return plain;
  }

  /** The label in bold when colour is allowed. */
  #styled(line: string): string {
    return this.#io.color ? line.replace(/^(\S+)/, "\x1b[1m$1\x1b[22m") : line;
  }

  #drawLive(line: string): void {
    const pad = Math.max(0, this.#live.length - line.length);
    this.#io.err(`\r${this.#styled(line)}${" ".repeat(pad)}`);
    this.#live = line;
  }
}
