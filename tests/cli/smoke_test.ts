/**
 * The `--smoke` preset of every training command runs to the end in the suite (a few steps on
 * a small subset with a tiny model): exit 0, one JSON line, the preset's run length, and an
 * explicit flag winning over the preset.
 */
import assert from "node:assert/strict";
import { captureIO } from "../../trainer/io.ts";
import { main } from "../../cli/main.ts";
import { memoryStats } from "../../mod.ts";
import { SAMPLE } from "./_util.ts";

const CASES: [string, string[], (r: Record<string, unknown>) => void][] = [
  [
    "finetune",
    [],
    (r) => assert.deepEqual([r.steps, r.train_images, r.test_images], [4, 256, 100]),
  ],
  ["finetune", ["--steps", "2"], (r) => assert.equal(r.steps, 2)],
  [
    "pretrain",
    ["--method", "splitmask"],
    (r) => assert.deepEqual([r.steps, r.train_images], [3, 100]),
  ],
  ["pretrain", ["--method", "beit"], (r) => assert.deepEqual([r.steps, r.train_images], [3, 100])],
  ["pretrain", ["--method", "dino"], (r) => assert.deepEqual([r.steps, r.train_images], [3, 100])],
  ["probe", ["--init", "none"], (r) => assert.deepEqual([r.layer, r.train_images], [1, 200])],
  ["linear", [], (r) => assert.deepEqual([r.train_images, r.test_images], [200, 100])],
];

for (const [command, extra, check] of CASES) {
  Deno.test(`${command} --smoke ${extra.join(" ")}: runs to the end in seconds`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "tessera_smoke_" });
    try {
      const before = memoryStats().cpu?.tensors ?? 0;
      const io = captureIO();
      const out = command === "linear" ? [] : ["--out", `${dir}/run`];
      const argv = [command, "--smoke", ...extra, "--data", SAMPLE, ...out];
      assert.equal(await main(argv, io), 0, io.stderr);
      const r = JSON.parse(io.stdout.at(-1)!);
      assert.equal(r.command, command);
      check(r);
      assert.equal(memoryStats().cpu?.tensors ?? 0, before, "the run leaked tensors");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("--help spells out each --smoke preset", async () => {
  for (const command of ["finetune", "pretrain", "probe", "linear"]) {
    const io = captureIO();
    assert.equal(await main([command, "--help"], io), 0);
    const text = io.stdout.join("\n");
    assert.match(text, /--smoke = --train-(limit|subset) \d+ /, command);
  }
});
