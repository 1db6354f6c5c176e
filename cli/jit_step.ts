/**
 * The training step of a `train.ts` command, compiled with `jit` unless `--no-jit`. The
 * checkpointed AdamW count stays a JS number between steps; the compiled step gets it as a
 * scalar tensor (one program for every step, the cosine schedules indexed in the graph) and
 * the number comes back incremented on the host. On the CPU the result is bit-identical to the
 * eager step (the tensor count path has the JS-number path's bits; a replay runs eager's kernels).
 * @module
 */
import { dispose, jit, type Tensor, tensor, treeLeaves } from "../mod.ts";
import type { AdamWState } from "../nn/mod.ts";

/** A step of (params, AdamW state, …inputs) returning the next state among other things. */
type StepFn<A extends unknown[], R> = (params: unknown, opt: AdamWState, ...args: A) => R;

/** What {@link jitStep} returns: the step, and `dispose()` for the compiled programs. */
export type CliStep<A extends unknown[], R> = StepFn<A, R> & { dispose(): void };

/**
 * `f` itself when `eager`, else `jit(f)` with the optimizer count passed as an int32 scalar
 * tensor (on the backend of the params) and returned as the JS number `count + 1`. `f` must be
 * synchronous and return `{ state: { opt } }` with the updated AdamW state as `state.opt`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jitStep } from "./jit_step.ts";
 * import { dispose, mul, sub, sum, tensor, type Tensor, valueAndGrad } from "../mod.ts";
 * import { adamw, type AdamWState } from "../nn/mod.ts";
 * const opt = adamw({ lr: 0.1 });
 * const loss = (p: { w: Tensor }, x: Tensor) => sum(mul(sub(p.w, x), sub(p.w, x)));
 * const f = (p: unknown, s: AdamWState, x: Tensor) => {
 *   const [l, g] = valueAndGrad(loss)(p as { w: Tensor }, x);
 *   const up = opt.update(g, s, p as { w: Tensor });
 *   return { loss: l, state: { params: up.params, opt: up.state } };
 * };
 * const run = async (eager: boolean) => {
 *   const step = jitStep(eager, f);
 *   let p: unknown = { w: tensor([0, 0]) }, s = opt.init(p);
 *   const x = tensor([1, 2]);
 *   for (let i = 0; i < 3; i++) {
 *     const r = step(p, s, x);
 *     dispose([p, s, r.loss]);
 *     ({ params: p, opt: s } = r.state);
 *   }
 *   const w = await (p as { w: Tensor }).w.toArray();
 *   assert.equal(s.count, 3);
 *   dispose([p, s, x]);
 *   step.dispose();
 *   return w;
 * };
 * assert.deepEqual(await run(false), await run(true));
 * ```
 */
export function jitStep<A extends unknown[], R extends { state: { opt: unknown } }>(
  eager: boolean,
  f: StepFn<A, R>,
): CliStep<A, R> {
  if (eager) return Object.assign(f, { dispose() {} });
  const compiled = jit(f);
  const step = (params: unknown, opt: AdamWState, ...args: A): R => {
    if (typeof opt.count !== "number") return compiled(params, opt, ...args);
    const backend = treeLeaves(opt.m)[0]?.backend.name;
    const count = tensor(opt.count, { dtype: "int32", backend });
    try {
      const r = compiled(params, { ...opt, count }, ...args);
      const next = r.state.opt as AdamWState;
      dispose(next.count as Tensor);
      return { ...r, state: { ...r.state, opt: { ...next, count: opt.count + 1 } } };
    } finally {
      count.dispose();
    }
  };
  return Object.assign(step, { dispose: () => compiled.dispose() });
}
