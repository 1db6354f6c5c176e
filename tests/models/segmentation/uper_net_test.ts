import assert from "node:assert/strict";
import { initUperNet, initUperNetState, uperNet } from "../../../models/mod.ts";
import { dispose, random } from "../../../mod.ts";
import { TINY_UPERNET } from "../_tiny.ts";
import { noLeak } from "../../nn/_fixture.ts";

Deno.test("uperNet: input-size logits, stride-16 aux logits, eval deterministic, errors", async () => {
  await noLeak(() => {
    const p = initUperNet(random.key(0), TINY_UPERNET), s = initUperNetState(TINY_UPERNET);
    const x = random.normal(random.key(1), [2, 1, 32, 32]);
    const a = uperNet(p, s, x, TINY_UPERNET);
    assert.deepEqual([a.logits.shape, a.auxLogits.shape], [[2, 3, 32, 32], [2, 3, 4, 4]]);
    assert.equal(a.state.decode_head.bottleneck.bn, s.decode_head.bottleneck.bn); // eval: the same statistics
    assert.throws(
      () => uperNet(p, s, x, TINY_UPERNET, { train: true }),
      /uperNet: train mode needs a key/,
    );
    assert.throws(
      () => uperNet(p, s, random.normal(random.key(2), [1, 1, 30, 32]), TINY_UPERNET),
      /multiples/,
    );
    dispose([p, s]);
  });
});
