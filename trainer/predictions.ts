/**
 * Per-image predictions of a classification run, `predictions_<split>.json` in its run directory
 * (rewritten at every evaluation, so it holds the last one): what a paired comparison of two runs
 * on the same images needs (data/eval/paired_stats.ts), which a single accuracy does not carry.
 * @module
 */
import { TesseraError } from "../tensor/errors.ts";

/** The contents of a predictions file. */
export interface Predictions {
  /** "test" or "val". */
  split: string;
  /** True labels, image by image. */
  labels: number[];
  /** Predicted labels (argmax of the logits), image by image. */
  predictions: number[];
}

/**
 * Writes `dir/predictions_<split>.json` atomically (a temporary file renamed over it).
 *
 * @param dir the run directory
 * @param p the predictions
 * @returns the path written
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPredictions, writePredictions } from "./predictions.ts";
 * const dir = await Deno.makeTempDir();
 * await writePredictions(dir, { split: "val", labels: [1, 2], predictions: [1, 0] });
 * assert.deepEqual((await readPredictions(dir, "val")).correct, [1, 0]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writePredictions(dir: string, p: Predictions): Promise<string> {
  if (p.labels.length !== p.predictions.length) {
    throw new TesseraError(
      "writePredictions",
      `${p.labels.length} labels but ${p.predictions.length} predictions`,
    );
  }
  const path = `${dir}/predictions_${p.split}.json`, tmp = `${path}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(p) + "\n");
  await Deno.rename(tmp, path);
  return path;
}

/**
 * Reads a run's `predictions_<split>.json`, with the per-image correctness (1 right, 0 wrong).
 *
 * @param dir the run directory
 * @param split "test" (default) or "val"
 * @returns the predictions and their correctness
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPredictions } from "./predictions.ts";
 * await assert.rejects(readPredictions("/no/such/run"), /readPredictions: \/no\/such\/run/);
 * ```
 */
export async function readPredictions(
  dir: string,
  split = "test",
): Promise<Predictions & { correct: number[] }> {
  const path = `${dir}/predictions_${split}.json`;
  let p: Predictions;
  try {
    p = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new TesseraError("readPredictions", `${path}: ${(e as Error).message}`);
  }
  if (
    !Array.isArray(p.labels) || !Array.isArray(p.predictions) ||
    p.labels.length !== p.predictions.length
  ) {
    throw new TesseraError("readPredictions", `${path}: not a predictions file`);
  }
  return { ...p, correct: p.labels.map((l, i) => (l === p.predictions[i] ? 1 : 0)) };
}
