/**
 * Detection box policy (models/detection/): the FPN level mapper and the box coder round trip
 * (the torch fixtures of encodeBoxes/decodeBoxes run with the other vision fixtures,
 * tests/tensor/_vision_fixtures.ts).
 */
import assert from "node:assert/strict";
import * as t from "../../../mod.ts";
import { decodeBoxes, encodeBoxes, fpnLevels } from "../../../models/mod.ts";
import { expectError } from "../../_helpers.ts";

Deno.test("fpnLevels: 224 → P4, 112 → P3, 32 → P2 (clamped), huge → P5", async () => {
  const b = t.tensor([[0, 0, 224, 224], [10, 10, 122, 122], [0, 0, 32, 32], [0, 0, 2000, 900], [
    5,
    5,
    453,
    453,
  ]]);
  assert.deepEqual(await fpnLevels(b).toArray(), [4, 3, 2, 5, 5]);
  const f64 = t.tensor(Float64Array.from([0, 0, 56, 56, 0, 0, 55.9, 56]), { shape: [2, 4] });
  assert.deepEqual(
    await fpnLevels(f64, { minLevel: 0, maxLevel: 3, canonicalLevel: 2 }).toArray(),
    [
      0,
      0,
    ],
  );
});

Deno.test("box coder: decode(encode(b)) returns b for both weight sets", async () => {
  await t.scope(async () => {
    const g = new Float32Array(40).map((_, i) => ((i * 7919) % 97) / 2);
    const base = t.tensor(g, { shape: [10, 4] });
    const [xy, wh] = t.split(base, 2, 1);
    const props = t.concat([xy!, t.add(xy!, t.add(wh!, 1))], 1);
    const shift = t.tensor(new Float32Array(20).map((_, i) => (i % 5) - 2), { shape: [10, 2] });
    const grow = t.tensor(new Float32Array(20).map((_, i) => (i % 3) * 1.5), { shape: [10, 2] });
    const gts = t.add(props, t.concat([shift, t.add(shift, grow)], 1));
    for (const weights of [[1, 1, 1, 1], [10, 10, 5, 5]] as const) {
      const d = encodeBoxes(props, gts, { weights });
      const back = await decodeBoxes(d, props, { weights }).data();
      const want = await gts.data();
      back.forEach((v, i) =>
        assert.ok(Math.abs(v - want[i]!) < 1e-4, `${weights}: ${v} vs ${want[i]}`)
      );
    }
    // The clamp: dw beyond log(1000/16) saturates.
    const big = decodeBoxes(t.tensor([[0, 0, 100, 0]]), t.tensor([[0, 0, 1, 1]]));
    const [x1, , x2] = await big.data();
    assert.ok(Math.abs(x2! - x1! - 1000 / 16) < 1e-3);
  });
});

Deno.test("box coder, fpnLevels: bad boxes and options are rejected naming the op", () => {
  const ok = t.tensor([[0, 0, 2, 2]]);
  expectError(() => encodeBoxes(t.tensor([[0, 0, 2]]), ok), "encodeBoxes", "boxes must be");
  expectError(
    () => encodeBoxes(ok, t.tensor([[0, 0, 2, 2]], { dtype: "int32" })),
    "encodeBoxes",
    "targets must be float32 or float64",
  );
  expectError(
    () => decodeBoxes(ok, ok, { weights: [1, 1, 0, 1] }),
    "decodeBoxes",
    "weights must be",
  );
  expectError(() => decodeBoxes(ok, ok, { scaleClamp: NaN }), "decodeBoxes", "scaleClamp");
  expectError(() => fpnLevels("boxes" as unknown as t.Tensor), "fpnLevels", "must be a Tensor");
  expectError(() => fpnLevels(ok, { minLevel: 3, maxLevel: 2 }), "fpnLevels", "invalid options");
});
