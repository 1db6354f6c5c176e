/**
 * End-to-end tests of `train.ts pretrain` (each method a few steps on sample images: loss
 * falls, run directory complete, no tensor growth), stop-and-resume bit identity, usage
 * errors, and `finetune --init` taking over exactly the pre-trained encoder.
 */
import assert from "node:assert/strict";
import { captureIO } from "../../trainer/io.ts";
import { main } from "../../cli/main.ts";
import { readMetrics } from "../../trainer/metrics.ts";
import { pretrainCommand } from "../../cli/pretrain.ts";
import { loadEncoder } from "../../models/encoder_checkpoint.ts";
import { loadCheckpoint } from "../../nn/checkpoint.ts";
import { loadTokenizer } from "../../models/tokenizer_io.ts";
import { dispose, memoryStats, Tensor } from "../../mod.ts";
import { assertLossFalls, assertResumeIdentical, SAMPLE, TINY_VIT, withTempDir } from "./_util.ts";

/** A tiny pretrain run on sample images. */
function tinyPretrain(method: string, out: string, extra: string[] = []): string[] {
  return [
    "pretrain",
    "--method",
    method,
    "--data",
    SAMPLE,
    "--train-limit",
    "256",
    ...TINY_VIT,
    "--vocab",
    "32",
    "--kmeans-iters",
    "5",
    "--out-dim",
    "64",
    "--hidden-dim",
    "32",
    "--bottleneck-dim",
    "16",
    "--local-crops",
    "2",
    "--out",
    out,
    ...extra,
  ];
}

// SplitMask's small-data recipe (§5.5): 75 % masking as two disjoint subsets, strong augmentation.
const SMALL_DATA = [
  "--masking",
  "disjoint",
  "--mask-ratio",
  "0.75",
  "--solarize",
  "0.3",
  "--blur",
  "0.5",
];
const VARIANTS: [string, string[]][] = [
  ["splitmask", []],
  ["beit", []],
  ["dino", []],
  ["splitmask", SMALL_DATA],
];
for (const [method, variant] of VARIANTS) {
  const name = [method, ...variant].join(" ");
  Deno.test(`pretrain --method ${name}: loss falls, run directory complete, no growth`, async () => {
    await withTempDir(async (dir) => {
      const out = `${dir}/run`;
      const io = captureIO();
      const live: number[] = [];
      const before = memoryStats().cpu?.tensors ?? 0;
      const lr = method === "dino" ? "2e-3" : "3e-3";
      const argv = tinyPretrain(method, out, [
        ...["--steps", "24", "--lr", lr, "--warmup", "2", "--ckpt-every", "10", "--seed", "1"],
        ...variant,
      ]);
      const code = await pretrainCommand(argv.slice(1), io, {
        onStep: (_s, n) => live.push(n),
        listenSigint: false,
      });
      assert.equal(code, 0, io.stderr);
      if (variant === SMALL_DATA) {
        assert.match(
          io.stderr,
          /SplitMask \(both\): two disjoint uniform subsets of 4 of 16 patches/,
        );
      }
      assert.equal(memoryStats().cpu?.tensors ?? 0, before, "the run leaked tensors");
      assert.ok(live.slice(1).every((n) => n === live[1]), `live tensors changed: ${live}`);

      const final = JSON.parse(io.stdout.at(-1)!);
      assert.equal(final.method, method);
      assert.equal(final.steps, 24);
      assert.ok(final.flops_per_step > 0);
      const recs = await readMetrics(`${out}/metrics.jsonl`);
      assert.equal(recs[0]!.type, "config");
      assert.equal(recs[0]!.method, method);
      const loss = recs.filter((r) => r.type === "train").map((r) => r.loss as number);
      assert.equal(loss.length, 24);
      assert.ok(loss.every(Number.isFinite), `loss not finite: ${loss}`);
      // The DINO loss is not monotone (the teacher sharpens as the centre moves); the MIM
      // losses must fall. (tests/models/dino_test.ts checks DINO's loss on a fixed batch.)
      if (method !== "dino") {
        assertLossFalls(loss, 6);
      }
      assert.deepEqual(recs.filter((r) => r.type === "checkpoint").map((r) => r.step), [
        10,
        20,
        24,
      ]);
      if (method === "splitmask") {
        const t = recs.find((r) => r.type === "train")!;
        assert.ok(typeof t.mim === "number" && typeof t.nce === "number");
      }
      for (const f of ["loss.svg", "lr.svg", "ckpt_latest.safetensors"]) {
        assert.ok((await Deno.stat(`${out}/${f}`)).size > 0, f);
      }
      if (method !== "dino") {
        const tok = await loadTokenizer(`${out}/tokenizer.safetensors`);
        assert.deepEqual(tok.codebook.shape, [32, 49]);
        dispose([tok.codebook, tok.centre]);
      }
      // The encoder loads alone: DINO's is the teacher's backbone.
      const enc = await loadEncoder(out);
      assert.equal(enc.method, method);
      assert.equal(enc.config.depth, 2);
      assert.deepEqual(Object.keys(enc.params).sort(), [
        "blocks",
        "cls_token",
        "norm",
        "patch_embed",
        "pos_embed",
      ]);
      dispose(enc.params);
    });
  });
}

for (const method of ["splitmask", "dino"]) {
  Deno.test(`pretrain --method ${method} stopped at step k and resumed is bit-identical`, async () => {
    await withTempDir(async (dir) => {
      const flags = ["--steps", "12", "--warmup", "3", "--ckpt-every", "5", "--seed", "2"];
      const argv = (out: string, extra: string[]) =>
        tinyPretrain(method, out, [...flags, ...extra]);
      await assertResumeIdentical("pretrain", argv, dir, 9);
    });
  });
}

Deno.test("pretrain: usage errors name the flag and exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [["pretrain", "--method", "mae"], /--method must be one of splitmask, beit, dino, got "mae"/],
    [["pretrain", "--method", "dino", "--no-cls-token"], /--method dino needs the CLS token/],
    [["pretrain", "--steps", "3", "--epochs", "2"], /give --steps or --epochs, not both/],
    [["pretrain", "--vocab", "1"], /--vocab must be an integer in \[2, 65536\], got "1"/],
    [["pretrain", "--mask-ratio", "0"], /--mask-ratio must be a number/],
    [["pretrain", "--train-subset", "15", "--data", SAMPLE], /multiple of 10/],
    [["pretrain", "--resume", "/nonexistent/x"], /--resume \/nonexistent\/x/],
    [["pretrain", "--method", "dino", "--local-size", "10"], /--local-size 10 is not a multiple/],
    [
      ["pretrain", "--method", "beit", "--masking", "disjoint"],
      /--masking disjoint is SplitMask's/,
    ],
    [
      ["pretrain", "--masking", "disjoint", "--mask-ratio", "0.3"],
      /--masking disjoint needs --mask-ratio >= 0\.5 \(each branch keeps 1 − ratio\), got 0\.3/,
    ],
    [["pretrain", "--solarize", "2"], /--solarize must be a number in \[0, 1\]/],
  ];
  for (const [argv, re] of cases) {
    const io = captureIO();
    assert.equal(await main(argv, io), 2, `${argv.join(" ")}: ${io.stderr}`);
    assert.match(io.stderr, re);
  }
  const io = captureIO();
  assert.equal(await main(["pretrain", "--help"], io), 0);
  assert.match(io.stdout.join("\n"), /--method NAME/);
});

Deno.test("finetune --init takes over the pre-trained encoder exactly; bad --init exits 2", async () => {
  await withTempDir(async (dir) => {
    const pre = `${dir}/pre`;
    const io1 = captureIO();
    assert.equal(
      await main(tinyPretrain("beit", pre, ["--steps", "3", "--warmup", "1"]), io1),
      0,
      io1.stderr,
    );
    // One fine-tuning step at lr ~0 (warmup from 0): the encoder must equal the checkpoint's.
    const ft = `${dir}/ft`;
    const io2 = captureIO();
    const argv = [
      "finetune",
      ...["--init", pre, "--data", SAMPLE, "--train-limit", "64", "--test-limit", "32"],
      ...["--batch", "32", "--steps", "1", "--warmup", "1", "--out", ft],
    ];
    assert.equal(await main(argv, io2), 0, io2.stderr);
    assert.match(io2.stderr, /encoder from .*pre\/ckpt_latest\.safetensors \(beit, step 3\)/);
    const enc = await loadEncoder(pre);
    const ck = await loadCheckpoint(`${ft}/ckpt_latest.safetensors`);
    const p = ck.params as Record<string, unknown>;
    const eq = async (a: Tensor, b: Tensor) =>
      assert.deepEqual(Array.from(await a.data()), Array.from(await b.data()));
    await eq(
      enc.params.patch_embed.proj.weight,
      (p.patch_embed as never as {
        proj: { weight: Tensor };
      }).proj.weight,
    );
    await eq(enc.params.pos_embed!, p.pos_embed as Tensor);
    assert.ok(p.head !== undefined && p.fc_norm !== undefined && p.norm === undefined);
    dispose([enc.params, ck.params, ck.optState, ck.rngKey]);

    const io3 = captureIO();
    assert.equal(await main(["finetune", "--init", `${dir}/nope`, "--data", SAMPLE], io3), 2);
    assert.match(io3.stderr, /--init .*nope: no such file or directory/);
    // A finetune checkpoint of another width does not fit when the shape is forced.
    const io4 = captureIO();
    assert.equal(await main(["probe", "--init", `${dir}/ft/metrics.jsonl`], io4), 2, io4.stderr);
  });
});
