/**
 * Regression (seen on an NVIDIA H200): buffers released beyond the pool's budget were
 * destroyed at once, while recorded-but-unsubmitted commands still bound them ("Buffer has
 * been destroyed" at submit). They are now destroyed after the next submission.
 */
import assert from "node:assert/strict";
import { noGpu } from "./_setup.ts";

Deno.test({
  name:
    "webgpu: surplus pool buffers are destroyed only after the commands using them are submitted",
  ignore: noGpu,
  async fn() {
    const script = new URL("./_pool_surplus_script.ts", import.meta.url);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script.href],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(text, /value 0\.85\d\d/);
  },
});
