/**
 * Helpers of the dense-command tests (detect, segment): a tiny FMNIST-Scenes folder generated
 * into a temp dir for the length of a test, a CPU run's argv on it, and a stopped `--init` run.
 * @module
 */
import assert from "node:assert/strict";
import { generateScenes } from "../../data/scenes/generate.ts";
import { SCENES_VERSIONS } from "../../data/scenes/scene.ts";
import { main } from "../../cli/main.ts";
import { captureIO } from "../../trainer/io.ts";
import { withTempDir } from "./_util.ts";

/**
 * Runs `f(data, dir)` on a fresh tiny FMNIST-Scenes folder (`images` train/val images, 8/4 by
 * default) at `data`, inside the temp dir `dir`, and removes `dir` afterwards.
 */
export async function withScenes(
  f: (data: string, dir: string) => Promise<void>,
  images: { train: number; val: number } = { train: 8, val: 4 },
): Promise<void> {
  await withTempDir(async (dir) => {
    await generateScenes({ ...SCENES_VERSIONS.tiny, images }, dir);
    await f(`${dir}/fmnist-scenes-tiny`, dir);
  });
}

/**
 * The argv of a CPU `--smoke` run of `command` on `data` with the space-separated `flags`, as a
 * function of the run directory and extra flags (the shape _util.ts's `assertResumeIdentical`
 * takes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { smokeRun } from "./_dense_helpers.ts";
 * assert.deepEqual(smokeRun("segment", "d", "--steps 4")("o", ["--seed", "1"]), [
 *   "segment", "--data", "d", "--smoke", "--steps", "4", "--backend", "cpu", "--out", "o", "--seed", "1",
 * ]);
 * ```
 */
export function smokeRun(
  command: "detect" | "segment",
  data: string,
  flags: string,
): (out: string, extra: string[]) => string[] {
  const fixed = [command, "--data", data, "--smoke", ...flags.split(" "), "--backend", "cpu"];
  return (out, extra) => [...fixed, "--out", out, ...extra];
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
