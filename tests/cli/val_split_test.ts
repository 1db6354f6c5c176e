/**
 * `--val-split N` (issue 15: settings chosen on validation data, never on test): the last N
 * training images are held out, disjoint from the training images whatever `--train-limit`, and a
 * finetune run evaluates and reports them (`val_*`) instead of the test set.
 */
import assert from "node:assert/strict";
import { captureIO } from "../../trainer/io.ts";
import { finetuneCommand } from "../../cli/finetune.ts";
import { main } from "../../cli/main.ts";
import { loadSplits } from "../../cli/fmnist.ts";
import { loadFashionMnist } from "../../data/fashion_mnist.ts";
import { readMetrics } from "../../trainer/metrics.ts";
import { readPredictions } from "../../trainer/predictions.ts";
import { SAMPLE, tinyRun } from "./_util.ts";

Deno.test("loadSplits: --val-split holds out the training file's last N images", async () => {
  const all = await loadFashionMnist({ split: "train", dir: SAMPLE }); // 4,000 images
  const px = 28 * 28;
  for (const trainLimit of [null, 500]) {
    const s = await loadSplits({ data: SAMPLE, trainLimit, testLimit: 10, valSplit: 300 });
    assert.equal(s.val!.count, 300);
    assert.equal(s.train.count, trainLimit ?? 3700);
    assert.deepEqual(s.val!.images, all.images.subarray(3700 * px));
    assert.deepEqual(s.val!.labels, all.labels.subarray(3700));
    assert.deepEqual(s.train.images, all.images.subarray(0, s.train.count * px));
  }
  const sub = await loadSplits({
    data: SAMPLE,
    trainLimit: null,
    trainSubset: 100,
    testLimit: 10,
    valSplit: 300,
  });
  assert.equal(sub.train.count, 100);
  assert.equal(
    (await loadSplits({ data: SAMPLE, trainLimit: null, testLimit: 10 })).val,
    undefined,
  );
  await assert.rejects(
    loadSplits({ data: SAMPLE, trainLimit: null, testLimit: 10, valSplit: 4000 }),
    /--val-split 4000 leaves no training images: .* has 4000/,
  );
  await assert.rejects(
    loadSplits({ data: SAMPLE, trainLimit: 3900, testLimit: 10, valSplit: 300 }),
    /--train-limit 3900 is more than the 3700 training images of .* left by --val-split 300/,
  );
});

Deno.test("finetune --val-split: evaluates and reports the held-out images, not test", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/run`;
    const io = captureIO();
    const argv = tinyRun(out, ["--steps", "4", "--eval-every", "2", "--val-split", "150"]);
    assert.equal(await finetuneCommand(argv.slice(1), io), 0, io.stderr);
    const final = JSON.parse(io.stdout.at(-1)!);
    assert.equal(final.val_images, 150);
    assert.ok(final.val_accuracy >= 0 && final.val_accuracy <= 1);
    assert.equal(final.test_accuracy, undefined);
    assert.equal(final.test_images, undefined);
    const evals = (await readMetrics(`${out}/metrics.jsonl`)).filter((r) => r.type === "eval");
    assert.deepEqual(evals.map((r) => r.step), [2, 4]);
    assert.ok(evals.every((r) => typeof r.val_loss === "number" && r.test_loss === undefined));
    assert.match(await Deno.readTextFile(`${out}/accuracy.svg`), /val accuracy/);
    assert.match(io.stderr, /320 train \/ 150 val images/);
    // The last evaluation's per-image predictions, for paired comparisons of runs.
    const p = await readPredictions(out, "val");
    const all = await loadFashionMnist({ split: "train", dir: SAMPLE });
    assert.deepEqual(p.labels, Array.from(all.labels.subarray(all.count - 150)));
    assert.equal(p.predictions.length, 150);
    const acc = p.correct.reduce((a, c) => a + c, 0) / 150;
    assert.equal(Number(acc.toFixed(4)), final.val_accuracy);
    const bad = captureIO();
    assert.equal(await main(tinyRun(`${dir}/bad`, ["--val-split", "0"]), bad), 2);
    assert.match(bad.stderr, /--val-split must be an integer >= 1, got "0"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
