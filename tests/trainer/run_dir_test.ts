/**
 * Run-directory and resume failures are usage errors (exit 2) naming the flag: `--out` at or
 * under a file, `--resume` of a checkpoint of another format or with non-finite parameters.
 */
import assert from "node:assert/strict";
import { captureIO } from "../../trainer/io.ts";
import { main } from "../../cli/main.ts";
import { loadCheckpoint, saveCheckpoint } from "../../nn/checkpoint.ts";
import { dispose, full, type Tensor } from "../../mod.ts";
import { tinyRun } from "../cli/_util.ts";

const ONE_STEP = ["--steps", "1", "--eval-every", "1"];

Deno.test("--out at or under a file, and --resume of a foreign or non-finite checkpoint, exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/file`;
    await Deno.writeTextFile(file, "x");
    for (const out of [file, `${file}/sub`]) {
      const io = captureIO();
      assert.equal(await main(tinyRun(out, ONE_STEP), io), 2, io.stderr);
      assert.match(io.stderr.split("\n")[0]!, new RegExp(`^train\\.ts finetune: --out ${out}`));
    }
    const io1 = captureIO();
    assert.equal(await main(tinyRun(`${dir}/a`, ONE_STEP), io1), 0, io1.stderr);
    const ckpt = `${dir}/a/ckpt_latest.safetensors`;

    // Another format string of the same length in the header.
    const bytes = await Deno.readFile(ckpt);
    const text = new TextDecoder("latin1").decode(bytes);
    const at = text.indexOf('"tessera-ckpt-1"');
    assert.ok(at > 0);
    const other = bytes.slice();
    other.set(new TextEncoder().encode('"tessera-ckpt-9"'), at);
    await Deno.writeFile(`${dir}/other.safetensors`, other);
    const io2 = captureIO();
    assert.equal(await main(["finetune", "--resume", `${dir}/other.safetensors`], io2), 2);
    assert.match(io2.stderr, /--resume .*other\.safetensors: its format is "tessera-ckpt-9"/);

    // NaN parameters.
    const ck = await loadCheckpoint(ckpt);
    const p = ck.params as { pos_embed: Tensor };
    const bad = { ...p, pos_embed: full(p.pos_embed.shape, NaN) };
    await saveCheckpoint(`${dir}/nan.safetensors`, {
      params: bad,
      optState: ck.optState,
      step: ck.step,
      rngKey: ck.rngKey!,
      config: ck.config,
    });
    dispose([ck.params, ck.optState, ck.rngKey, bad.pos_embed]);
    const io3 = captureIO();
    assert.equal(await main(["finetune", "--resume", `${dir}/nan.safetensors`], io3), 2);
    assert.match(
      io3.stderr,
      /--resume .*nan\.safetensors: the checkpoint's parameters are not finite/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("prepareRunDir: --out that is, or lies under, a file names the file (exit 2, no stack)", async () => {
  const { prepareRunDir } = await import("../../trainer/run_dir.ts");
  const { UsageError } = await import("../../trainer/flags.ts");
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/afile`;
    await Deno.writeTextFile(file, "x");
    await assert.rejects(prepareRunDir(file, false), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.equal(e.message, `--out ${file} is a file, not a directory`);
      return true;
    });
    await assert.rejects(prepareRunDir(`${file}/a/b`, false), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.equal(e.message, `--out ${file}/a/b: ${file} is a file, not a directory`);
      return true;
    });
    const paths = await prepareRunDir(`${dir}/new/run`, false); // missing parents are created
    assert.ok((await Deno.stat(`${dir}/new/run`)).isDirectory, paths.metrics);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
