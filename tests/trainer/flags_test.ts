import assert from "node:assert/strict";
import {
  int,
  limit,
  num,
  parseCommand,
  parseFlags,
  resolveSpan,
  span,
  UsageError,
} from "../../trainer/flags.ts";
import { FINETUNE } from "../../cli/finetune.ts";
import { captureIO } from "../../trainer/io.ts";
import { main } from "../../cli/main.ts";

const decls = { lr: { type: "string" }, help: { type: "boolean", short: "h" } } as const;

Deno.test("parseFlags() rejects unknown flags, missing values and positionals by name", () => {
  const msg = (argv: string[]) => {
    try {
      parseFlags(argv, decls);
    } catch (e) {
      assert.ok(e instanceof UsageError);
      return e.message;
    }
    throw new Error("no error");
  };
  assert.equal(msg(["--bogus"]), "unknown flag --bogus");
  assert.equal(msg(["--lr"]), "flag --lr needs a value");
  assert.equal(msg(["extra"]), `unexpected argument "extra"`);
  assert.deepEqual(parseFlags(["--lr=0.5", "-h"], decls), { lr: "0.5", help: true });
});

Deno.test("flag converters validate ranges and name the flag", () => {
  assert.equal(int({ min: 1 })("32", "batch"), 32);
  assert.throws(
    () => int({ min: 1 })("0", "batch"),
    /--batch must be an integer >= 1, got "0"/,
  );
  assert.throws(() => int()("1.5", "batch"), /--batch/);
  assert.equal(num({ min: 0, above: true })("1e-3", "lr"), 1e-3);
  assert.throws(() => num({ min: 0, above: true })("0", "lr"), /--lr must be a number > 0/);
  assert.throws(() => num()("abc", "lr"), /--lr must be a number, got "abc"/);
  assert.equal(limit("all", "train-limit"), null);
  assert.throws(() => limit("-3", "train-limit"), /--train-limit/);
  assert.equal(resolveSpan(span()("2.5ep", "warmup"), 10), 25);
  assert.equal(resolveSpan(span()("7", "warmup"), 10), 7);
  assert.throws(() => span()("0", "eval-every"), /--eval-every/);
  assert.equal(span({ allowZero: true })("0", "warmup"), "0");
  assert.throws(() => span()("1.5", "warmup"), /--warmup must be a number of steps/);
});

Deno.test("parseCommand(FINETUNE) keeps only the given settings and rejects bad values", () => {
  const parseFinetuneArgs = (argv: string[]) => parseCommand(FINETUNE, argv);
  const a = parseFinetuneArgs([
    "--steps",
    "5",
    "--backend",
    "cpu",
    "--mixup",
    "0.8",
    "--warmup",
    "1ep",
  ]);
  assert.notEqual(a, "help");
  if (a === "help") return;
  assert.deepEqual(a.given, { steps: 5, backend: "cpu", mixup: 0.8, warmup: "1ep" });
  assert.equal(parseFinetuneArgs(["-h"]), "help");
  assert.throws(
    () => parseFinetuneArgs(["--backend", "tpu"]),
    /--backend must be one of cpu, webgpu/,
  );
  assert.throws(() => parseFinetuneArgs(["--model", "resnet"]), /--model must be one of/);
  assert.throws(() => parseFinetuneArgs(["--steps", "5", "--epochs", "2"]), /not both/);
  assert.throws(() => parseFinetuneArgs(["--drop-path", "1.5"]), /--drop-path/);
});

Deno.test("main() prints usage errors with exit code 2 and --help with 0 for every command", async () => {
  for (
    const argv of [["finetune", "--lr", "-1"], ["linear", "--steps", "x"], ["nosuch"], ["--nope"]]
  ) {
    const io = captureIO();
    assert.equal(await main(argv, io), 2, argv.join(" "));
    assert.match(io.stderr, /train\.ts/);
    assert.equal(io.stdout.length, 0);
  }
  for (const argv of [["--help"], ["finetune", "--help"], ["linear", "-h"]]) {
    const io = captureIO();
    assert.equal(await main(argv, io), 0);
    const text = io.stdout.join("\n");
    assert.match(text, /Usage: deno run -A train\.ts/);
    const lines = text.split("\n");
    assert.ok(lines.length <= 45, `${argv.join(" ")}: help has ${lines.length} lines`);
    assert.ok(
      lines.every((l) => l.length <= 100),
      `${argv.join(" ")}: a help line is wider than 100`,
    );
  }
});
