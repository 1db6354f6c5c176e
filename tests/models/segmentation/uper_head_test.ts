import assert from "node:assert/strict";
import {
  convModuleState,
  initUperHead,
  initUperHeadState,
  uperHead,
  uperHeadSpec,
} from "../../../models/mod.ts";
import {
  adaptiveAvgPool2d,
  add,
  cast,
  checkGrad,
  concat,
  conv2d,
  div,
  interpolate,
  mul,
  random,
  relu,
  reshape,
  sqrt,
  sub,
  type Tensor,
  treeMap,
} from "../../../mod.ts";
import { assertClose, noLeak } from "../../nn/_fixture.ts";

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

Deno.test("uperHead (eval) equals a composition of the primitives in mmseg's order", async () => {
  await noLeak(async () => {
    const p = initUperHead(random.key(5), CFG);
    // Non-trivial running statistics so eval-mode BN is not the identity.
    const s = treeMap(
      (t: Tensor) => add(t, mul(random.uniform(random.key(t.size + 7), t.shape), 0.5)),
      initUperHeadState(CFG),
    ) as ReturnType<typeof initUperHeadState>;
    const x = maps();
    const bnRelu = (
      h: Tensor,
      w: { weight: Tensor },
      bn: { weight: Tensor; bias: Tensor },
      st: { running_mean: Tensor; running_var: Tensor },
    ) => {
      const c = (t: Tensor) => reshape(t, [1, -1, 1, 1]);
      const y = conv2d(h, w.weight, null, { padding: (w.weight.shape[2]! - 1) / 2 });
      return relu(
        add(
          mul(div(sub(y, c(st.running_mean)), sqrt(add(c(st.running_var), 1e-5))), c(bn.weight)),
          c(bn.bias),
        ),
      );
    };
    const cm = (h: Tensor, pp: typeof p.bottleneck, ss: typeof s.bottleneck) =>
      bnRelu(h, pp.conv, pp.bn, ss.bn);
    const up = (t: Tensor, like: Tensor) =>
      interpolate(t, {
        size: [like.shape[2]!, like.shape[3]!],
        mode: "bilinear",
        alignCorners: false,
      });
    const top = x[3]!;
    const ppm = CFG.poolScales.map((sc, i) =>
      up(cm(adaptiveAvgPool2d(top, sc), p.psp_modules[i]!, s.psp_modules[i]!), top)
    );
    const l3 = cm(concat([top, ...ppm], 1), p.bottleneck, s.bottleneck);
    const l2 = add(cm(x[2]!, p.lateral_convs[2]!, s.lateral_convs[2]!), up(l3, x[2]!));
    const l1 = add(cm(x[1]!, p.lateral_convs[1]!, s.lateral_convs[1]!), up(l2, x[1]!));
    const l0 = add(cm(x[0]!, p.lateral_convs[0]!, s.lateral_convs[0]!), up(l1, x[0]!));
    const f = [l0, l1, l2].map((l, i) => cm(l, p.fpn_convs[i]!, s.fpn_convs[i]!));
    const fused = concat([f[0]!, up(f[1]!, l0), up(f[2]!, l0), up(l3, l0)], 1);
    const want = conv2d(
      cm(fused, p.fpn_bottleneck, s.fpn_bottleneck),
      p.conv_seg.weight,
      p.conv_seg.bias!,
    );
    const got = uperHead(p, s, x, { poolScales: CFG.poolScales }).logits;
    await assertClose(got, want, { atol: 1e-6 });
  });
});
