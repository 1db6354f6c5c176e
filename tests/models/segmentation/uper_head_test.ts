import assert from "node:assert/strict";
import {
  convModuleState,
  initUperHead,
  initUperHeadState,
  uperHead,
  uperHeadSpec,
} from "../../../models/mod.ts";
import { cast, checkGrad, random, type Tensor, treeMap } from "../../../mod.ts";
import { noLeak } from "../../nn/_fixture.ts";

const CFG = { inChannels: 3, channels: 4, numClasses: 2, poolScales: [1, 2] };
const maps = (dtype: "float32" | "float64" = "float32") =>
  [8, 4, 2, 1].map((s, i) => random.normal(random.key(10 + i), [2, 3, s, s], { dtype }));

Deno.test("uperHead: stride-4 logits, eval is deterministic, train moves every BN's running stats", async () => {
  await noLeak(async () => {
    const p = initUperHead(random.key(0), CFG), s0 = initUperHeadState(CFG);
    const x = maps();
    const opts = { poolScales: CFG.poolScales };
    const a = uperHead(p, s0, x, opts), b = uperHead(p, s0, x, opts);
    assert.deepEqual(a.logits.shape, [2, 2, 8, 8]);
    assert.deepEqual(await a.logits.toArray(), await b.logits.toArray());
    assert.equal(a.state, a.state);
    const t = uperHead(p, s0, x, { ...opts, train: true, key: random.key(1) });
    const fresh = Array.from(await convModuleState(4).bn.running_mean.data());
    for (
      const st of [
        ...t.state.psp_modules,
        t.state.bottleneck,
        ...t.state.lateral_convs,
        ...t.state.fpn_convs,
        t.state.fpn_bottleneck,
      ]
    ) {
      assert.notDeepEqual(Array.from(await st.bn.running_mean.data()), fresh);
    }
    assert.throws(() => uperHead(p, s0, x), /poolScales .* do not match/);
    assert.throws(() => uperHead(p, s0, x.slice(1), opts), /expected 4 maps/);
  });
  assert.throws(() => uperHeadSpec({ ...CFG, channels: 0 }), /channels must be/);
});

Deno.test("uperHead gradients (float64, train-mode BN, no dropout) w.r.t. the maps and conv_seg", async () => {
  const p64 = treeMap((t: Tensor) => cast(t, "float64"), initUperHead(random.key(2), CFG));
  const s64 = treeMap((t: Tensor) => cast(t, "float64"), initUperHeadState(CFG));
  const x = maps("float64");
  const f = (m3: Tensor, m0: Tensor, w: Tensor) =>
    uperHead({ ...p64, conv_seg: { ...p64.conv_seg, weight: w } }, s64, [m0, x[1]!, x[2]!, m3], {
      poolScales: CFG.poolScales,
      train: true,
      dropout: 0,
    }).logits;
  await checkGrad(f, [x[3]!, x[0]!, p64.conv_seg.weight], { modes: ["rev"] });
});
