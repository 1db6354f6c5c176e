/**
 * The Markdown report of `experiment-cls` (protocol v2): one row per arm (pre-training compute and
 * wall time, the setting chosen on validation, fine-tuning top-1 per run with mean ± std, probe
 * top-1), random init's validation grid, the paired comparisons with their intervals and p-values
 * and the verdict on each ordering the paper claims, the pre-training-length curve (and its SVG),
 * and the pixel floor.
 * @module
 */
import { lineChart } from "../trainer/plot.ts";
import type { ArmSpec, ExperimentConfig } from "./cls_presets.ts";
import { armRuns, type Comparison, verdictOf } from "./cls_stats.ts";

/** A job's final JSON line (the fields the report reads). */
export type ArmResult = Record<string, unknown>;

/** Mean and sample standard deviation (0 for one value). */
function meanStd(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, c) => a + c, 0) / xs.length;
  const v = xs.length > 1 ? xs.reduce((a, c) => a + (c - mean) ** 2, 0) / (xs.length - 1) : 0;
  return { mean, std: Math.sqrt(v) };
}

const pct = (x: number) => (x * 100).toFixed(2);
const pts = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(2)}`;
const tflop = (r: ArmResult) =>
  (((r.flops_per_step as number) * (r.steps as number)) / 1e12).toPrecision(3);
const acc = (r: ArmResult | undefined) => r?.test_accuracy as number;

/** A tuning run's grid flags: those after `--val-split N`, before `--init`/`--seed`. */
function gridPart(r: ArmResult): string {
  const a = (r.args as string[] | undefined) ?? [];
  const i = a.indexOf("--val-split");
  const rest = a.slice(i + 2);
  const end = rest.findIndex((x) => x === "--init" || x === "--seed");
  return rest.slice(0, end < 0 ? undefined : end).join(" ") || "–";
}

/**
 * Fine-tuning test accuracies of an arm over its final runs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { armAccuracies } from "./cls_report.ts";
 * const done = new Map([["ft-beit-p0-s0", { test_accuracy: 0.8 }], ["ft-beit-eq-p0-s0", { test_accuracy: 0.9 }]]);
 * assert.deepEqual(armAccuracies(done, "beit"), [0.8]);
 * ```
 */
export function armAccuracies(done: Map<string, ArmResult>, arm: string): number[] {
  return armRuns(done.keys(), arm).map((k) => acc(done.get(k)));
}

/**
 * The pre-training-length curve (the paper's Fig. 3 at small scale) as SVG: fine-tuned test
 * top-1 against pre-training steps, one line per curve arm (null when nothing was run).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { curveSvg } from "./cls_report.ts";
 * const done = new Map([["curve-pre-beit-0", { steps: 10 }], ["curve-ft-beit-0", { test_accuracy: 0.5 }]]);
 * assert.ok(curveSvg(done, ["beit"])!.startsWith("<svg"));
 * ```
 */
export function curveSvg(done: Map<string, ArmResult>, arms: readonly string[]): string | null {
  const series = arms.map((arm) => ({
    name: arm,
    points: curvePoints(done, arm),
    style: "both" as const,
  }));
  if (series.every((s) => s.points.length === 0)) return null;
  return lineChart({
    title: "Fine-tuned top-1 against pre-training length",
    xLabel: "pre-training steps",
    yLabel: "test top-1",
    series,
  });
}

/** `[pre-training steps, fine-tuned top-1]` of an arm's curve runs and its main run (p0, s0). */
function curvePoints(done: Map<string, ArmResult>, arm: string): [number, number][] {
  const pts: [number, number][] = [];
  for (let k = 0; done.has(`curve-pre-${arm}-${k}`); k++) {
    const ft = done.get(`curve-ft-${arm}-${k}`);
    if (ft) pts.push([done.get(`curve-pre-${arm}-${k}`)!.steps as number, acc(ft)]);
  }
  const main = done.get(armRuns(done.keys(), arm)[0] ?? ""), pre = done.get(`pre-${arm}-p0`);
  if (main && pre) pts.push([pre.steps as number, acc(main)]);
  return pts.sort((x, y) => x[0] - y[0]);
}

/**
 * Renders the report.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderReport } from "./cls_report.ts";
 * const md = renderReport({ preset: "quick" }, new Map(), []);
 * assert.deepEqual(md.startsWith("## Central comparison"), true);
 * ```
 */
export function renderReport(
  meta: Record<string, unknown>,
  done: Map<string, ArmResult>,
  comparisons: readonly Comparison[],
): string {
  const cfg = meta.config as Partial<ExperimentConfig> | undefined;
  const arms: ArmSpec[] = cfg?.arms ?? [];
  const L: string[] = [];
  L.push(`## Central comparison at small scale (\`experiment-cls\`, ${meta.preset} preset)`, "");
  const first = [...done.values()].find((r) => typeof r.backend === "string");
  const params = done.get(armRuns(done.keys(), "random")[0] ?? "")?.params;
  L.push(
    `Fashion-MNIST: class-balanced training subset of ${cfg?.subset ?? "?"} images (labels used ` +
      `only for fine-tuning, probing and the floor); every setting chosen on ${
        cfg?.valSplit ?? "?"
      } validation images carved from the end of the training file (never trained on, never ` +
      `tested); tested once per final run on ${
        cfg?.testLimit == null ? "the full 10,000-image test set" : `${cfg.testLimit} test images`
      }. Encoder \`${(cfg?.encoder ?? []).join(" ")}\`${
        typeof params === "number"
          ? ` (${params.toLocaleString("en")} parameters with the head)`
          : ""
      }; ${cfg?.pretrainSeeds?.length ?? "?"} ` +
      `pre-training seeds (ablation arms ${cfg?.extraSeeds?.length ?? "?"}) × ` +
      `${cfg?.seeds?.length ?? "?"} fine-tuning seeds. ${recipeSentence(cfg)} ` +
      `Backend: ${first?.backend ?? "?"}; ` +
      `${meta.cores ?? "?"} cores, ${meta.jobs ?? "?"} jobs at once; Deno ${meta.deno ?? "?"}; ` +
      `${meta.date ?? ""}; whole run ${meta.seconds ?? "?"} s.`,
    "",
    "| arm | pre-training steps × runs | TFLOP per run | s per run | setting chosen on val (val top-1) | fine-tune top-1 per run | mean ± std (n) | linear probe (mean) |",
    "|---|---|---|---|---|---|---|---|",
  );
  for (const arm of arms) {
    const pres = [...done.entries()].filter(([k]) => new RegExp(`^pre-${arm.name}-p\\d+$`).test(k))
      .map(([, r]) => r);
    const accs = armAccuracies(done, arm.name);
    const probes = [...done.entries()].filter(([k]) => k.startsWith(`probe-${arm.name}-p`))
      .map(([, r]) => acc(r));
    const from = arm.settingOf ?? arm.name, best = bestTune(done, from);
    const s = accs.length ? meanStd(accs) : null;
    const p0 = pres[0];
    L.push(
      `| ${arm.label} | ${p0 ? `${p0.steps} × ${pres.length}` : "–"} | ${p0 ? tflop(p0) : "–"} | ` +
        `${pres.length ? meanStd(pres.map((r) => r.seconds as number)).mean.toFixed(0) : "–"} | ` +
        `${best ? `\`${gridPart(best)}\` (${pct(best.val_accuracy as number)})` : "–"}${
          from === arm.name ? "" : ` as ${from}`
        } | ` +
        `${accs.map(pct).join(", ") || "–"} | ` +
        `${s ? `${pct(s.mean)} ± ${pct(s.std)} (${accs.length})` : "–"} | ` +
        `${probes.length ? pct(meanStd(probes).mean) : "–"} |`,
    );
  }
  L.push("");
  const sm = done.get("pre-splitmask-p0"), be = done.get("pre-beit-p0");
  if (sm && be) {
    const f = (sm.flops_per_step as number) / (be.flops_per_step as number);
    const w = (sm.seconds_per_step as number) / (be.seconds_per_step as number);
    L.push(
      `Compute: a SplitMask step costs ${f.toFixed(2)}× a BEiT step in FLOPs and ` +
        `${w.toFixed(2)}× in wall time (the paper's ratio: ≈ 1.05–1.33×).`,
    );
  }
  const floor = done.get("floor");
  if (floor) {
    L.push(`Floor: logistic regression on the raw pixels: **${pct(acc(floor))}%** top-1.`);
  }
  L.push(...grids(done, arms), ...comparisonTable(comparisons), ...curveLines(done, cfg));
  return L.join("\n") + "\n";
}

/** How the pre-trained arms' fine-tuning was set (protocol v2.1 grids, or v2's fixed recipe). */
function recipeSentence(cfg: Partial<ExperimentConfig> | undefined): string {
  const old = (cfg as { recipe?: string[] } | undefined)?.recipe;
  if (old) return `Pre-trained arms fine-tune with \`${old.join(" ")}\`.`;
  const q = (xs: string[][] | undefined) => (xs ?? []).map((x) => `\`${x.join(" ")}\``).join(" / ");
  return `Pre-trained arms choose on validation among the recipes ${q(cfg?.recipes)} × ` +
    `lengths ${q(cfg?.lengths)} × lr ${(cfg?.lrGrid ?? []).join(" / ")}; the ablation arms ` +
    `use their main arm's choice.`;
}

/** An arm's validation runs (`tune-<arm>-<k>`) in grid order. */
function armTunes(done: Map<string, ArmResult>, arm: string): ArmResult[] {
  const out: ArmResult[] = [];
  for (let k = 0; done.has(`tune-${arm}-${k}`); k++) out.push(done.get(`tune-${arm}-${k}`)!);
  return out;
}

/** The validation run an arm's setting came from (the first best, as chosenSetting). */
function bestTune(done: Map<string, ArmResult>, arm: string): ArmResult | undefined {
  return armTunes(done, arm).reduce<ArmResult | undefined>(
    (b, t) => (!b || (t.val_accuracy as number) > (b.val_accuracy as number) ? t : b),
    undefined,
  );
}

/** The value after `flag` in a run's grid flags (NaN when absent). */
function flagValue(r: ArmResult, flags: readonly string[]): number {
  const g = gridPart(r).split(" "), i = g.findIndex((x) => flags.includes(x));
  return i < 0 ? NaN : Number(g[i + 1]);
}

/**
 * Where a chosen setting sits on the edge of its grid (a wider grid might have done better): the
 * largest or smallest lr tried, the longest length tried.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gridEdges } from "./cls_report.ts";
 * const t = (lr: number, v: number) => ({ args: ["--val-split", "9", "--lr", String(lr)], val_accuracy: v });
 * const done = new Map([["tune-a-0", t(1, 0.5)], ["tune-a-1", t(3, 0.7)]]);
 * assert.deepEqual(gridEdges(done, "a"), ["largest lr"]);
 * ```
 */
export function gridEdges(done: Map<string, ArmResult>, arm: string): string[] {
  const tunes = armTunes(done, arm), best = bestTune(done, arm);
  if (!best) return [];
  const edges: string[] = [];
  const lrs = tunes.map((t) => flagValue(t, ["--lr"])), lr = flagValue(best, ["--lr"]);
  if (new Set(lrs).size > 1) {
    if (lr === Math.max(...lrs)) edges.push("largest lr");
    if (lr === Math.min(...lrs)) edges.push("smallest lr");
  }
  const lens = tunes.map((t) => flagValue(t, ["--epochs", "--steps"]));
  const len = flagValue(best, ["--epochs", "--steps"]);
  if (new Set(lens.filter((x) => !isNaN(x))).size > 1 && len === Math.max(...lens)) {
    edges.push("longest length");
  }
  return edges;
}

/** Every arm's validation grid, and which choices sit on a grid edge. */
function grids(done: Map<string, ArmResult>, arms: readonly ArmSpec[]): string[] {
  const rows: string[] = [], edges: string[] = [];
  for (const arm of arms) {
    const tunes = armTunes(done, arm.name), best = bestTune(done, arm.name);
    for (const t of tunes) {
      rows.push(
        `| ${arm.name} | \`${gridPart(t)}\` | ${pct(t.val_accuracy as number)}${
          t === best ? " (chosen)" : ""
        } |`,
      );
    }
    const e = gridEdges(done, arm.name);
    if (e.length) edges.push(`${arm.name} (${e.join(", ")})`);
  }
  if (rows.length === 0) return [];
  return [
    "",
    "Validation grids (the best of each arm is used for its final runs; random init's " +
    "longer length is the plateau check):",
    "",
    "| arm | setting | val top-1 |",
    "|---|---|---|",
    ...rows,
    ...(edges.length
      ? [
        "",
        `Chosen on the edge of their grid (a wider grid might do better): ${edges.join("; ")}.`,
      ]
      : []),
  ];
}

/** The paired comparisons and the verdict on each claimed ordering. */
function comparisonTable(comparisons: readonly Comparison[]): string[] {
  if (comparisons.length === 0) return [];
  const sym = { ">": ">", ">=": "≥", "~": "≈" } as const;
  const L = [
    "",
    "**Does the paper's ordering hold here?** Two-level paired bootstrap over the test images " +
    "(images resampled jointly for both arms, each arm's runs resampled too, so seed variance " +
    "counts); Δ = A − B in top-1 points; `>` holds when the 95 % interval is above 0, `≥` " +
    "when it is not below 0, `≈` when it contains 0.",
    "",
    "| claim (paper) | A mean | B mean | Δ | 95 % CI | p | runs A/B | finding | holds? |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const c of comparisons) {
    const r = c.result, v = verdictOf(c.claim, r.ci);
    L.push(
      `| ${c.a} ${sym[c.claim]} ${c.b} (${c.source}) | ${pct(r.meanA)} | ${pct(r.meanB)} | ` +
        `${pts(r.diff)} | [${pts(r.ci[0])}, ${pts(r.ci[1])}] | ${r.p.toPrecision(2)} | ` +
        `${r.runsA}/${r.runsB} | ${v.text} | ${v.holds ? "**yes**" : "**no**"} |`,
    );
  }
  return L;
}

/** The curve's table (the SVG is written beside the report). */
function curveLines(done: Map<string, ArmResult>, cfg: Partial<ExperimentConfig> | undefined) {
  const arms = cfg?.curveArms ?? [];
  const rows = arms.map((a) => [a, curvePoints(done, a)] as const).filter(([, p]) => p.length);
  if (rows.length === 0) return [];
  return [
    "",
    "Fine-tuned top-1 against pre-training length (first seeds; the paper's Fig. 3), " +
    "`curve.svg` beside the report:",
    "",
    "| arm | pre-training steps → test top-1 |",
    "|---|---|",
    ...rows.map(([a, p]) => `| ${a} | ${p.map(([s, y]) => `${s} → ${pct(y)}`).join(", ")} |`),
  ];
}
