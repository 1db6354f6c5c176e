/**
 * The training step of a `train.ts` command, compiled with `jit` unless `--no-jit`. The
 * checkpointed AdamW count stays a JS number between steps; the compiled step gets it as a
 * scalar tensor (one program for every step, the cosine schedules indexed in the graph) and
 * the number comes back incremented on the host. On the CPU the result is bit-identical to the
 * eager step (the tensor count path has the JS-number path's bits; a replay runs eager's kernels).
 *
 * A data-parallel step ({@link jitTrainStep}) is two halves around the host-side
 * `meanOverRanks` (trainer/dist.ts): on one rank the mean is the identity and the whole step
 * (gradient + update) is one program; on W > 1 ranks the gradient half and the update half are
 * two programs with the collective between them. With gradient accumulation (`accum` > 1,
 * trainer/accum.ts) the gradient half runs once per micro-batch, its results summed in order
 * and scaled as the ranks' mean is, before the mean over the ranks.
 * @module
 */
import { dispose, scope, type Tensor, tensor } from "../tensor/mod.ts";
import { jit, treeLeaves } from "../autodiff/mod.ts";
import type { AdamWState } from "../nn/optim/adamw.ts";
import type { Collectives } from "../distributed/mod.ts";
import { collectives, meanOverRanks } from "./dist.ts";
import { accumulate } from "./accum.ts";

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

/** The parameters and AdamW state after a step. */
export interface NextState {
  /** The parameters (any pytree of tensors). */
  params: unknown;
  /** The optimizer state. */
  opt: AdamWState;
}

/**
 * The two halves of a data-parallel training step, split where the ranks average.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { StepHalves } from "./jit_step.ts";
 * const f = (h: StepHalves<[], [], number, number>) => h.grad;
 * assert.equal(typeof f, "function");
 * ```
 */
export interface StepHalves<A extends unknown[], X extends unknown[], K, G> {
  /**
   * The gradient half: what the step returns (`out`: loss, logs) and what the update consumes
   * (`grads`), both averaged over the ranks in one collective before {@link StepHalves.apply}.
   */
  grad(params: unknown, ...args: A): { out: K; grads: G };
  /** The update half: the next state from the averaged `grads` (and `extra` inputs). */
  apply(params: unknown, opt: AdamWState, grads: G, ...extra: X): NextState;
}

/** What {@link jitTrainStep} returns: the step, and `dispose()` for its compiled programs. */
export type TrainStepFn<A extends unknown[], X extends unknown[], K> =
  & ((params: unknown, opt: AdamWState, args: A, extra: X) => Promise<{ out: K; state: NextState }>)
  & { dispose(): void };

/**
 * A data-parallel training step `grad → meanOverRanks → apply`. `eager` (`--no-jit`) runs both
 * halves eagerly. Else on one rank the whole step is one `jit` program (through {@link jitStep});
 * on W > 1 ranks `grad` and `apply` are compiled apart, with the host-side mean between them,
 * unless `eagerGrad` (a gradient half with a collective inside, like SplitMask's gathered
 * InfoNCE, which reads host data mid-trace) keeps `grad` eager. The arguments of `grad` come as
 * the tuple `args`, those of `apply` after the gradients as `extra`; numbers among them are
 * static (a new value compiles a new program), tensors are traced. `accum` N > 1 runs `grad`
 * on N equal row blocks of `args` (its tensors of rank ≥ 1) and averages the results
 * ({@link accumulate}) before the ranks do.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jitTrainStep } from "./jit_step.ts";
 * import { dispose, mul, sub, sum, tensor, type Tensor, valueAndGrad } from "../mod.ts";
 * import { adamw } from "../nn/mod.ts";
 * const opt = adamw({ lr: 0.1 });
 * const loss = (p: { w: Tensor }, x: Tensor) => sum(mul(sub(p.w, x), sub(p.w, x)));
 * const run = async (eager: boolean) => {
 *   const step = jitTrainStep({
 *     grad: (p, x: Tensor) => {
 *       const [l, g] = valueAndGrad(loss)(p as { w: Tensor }, x);
 *       return { out: l, grads: g };
 *     },
 *     apply: (p, s, g) => {
 *       const up = opt.update(g, s, p as { w: Tensor });
 *       return { params: up.params, opt: up.state };
 *     },
 *   }, { eager });
 *   let p: unknown = { w: tensor([0, 0]) }, s = opt.init(p);
 *   const x = tensor([1, 2]);
 *   for (let i = 0; i < 3; i++) {
 *     const r = await step(p, s, [x], []);
 *     dispose([p, s, r.out]);
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
export function jitTrainStep<A extends unknown[], X extends unknown[], K, G>(
  halves: StepHalves<A, X, K, G>,
  opts: { eager?: boolean; eagerGrad?: boolean; coll?: Collectives; accum?: number } = {},
): TrainStepFn<A, X, K> {
  const coll = opts.coll ?? collectives(), accum = opts.accum ?? 1;
  if (!opts.eager && coll.size === 1 && accum === 1) {
    // One rank: the mean is the identity, so the whole step is one program.
    const whole = jitStep(
      false,
      (params: unknown, opt: AdamWState, args: A, extra: X) =>
        scope(() => {
          const { out, grads } = halves.grad(params, ...args);
          return { out, state: halves.apply(params, opt, grads, ...extra) };
        }),
    );
    const step = (params: unknown, opt: AdamWState, args: A, extra: X) =>
      Promise.resolve(whole(params, opt, args, extra));
    return Object.assign(step, { dispose: () => whole.dispose() });
  }
  const grad = opts.eager || opts.eagerGrad ? null : jit(halves.grad);
  const apply = jitStep(
    opts.eager ?? false,
    (params: unknown, opt: AdamWState, grads: G, ...extra: X) => ({
      state: scope(() => halves.apply(params, opt, grads, ...extra)),
    }),
  );
  const step = async (params: unknown, opt: AdamWState, args: A, extra: X) => {
    const g = accumulate((...a: A) => (grad ?? halves.grad)(params, ...a), args, accum);
    const { out, grads } = await meanOverRanks(g, coll);
    try {
      return { out, state: apply(params, opt, grads, ...extra).state };
    } finally {
      dispose(grads);
    }
  };
  return Object.assign(step, {
    dispose() {
      grad?.dispose();
      apply.dispose();
    },
  });
}
