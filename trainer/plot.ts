/**
 * A small SVG line-chart writer (conventions §2.14): polylines (or markers) per series, axes
 * with "nice" 1-2-5 ticks and labels, a title and a legend. No dependencies; the output is
 * plain SVG 1.1 that browsers and sharp/librsvg render. Also {@link writeRunPlots}, which
 * draws a run's `loss.svg`, `lr.svg` and `accuracy.svg` from its metrics records.
 * @module
 */
import { join } from "node:path";
import type { MetricsRecord } from "./metrics.ts";

/**
 * One curve.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Series } from "./plot.ts";
 * const s: Series = { name: "train", points: [[0, 2.3], [100, 0.9]] };
 * assert.deepEqual(s.points.length, 2);
 * ```
 */
export interface Series {
  /** Legend text. */
  name: string;
  /** `[x, y]` pairs in x order; non-finite y values are skipped. */
  points: [number, number][];
  /** Stroke colour (default: from a palette). */
  color?: string;
  /** Draw markers instead of (`"markers"`) or in addition to (`"both"`) the line. */
  style?: "line" | "markers" | "both";
  /** Stroke opacity (default 1). */
  opacity?: number;
}

/**
 * A chart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Chart } from "./plot.ts";
 * const c: Chart = { title: "loss", xLabel: "step", yLabel: "loss", series: [] };
 * assert.deepEqual(c.width ?? 640, 640);
 * ```
 */
export interface Chart {
  /** Title above the plot. */
  title: string;
  /** x-axis label. */
  xLabel: string;
  /** y-axis label. */
  yLabel: string;
  /** The curves. */
  series: Series[];
  /** Pixel width (default 640). */
  width?: number;
  /** Pixel height (default 400). */
  height?: number;
  /** Force the y range to include these values (e.g. 0 and 1 for accuracy). */
  yInclude?: number[];
  /** Force the x range to include these values (e.g. the run's last step). */
  xInclude?: number[];
}

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

/**
 * "Nice" tick values covering `[lo, hi]` with about `count` steps of 1, 2 or 5 × 10^k.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { niceTicks } from "./plot.ts";
 * assert.deepEqual(niceTicks(0, 0.93, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
 * ```
 */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= d, hi += d;
  }
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const start = Math.floor(lo / step + 1e-9), end = Math.ceil(hi / step - 1e-9);
  const out: number[] = [];
  for (let i = start; i <= end; i++) out.push(Number((i * step).toPrecision(12)));
  return out;
}

/** Short tick label: plain for moderate magnitudes, exponent form for tiny or huge values. */
function tickLabel(v: number, step: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) {
    return v.toExponential(Math.max(0, -Math.floor(Math.log10(step / a)) - 0)).replace("e+", "e");
  }
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return v.toFixed(Math.min(decimals, 6));
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

/** At most `max` points, keeping the first, last and evenly spaced ones in between. */
function thin(points: [number, number][], max: number): [number, number][] {
  if (points.length <= max) return points;
  const out: [number, number][] = [];
  const stride = (points.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(points[Math.round(i * stride)]!);
  return out;
}

/** Legend entries laid out left to right from x = 64, wrapping at `width` (≈ 6.5 px a char). */
function legendRows<S extends { name: string }>(series: S[], width: number) {
  const rows: { s: S; x: number }[][] = [];
  let x = Infinity;
  for (const s of series) {
    const w = 24 + Math.ceil(s.name.length * 6.5) + 16;
    if (x + w > 64 + width) rows.push([]), x = 64;
    rows.at(-1)!.push({ s, x }), x += w;
  }
  return rows;
}

/**
 * Renders a chart as an SVG document string: the x axis spans exactly the data (and
 * `xInclude`), the legend lists the series that have points, above the plot area.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lineChart } from "./plot.ts";
 * const svg = lineChart({
 *   title: "loss", xLabel: "step", yLabel: "loss",
 *   series: [{ name: "train", points: [[0, 2.3], [50, 1.1], [100, 0.7]] }],
 * });
 * assert.deepEqual([svg.startsWith("<svg"), svg.includes("<polyline")], [true, true]);
 * ```
 */
export function lineChart(chart: Chart): string {
  const W = chart.width ?? 640, H = chart.height ?? 400;
  const series = chart.series.map((s, i) => ({
    ...s,
    color: s.color ?? PALETTE[i % PALETTE.length]!,
    points: thin(s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)), 2000),
  }));
  // The legend (series with points) sits in rows between the title and the plot, so it never
  // covers a point.
  const legend = legendRows(series.filter((s) => s.name && s.points.length > 0), W - 80);
  const m = { left: 64, right: 16, top: 32 + 16 * legend.length, bottom: 44 };
  const pw = W - m.left - m.right, ph = H - m.top - m.bottom;
  const xs = series.flatMap((s) => s.points.map((p) => p[0])).concat(chart.xInclude ?? []);
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).concat(chart.yInclude ?? []);
  // The x axis ends at the data (the last step), not at the next nice tick.
  const xLo = xs.length ? Math.min(...xs) : 0, xHi = xs.length ? Math.max(...xs) : 1;
  const nice = niceTicks(xLo, xHi);
  const tight = xHi > xLo;
  const xt = tight ? nice.filter((v) => v >= xLo - 1e-9 && v <= xHi + 1e-9) : nice;
  const yt = niceTicks(ys.length ? Math.min(...ys) : 0, ys.length ? Math.max(...ys) : 1);
  const [x0, x1] = tight ? [xLo, xHi] : [xt[0]!, xt.at(-1)!], [y0, y1] = [yt[0]!, yt.at(-1)!];
  const X = (x: number) => m.left + ((x - x0) / (x1 - x0)) * pw;
  const Y = (y: number) => m.top + ph - ((y - y0) / (y1 - y0)) * ph;
  const f = (v: number) => v.toFixed(1);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">${esc(chart.title)}</text>`,
  );
  const xStep = nice.length > 1 ? nice[1]! - nice[0]! : 1,
    yStep = yt.length > 1 ? yt[1]! - yt[0]! : 1;
  for (const v of yt) {
    const y = f(Y(v));
    out.push(
      `<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${
        esc(tickLabel(v, yStep))
      }</text>`,
    );
  }
  for (const v of xt) {
    const x = f(X(v));
    out.push(
      `<line x1="${x}" y1="${m.top + ph}" x2="${x}" y2="${m.top + ph + 4}" stroke="black"/>`,
      `<text x="${x}" y="${m.top + ph + 16}" text-anchor="middle">${
        esc(tickLabel(v, xStep))
      }</text>`,
    );
  }
  out.push(
    `<line x1="${m.left}" y1="${m.top + ph}" x2="${m.left + pw}" y2="${
      m.top + ph
    }" stroke="black"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + ph}" stroke="black"/>`,
    `<text x="${m.left + pw / 2}" y="${H - 8}" text-anchor="middle">${esc(chart.xLabel)}</text>`,
    `<text x="14" y="${m.top + ph / 2}" text-anchor="middle" transform="rotate(-90 14 ${
      m.top + ph / 2
    })">${esc(chart.yLabel)}</text>`,
  );
  for (const s of series) {
    if (s.points.length === 0) continue;
    const style = s.style ?? "line";
    const op = s.opacity === undefined ? "" : ` stroke-opacity="${s.opacity}"`;
    if (style !== "markers") {
      const pts = s.points.map(([x, y]) => `${f(X(x))},${f(Y(y))}`).join(" ");
      out.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="1.5"${op} points="${pts}"/>`,
      );
    }
    if (style !== "line") {
      for (const [x, y] of s.points) {
        out.push(`<circle cx="${f(X(x))}" cy="${f(Y(y))}" r="2.5" fill="${s.color}"/>`);
      }
    }
  }
  legend.forEach((entries, i) => {
    const y = 32 + i * 16;
    for (const { s, x } of entries) {
      out.push(
        `<line x1="${x}" y1="${y}" x2="${x + 18}" y2="${y}" stroke="${s.color}" stroke-width="2"/>`,
        `<text x="${x + 24}" y="${y}" dominant-baseline="middle">${esc(s.name)}</text>`,
      );
    }
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** Exponential moving average of a curve (for a readable training-loss line). */
function smooth(points: [number, number][], alpha = 0.05): [number, number][] {
  let acc = NaN;
  return points.map(([x, y]) => {
    acc = Number.isNaN(acc) ? y : acc + alpha * (y - acc);
    return [x, acc];
  });
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}

/**
 * Draws a run's curves from its metrics: `loss.svg` (train loss, smoothed, and test loss),
 * `lr.svg` and, when the run evaluates test accuracy, `accuracy.svg` (test top-1), each written
 * atomically into `dir`; a run that evaluates a validation split (`val_loss`, `val_accuracy`)
 * gets the same curves for it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeRunPlots } from "./plot.ts";
 * const dir = await Deno.makeTempDir();
 * await writeRunPlots(dir, [
 *   { type: "train", step: 1, loss: 2.3, lr: 1e-4 },
 *   { type: "train", step: 2, loss: 2.1, lr: 2e-4 },
 *   { type: "eval", step: 2, test_loss: 2.0, test_accuracy: 0.4 },
 * ]);
 * assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["accuracy.svg", "loss.svg", "lr.svg"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeRunPlots(dir: string, records: MetricsRecord[]): Promise<void> {
  const train = records.filter((r) => r.type === "train" && typeof r.step === "number");
  const evals = records.filter((r) => r.type === "eval" && typeof r.step === "number");
  const pts = (rs: MetricsRecord[], k: string) =>
    rs.filter((r) => typeof r[k] === "number").map((r) => [r.step!, r[k] as number]) as [
      number,
      number,
    ][];
  const trainLoss = pts(train, "loss");
  // A run with --val-split evaluates `val_*` (held-out training images) instead of `test_*`.
  const split = evals.some((r) => typeof r.val_loss === "number") ? "val" : "test";
  // The x axis spans the whole run (the last config's planned steps), so it does not rescale.
  const config = records.findLast((r) => r.type === "config");
  const planned = (config?.resolved as { total_steps?: unknown } | undefined)?.total_steps;
  const xInclude = typeof planned === "number" ? [0, planned] : [0];
  await writeAtomic(
    join(dir, "loss.svg"),
    lineChart({
      title: "loss",
      xLabel: "step",
      yLabel: "cross-entropy",
      xInclude,
      series: [
        { name: "train (per step)", points: trainLoss, color: "#9ecae1", opacity: 0.8 },
        { name: "train (smoothed)", points: smooth(trainLoss), color: "#1f77b4" },
        { name: split, points: pts(evals, `${split}_loss`), color: "#d62728", style: "both" },
      ],
    }),
  );
  await writeAtomic(
    join(dir, "lr.svg"),
    lineChart({
      title: "learning rate",
      xLabel: "step",
      yLabel: "lr",
      series: [{ name: "lr", points: pts(train, "lr") }],
      xInclude,
      yInclude: [0],
    }),
  );
  const accuracy = pts(evals, `${split}_accuracy`);
  if (accuracy.length === 0) return;
  await writeAtomic(
    join(dir, "accuracy.svg"),
    lineChart({
      title: `${split} accuracy (top-1)`,
      xLabel: "step",
      yLabel: "accuracy",
      xInclude,
      series: [{
        name: `${split} top-1`,
        points: accuracy,
        color: "#2ca02c",
        style: "both",
      }],
    }),
  );
}
