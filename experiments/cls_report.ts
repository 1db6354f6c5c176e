/**
 * The Markdown report of `experiment-cls`: one row per arm (pre-training compute, fine-tuning
 * top-1 per seed with mean ± half-range, linear-probe top-1), the pixel floor, the plateau
 * check, and plain statements of whether the paper's ordering holds.
 * @module
 */

/** A job's final JSON line (the fields the report reads). */
export type ArmResult = Record<string, unknown>;

/** Mean and half-range of a list. */
function stats(xs: number[]): { mean: number; half: number } {
  const mean = xs.reduce((a, c) => a + c, 0) / xs.length;
  return { mean, half: (Math.max(...xs) - Math.min(...xs)) / 2 };
}

const pct = (x: number) => (x * 100).toFixed(2);
const tflop = (r: ArmResult) =>
  (((r.flops_per_step as number) * (r.steps as number)) / 1e12).toPrecision(3);
const ARMS: [string, string][] = [
  ["random", "Random init"],
  ["splitmask", "SplitMask"],
  ["beit", "BEiT"],
  ["beit-eq", "BEiT, equal compute"],
  ["dino", "DINO"],
];

/**
 * Fine-tuning accuracies of an arm over its seeds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { armAccuracies } from "./cls_report.ts";
 * const done = new Map([["ft-beit-s0", { test_accuracy: 0.8 }], ["ft-beit-s1", { test_accuracy: 0.9 }]]);
 * assert.deepEqual(armAccuracies(done, "beit"), [0.8, 0.9]);
 * ```
 */
export function armAccuracies(done: Map<string, ArmResult>, arm: string): number[] {
  return [...done.entries()]
    .filter(([k]) => k.startsWith(`ft-${arm}-s`))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, r]) => r.test_accuracy as number);
}

/**
 * Renders the report.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderReport } from "./cls_report.ts";
 * const md = renderReport({ preset: "quick" }, new Map());
 * assert.deepEqual(md.startsWith("## Central comparison"), true);
 * ```
 */
export function renderReport(meta: Record<string, unknown>, done: Map<string, ArmResult>): string {
  const cfg = meta.config as { subset?: number; testLimit?: number | null } | undefined;
  const lines: string[] = [];
  lines.push(
    `## Central comparison at small scale (\`experiment-cls\`, ${meta.preset} preset)`,
    "",
  );
  const first = [...done.values()].find((r) => typeof r.backend === "string");
  lines.push(
    `Fashion-MNIST, class-balanced training subset of ${cfg?.subset ?? "?"} images ` +
      `(labels used only for fine-tuning, probing and the floor), tested on ` +
      `${
        cfg?.testLimit == null ? "the full 10,000-image test set" : `${cfg.testLimit} test images`
      }. ` +
      `Backend: ${first?.backend ?? "?"}; ${meta.cores ?? "?"} cores, ${
        meta.jobs ?? "?"
      } jobs at once; ` +
      `Deno ${meta.deno ?? "?"}; ${meta.date ?? ""}; whole run ${meta.seconds ?? "?"} s.`,
    "",
  );
  lines.push(
    "| arm | pre-training steps | pre-training TFLOP | pre-training time | fine-tune top-1 per seed | mean ± half-range | 2× fine-tuning (seed 0) | linear probe |",
    "|---|---|---|---|---|---|---|---|",
  );
  const means: Record<string, { mean: number; half: number }> = {};
  const longs: Record<string, { mean: number; half: number }> = {};
  for (const [arm, label] of ARMS) {
    const pre = done.get(`pre-${arm}`);
    const accs = armAccuracies(done, arm);
    const probe = done.get(`probe-${arm}`);
    const long = done.get(arm === "random" ? "plateau-random" : `long-${arm}`);
    if (long) longs[arm] = { mean: long.test_accuracy as number, half: 0 };
    if (accs.length > 0) means[arm] = stats(accs);
    const s = means[arm];
    lines.push(
      `| ${label} | ${pre ? pre.steps : "–"} | ${pre ? tflop(pre) : "–"} | ` +
        `${pre ? `${pre.seconds} s (${pre.seconds_per_step} s/step)` : "–"} | ` +
        `${accs.map(pct).join(", ") || "–"} | ${s ? `${pct(s.mean)} ± ${pct(s.half)}` : "–"} | ` +
        `${long ? pct(long.test_accuracy as number) : "–"} | ` +
        `${probe ? pct(probe.test_accuracy as number) : "–"} |`,
    );
  }
  const floor = done.get("floor");
  const plateau = done.get("plateau-random");
  lines.push("");
  if (floor) {
    lines.push(
      `Floor: logistic regression on the raw pixels of the same subset: ` +
        `**${pct(floor.test_accuracy as number)}%** top-1.`,
    );
  }
  const r0 = armAccuracies(done, "random")[0];
  if (plateau && r0 !== undefined) {
    const d = (plateau.test_accuracy as number) - r0;
    lines.push(
      `Plateau check: random init with twice the fine-tuning budget (${plateau.steps} steps) ` +
        `reaches ${pct(plateau.test_accuracy as number)}% vs ${pct(r0)}% (same seed), ` +
        `${d >= 0 ? "+" : ""}${(d * 100).toFixed(2)} points: ` +
        `${
          Math.abs(d) <= 0.01
            ? "the random-init arm has plateaued"
            : "the random-init arm has NOT fully plateaued"
        }.`,
    );
  }
  lines.push("", "**Does the paper's ordering hold here?**", "");
  lines.push(
    "With the shared fine-tuning budget (mean of the seeds):",
    "",
    ...verdicts(means, floor?.test_accuracy as number | undefined),
  );
  if (Object.keys(longs).length > 0) {
    lines.push(
      "",
      "With twice the fine-tuning budget (seed 0 only):",
      "",
      ...verdicts(longs, undefined),
    );
  }
  return lines.join("\n") + "\n";
}

/** Plain statements on the paper's ordering (SplitMask ≥ BEiT > random; DINO weaker). */
function verdicts(
  m: Record<string, { mean: number; half: number }>,
  floor: number | undefined,
): string[] {
  const out: string[] = [];
  const cmp = (a: string, b: string, rel: ">=" | ">") => {
    if (!m[a] || !m[b]) return `- ${a} ${rel} ${b}: not measured.`;
    const d = m[a]!.mean - m[b]!.mean;
    const noise = m[a]!.half + m[b]!.half;
    const holds = rel === ">=" ? d >= 0 : d > 0;
    return `- ${a} ${rel} ${b}: ${holds ? "**yes**" : "**no**"} (${pct(m[a]!.mean)} vs ${
      pct(m[b]!.mean)
    }, Δ ${(d * 100).toFixed(2)} points${Math.abs(d) <= noise ? ", within the seed spread" : ""}).`;
  };
  out.push(cmp("splitmask", "beit", ">="));
  out.push(cmp("splitmask", "beit-eq", ">="));
  out.push(cmp("beit", "random", ">"));
  out.push(cmp("splitmask", "random", ">"));
  if (m.dino && m.splitmask && m.beit) {
    const weaker = m.dino.mean < Math.min(m.splitmask.mean, m.beit.mean);
    out.push(
      `- DINO weaker than SplitMask and BEiT on small data: ${weaker ? "**yes**" : "**no**"} ` +
        `(${pct(m.dino.mean)} vs ${pct(m.splitmask.mean)} / ${pct(m.beit.mean)}).`,
    );
  }
  if (floor !== undefined) {
    const below = Object.entries(m).filter(([, s]) => s.mean <= floor).map(([k]) => k);
    out.push(
      `- Every arm beats the pixel floor (${pct(floor)}%): ${
        below.length === 0 ? "**yes**" : `**no** (${below.join(", ")})`
      }.`,
    );
  }
  return out;
}
