import assert from "node:assert/strict";
import { lineChart, niceTicks, writeRunPlots } from "../../trainer/plot.ts";
import { MetricsLog, parseMetrics, readMetrics } from "../../trainer/metrics.ts";
import { captureIO } from "../../trainer/io.ts";
import { formatDuration, Progress } from "../../trainer/progress.ts";
import { assertWellFormedXml } from "../cli/_util.ts";

Deno.test("niceTicks() covers the range with 1-2-5 steps", () => {
  assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0.31, 2.3, 4), [0, 0.5, 1, 1.5, 2, 2.5]);
  assert.deepEqual(niceTicks(0, 7020), [0, 2000, 4000, 6000, 8000]);
  const flat = niceTicks(3, 3);
  assert.ok(flat[0]! < 3 && flat.at(-1)! > 3);
});

Deno.test("lineChart() writes well-formed SVG with axes, ticks, polylines and a legend", () => {
  const svg = lineChart({
    title: "loss <train & test>",
    xLabel: "step",
    yLabel: "loss",
    series: [
      { name: "train", points: Array.from({ length: 5000 }, (_, i) => [i, 2 / (1 + i / 100)]) },
      { name: "test", points: [[0, 2], [2500, 0.5], [4999, NaN]], style: "both" },
      { name: "empty", points: [] },
    ],
  });
  assertWellFormedXml(svg);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /loss &lt;train &amp; test&gt;/);
  assert.equal(svg.match(/<polyline/g)?.length, 2);
  const pts = /<polyline[^>]*points="([^"]*)"/.exec(svg)![1]!.split(" ");
  assert.ok(pts.length <= 2000, "long series are thinned");
  assert.ok(pts.every((p) => /^-?\d+(\.\d+)?,-?\d+(\.\d+)?$/.test(p)));
  assert.equal(svg.match(/<circle/g)?.length, 2, "NaN points are skipped");
  for (const name of ["train", "test"]) assert.match(svg, new RegExp(`>${name}</text>`));
  assert.doesNotMatch(svg, />empty<\/text>/, "a series without points has no legend entry");
});

Deno.test("parseMetrics() drops records a resume superseded and a torn last line", () => {
  const lines = [
    { type: "config" },
    { type: "train", step: 1, loss: 3 },
    { type: "train", step: 2, loss: 2 },
    { type: "eval", step: 2, test_accuracy: 0.5 },
    { type: "train", step: 3, loss: 1 },
    { type: "config", resume_step: 2 },
    { type: "train", step: 3, loss: 1.5 },
  ].map((r) => JSON.stringify(r));
  const recs = parseMetrics(lines.join("\n") + '\n{"type":"tra');
  assert.deepEqual(
    recs.filter((r) => r.type === "train").map((r) => r.loss),
    [3, 2, 1.5],
  );
  assert.equal(recs.filter((r) => r.type === "eval").length, 1);
  assert.throws(() => parseMetrics("{}\nnot json\n{}"), /line 2/);
});

Deno.test("MetricsLog writes one flushed JSON line per record; writeRunPlots draws three SVGs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/metrics.jsonl`;
    const log = await MetricsLog.open(path);
    log.write({ type: "config", lr: 1e-3 });
    for (let s = 1; s <= 20; s++) log.write({ type: "train", step: s, loss: 3 / s, lr: s * 1e-4 });
    // Readable before close: every record is written through.
    assert.equal((await Deno.readTextFile(path)).trim().split("\n").length, 21);
    log.write({ type: "eval", step: 20, test_loss: 0.4, test_accuracy: 0.8 });
    log.close();
    const recs = await readMetrics(path);
    assert.equal(recs[0]!.type, "config");
    assert.ok(recs.every((r) => typeof r.wall_time === "number"));
    await writeRunPlots(dir, recs);
    for (const f of ["loss.svg", "lr.svg", "accuracy.svg"]) {
      assertWellFormedXml(await Deno.readTextFile(`${dir}/${f}`));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Progress: plain lines every K steps off a terminal, one live \\r line on one", () => {
  const plain = captureIO();
  const p = new Progress(plain, { total: 10, every: 4, label: "ft" });
  for (let s = 1; s <= 10; s++) p.update(s, { loss: 1, lr: 1e-3 });
  p.done();
  const lines = plain.stderr.trim().split("\n");
  assert.deepEqual(lines.map((l) => l.split(/\s+/)[1]), ["4/10", "8/10", "10/10"]);
  assert.ok(
    !plain.stderr.includes("\r") && !plain.stderr.includes("\u001b"),
    "no control characters off a terminal",
  );
  const tty = captureIO({ isTerminal: true, columns: 60 });
  const q = new Progress(tty, { total: 3, every: 1, label: "ft", redrawMs: 0 });
  for (let s = 1; s <= 3; s++) q.update(s, { loss: 1, lr: 1e-3 });
  q.log("eval line");
  q.done();
  assert.ok(tty.stderr.startsWith("\r"));
  for (const seg of tty.stderr.split(/[\r\n]/)) {
    assert.ok(seg.length <= 59, `line too wide: ${seg}`);
  }
  assert.match(tty.stderr, /eval line\n/);
  assert.equal(formatDuration(59.6), "1:00");
});
