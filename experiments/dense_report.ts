/**
 * The report of `experiment-dense`: the configuration, a table of every arm's box AP, mask AP
 * and mIoU (per run and mean ± std over runs) on the comparison images, one row per claimed
 * ordering and metric with the paired-bootstrap difference, its interval and p-value and the
 * verdict computed from them, and a dot plot (SVG) of every run's scores per arm.
 * @module
 */
import { lineChart } from "../trainer/plot.ts";
import type { DenseExperimentConfig } from "./dense_presets.ts";
import { DENSE_METRICS, type DenseStatistics } from "./dense_stats.ts";

const pct = (x: number) => (100 * x).toFixed(1);
const signed = (x: number) => (x >= 0 ? "+" : "−") + (100 * Math.abs(x)).toFixed(2);

/** Arm labels of the report, in table order. */
export function denseArmLabels(cfg: DenseExperimentConfig): [string, string][] {
  return [
    ["random", "Random init (equal budget)"],
    ["random-long", `Random init (${cfg.randomLong}× budget)`],
    ...cfg.arms.map((a) => [a.name, a.label] as [string, string]),
  ];
}

/**
 * The Markdown report of a finished experiment.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderDenseReport } from "./dense_report.ts";
 * import { DENSE_PRESETS } from "./dense_presets.ts";
 * const md = renderDenseReport({ preset: "quick" }, DENSE_PRESETS.quick, { images: { det: 2, seg: 2 }, arms: {}, comparisons: [] });
 * assert.match(md, /^## Dense-prediction transfer/);
 * ```
 */
export function renderDenseReport(
  meta: Record<string, unknown>,
  cfg: DenseExperimentConfig,
  s: DenseStatistics,
  done: ReadonlyMap<string, Record<string, unknown>> = new Map(),
): string {
  const L: string[] = [];
  const runs = cfg.pretrainSeeds.length * cfg.seeds.length;
  L.push(
    `## Dense-prediction transfer at small scale (\`experiment-dense\`, ${meta.preset} preset)`,
    "",
    `FMNIST-Scenes \`${cfg.scenes}\`. Encoder \`${cfg.encoder.join(" ")}\` for every arm. ` +
      `Self-supervised arms pre-train on the scene training images only (labels unused): ` +
      `\`pretrain ${cfg.pretrain.join(" ")}\`; the supervised arm trains on Fashion-MNIST ` +
      `classification: \`finetune ${cfg.supervised.join(" ")}\`. Fine-tuning, one fixed recipe ` +
      `per task (nothing tuned here): \`detect ${cfg.detect.join(" ")}\`; \`segment ` +
      `${cfg.segment.join(" ")}\` with \`${cfg.segmentPretrained.join(" ")}\` for pre-trained ` +
      `encoders and \`${cfg.segmentRandom.join(" ")}\` for random init. Encoder seeds ` +
      `${cfg.pretrainSeeds.join(", ")} × fine-tuning seeds ${cfg.seeds.join(", ")}: ${runs} ` +
      `run(s) per arm and task. ` +
      `Scored on the val images after the first ${cfg.compareFrom} by file name (${s.images.det} ` +
      `for detection, ${s.images.seg} for segmentation; the first ${cfg.compareFrom} chose the ` +
      `recipes). ` +
      `Date ${meta.date ?? "?"}; ${meta.cores ?? "?"} cores, ${meta.jobs ?? "?"} jobs at once; ` +
      `Deno ${meta.deno ?? "?"}; whole run ${meta.seconds ?? "?"} s.`,
    "",
    "| arm | " + DENSE_METRICS.map((m) => `${m.label} per run`).join(" | ") + " | " +
      DENSE_METRICS.map((m) => `${m.label} mean ± std`).join(" | ") + " |",
    "|---|" + DENSE_METRICS.map(() => "---|---|").join(""),
  );
  for (const [arm, label] of denseArmLabels(cfg)) {
    const cells = DENSE_METRICS.map((m) => s.arms[m.key]?.[arm]);
    if (cells.every((c) => c === undefined)) continue;
    const per = cells.map((c) => (c ? c.scores.map(pct).join(", ") : "—"));
    const ms = cells.map((c) => (c ? `${pct(c.mean)} ± ${pct(c.std)} (${c.scores.length})` : "—"));
    L.push(`| ${label} | ${per.join(" | ")} | ${ms.join(" | ")} |`);
  }
  L.push(...budgetTable(cfg, done));
  L.push(
    "",
    "Each claimed ordering, per metric: A − B in points, the 95 % interval and p of the two-level " +
      "paired bootstrap (runs, then images; the metric recomputed on each resample), and " +
      "whether the claim holds (`>`: interval above 0; `≥`: interval reaches 0 or above).",
    "",
    "| claim | metric | A − B | 95 % interval | p | holds | source |",
    "|---|---|---|---|---|---|---|",
  );
  const label = (k: string) => DENSE_METRICS.find((m) => m.key === k)!.label;
  for (const c of s.comparisons) {
    const r = c.result;
    L.push(
      `| ${c.a} ${c.claim === ">" ? ">" : "≥"} ${c.b} | ${label(c.metric)} | ${signed(r.diff)} | ` +
        `[${signed(r.ci[0])}, ${signed(r.ci[1])}] | ${r.p.toFixed(4)} | ` +
        `${c.holds ? "yes" : "no"} (${c.verdict}) | ${c.source} |`,
    );
  }
  L.push("");
  return L.join("\n");
}

/** Mean of a numeric field over the jobs whose names match `re`, or null. */
function meanOf(done: ReadonlyMap<string, Record<string, unknown>>, re: RegExp, key: string) {
  const xs = [...done].filter(([k]) => re.test(k)).map(([, r]) => r[key])
    .filter((v): v is number => typeof v === "number");
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** The budget of each arm: pre-training steps and seconds, fine-tuning seconds per task. */
function budgetTable(
  cfg: DenseExperimentConfig,
  done: ReadonlyMap<string, Record<string, unknown>>,
): string[] {
  if (done.size === 0) return [];
  const cell = (v: number | null, digits = 0) => (v === null ? "—" : v.toFixed(digits));
  const L = [
    "",
    "| arm | pre-training steps | pre-training s | Mask R-CNN s per run | UperNet s per run |",
    "|---|---|---|---|---|",
  ];
  for (const [arm, label] of denseArmLabels(cfg)) {
    const pre = new RegExp(`^pre-${arm}-p\\d+$`);
    const run = (t: string) => new RegExp(`^${t}-${arm}-p\\d+-s\\d+$`);
    L.push(
      `| ${label} | ${cell(meanOf(done, pre, "steps"))} | ${
        cell(meanOf(done, pre, "seconds"), 1)
      } | ` +
        `${cell(meanOf(done, run("det"), "seconds"), 1)} | ${
          cell(meanOf(done, run("seg"), "seconds"), 1)
        } |`,
    );
  }
  return L;
}

/**
 * A dot plot of every run's scores: x is the arm's position in {@link denseArmLabels}, one series
 * per metric.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denseSvg } from "./dense_report.ts";
 * import { DENSE_PRESETS } from "./dense_presets.ts";
 * const arms = { random: { runs: ["a"], scores: [0.1], mean: 0.1, std: 0 } };
 * const svg = denseSvg(DENSE_PRESETS.quick, { images: { det: 1, seg: 1 }, arms: { miou: arms }, comparisons: [] });
 * assert.match(svg, /^<svg/);
 * ```
 */
export function denseSvg(cfg: DenseExperimentConfig, s: DenseStatistics): string {
  const arms = denseArmLabels(cfg);
  return lineChart({
    title: "Dense transfer: every run (points) per arm",
    xLabel: arms.map(([a], i) => `${i + 1} ${a}`).join(" · "),
    yLabel: "score",
    yInclude: [0],
    xInclude: [0.5, arms.length + 0.5],
    series: DENSE_METRICS.map((m, j) => ({
      name: m.label,
      style: "markers" as const,
      points: arms.flatMap(([a], i) =>
        (s.arms[m.key]?.[a]?.scores ?? []).map((v) =>
          [i + 1 + (j - 1) * 0.15, v] as [number, number]
        )
      ),
    })),
  });
}
