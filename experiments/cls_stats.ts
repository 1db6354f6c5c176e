/**
 * The statistics of `experiment-cls`: the orderings the paper claims, the paired two-level
 * bootstrap of each over the test images (runs of an arm = its pre-training × fine-tuning seeds),
 * and the verdict computed from the interval — never typed by hand.
 * @module
 */
import { pairedBootstrapRuns, type PairedRunsResult } from "../data/eval/paired_runs.ts";
import { readPredictions } from "../trainer/predictions.ts";

/** A claimed ordering: `a claim b` (`>` better, `>=` not worse, `~` no difference). */
export interface Claim {
  a: string;
  b: string;
  claim: ">" | ">=" | "~";
  /** Where the paper says so. */
  source: string;
}

/** The orderings the paper claims, as arms of cls_presets.ts. */
export const CLAIMS: readonly Claim[] = [
  { a: "splitmask", b: "beit", claim: ">=", source: "Tab. 2: SplitMask matches or beats BEiT" },
  { a: "splitmask", b: "beit-eq", claim: ">=", source: "§5.2: also at equal compute" },
  { a: "beit", b: "random", claim: ">", source: "Tab. 2: pre-training helps" },
  { a: "splitmask", b: "random", claim: ">", source: "Tab. 2: pre-training helps" },
  { a: "splitmask-small", b: "splitmask", claim: ">=", source: "§5.5: small-data recipe" },
  { a: "splitmask", b: "dino", claim: ">", source: "Fig. 1: DINO gains least on small data" },
  { a: "beit", b: "dino", claim: ">", source: "Fig. 1: DINO gains least on small data" },
  { a: "splitmask", b: "splitmask-inpaint", claim: ">", source: "Tab. 8: both losses best" },
  { a: "splitmask", b: "splitmask-match", claim: ">", source: "Tab. 8: both losses best" },
  { a: "beit-rp", b: "beit", claim: "~", source: "Tab. 7: the tokenizer matters little" },
];

/** A claim with its measured comparison. */
export interface Comparison extends Claim {
  result: PairedRunsResult;
}

/**
 * The final fine-tuning runs of an arm (`ft-<arm>-p<P>-s<S>`), sorted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { armRuns } from "./cls_stats.ts";
 * const names = ["ft-beit-p0-s0", "ft-beit-eq-p0-s0", "ft-beit-rp-p0-s0", "tune-beit-0", "ft-beit-p1-s0"];
 * assert.deepEqual(armRuns(names, "beit"), ["ft-beit-p0-s0", "ft-beit-p1-s0"]);
 * ```
 */
export function armRuns(names: Iterable<string>, arm: string): string[] {
  const re = new RegExp(`^ft-${arm.replace(/[-]/g, "\\-")}-p\\d+-s\\d+$`);
  return [...names].filter((n) => re.test(n)).sort((x, y) =>
    x.localeCompare(y, "en", { numeric: true })
  );
}

/**
 * Whether a claim holds given its interval: `>` needs the interval above 0; `>=` needs it not
 * entirely below 0; `~` needs it to contain 0. The text says which way a failing one goes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { verdictOf } from "./cls_stats.ts";
 * assert.deepEqual(verdictOf(">", [0.001, 0.02]), { holds: true, text: "A better (significant)" });
 * assert.deepEqual(verdictOf(">", [-0.01, 0.02]).holds, false);
 * assert.deepEqual(verdictOf(">=", [-0.01, 0.02]).holds, true);
 * ```
 */
export function verdictOf(
  claim: Claim["claim"],
  ci: readonly [number, number],
): { holds: boolean; text: string } {
  const text = ci[0] > 0
    ? "A better (significant)"
    : ci[1] < 0
    ? "B better (significant)"
    : "no significant difference";
  const holds = claim === ">" ? ci[0] > 0 : claim === ">=" ? ci[1] >= 0 : ci[0] <= 0 && ci[1] >= 0;
  return { holds, text };
}

/**
 * Reads the test predictions of every final run and compares the arms of each claim present in
 * `done` (two-level paired bootstrap, `resamples` draws, seeded per claim).
 *
 * @param out the experiment's folder (run directories under it)
 * @param names the finished jobs
 * @param resamples bootstrap draws per comparison
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareArms } from "./cls_stats.ts";
 * import { writePredictions } from "../trainer/predictions.ts";
 * const out = await Deno.makeTempDir();
 * for (const [name, preds] of [["ft-beit-p0-s0", [1, 1, 1, 0]], ["ft-random-p0-s0", [1, 0, 0, 0]]] as const) {
 *   await Deno.mkdir(`${out}/${name}`);
 *   await writePredictions(`${out}/${name}`, { split: "test", labels: [1, 1, 1, 1], predictions: [...preds] });
 * }
 * const [c] = await compareArms(out, ["ft-beit-p0-s0", "ft-random-p0-s0"], 200);
 * assert.deepEqual([c!.a, c!.b, c!.result.diff], ["beit", "random", 0.5]);
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export async function compareArms(
  out: string,
  names: Iterable<string>,
  resamples = 4000,
): Promise<Comparison[]> {
  const all = [...names];
  const cache = new Map<string, number[][]>();
  const scores = async (arm: string) => {
    if (!cache.has(arm)) {
      const runs = armRuns(all, arm);
      cache.set(
        arm,
        await Promise.all(
          runs.map(async (r) => (await readPredictions(`${out}/${r}`, "test")).correct),
        ),
      );
    }
    return cache.get(arm)!;
  };
  const comparisons: Comparison[] = [];
  for (const [i, c] of CLAIMS.entries()) {
    const a = await scores(c.a), b = await scores(c.b);
    if (a.length === 0 || b.length === 0) continue;
    comparisons.push({ ...c, result: pairedBootstrapRuns(a, b, { resamples, seed: 1 + i }) });
  }
  return comparisons;
}
