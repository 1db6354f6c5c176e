/**
 * Dispatch ratchet, tinygrad-style, for the ViT-Tiny training step of bench/vit_step.ts (depth
 * 12, width 192, 65 tokens, batch 64, AdamW): the jitted program is traced at full size (tracing
 * runs no kernel) and its kernel dispatches per replay must stay within the budget. Issue 16's
 * target is ≤ 600; the budget is the count measured with the fusion that exists, and the test
 * fails when it rises.
 */
import assert from "node:assert/strict";
import { dispose, jit, mul, type Tensor, treeMap } from "../../mod.ts";
import { initParams, makeBatch, type Params, trainStep } from "../../bench/vit_step.ts";

/**
 * Measured: 4,270 equations; 3,835 dispatches without fusion (eager issues the same kernels
 * plus the dead ones); 1,063 with elementwise fusion; 721 once reductions join the loop of
 * their input with their epilogues; 664 once groups are keyed by element count, views join
 * them and a closing group pulls its later reductions forward; 595 (issue 16's target is
 * ≤ 600) once the readers of a reduction run as a tail loop of the same kernel (218 fused
 * kernels; the rest are 221 matmuls and layout ops — permute, slice, pad). Lower it as fusion
 * grows; never raise it without a reason in the commit message.
 */
const BUDGET = 595;

Deno.test("jit: ViT-Tiny training step of bench/vit_step.ts stays within its dispatch budget", () => {
  const p = initParams();
  const { x, y } = makeBatch(64);
  const zeros = (q: Params) => treeMap((t: Tensor) => mul(t, 0), q);
  const m = zeros(p), v = zeros(p);
  const step = jit(trainStep());
  const stats = step.lower(p, m, v, x, y);
  assert.equal(stats.compiles, 1);
  assert.ok(stats.equations > 4000 && stats.traced >= stats.equations, `${stats.equations}`);
  assert.ok(stats.dispatches <= BUDGET, `dispatches ${stats.dispatches} > budget ${BUDGET}`);
  assert.ok(stats.fusedKernels > 0 && stats.fusedEquations > 3000, JSON.stringify(stats));
  step.dispose();
  dispose([p, m, v, x, y]);
});
