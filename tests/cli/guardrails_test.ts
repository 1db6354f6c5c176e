/**
 * The CLI's guardrails (issue 21), table by table: limits beyond the data exit 2 naming the flag
 * and the count there is; the plan and the wall-time estimate come before training; a warm-up
 * that covers the run warns; pretrain reports its real (small) compute, says what its loss
 * averages and writes no empty accuracy plot; the plots' x axis ends at the last step and the
 * legend stays out of the plot area.
 */
import assert from "node:assert/strict";
import { captureIO } from "../../trainer/io.ts";
import { main } from "../../cli/main.ts";
import { lineChart } from "../../trainer/plot.ts";
import { SAMPLE } from "./_util.ts";

const TRAIN = "training images of";

Deno.test("a limit beyond the data exits 2 naming the flag and the images there are", async () => {
  const data = ["--data", SAMPLE];
  const cases: [string[], string][] = [
    [
      ["finetune", "--train-limit", "100000"],
      `--train-limit 100000 is more than the 4000 ${TRAIN}`,
    ],
    [
      ["finetune", "--test-limit", "1001"],
      "--test-limit 1001 is more than the 1000 test images of",
    ],
    [["finetune", "--train-subset", "5000"], `--train-subset 5000 is more than the 4000 ${TRAIN}`],
    [["pretrain", "--train-subset", "8000"], `--train-subset 8000 is more than the 4000 ${TRAIN}`],
    [["pretrain", "--train-limit", "4001"], `--train-limit 4001 is more than the 4000 ${TRAIN}`],
    [
      ["probe", "--init", "none", "--test-limit", "2000"],
      "--test-limit 2000 is more than the 1000",
    ],
    [["linear", "--train-limit", "60000"], `--train-limit 60000 is more than the 4000 ${TRAIN}`],
  ];
  for (const [argv, want] of cases) {
    const io = captureIO();
    assert.equal(await main([...argv, ...data], io), 2, argv.join(" "));
    const first = io.stderr.split("\n")[0]!;
    assert.ok(first.startsWith(`train.ts ${argv[0]}: ${want}`), `${argv.join(" ")}: ${first}`);
    assert.equal(io.stdout.length, 0);
  }
});

Deno.test("the plan, the estimate and the warm-up warning come before the steps", async () => {
  const cases: [string[], boolean][] = [
    [["finetune", "--smoke"], false],
    [["finetune", "--smoke", "--warmup", "4"], true],
    [["finetune", "--smoke", "--warmup", "1ep"], true],
    [["pretrain", "--smoke", "--method", "beit"], false],
    [["pretrain", "--smoke", "--method", "beit", "--warmup", "10ep"], true],
  ];
  for (const [argv, warns] of cases) {
    const dir = await Deno.makeTempDir({ prefix: "tessera_guard_" });
    try {
      const io = captureIO();
      const code = await main([...argv, "--data", SAMPLE, "--out", `${dir}/run`], io);
      assert.equal(code, 0, io.stderr);
      const at = argv.join(" ");
      const lines = io.stderr.split("\n");
      const plan = lines.findIndex((l) =>
        / plan: \d+ steps, \d+ to go; wall time estimated/.test(l)
      );
      const est = lines.findIndex((l) =>
        / estimate: [\d.]+ s\/step \(mean of the first \d+ steps?\)/.test(l)
      );
      const step1 = lines.findIndex((l) => / \d+\/\d+ +ep /.test(l));
      assert.ok(plan >= 0 && est > plan && (step1 < 0 || step1 > est), `${at}\n${io.stderr}`);
      assert.equal(
        /warning: the warm-up \(\d+ steps\) is not shorter than the run/.test(io.stderr),
        warns,
        at,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("pretrain: real small compute, the loss says what it averages, no empty accuracy.svg", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tessera_guard_" });
  try {
    const io = captureIO();
    const argv = ["pretrain", "--smoke", "--method", "splitmask", "--data", SAMPLE, "--out", dir];
    assert.equal(await main(argv, io), 0, io.stderr);
    const r = JSON.parse(io.stdout.at(-1)!);
    assert.ok(r.pretrain_pflops > 0, `pretrain_pflops ${r.pretrain_pflops}`);
    const rel = Math.abs(r.pretrain_pflops * 1e15 / (r.flops_per_step * r.steps) - 1);
    assert.ok(
      rel < 1e-3,
      `pretrain_pflops ${r.pretrain_pflops} vs ${r.flops_per_step} × ${r.steps}`,
    );
    assert.deepEqual(r.loss_over_steps, [1, 3]);
    const losses = (await Deno.readTextFile(`${dir}/metrics.jsonl`)).trim().split("\n")
      .map((l) => JSON.parse(l)).filter((x) => x.type === "train").map((x) => x.loss as number);
    const mean = losses.reduce((a, b) => a + b, 0) / losses.length;
    assert.ok(Math.abs(r.loss - mean) < 1e-5, `loss ${r.loss} is not the mean of ${losses}`);
    assert.match(io.stderr, /training loss [\d.]+ \(mean over steps 1-3\)/);
    const files = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.ok(files.includes("loss.svg") && !files.includes("accuracy.svg"), files.join(" "));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The x of the plot's right edge (the x-axis line) and the last polyline point. */
function geometry(svg: string) {
  const axis = /<line x1="64" y1="([\d.]+)" x2="([\d.]+)" y2="\1" stroke="black"\/>/.exec(svg)!;
  const pts = [...svg.matchAll(/<polyline[^>]*points="([^"]*)"/g)].map((m) =>
    m[1]!.split(" ").map((p) => p.split(",").map(Number))
  );
  const legendY = [...svg.matchAll(/<text x="[\d.]+" y="([\d.]+)" dominant-baseline/g)].map((m) =>
    Number(m[1])
  );
  const plotTop = Math.min(
    ...[...svg.matchAll(/<line x1="64" y1="([\d.]+)" x2="([\d.]+)" y2="\1" stroke="#e5e5e5"/g)].map(
      (m) => Number(m[1]),
    ),
  );
  return { axisEnd: Number(axis[2]), pts, legendY, plotTop };
}

Deno.test("plots: the x axis ends at the last step; the legend is above the plot area", () => {
  const cases: [number, string[]][] = [[14, ["train"]], [7020, ["train", "test"]], [3, [
    "a",
    "b",
    "c",
  ]]];
  for (const [last, names] of cases) {
    const svg = lineChart({
      title: "t",
      xLabel: "step",
      yLabel: "y",
      series: names.map((name, i) => ({
        name,
        points: Array.from(
          { length: 10 },
          (_, k) => [(last * k) / 9, i + k / 9] as [number, number],
        ),
      })),
    });
    const g = geometry(svg);
    for (const p of g.pts) {
      assert.equal(p.at(-1)![0], g.axisEnd, `last ${last}: the axis overshoots`);
    }
    assert.equal(g.legendY.length, names.length);
    assert.ok(
      g.legendY.every((y) => y < g.plotTop),
      `legend ${g.legendY} inside the plot (${g.plotTop})`,
    );
    const ticks = [
      ...svg.matchAll(/<text x="([\d.]+)" y="[\d.]+" text-anchor="middle">[^<]*<\/text>/g),
    ]
      .map((m) => Number(m[1])).filter((x) => x >= 64);
    assert.ok(ticks.every((x) => x <= g.axisEnd + 0.05), `a tick past the axis: ${ticks}`);
  }
});
