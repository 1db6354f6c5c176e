/**
 * A full disk under `--out`: the run fails with exit 1 and one line naming the checkpoint it
 * could not write and the cause (ENOSPC), no stack trace, and no temp file left behind. The
 * disk is a 40 KiB tmpfs (root only; skipped, with the reason, where mounting is refused).
 */
import assert from "node:assert/strict";
import { mountTmpfs, unmountTmpfs } from "../_tmpfs.ts";
import { main } from "../../cli/main.ts";
import { captureIO } from "../../trainer/io.ts";

const mountPoint = await mountTmpfs("40k", "disk_full_test") ?? "";
const mounted = mountPoint !== "";

Deno.test({
  name:
    "train.ts finetune on a full disk: exit 1, the checkpoint and ENOSPC named, nothing half-written",
  ignore: !mounted,
  fn: async () => {
    try {
      const out = `${mountPoint}/run`;
      const io = captureIO();
      const code = await main(["finetune", "--smoke", "--out", out], io);
      assert.equal(code, 1, io.stderr);
      const last = io.stderr.trimEnd().split("\n").at(-1) ?? "";
      assert.equal(
        last,
        `train.ts finetune: error: writeSafetensorsFile: cannot write ` +
          `${out}/ckpt_latest.safetensors: No space left on device (os error 28) [ENOSPC]`,
      );
      assert.doesNotMatch(io.stderr, /^\s+at /m, "no stack trace");
      const left: string[] = [];
      for await (const f of Deno.readDir(out)) left.push(f.name);
      assert.ok(!left.some((f) => f.includes("safetensors")), `left behind: ${left.join(", ")}`);
    } finally {
      await unmountTmpfs(mountPoint);
    }
  },
});
