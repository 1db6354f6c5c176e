/**
 * The PRNG on webgpu: `randomBits` (Threefry-2x32 in WGSL) and the draws built from exact
 * integer ops (bits, uniform, bernoulli, randint, split, foldIn) are bit-identical to the CPU
 * backend's for the same key; normal agrees to float32 rounding.
 */
import * as T from "../../mod.ts";
import { bitsOf, expectClose } from "./_parity.ts";
import { gpuTest } from "./_setup.ts";

const { random } = T;

function both(draw: (backend: string) => T.Tensor): [T.Tensor, T.Tensor] {
  const prev = T.getBackend().name;
  try {
    T.setBackend("cpu");
    const c = draw("cpu");
    T.setBackend("webgpu");
    const g = draw("webgpu");
    return [c, g];
  } finally {
    T.setBackend(prev);
  }
}

const SHAPES = [[1], [2], [7], [3, 5], [1000], [33, 65]];

gpuTest("randomBits is bit-identical to the cpu backend", async () => {
  await T.scope(async () => {
    for (const seed of [0, 1701, 2 ** 31 + 5]) {
      for (const shape of SHAPES) {
        const [c, g] = both(() => random.bits(random.key(seed), shape));
        const [bc, bg] = await Promise.all([bitsOf(c), bitsOf(g)]);
        if (bc.some((v, i) => v !== bg[i])) throw new Error(`bits differ: seed ${seed} ${shape}`);
      }
    }
    // JAX's known answer (random_test.py): bits(PRNGKey(1701), (3,))
    const [, g] = both(() => random.bits(random.key(1701), [3]));
    const want = [56197195, 4200222568, 961309823];
    (await g.data()).forEach((v, i) => {
      if (v !== want[i]) throw new Error(`bits(1701)[${i}] = ${v}, want ${want[i]}`);
    });
  });
});

gpuTest("uniform, bernoulli, randint, split and foldIn are bit-identical", async () => {
  await T.scope(async () => {
    const draws: [string, () => T.Tensor][] = [
      ["uniform", () => random.uniform(random.key(3), [257])],
      ["uniform range", () => random.uniform(random.key(4), [4, 9], { minval: -2, maxval: 5 })],
      ["bernoulli", () => random.bernoulli(random.key(5), 0.3, [100])],
      ["randint", () => random.randint(random.key(6), [50], -7, 1000)],
      ["split", () => random.split(random.key(7), 5)],
      ["foldIn", () => random.foldIn(random.key(8), 12345)],
    ];
    for (const [name, f] of draws) {
      const [c, g] = both(f);
      const [bc, bg] = await Promise.all([c.data(), g.data()]);
      if (c.dtype !== g.dtype || bc.some((v, i) => !Object.is(v, bg[i]))) {
        throw new Error(`${name} differs between cpu and webgpu`);
      }
    }
  });
});

gpuTest("normal agrees with the cpu backend to float32 rounding", async () => {
  await T.scope(async () => {
    const [c, g] = both(() => random.normal(random.key(9), [500]));
    await expectClose(g, c, { rtol: 2e-5, atol: 2e-6 }, "normal");
  });
});
