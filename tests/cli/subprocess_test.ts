/**
 * `train.ts` as a process: usage errors exit with 2 and name the flag or path, `--help` works
 * for every command, and Ctrl-C (SIGINT) writes a checkpoint and exits with 130.
 */
import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { runTrain, tinyRun, TRAIN_TS } from "./_util.ts";

Deno.test("train.ts rejects bad flags and data paths with exit code 2 and a clear message", async () => {
  const cases: [string[], RegExp][] = [
    [["finetune", "--bogus"], /unknown flag --bogus/],
    [["finetune", "--lr", "fast"], /--lr must be a number > 0, got "fast"/],
    [["finetune", "--batch"], /flag --batch needs a value/],
    [["finetune", "--data", "/no/such/dir"], /--data \/no\/such\/dir: no such directory/],
    [
      ["finetune", "--data", fromFileUrl(new URL(".", import.meta.url))],
      /--data .*no Fashion-MNIST train files/,
    ],
    [["linear", "--data", "/no/such/dir"], /--data \/no\/such\/dir: no such directory/],
    [["pretrain", "--data", "/no/such/dir"], /--data \/no\/such\/dir: no such directory/],
    [["probe", "--init", "/no/such/run"], /--init \/no\/such\/run: no such file or directory/],
    [["fly"], /unknown command "fly"/],
  ];
  for (const [args, want] of cases) {
    const r = await runTrain(args);
    assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, want);
    assert.match(r.stderr, /--help/);
    assert.equal(r.stdout, "");
  }
});

Deno.test("train.ts --help works for the program and each command", async () => {
  for (const args of [["--help"], ["finetune", "--help"], ["linear", "--help"]]) {
    const r = await runTrain(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Usage: deno run -A train\.ts/);
    assert.ok(r.stdout.trim().split("\n").length <= 45, `${args}: help longer than a screen`);
  }
});

Deno.test("train.ts finetune: SIGINT writes a checkpoint and exits with 130", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/run`;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", TRAIN_TS, ...tinyRun(out, ["--steps", "100000", "--log-every", "1"])],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const dec = new TextDecoder();
    let err = "";
    const reader = child.stderr.getReader();
    while (!/finetune +2\/100000/.test(err)) {
      const { value, done } = await reader.read();
      if (done) break;
      err += dec.decode(value);
    }
    child.kill("SIGINT");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      err += dec.decode(value);
    }
    const [status, stdout] = await Promise.all([child.status, new Response(child.stdout).text()]);
    assert.equal(status.code, 130, err);
    assert.equal(stdout, "");
    assert.match(err, /Ctrl-C: stopping after this step/);
    assert.match(err, /stopped \(SIGINT\) at step \d+\/100000/);
    const meta = JSON.parse(
      await new Deno.Command(Deno.execPath(), {
        args: [
          "eval",
          `import {loadCheckpoint} from "${
            new URL("../../nn/checkpoint.ts", import.meta.url).href
          }";
const c = await loadCheckpoint("${out}/ckpt_latest.safetensors");
console.log(JSON.stringify({ step: c.step, format: c.format }));`,
        ],
        stdout: "piped",
      }).output().then((o) => dec.decode(o.stdout)),
    );
    assert.equal(meta.format, "tessera-ckpt-1");
    assert.ok(meta.step >= 2, `checkpoint at step ${meta.step}`);
    const last = (await Deno.readTextFile(`${out}/metrics.jsonl`)).trim().split("\n").at(-1)!;
    assert.equal(JSON.parse(last).type, "interrupt");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
