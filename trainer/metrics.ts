/**
 * Metrics as JSON Lines (conventions §2.13): `runs/<name>/metrics.jsonl`, one object per line,
 * the first one the run's config (`type: "config"`), then `train`, `eval`, `checkpoint`,
 * `interrupt` and `final` records. Each record is written with one unbuffered write, so a
 * crash loses nothing already logged. A resumed run appends a new `config` record with
 * `resume_step`; {@link readMetrics} drops records a resume superseded.
 * @module
 */
import { TesseraError } from "../tensor/errors.ts";

/**
 * One metrics record: a `type` and JSON values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { MetricsRecord } from "./metrics.ts";
 * const r: MetricsRecord = { type: "train", step: 10, loss: 0.5, lr: 1e-3 };
 * assert.deepEqual(r.type, "train");
 * ```
 */
export interface MetricsRecord {
  /** Record kind: config, train, eval, checkpoint, interrupt, final. */
  type: string;
  /** Training step the record belongs to (absent on config records). */
  step?: number;
  /** Other fields. */
  [k: string]: unknown;
}

const enc = new TextEncoder();

/**
 * An append-only JSONL writer. Close it when done (or use `using`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MetricsLog, readMetrics } from "./metrics.ts";
 * const dir = await Deno.makeTempDir();
 * const log = await MetricsLog.open(`${dir}/metrics.jsonl`);
 * log.write({ type: "config", lr: 0.1 });
 * log.write({ type: "train", step: 1, loss: 2.3 });
 * log.close();
 * assert.deepEqual((await readMetrics(`${dir}/metrics.jsonl`)).length, 2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class MetricsLog {
  #file: Deno.FsFile | null;
  /** The file's path. */
  readonly path: string;

  private constructor(path: string, file: Deno.FsFile) {
    this.path = path;
    this.#file = file;
  }

  /** Opens (creating or appending to) a JSONL file. */
  static async open(path: string): Promise<MetricsLog> {
    const file = await Deno.open(path, { append: true, create: true });
    return new MetricsLog(path, file);
  }

  /** Appends one record as a line (with `wall_time`, Unix seconds, unless present). */
  write(record: MetricsRecord): void {
    if (!this.#file) {
      throw new TesseraError("MetricsLog.write", `metrics log ${this.path} is closed`);
    }
    const line = JSON.stringify({ ...record, wall_time: record.wall_time ?? Date.now() / 1000 });
    let bytes = enc.encode(`${line}\n`);
    while (bytes.length > 0) bytes = bytes.subarray(this.#file.writeSync(bytes));
  }

  /** Closes the file (idempotent). */
  close(): void {
    this.#file?.close();
    this.#file = null;
  }

  /** Same as {@link MetricsLog.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Parses JSONL text. Records after a later `config` record's `resume_step` are dropped (they
 * belong to steps a resumed run redid); a torn last line (a crash mid-write) is ignored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMetrics } from "./metrics.ts";
 * const text = [
 *   { type: "config" }, { type: "train", step: 1 }, { type: "train", step: 2 },
 *   { type: "config", resume_step: 1 }, { type: "train", step: 2 },
 * ].map((r) => JSON.stringify(r)).join("\n");
 * assert.deepEqual(parseMetrics(text).filter((r) => r.type === "train").length, 2);
 * ```
 */
export function parseMetrics(text: string): MetricsRecord[] {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  let out: MetricsRecord[] = [];
  lines.forEach((line, i) => {
    let r: MetricsRecord;
    try {
      r = JSON.parse(line);
    } catch (e) {
      if (i === lines.length - 1) return;
      throw new TesseraError(
        "parseMetrics",
        `metrics line ${i + 1} is not JSON: ${(e as Error).message}`,
      );
    }
    if (r.type === "config" && typeof r.resume_step === "number") {
      const s = r.resume_step;
      out = out.filter((x) => x.type === "config" || x.step === undefined || x.step <= s);
    }
    out.push(r);
  });
  return out;
}

/** Reads and parses a metrics file (see {@link parseMetrics}). */
export async function readMetrics(path: string): Promise<MetricsRecord[]> {
  return parseMetrics(await Deno.readTextFile(path));
}

/**
 * The first fields of a Task's final record, in this order: `model`, `params` (the parameter
 * count), the image counts of `images` (`train_images`, `val_images` or `test_images`) and
 * `train_loss`; the Task's metrics follow them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summaryHead } from "./metrics.ts";
 * const f = summaryHead("vit-tiny-fmnist", 1200, { train_images: 8, val_images: 4 }, 0.5);
 * assert.deepEqual(Object.keys(f), ["model", "params", "train_images", "val_images", "train_loss"]);
 * ```
 */
export function summaryHead(
  model: string,
  params: number,
  images: Record<string, number>,
  loss: number,
): Record<string, unknown> {
  return { model, params, ...images, train_loss: loss };
}
