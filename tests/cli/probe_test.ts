/**
 * `train.ts probe`: end-to-end probes of a tiny BEiT-format checkpoint and of a
 * random encoder (`--init none`), no leaked tensors, and usage errors.
 */
import assert from "node:assert/strict";
import { UsageError } from "../../trainer/flags.ts";
import { captureIO } from "../../trainer/io.ts";
import { parseProbeArgs, probeCommand } from "../../cli/probe.ts";
import { saveCheckpoint } from "../../nn/checkpoint.ts";
import { initVit, type VitConfig } from "../../models/vit.ts";
import { dispose, memoryStats, ones, random, scope } from "../../mod.ts";
import { SAMPLE } from "./_util.ts";

const ENC: VitConfig = {
  imgSize: 28,
  patchSize: 7,
  inChans: 1,
  numClasses: 0,
  embedDim: 16,
  depth: 2,
  numHeads: 2,
  classToken: true,
};

/** Writes a tiny BEiT pretrain checkpoint (encoder + `lm_head`) in `dir`; returns its path. */
async function tinyCheckpoint(dir: string): Promise<string> {
  const params = scope(() => ({
    ...initVit(random.key(3), ENC),
    lm_head: { weight: ones([8, 16]) },
  }));
  const path = `${dir}/ckpt_latest.safetensors`;
  await saveCheckpoint(path, {
    params,
    step: 5,
    config: { command: "pretrain", method: "beit", encoder: ENC },
  });
  dispose(params);
  return path;
}

Deno.test("probe: end to end on a tiny BEiT checkpoint (file and run dir), --out, no leaks", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ckpt = await tinyCheckpoint(dir);
    const before = memoryStats().cpu?.tensors ?? 0;
    const common = ["--data", SAMPLE, "--train-subset", "300", "--test-limit", "200"];
    const io = captureIO();
    assert.equal(await probeCommand(["--init", ckpt, ...common, "--out", `${dir}/out`], io), 0);
    assert.equal(memoryStats().cpu?.tensors ?? 0, before, "the probe leaked tensors");
    assert.equal(io.stdout.length, 1);
    const r = JSON.parse(io.stdout[0]!);
    assert.deepEqual(
      [r.command, r.init, r.method, r.step, r.layer, r.feature_dim, r.pool],
      ["probe", ckpt, "beit", 5, 2, 16, "avg"],
    );
    assert.equal(r.train_images, 300);
    assert.equal(r.test_images, 200);
    assert.equal(r.converged, true);
    assert.ok(r.train_accuracy > r.test_accuracy - 0.05);
    assert.ok(r.test_accuracy > 0.3 && r.test_accuracy <= 1, `test top-1 ${r.test_accuracy}`);
    assert.ok(r.seconds > 0);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/out/probe.json`)), r);
    assert.match(io.stderr, /probe: beit encoder .* block 2, avg pooling; 300 train \/ 200 test/);

    const io2 = captureIO();
    const argv = ["--init", dir, ...common, "--layer", "1", "--pool", "cls"];
    assert.equal(await probeCommand(argv, io2), 0);
    const r2 = JSON.parse(io2.stdout[0]!);
    assert.equal(r2.layer, 1);
    assert.equal(r2.pool, "cls");
    assert.equal(r2.init, dir);
    assert.equal(memoryStats().cpu?.tensors ?? 0, before, "the second probe leaked tensors");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("probe --init none: random features of the given shape", async () => {
  const before = memoryStats().cpu?.tensors ?? 0;
  const io = captureIO();
  const argv = [
    "--init",
    "none",
    "--data",
    SAMPLE,
    "--train-limit",
    "300",
    "--test-limit",
    "200",
    "--dim",
    "16",
    "--depth",
    "1",
    "--heads",
    "2",
  ];
  assert.equal(await probeCommand(argv, io), 0, io.stderr);
  assert.equal(memoryStats().cpu?.tensors ?? 0, before, "leaked tensors");
  const r = JSON.parse(io.stdout[0]!);
  assert.deepEqual([r.init, r.method, r.layer, r.depth, r.feature_dim], [
    "none",
    "random",
    1,
    1,
    16,
  ]);
  assert.ok(r.test_accuracy > 0.3, `random-feature probe ${r.test_accuracy}`);
});

Deno.test("probe: usage errors name the flag and value", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ckpt = await tinyCheckpoint(dir);
    const base = ["--data", SAMPLE, "--train-limit", "20", "--test-limit", "10"];
    const cases: [string[], RegExp][] = [
      [[], /--init is required/],
      [["--init", ckpt, "--layer", "0"], /--layer must be an integer >= 1, got "0"/],
      [["--init", ckpt, "--layer", "3", ...base], /--layer 3 is beyond the encoder's depth 2/],
      [["--init", `${dir}/nope.safetensors`], /--init .*nope\.safetensors: no such file/],
      [["--init", ckpt, "--dim", "32"], /--dim only applies with --init none/],
      [["--init", "none", "--train-subset", "25"], /--train-subset must be a multiple of 10/],
      [["--init", "none", "--pool", "max"], /--pool must be one of avg, cls, got "max"/],
      [["--init", "none", "--pool", "cls", ...base], /--pool cls: the encoder has no CLS token/],
      [["--init", "none", "--bogus"], /unknown flag --bogus/],
      [["--init", "none", "--data", "/no/such/dir"], /--data \/no\/such\/dir: /],
    ];
    const before = memoryStats().cpu?.tensors ?? 0;
    for (const [argv, want] of cases) {
      await assert.rejects(probeCommand(argv, captureIO()), (e: unknown) => {
        assert.ok(e instanceof UsageError, `${argv.join(" ")}: ${e}`);
        assert.equal(e.exitCode, 2);
        assert.match(e.message, want);
        return true;
      });
    }
    assert.equal(memoryStats().cpu?.tensors ?? 0, before, "failed runs leaked tensors");
    const o = parseProbeArgs(["--init", "none"]);
    assert.ok(o !== "help" && o.testLimit === null && o.trainLimit === 4000);
    const io = captureIO();
    assert.equal(await probeCommand(["-h"], io), 0);
    assert.match(io.stdout[0]!, /Usage: deno run -A train\.ts probe --init/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
