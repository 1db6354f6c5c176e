/**
 * The flag tables, row by row: every numeric flag of every command rejects -1, NaN, 1e400 and
 * "abc" with a message naming the flag and the value (negative values reach the range check),
 * accepts 0 or names the flag, and no flag may be given twice; the defaults `--help` prints are
 * the table's; usage errors exit with 2 through `main`.
 */
import assert from "node:assert/strict";
import {
  type CommandFlags,
  defaultsOf,
  type Flag,
  helpText,
  parseCommand,
  UsageError,
} from "../../trainer/flags.ts";
import { EXPERIMENT } from "../../cli/experiment_cls.ts";
import { FINETUNE } from "../../cli/finetune.ts";
import { captureIO } from "../../trainer/io.ts";
import { LINEAR } from "../../cli/linear.ts";
import { main } from "../../cli/main.ts";
import { PRETRAIN } from "../../cli/pretrain_flags.ts";
import { PROBE } from "../../cli/probe.ts";
import { SCENES } from "../../cli/scenes.ts";

import { EVALUATE_COCO, EVALUATE_SEG } from "../../cli/evaluate.ts";
import { DETECT } from "../../cli/detect.ts";
import { SEGMENT } from "../../cli/segment.ts";
const COMMANDS = [
  FINETUNE,
  PRETRAIN,
  PROBE,
  LINEAR,
  EXPERIMENT,
  EVALUATE_COCO,
  EVALUATE_SEG,
  SCENES,
  DETECT,
  SEGMENT,
] as unknown as CommandFlags<
  readonly Flag[]
>[];
const NUMERIC = new Set(["N", "X", "A", "P", "M", "K", "L", "N|all", "N|Xep"]);

function error(cmd: CommandFlags<readonly Flag[]>, argv: string[]): string | null {
  try {
    parseCommand(cmd, argv);
    return null;
  } catch (e) {
    assert.ok(e instanceof UsageError, `${cmd.name} ${argv.join(" ")}: ${e}`);
    return e.message;
  }
}

Deno.test("every numeric flag rejects -1, NaN, 1e400 and abc naming itself; 0 parses or is named", () => {
  let rows = 0;
  for (const cmd of COMMANDS) {
    for (const f of cmd.flags.filter((f) => NUMERIC.has(f.arg ?? ""))) {
      rows++;
      for (const bad of ["-1", "NaN", "1e400", "abc", "-1e3", ""]) {
        const msg = error(cmd, [`--${f.flag}`, bad]);
        const at = `${cmd.name} --${f.flag} ${bad}`;
        assert.ok(msg !== null, `${at} was accepted`);
        assert.ok(msg.startsWith(`--${f.flag} `), `${at}: ${msg}`);
        if (!f.hidden) assert.ok(msg.endsWith(`got "${bad}"`), `${at}: ${msg}`);
        assert.doesNotMatch(msg, /null|undefined|forget/, at);
      }
      const zero = error(cmd, [`--${f.flag}=0`]);
      assert.ok(
        zero === null || zero.startsWith(`--${f.flag} `),
        `${cmd.name} --${f.flag} 0: ${zero}`,
      );
    }
  }
  assert.ok(rows > 60, `only ${rows} numeric rows`);
});

Deno.test("every flag of every command given twice is an error naming it", () => {
  for (const cmd of COMMANDS) {
    for (const f of cmd.flags) {
      const argv = f.arg === undefined ? [`--${f.flag}`] : [`--${f.flag}`, "1"];
      assert.equal(
        error(cmd, [...argv, ...argv]),
        `flag --${f.flag} is given twice`,
        `${cmd.name} --${f.flag}`,
      );
    }
  }
});

Deno.test("parseCommand: values, switches, exclusions and implied settings", () => {
  const p = parseCommand(FINETUNE, ["--lr=0.5", "--cls-token", "--epochs", "2", "--warmup", "0"]);
  assert.ok(p !== "help");
  assert.deepEqual(p.given, { lr: 0.5, clsToken: true, epochs: 2, steps: null, warmup: "0" });
  assert.equal(p.options.batch, 64);
  assert.equal(error(FINETUNE, ["--cls-token=1"]), "flag --cls-token takes no value");
  assert.equal(error(FINETUNE, ["--lr", "--epochs", "2"]), "flag --lr needs a value");
  assert.equal(error(FINETUNE, ["-x"]), "unknown flag -x");
  assert.equal(
    error(LINEAR, ["--max-iter", "3", "--steps", "4"]),
    "give --max-iter or --steps, not both",
  );
  const q = parseCommand(PRETRAIN, ["--train-limit", "256", "--no-cls-token"]);
  assert.ok(q !== "help");
  assert.deepEqual(q.given, { trainLimit: 256, trainSubset: null, clsToken: false });
  const r = parseCommand(PRETRAIN, ["--train-limit", "256", "--train-subset", "300"]);
  assert.ok(r !== "help" && r.given.trainSubset === 300);
});

Deno.test("--help shows each row's default from the table and fits a screen", () => {
  for (const cmd of COMMANDS) {
    const text = helpText(cmd);
    const lines = text.split("\n");
    assert.ok(lines.length <= 45, `${cmd.name}: ${lines.length} lines`);
    assert.ok(lines.every((l) => l.length <= 100), `${cmd.name}: a line is wider than 100`);
    const d = defaultsOf(cmd.flags) as Record<string, unknown>;
    for (const f of cmd.flags.filter((f) => !f.hidden && f.arg !== undefined)) {
      const line = lines.find((l) => l.includes(`--${f.flag} ${f.arg}`));
      assert.ok(line, `${cmd.name}: no help line for --${f.flag}`);
      if (typeof d[f.key] === "number" && f.flag !== "steps") {
        const n = d[f.key] as number;
        const shown = [String(n), n.toExponential().replace("e+", "e")];
        assert.ok(
          shown.some((s) => line.includes(`(default ${s})`)),
          `${cmd.name} --${f.flag}: ${line}`,
        );
      }
    }
  }
});

Deno.test("main(): negative, repeated and non-numeric values exit 2 with the flag's message", async () => {
  const cases: [string[], string][] = [
    [["finetune", "--lr", "-1"], `--lr must be a number > 0, got "-1"`],
    [["finetune", "--epochs", "-1"], `--epochs must be a number > 0, got "-1"`],
    [["pretrain", "--batch", "-4"], `--batch must be an integer >= 2, got "-4"`],
    [["finetune", "--epochs", "1", "--epochs", "2"], "flag --epochs is given twice"],
    [["probe", "--init", "none", "--layer", "NaN"], `--layer must be an integer >= 1, got "NaN"`],
    [["linear", "--weight-decay", "1e400"], `--weight-decay must be a number >= 0, got "1e400"`],
    [["experiment-cls", "--jobs", "0"], `--jobs must be an integer in [1, 16], got "0"`],
  ];
  for (const [argv, want] of cases) {
    const io = captureIO();
    assert.equal(await main(argv, io), 2, argv.join(" "));
    assert.equal(io.stderr.split("\n")[0], `train.ts ${argv[0]}: ${want}`);
    assert.equal(io.stdout.length, 0);
  }
});
