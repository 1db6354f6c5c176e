/**
 * A tiny command written here the way a new one (e.g. `detect`) is written: a flag table of the
 * shared RUN/BACKEND/LOG groups plus one group of its own, and one Task (fitting a scalar to
 * the data with momentum SGD) run by the shared loop. A run stopped at step k and resumed
 * reaches bit-identical state; evaluation and checkpoints follow their periods; a non-finite
 * loss, evaluation or parameter stops the run with exit 1 and keeps the last finite checkpoint.
 */
import assert from "node:assert/strict";
import {
  full,
  mean,
  memoryStats,
  mul,
  ones,
  scope,
  sub,
  type Tensor,
  valueAndGrad,
  zeros,
} from "../../mod.ts";
import { DataLoader } from "../../data/loader.ts";
import { ParamSpec, zerosInit } from "../../nn/init.ts";
import { loadCheckpoint } from "../../nn/checkpoint.ts";
import { sgd, type SgdState } from "../../nn/optim/sgd.ts";
import { captureIO } from "../../trainer/io.ts";
import { readMetrics } from "../../trainer/metrics.ts";
import {
  adjust,
  type CommandFlags,
  defaultsOf,
  group,
  int,
  num,
  type OptionsOf,
  parseCommand,
  resolveSpan,
  row,
} from "../../trainer/flags.ts";
import { BACKEND, LOG, RUN } from "../../cli/flag_groups.ts";
import { allFinite, type Task, train } from "../../trainer/train_loop.ts";

/** 8 one-pixel images with values 0..7 (mean 3.5 / 255). */
const DATA = {
  length: 8,
  get: (i: number) => ({
    image: { data: new Uint8Array([i]), height: 1, width: 1, channels: 1 },
    label: 0,
  }),
};

/** The command's flag table: the shared RUN, BACKEND and LOG groups plus one group of its own. */
const FLAGS = [
  ...RUN,
  ...BACKEND,
  ...adjust(LOG, { ckptEvery: { default: "3" } }),
  ...group("Mean", [
    row("lr", "X", num({ min: 0, above: true }), 0.5, "step size"),
    row("seed", "N", int({ min: 0 }), 0, "seed"),
    row("poison", "S", int({ min: 0 }), 0, "from step S on, NaN parameters (0 = off)"),
  ]),
] as const;
const MEAN: CommandFlags<typeof FLAGS> = { name: "mean", title: "fit the mean", flags: FLAGS };
type Options = OptionsOf<typeof FLAGS>;

/** The Task: params `{w}`, SGD with momentum; loss = mean((x·255 − w)²). */
function meanTask(o: Options): Task {
  const opt = sgd({ lr: o.lr, momentum: 0.5 });
  const spec = { w: new ParamSpec([1], zerosInit, "float32") };
  const loss = (p: { w: Tensor }, x: Tensor) => mean(mul(sub(x, p.w), sub(x, p.w)));
  const grad = valueAndGrad(loss);
  return {
    runName: "mean",
    label: "mean",
    total: 8,
    stepsPerEpoch: 4,
    ckptEvery: resolveSpan(o.ckptEvery, 4),
    evalEvery: 4,
    template: { params: spec, opt: { count: 0, momentum: spec } },
    resolved: {},
    data: { images: 8 },
    describe: () => "mean: start\n",
    init: () => {
      const params = { w: zeros([1]) };
      return { params, opt: opt.init(params) };
    },
    loader: (seed) => new DataLoader(DATA, { batchSize: 2, seed, shuffle: true, dropLast: true }),
    step: (s, batch, step) =>
      Promise.resolve(scope(() => {
        const p = s.params as { w: Tensor };
        const [l, g] = grad(p, batch.images);
        const next = opt.update(g, s.opt as SgdState, p);
        if (o.poison === 0 || step + 1 < o.poison) {
          return { loss: l, state: { params: next.params, opt: next.state } };
        }
        return { loss: ones([]), state: { params: { w: full([1], NaN) }, opt: next.state } };
      })),
    lr: () => o.lr,
    evaluate: async (s) => ({ w: await (s.params as { w: Tensor }).w.item() }),
    summary: ({ eval: ev }) => ({ fields: { w: ev?.w }, text: `w ${ev?.w}` }),
  };
}

/** The command: parse with the table, run the Task in the shared loop. */
async function run(argv: string[]) {
  const p = parseCommand(MEAN, argv);
  assert.ok(p !== "help");
  const io = captureIO();
  const code = await train({
    command: "mean",
    defaults: defaultsOf(FLAGS),
    given: p.given,
    io,
    hooks: { listenSigint: false },
    build: (o) => Promise.resolve(meanTask(o)),
  });
  return { code, io };
}

Deno.test("train(): a tiny Task runs, checkpoints, evaluates, and resumes bit-identically", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const before = memoryStats().cpu?.tensors ?? 0;
    const full = await run(["--out", `${dir}/full`]);
    assert.equal(full.code, 0, full.io.stderr);
    const recs = await readMetrics(`${dir}/full/metrics.jsonl`);
    assert.deepEqual(recs.filter((r) => r.type === "checkpoint").map((r) => r.step), [3, 6, 8]);
    assert.deepEqual(recs.filter((r) => r.type === "eval").map((r) => r.step), [4, 8]);
    const w = JSON.parse(full.io.stdout[0]!).w;
    assert.ok(Math.abs(w - 3.5 / 255) < Math.abs(0 - 3.5 / 255), `w ${w} did not move to the mean`);

    const part = await run(["--out", `${dir}/part`, "--stop-after", "5"]);
    assert.equal(part.code, 130, part.io.stderr);
    assert.match(part.io.stderr, /stopped \(--stop-after\) at step 5\/8/);
    const resumed = await run(["--resume", `${dir}/part`]);
    assert.equal(resumed.code, 0, resumed.io.stderr);
    assert.equal(JSON.parse(resumed.io.stdout[0]!).w, w);
    const a = await loadCheckpoint(`${dir}/full/ckpt_latest.safetensors`);
    const b = await loadCheckpoint(`${dir}/part/ckpt_latest.safetensors`);
    const bits = async (ck: typeof a) => {
      const s = ck.optState as { momentum: { w: Tensor } };
      return [...await (ck.params as { w: Tensor }).w.data(), ...await s.momentum.w.data()];
    };
    assert.deepEqual(await bits(b), await bits(a));
    for (const ck of [a, b]) {
      (ck.params as { w: Tensor }).w.dispose();
      (ck.optState as { momentum: { w: Tensor } }).momentum.w.dispose();
      ck.rngKey?.dispose();
    }
    assert.equal(memoryStats().cpu?.tensors ?? 0, before, "the loop leaked tensors");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const NON_FINITE: [string[], RegExp][] = [
  [
    ["--lr", "1e6"],
    /mean: the training loss became Infinity at step 5; lower --lr\?; stopped at step 5\/8/,
  ],
  [["--poison", "5"], /mean: the parameters became non-finite by step 6; stopped at step 6\/8/],
  [
    ["--poison", "4"],
    /mean: the evaluation at step 4 is not finite \(w NaN\); stopped at step 4\/8/,
  ],
];

Deno.test("train(): a non-finite loss, evaluation or state exits 1 and keeps the last finite checkpoint", async () => {
  for (const [flags, want] of NON_FINITE) {
    const dir = await Deno.makeTempDir();
    try {
      const before = memoryStats().cpu?.tensors ?? 0;
      const r = await run(["--out", `${dir}/x`, ...flags]);
      assert.equal(r.code, 1, r.io.stderr);
      assert.match(r.io.stderr, want);
      assert.match(r.io.stderr, /the last finite checkpoint \(step 3\) is /);
      assert.equal(r.io.stdout.length, 0);
      const recs = await readMetrics(`${dir}/x/metrics.jsonl`);
      assert.equal(recs.at(-1)!.type, "abort");
      assert.deepEqual(recs.filter((r) => r.type === "checkpoint").map((r) => r.step), [3]);
      const ck = await loadCheckpoint(`${dir}/x/ckpt_latest.safetensors`);
      assert.equal(ck.step, 3);
      assert.ok(await allFinite({ p: ck.params, o: ck.optState }), "a non-finite checkpoint");
      (ck.params as { w: Tensor }).w.dispose();
      (ck.optState as { momentum: { w: Tensor } }).momentum.w.dispose();
      ck.rngKey?.dispose();
      assert.equal(memoryStats().cpu?.tensors ?? 0, before, "the aborted run leaked tensors");
      // Resuming the kept checkpoint works (and fails the same way, deterministically).
      const again = await run(["--resume", `${dir}/x`, ...flags]);
      assert.equal(again.code, 1, again.io.stderr);
      assert.match(again.io.stderr, want);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});
