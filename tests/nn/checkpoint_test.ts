/**
 * Checkpoints: round trip of params + optimizer state + step + RNG key + config through an
 * atomically written file, bit-identical continuation after reload, and one error that lists
 * every name/shape/dtype mismatch.
 */
import assert from "node:assert/strict";
import {
  dispose,
  ones,
  random,
  type Tensor,
  TesseraError,
  treeFlatten,
  valueAndGrad,
  zeros,
} from "../../mod.ts";
import {
  adamw,
  type AdamWState,
  CHECKPOINT_FORMAT,
  crossEntropy,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  ParamSpec,
  saveCheckpoint,
  sgd,
  zerosInit,
} from "../../nn/mod.ts";
import { initVit, type VitConfig, vitForward, type VitParams, vitSpec } from "../../models/mod.ts";
import { tensor } from "../../mod.ts";
import { noLeak } from "./_fixture.ts";
import { TINY_VIT } from "../models/_tiny.ts";

const cfg: VitConfig = {
  ...TINY_VIT,
  dropPathRate: 0.1,
};

async function sameTrees(a: unknown, b: unknown): Promise<void> {
  const fa = treeFlatten(a), fb = treeFlatten(b);
  assert.deepEqual(Object.keys(fa).sort(), Object.keys(fb).sort());
  for (const k of Object.keys(fa)) {
    assert.equal(fa[k]!.dtype, fb[k]!.dtype, k);
    assert.deepEqual(Array.from(await fa[k]!.data()), Array.from(await fb[k]!.data()), k);
  }
}

Deno.test("checkpoint: round trip through an atomic file and bit-identical continuation", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await noLeak(async () => {
      const x = random.normal(random.key(5), [4, 1, 8, 8]);
      const y = tensor([0, 1, 2, 1], { dtype: "int32" });
      const opt = adamw({ lr: 1e-2, weightDecay: 0.05 });
      const step = (p: VitParams, s: AdamWState, k: Tensor) => {
        const [l, g] = valueAndGrad((q: VitParams) =>
          crossEntropy(vitForward(q, x, cfg, { train: true, key: k }), y)
        )(p);
        l.dispose();
        return opt.update(g, s, p);
      };
      let params = initVit(random.key(0), cfg);
      let state = opt.init(params);
      ({ params, state } = step(params, state, random.key(10)));
      const rngKey = random.key(77);
      const path = `${dir}/ckpt.safetensors`;
      await Deno.writeTextFile(path, "old contents"); // overwritten atomically
      await saveCheckpoint(path, {
        params,
        optState: state,
        step: 1,
        rngKey,
        config: cfg,
        metadata: { note: "hi" },
      });
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["ckpt.safetensors"]);

      const ck = await loadCheckpoint(path, { params: vitSpec(cfg), optState: opt.init(params) });
      assert.equal(ck.format, CHECKPOINT_FORMAT);
      assert.equal(ck.step, 1);
      assert.deepEqual(ck.config, JSON.parse(JSON.stringify(cfg)));
      assert.equal(ck.metadata.note, "hi");
      assert.deepEqual(await ck.rngKey!.toArray(), await rngKey.toArray());
      await sameTrees(ck.params, params);
      await sameTrees(ck.optState, state);
      assert.equal((ck.optState as AdamWState).count, 1);
      assert.ok(Array.isArray((ck.params as VitParams).blocks));

      // without templates the trees are rebuilt from the names
      const loose = await loadCheckpoint(path);
      await sameTrees(loose.params, params);
      assert.equal((loose.optState as AdamWState).count, 1);

      // continuing from the file equals continuing in memory, bit for bit
      const a = step(params, state, random.key(11));
      const b = step(ck.params as VitParams, ck.optState as AdamWState, random.key(11));
      await sameTrees(a.params, b.params);
      await sameTrees(a.state, b.state);
      dispose([loose, ck]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkpoint: SGD state with null momentum and scalar leaves survives", async () => {
  await noLeak(async () => {
    const p = { w: ones([2]) };
    const s0 = sgd({ lr: 0.1, momentum: 0.9 }).init(p);
    const ck = decodeCheckpoint(await encodeCheckpoint({ params: p, optState: s0 }));
    assert.deepEqual(ck.optState, { count: 0, momentum: null });
    assert.equal(ck.rngKey, null);
    assert.equal(ck.config, null);
    dispose(ck.params);
  });
});

Deno.test("checkpoint: every mismatch is reported in one error", async () => {
  await noLeak(async () => {
    const bytes = await encodeCheckpoint({
      params: {
        a: ones([2, 3]),
        b: ones([4]),
        c: zeros([1], { dtype: "int32" }),
        extra: ones([1]),
      },
      optState: { count: 2, m: { a: ones([2, 3]) } },
    });
    const template = {
      a: new ParamSpec([3, 2], zerosInit),
      b: zeros([4], { dtype: "float64" }),
      c: zeros([1], { dtype: "int32" }),
      missing: new ParamSpec([5], zerosInit),
    };
    let err: unknown;
    try {
      decodeCheckpoint(bytes, {
        params: template,
        optState: { count: 0, m: { a: ones([2, 3]), b: ones([4]) } },
      });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof TesseraError, String(err));
    const msg = err.message;
    assert.ok(msg.startsWith("loadCheckpoint: 5 mismatches"), msg);
    for (
      const part of [
        `shape of "a": file [2, 3], expected [3, 2]`,
        `dtype of "b": file float32, expected float64`,
        `missing tensor "missing" (expected float32 [5])`,
        `missing tensor "opt.m.b"`,
        `unexpected tensor "extra" float32 [1]`,
      ]
    ) assert.ok(msg.includes(part), `${msg}\nshould mention ${part}`);
    // allowUnexpected drops extras
    const ok = decodeCheckpoint(bytes, {
      params: { a: ones([2, 3]), b: ones([4]), c: zeros([1], { dtype: "int32" }) },
      allowUnexpected: (n) => n === "extra" || n.startsWith("opt."),
    });
    assert.deepEqual(Object.keys(ok.params as object), ["a", "b", "c"]);
    dispose(ok.params);
  });
});

Deno.test("checkpoint: bad inputs are rejected with clear errors", async () => {
  await noLeak(async () => {
    await assert.rejects(
      () => encodeCheckpoint({ params: { w: ones([1]) }, metadata: { step: "3" } }),
      /metadata key "step" is reserved/,
    );
    await assert.rejects(
      () => encodeCheckpoint({ params: { opt: { m: ones([1]) } } }),
      /collides with the opt\. prefix/,
    );
    await assert.rejects(
      () => encodeCheckpoint({ params: { w: [1, 2] } }),
      /params leaf "w\.0" is not a Tensor/,
    );
  });
});
