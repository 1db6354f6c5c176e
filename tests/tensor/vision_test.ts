/**
 * Vision ops on the CPU backend: PyTorch/torchvision fixtures (float32 and float64), the spec's
 * hand-computed RoIAlign ramp case, gradient conventions (max-pool arg-max ties, RoIAlign boxes), and clear errors for bad arguments.
 */
import assert from "node:assert/strict";
import * as t from "../../mod.ts";
import { CASES, runCase, RUNNERS } from "./_vision_fixtures.ts";

Deno.test("vision fixtures: every op has a runner and the file covers the ops", () => {
  const ops = new Set(CASES.map(([, c]) => c.op));
  assert.deepEqual([...ops].filter((op) => !RUNNERS[op]), []);
  for (
    const op of [
      "conv2d",
      "convTranspose2d",
      "maxPool2d",
      "avgPool2d",
      "adaptiveAvgPool2d",
      "interpolate",
      "roiAlign",
      "nms",
      "batchedNms",
      "boxIou",
    ]
  ) {
    assert.ok(ops.has(op), op);
  }
});

for (const [name, c] of CASES) {
  Deno.test(`vision fixtures[cpu]: ${name} (${c.op})`, () => runCase(name, c, "cpu"));
}

Deno.test("roiAlign: the spec's ramp case (32×32 f(y,x)=x, box [8,8,24,24], 4×4, sampling 2)", async () => {
  await t.scope(async () => {
    const ramp = t.broadcastTo(t.reshape(t.arange(32), [1, 1, 1, 32]), [1, 1, 32, 32]);
    const box = t.tensor([[0, 8, 8, 24, 24]]);
    const run = (aligned: boolean) =>
      t.roiAlign(ramp, box, { outputSize: 4, samplingRatio: 2, aligned }).toArray();
    const row = (v: number[]) => [[[v, v, v, v]]];
    assert.deepEqual(await run(true), row([9.5, 13.5, 17.5, 21.5]));
    assert.deepEqual(await run(false), row([10, 14, 18, 22]));
  });
});

Deno.test("maxPool2d: the gradient goes to each window's first maximum", async () => {
  const x = t.tensor([[[[1, 3, 3, 0], [2, 3, 1, 1]]]]);
  const g = t.grad((v: t.Tensor) => t.sum(t.maxPool2d(v, 2)))(x);
  assert.deepEqual(await g.toArray(), [[[[0, 1, 1, 0], [0, 0, 0, 0]]]]);
  // Overlapping windows accumulate.
  const g2 = t.grad((v: t.Tensor) => t.sum(t.maxPool2d(v, 2, { stride: 1 })))(x);
  assert.deepEqual(await g2.toArray(), [[[[0, 2, 1, 0], [0, 0, 0, 0]]]]);
});

Deno.test("roiAlign: boxes get no gradient; x's gradient is the adjoint", async () => {
  await t.scope(async () => {
    const x = t.reshape(t.arange(2 * 6 * 5, undefined, 1, { dtype: "float64" }), [2, 1, 6, 5]);
    const boxes = t.tensor(Float64Array.from([1, 0.5, 1, 3.5, 4, 0, -2, -1, 2, 2]), {
      shape: [2, 5],
    });
    const f = (v: t.Tensor, b: t.Tensor) =>
      t.sum(t.roiAlign(v, b, { outputSize: 2, samplingRatio: 2, aligned: true }));
    const [gx, gb] = t.grad<[t.Tensor, t.Tensor], t.Tensor[]>(f, { argnums: [0, 1] })(x, boxes);
    assert.deepEqual(await gb!.toArray(), [[0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]);
    // Σ_out = Σ gx·x by linearity.
    const lhs = await f(x, boxes).item();
    const rhs = await t.sum(t.mul(gx!, x)).item();
    assert.ok(Math.abs(lhs - rhs) < 1e-9);
  });
});

Deno.test("convTranspose2d k2 s2 doubles, maxPool2d k2 s2 halves (floor)", () => {
  const x = t.zeros([1, 4, 7, 9]);
  assert.deepEqual(t.convTranspose2d(x, t.zeros([4, 4, 2, 2]), null, { stride: 2 }).shape, [
    1,
    4,
    14,
    18,
  ]);
  assert.deepEqual(t.maxPool2d(x, 2).shape, [1, 4, 3, 4]);
  assert.deepEqual(t.adaptiveAvgPool2d(t.zeros([1, 2, 16, 16]), 6).shape, [1, 2, 6, 6]);
});

Deno.test("nmsPadded: fixed-size result without readback", async () => {
  const boxes = t.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [21, 21, 30, 30]]);
  const { indices, count } = t.nmsPadded(boxes, t.tensor([0.9, 0.8, 0.7, 0.95]), 0.5, {
    maxOutput: 3,
  });
  assert.deepEqual(await indices.toArray(), [3, 0, -1]);
  assert.equal(await count.item(), 2);
  const { indices: i2 } = t.nmsPadded(boxes, t.tensor([0.9, 0.8, 0.7, 0.95]), 0.5, {
    maxOutput: 6,
  });
  assert.deepEqual(await i2.toArray(), [3, 0, -1, -1, -1, -1]);
});

const err = (fn: () => unknown, re: RegExp) =>
  assert.throws(fn, (e: Error) => e instanceof t.TesseraError && re.test(e.message));

Deno.test("vision ops: bad arguments give clear TesseraErrors", () => {
  const x = t.zeros([1, 4, 6, 6]);
  err(
    () => t.conv2d(x, t.zeros([2, 3, 3, 3])),
    /^conv2d: x has 4 channels but weight \[2,3,3,3\] with groups=1 expects 3/,
  );
  err(
    () => t.conv2d(x, t.zeros([3, 2, 3, 3]), null, { groups: 2 }),
    /^conv2d: out_channels 3 .* not divisible by groups=2/,
  );
  err(
    () => t.conv2d(x, t.zeros([4, 4, 3, 3]), null, { groups: 0 }),
    /^conv2d: groups must be an integer >= 1/,
  );
  err(
    () => t.conv2d(x, t.zeros([2, 4, 9, 3])),
    /^conv2d: kernel height 9 .* larger than the padded input height 6/,
  );
  err(
    () => t.conv2d(x, t.zeros([2, 4, 3, 3]), null, { padding: -1 }),
    /^conv2d: padding must be an integer >= 0/,
  );
  err(
    () => t.conv2d(x, t.zeros([2, 4, 3, 3]), null, { stride: 0 }),
    /^conv2d: stride must be an integer >= 1/,
  );
  err(() => t.conv2d(t.zeros([4, 6, 6]), t.zeros([2, 4, 3, 3])), /^conv2d: x must be NCHW/);
  err(
    () => t.conv2d(x, t.zeros([2, 4, 3, 3]), t.zeros([3])),
    /^conv2d: bias must have shape \[2\]/,
  );
  err(
    () => t.conv2d(x, t.zeros([2, 4, 3, 3], { dtype: "float64" })),
    /^conv2d: x is float32 but weight is float64/,
  );
  err(
    () =>
      t.conv2d(
        t.zeros([1, 4, 6, 6], { dtype: "int32" }),
        t.zeros([2, 4, 3, 3], { dtype: "int32" }),
      ),
    /must be float32 or float64/,
  );
  err(
    () => t.convTranspose2d(x, t.zeros([4, 2, 3, 3]), null, { stride: 2, outputPadding: 2 }),
    /^convTranspose2d: outputPadding \[2,2\] must be smaller than stride \[2,2\]/,
  );
  err(
    () => t.convTranspose2d(x, t.zeros([3, 2, 3, 3])),
    /^convTranspose2d: x has 4 channels but weight/,
  );
  err(
    () => t.convTranspose2d(t.zeros([1, 4, 1, 1]), t.zeros([4, 2, 1, 1]), null, { padding: 1 }),
    /^convTranspose2d: output height -1 is not positive/,
  );
  err(
    () => t.maxPool2d(x, 7),
    /^maxPool2d: kernel \[7,7\] is larger than the padded input height 6/,
  );
  err(
    () => t.maxPool2d(x, 3, { padding: 2 }),
    /^maxPool2d: padding \[2,2\] must be at most half the kernel/,
  );
  err(() => t.maxPool2d(x, -2), /^maxPool2d: kernel must be an integer >= 1/);
  err(
    () => t.avgPool2d(x, [2, 9]),
    /^avgPool2d: kernel \[2,9\] is larger than the padded input width 6/,
  );
  err(
    () => t.adaptiveAvgPool2d(x, [0, 2]),
    /^adaptiveAvgPool2d: outputSize must be an integer >= 1/,
  );
  err(() => t.interpolate(x, { size: [-3, 4] }), /^interpolate: size must be an integer >= 1/);
  err(
    () => t.interpolate(x, { size: 4, scaleFactor: 2 }),
    /^interpolate: give exactly one of size and scaleFactor/,
  );
  err(
    () => t.interpolate(x, { size: 4, alignCorners: true }),
    /^interpolate: alignCorners only applies/,
  );
  err(
    () => t.interpolate(x, { scaleFactor: 0.1 }),
    /^interpolate: scaleFactor 0.1 gives an empty output/,
  );
  err(() => t.roiAlign(x, t.zeros([2, 4]), { outputSize: 2 }), /^roiAlign: boxes must be \[K, 5\]/);
  err(
    () => t.roiAlign(x, t.zeros([2, 5]), { outputSize: 0 }),
    /^roiAlign: outputSize must be an integer >= 1/,
  );
  err(
    () => t.roiAlign(x, t.zeros([2, 5]), { outputSize: 2, spatialScale: -1 }),
    /^roiAlign: spatialScale must be a finite number > 0/,
  );
  err(
    () => t.roiAlign(x, t.tensor([[0, 5, 1, 2, 4]]), { outputSize: 2 }),
    /^roiAlign: box 0 \[5, 1, 2, 4\] is not a finite box with x2 >= x1 and y2 >= y1/,
  );
  err(
    () => t.roiAlign(x, t.tensor([[0, 1, 1, 2, 4], [3, 1, 1, 2, 4]]), { outputSize: 2 }),
    /^roiAlign: box 1 has batch index 3, not an integer in \[0, 1\)/,
  );
  err(() => t.boxIou(t.zeros([2, 3]), t.zeros([2, 4])), /^boxIou: a must have shape \[\.\.\., 4\]/);
  err(() => t.nmsPadded(t.zeros([3, 4]), t.zeros([2]), 0.5), /^nmsPadded: scores must be \[3\]/);
});

Deno.test("vision ops: empty inputs", async () => {
  const y = t.conv2d(t.zeros([0, 3, 5, 5]), t.zeros([2, 3, 3, 3]), null, { padding: 1 });
  assert.deepEqual(y.shape, [0, 2, 5, 5]);
  const r = t.roiAlign(t.zeros([1, 3, 5, 5]), t.zeros([0, 5]), { outputSize: 7 });
  assert.deepEqual(r.shape, [0, 3, 7, 7]);
  const g = t.grad((v: t.Tensor) => t.sum(t.roiAlign(v, t.zeros([0, 5]), { outputSize: 2 })))(
    t.ones([1, 2, 3, 3]),
  );
  assert.deepEqual([...(await g.data())], new Array(18).fill(0));
  assert.deepEqual(await (await t.nms(t.zeros([0, 4]), t.zeros([0]), 0.5)).toArray(), []);
  assert.deepEqual(
    await (await t.batchedNms(t.zeros([0, 4]), t.zeros([0]), t.zeros([0], { dtype: "int32" }), 0.5))
      .toArray(),
    [],
  );
});
