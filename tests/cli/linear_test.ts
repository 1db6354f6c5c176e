/**
 * `train.ts linear`, the pixel floor: a real run on sample images without leaks, and usage
 * errors (the trainer itself is tested in tests/nn/logistic_regression_test.ts).
 */
import assert from "node:assert/strict";
import { captureIO } from "../../trainer/io.ts";
import { LINEAR, linearCommand } from "../../cli/linear.ts";
import { parseCommand, UsageError } from "../../trainer/flags.ts";
import { memoryStats } from "../../mod.ts";
import { SAMPLE } from "./_util.ts";

Deno.test("train.ts linear: converged logistic regression on sample pixels, no leaks", async () => {
  const before = memoryStats().cpu?.tensors ?? 0;
  const io = captureIO();
  const argv = ["--data", SAMPLE, "--train-subset", "500", "--test-limit", "300"];
  assert.equal(await linearCommand(argv, io), 0, io.stderr);
  assert.equal(memoryStats().cpu?.tensors ?? 0, before, "tensors leaked");
  assert.equal(io.stdout.length, 1);
  const r = JSON.parse(io.stdout[0]!);
  assert.equal(r.command, "linear");
  assert.equal(r.train_images, 500);
  assert.equal(r.test_images, 300);
  assert.equal(r.converged, true);
  assert.ok(r.train_accuracy > 0.9, `train top-1 ${r.train_accuracy}`);
  assert.ok(r.test_accuracy > 0.7 && r.test_accuracy < 1, `test top-1 ${r.test_accuracy}`);
  assert.match(io.stderr, /linear: \d+ iterations \(converged\)/);
});

Deno.test("train.ts linear: flags and usage errors", async () => {
  const p = parseCommand(LINEAR, ["--steps", "30", "--weight-decay", "0.1", "--test-limit", "all"]);
  assert.ok(p !== "help");
  const o = p.options;
  assert.equal(o.maxIter, 30);
  assert.equal(o.weightDecay, 0.1);
  assert.equal(o.testLimit, null);
  assert.equal(o.trainLimit, 4000);
  const cases: [string[], RegExp][] = [
    [["--lr", "0.1"], /--lr no longer applies: .*L-BFGS/],
    [["--batch", "64"], /--batch no longer applies/],
    [["--train-subset", "15"], /--train-subset must be a multiple of 10, got "15"/],
    [["--train-subset", "100", "--train-limit", "100"], /--train-subset or --train-limit/],
    [["--weight-decay=-1"], /--weight-decay must be a number >= 0, got "-1"/],
    [["--steps", "5", "--max-iter", "5"], /--max-iter or --steps/],
    [["--backend", "tpu"], /--backend must be one of cpu, webgpu, got "tpu"/],
    [["--data", "/no/such/dir"], /--data \/no\/such\/dir: /],
    [["--data", SAMPLE, "--train-subset", "4000"], /--train-subset 4000: .*too few images/],
  ];
  for (const [argv, want] of cases) {
    await assert.rejects(linearCommand(argv, captureIO()), (e: unknown) => {
      assert.ok(e instanceof UsageError, `${argv}: ${e}`);
      assert.equal(e.exitCode, 2);
      assert.match(e.message, want);
      return true;
    });
  }
  const io = captureIO();
  assert.equal(await linearCommand(["--help"], io), 0);
  assert.match(io.stdout[0]!, /--train-subset N/);
});
