/**
 * Helper of the WebGPU CLI tests: one in-process `train.ts` command that must succeed, with
 * the backend set back to cpu afterwards (a `--backend webgpu` run leaves it on webgpu).
 * @module
 */
import assert from "node:assert/strict";
import { captureIO } from "../../trainer/io.ts";
import { main } from "../../cli/main.ts";
import { setBackend } from "../../mod.ts";

/**
 * Runs `main(argv)`, asserts exit 0 (with its stderr as the message), sets the backend back to
 * cpu whatever happened, and returns the parsed last stdout line (the run's final record).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getBackend } from "../../mod.ts";
 * import { mainOk } from "./_cli.ts";
 * await assert.rejects(mainOk(["no-such-command"]));
 * assert.equal(getBackend().name, "cpu");
 * ```
 */
export async function mainOk(argv: string[]): Promise<Record<string, unknown>> {
  const io = captureIO();
  try {
    assert.equal(await main(argv, io), 0, io.stderr);
  } finally {
    setBackend("cpu");
  }
  return JSON.parse(io.stdout.at(-1)!);
}
