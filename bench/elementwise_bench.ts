/**
 * Elementwise throughput on the CPU backend (1M float32 elements): a binary op, a
 * broadcasting binary op, a transcendental unary op and a reduction.
 * GB/s = bytes touched / time (add: 12 MB per call).
 */
import { add, exp, ones, sum } from "../mod.ts";

const n = 1 << 20;
const a = ones([n]), b = ones([n]);
const m = ones([1024, 1024]), row = ones([1024]);

Deno.bench("add 1M (same shape)", { group: "elementwise" }, () => add(a, b).dispose());
Deno.bench(
  "add 1024x1024 + 1024 (broadcast)",
  { group: "elementwise" },
  () => add(m, row).dispose(),
);
Deno.bench("exp 1M", { group: "elementwise" }, () => exp(a).dispose());
Deno.bench("sum 1M", { group: "elementwise" }, () => sum(a).dispose());
