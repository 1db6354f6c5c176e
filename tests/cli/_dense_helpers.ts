/**
 * Helpers of the dense-command tests (detect, segment): a tiny FMNIST-Scenes folder generated
 * into a temp dir for the length of a test.
 * @module
 */
import assert from "node:assert/strict";
import { generateScenes } from "../../data/scenes/generate.ts";
import { SCENES_VERSIONS } from "../../data/scenes/scene.ts";
import { main } from "../../cli/main.ts";
import { captureIO } from "../../trainer/io.ts";

/**
 * Runs `f(data, dir)` on a fresh tiny FMNIST-Scenes folder (`images` train/val images, 8/4 by
 * default) at `data`, inside the temp dir `dir`, and removes `dir` afterwards.
 */
export async function withScenes(
  f: (data: string, dir: string) => Promise<void>,
  images: { train: number; val: number } = { train: 8, val: 4 },
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await generateScenes({ ...SCENES_VERSIONS.tiny, images }, dir);
    await f(`${dir}/fmnist-scenes-tiny`, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * `pretrain --smoke --patch 4` (a greyscale encoder) into `dir/pre`, then `command --init` of it
 * on `data` for a 2-step run stopped after step 1 (exit 130) into `dir/run`; returns both paths
 * and the run's stderr.
 */
export async function initStoppedRun(
  command: "detect" | "segment",
  data: string,
  dir: string,
): Promise<{ pre: string; out: string; stderr: string }> {
  const io0 = captureIO();
  const pre = `${dir}/pre`, out = `${dir}/run`;
  const argv0 = ["pretrain", "--smoke", "--patch", "4", "--out", pre, "--backend", "cpu"];
  assert.equal(await main(argv0, io0), 0, io0.stderr);
  const flags = ["--data", data, "--smoke", "--steps", "2", "--eval-every", "100"];
  const io1 = captureIO();
  const argv1 = [command, ...flags, "--init", pre, "--out", out, "--stop-after", "1"];
  assert.equal(await main([...argv1, "--backend", "cpu"], io1), 130, io1.stderr);
  return { pre, out, stderr: io1.stderr };
}
