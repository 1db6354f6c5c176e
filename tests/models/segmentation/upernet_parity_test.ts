/**
 * Parity of the UperHead + auxiliary FCNHead + loss with a PyTorch reimplementation of mmseg's
 * (tools/make_upernet_fixtures.py → tests/fixtures/upernet_heads.safetensors), on the same
 * weights: train-mode (batch-statistics BN) logits of both heads, the running statistics after
 * that forward, the losses (ignore 255; mean over valid pixels and over all pixels; aux weight
 * 0.4), the gradients of the loss w.r.t. the four input maps and every head parameter, and
 * eval-mode logits with the updated statistics, all to float32 tolerance.
 */
import assert from "node:assert/strict";
import {
  fcnHead,
  type FcnHeadParams,
  type FcnHeadState,
  segCrossEntropy,
  uperHead,
  type UperHeadParams,
  type UperHeadState,
  uperNetLoss,
} from "../../../models/mod.ts";
import {
  readSafetensorsFile,
  type Tensor,
  treeFlatten,
  treeUnflatten,
  valueAndGrad,
} from "../../../mod.ts";
import { assertClose, noLeak } from "../../nn/_fixture.ts";

const file = await readSafetensorsFile(
  new URL("../../fixtures/upernet_heads.safetensors", import.meta.url),
);
const cfg = JSON.parse(file.metadata.config!) as { poolScales: number[]; auxWeight: number };
const fx = (name: string): Tensor => {
  const t = file.tensors[name];
  assert.ok(t, `fixture has no tensor "${name}"`);
  return t;
};

/** tessera's name of an mmseg state-dict entry (`psp_modules.i.1.` is `psp_modules.i.`). */
const tesseraName = (n: string) => n.replace(/^psp_modules\.(\d+)\.1\./, "psp_modules.$1.");

/** The params and BN state of one head from its mmseg state dict in the fixture. */
function head<P, S>(prefix: string, statePrefix = prefix): { params: P; state: S } {
  const params: Record<string, Tensor> = {}, state: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(file.tensors)) {
    if (!name.startsWith(`${prefix}/`)) continue;
    const n = tesseraName(name.slice(prefix.length + 1));
    if (!/running_(mean|var)$/.test(n)) params[n] = t;
  }
  for (const [name, t] of Object.entries(file.tensors)) {
    if (!name.startsWith(`${statePrefix}/`)) continue;
    const n = tesseraName(name.slice(statePrefix.length + 1));
    if (/running_(mean|var)$/.test(n)) state[n] = t;
  }
  return { params: treeUnflatten(params) as P, state: treeUnflatten(state) as S };
}

const dec = head<UperHeadParams, UperHeadState>("decode_head");
const aux = head<FcnHeadParams, FcnHeadState>("auxiliary_head");
const maps = [0, 1, 2, 3].map((i) => fx(`in/map${i}`));
const labels = fx("in/labels");
const TOL = { atol: 1e-5, rtol: 1e-4 };

function forward(
  m: readonly Tensor[],
  d: UperHeadParams,
  a: FcnHeadParams,
  train: boolean,
  ds = dec.state,
  as = aux.state,
) {
  const o = { train, dropout: 0 };
  const u = uperHead(d, ds, m, { ...o, poolScales: cfg.poolScales });
  const f = fcnHead(a, as, m[2]!, o);
  return { logits: u.logits, auxLogits: f.logits, dec: u.state, aux: f.state };
}

Deno.test("UperHead + FCNHead (train-mode BN) match mmseg: logits, running statistics, losses", async () => {
  await noLeak(async () => {
    const out = forward(maps, dec.params, aux.params, true);
    await assertClose(out.logits, fx("train/logits"), { ...TOL, what: "decode logits" });
    await assertClose(out.auxLogits, fx("train/aux_logits"), { ...TOL, what: "aux logits" });
    const want = head<unknown, unknown>("decode_head", "train/state/decode_head").state;
    const wantAux = head<unknown, unknown>("auxiliary_head", "train/state/auxiliary_head").state;
    for (
      const [got, exp, what] of [[out.dec, want, "decode"], [out.aux, wantAux, "aux"]] as const
    ) {
      const g = treeFlatten(got), e = treeFlatten(exp as UperHeadState);
      assert.deepEqual(Object.keys(g).sort(), Object.keys(e).sort());
      for (const k of Object.keys(e)) {
        await assertClose(g[k]!, e[k]!, { ...TOL, what: `${what} ${k}` });
      }
    }
    const near = async (t: Tensor, name: string) =>
      assert.ok(
        Math.abs(await t.item() - await fx(name).item()) <
          1e-5 * (1 + Math.abs(await fx(name).item())),
        `${name}: ${await t.item()} vs ${await fx(name).item()}`,
      );
    await near(segCrossEntropy(out.logits, labels), "train/loss_decode");
    await near(segCrossEntropy(out.auxLogits, labels), "train/loss_aux");
    await near(uperNetLoss(out.logits, out.auxLogits, labels), "train/loss_valid");
    await near(
      uperNetLoss(out.logits, out.auxLogits, labels, { average: "all", auxWeight: cfg.auxWeight }),
      "train/loss_all",
    );
  });
});

Deno.test("UperNet loss gradients match mmseg w.r.t. the four maps and every head parameter", async () => {
  await noLeak(async () => {
    const f = (m: Tensor[], d: UperHeadParams, a: FcnHeadParams) => {
      const o = forward(m, d, a, true);
      return uperNetLoss(o.logits, o.auxLogits, labels);
    };
    const [loss, [gm, gd, ga]] = valueAndGrad(f, { argnums: [0, 1, 2] })(
      maps,
      dec.params,
      aux.params,
    ) as unknown as [Tensor, [Tensor[], UperHeadParams, FcnHeadParams]];
    assert.ok(Math.abs(await loss.item() - await fx("train/loss_valid").item()) < 1e-5);
    for (const [i, g] of gm.entries()) {
      await assertClose(g, fx(`grad/map${i}`), { ...TOL, what: `d loss / d map${i}` });
    }
    const names = Object.keys(file.tensors).filter((n) =>
      n.startsWith("grad/") && n.includes("_head/")
    );
    let checked = 0;
    for (const [prefix, tree] of [["decode_head", gd], ["auxiliary_head", ga]] as const) {
      const flat = treeFlatten(tree);
      for (const n of names.filter((x) => x.startsWith(`grad/${prefix}/`))) {
        const k = tesseraName(n.slice(`grad/${prefix}/`.length));
        assert.ok(flat[k], `no gradient for ${prefix}.${k}`);
        await assertClose(flat[k]!, fx(n), { ...TOL, what: `d loss / d ${prefix}.${k}` });
        checked++;
      }
      assert.equal(
        Object.keys(flat).length,
        names.filter((x) => x.startsWith(`grad/${prefix}/`)).length,
      );
    }
    assert.ok(checked > 40, `${checked} parameter gradients compared`);
  });
});

Deno.test("UperHead + FCNHead in eval mode with the updated statistics match mmseg", async () => {
  await noLeak(async () => {
    const t = forward(maps, dec.params, aux.params, true);
    const e = forward(maps, dec.params, aux.params, false, t.dec, t.aux);
    await assertClose(e.logits, fx("eval/logits"), { ...TOL, what: "eval decode logits" });
    await assertClose(e.auxLogits, fx("eval/aux_logits"), { ...TOL, what: "eval aux logits" });
  });
});
