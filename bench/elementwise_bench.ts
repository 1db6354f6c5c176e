/**
 * Elementwise throughput on the CPU backend (1M float32 elements): a binary op, broadcasting
 * binary ops (row, scalar), a transcendental unary op, a reduction and a permute.
 * GB/s = bytes touched / time (add: 12 MB per call).
 */
import { add, exp, mul, ones, permute, sum } from "../mod.ts";

const n = 1 << 20;
const a = ones([n]), b = ones([n]);
const m = ones([1024, 1024]), row = ones([1024]);

Deno.bench("add 1M (same shape)", { group: "elementwise" }, () => add(a, b).dispose());
Deno.bench(
  "add 1024x1024 + 1024 (broadcast)",
  { group: "elementwise" },
  () => add(m, row).dispose(),
);
Deno.bench("mul 1024x1024 * scalar", { group: "elementwise" }, () => mul(m, 0.5).dispose());
Deno.bench("exp 1M", { group: "elementwise" }, () => exp(a).dispose());
const t3 = ones([64, 128, 128]);
Deno.bench(
  "permute [64,128,128] -> [128,64,128]",
  { group: "elementwise" },
  () => permute(t3, [1, 0, 2]).dispose(),
);
Deno.bench("sum 1M", { group: "elementwise" }, () => sum(a).dispose());
