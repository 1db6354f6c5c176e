/**
 * Matmul on the CPU backend vs the naive i-k-j triple loop (the floor), square float32.
 * GFLOP/s = 2·n³ / time. Run: `deno task bench` (or `deno bench -A bench/matmul_bench.ts`).
 */
import { matmul, tensor } from "../mod.ts";

function randomMatrix(n: number, seed: number): Float32Array {
  const a = new Float32Array(n * n);
  let s = seed;
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return a;
}

/** The floor: a plain i-k-j loop over typed arrays. */
function naiveIkj(a: Float32Array, b: Float32Array, n: number): Float32Array {
  const c = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      const bRow = k * n, cRow = i * n;
      for (let j = 0; j < n; j++) c[cRow + j]! += aik * b[bRow + j]!;
    }
  }
  return c;
}

for (const n of [256, 512, 1024]) {
  const ha = randomMatrix(n, 1), hb = randomMatrix(n, 2);
  const a = tensor(ha, { shape: [n, n] }), b = tensor(hb, { shape: [n, n] });
  Deno.bench(`naive ikj ${n}`, {
    group: `matmul ${n}`,
    baseline: true,
    n: n >= 1024 ? 3 : undefined,
  }, () => {
    naiveIkj(ha, hb, n);
  });
  Deno.bench(
    `tessera cpu matmul ${n}`,
    { group: `matmul ${n}`, n: n >= 1024 ? 3 : undefined },
    () => {
      matmul(a, b).dispose();
    },
  );
}
