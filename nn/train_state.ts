/**
 * A training loop that cannot leak (flax's `TrainState`, optax's update loop): a
 * {@link TrainState} owns the parameters and the optimizer state, and the step function made by
 * {@link trainStep} returns a new state and frees the one it replaces. Everything the loss needs
 * besides the parameters — the batch, PRNG keys — is an explicit argument, so a step is a pure
 * function of its inputs (no hidden globals) and can be wrapped by a compiler later.
 *
 * ```ts ignore
 * let state = createTrainState(params, adamw({ lr: 1e-3 }));
 * const step = trainStep((p, x, y, key) => loss(p, x, y, key), adamw({ lr: 1e-3 }));
 * for (const [x, y] of batches) {
 *   const out = step(state, x, y, random.foldIn(key, state.step));
 *   state = out.state; // the old state is disposed
 *   console.log(await out.loss.item());
 *   out.loss.dispose(); // the loss is the caller's
 * }
 * ```
 * @module
 */
import { dispose, scope, type Tensor, TesseraError } from "../tensor/mod.ts";
import { treeLeaves, valueAndGrad } from "../autodiff/mod.ts";
import type { Optimizer } from "./optim/types.ts";

/**
 * Parameters, optimizer state and the number of steps taken. A state is consumed by the step
 * that replaces it: afterwards its tensors are disposed and only the new state may be used.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createTrainState, type TrainState } from "./train_state.ts";
 * import { sgd, type SgdState } from "./optim/mod.ts";
 * import { tensor, type Tensor } from "../mod.ts";
 * const s: TrainState<{ w: Tensor }, SgdState> = createTrainState({ w: tensor([1]) }, sgd({ lr: 0.1 }));
 * assert.equal(s.step, 0);
 * ```
 */
export interface TrainState<P, S> {
  /** The parameters (a pytree). */
  readonly params: P;
  /** The optimizer's state for them. */
  readonly optState: S;
  /** Steps taken so far (0 before the first); handy for `random.foldIn(key, state.step)`. */
  readonly step: number;
}

/**
 * A fresh state at step 0 that takes ownership of `params` (they are disposed by the first
 * step; pass copies if you need the originals) with `optimizer.init(params)` as its state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createTrainState } from "./train_state.ts";
 * import { adamw } from "./optim/mod.ts";
 * import { zeros } from "../mod.ts";
 * const state = createTrainState({ w: zeros([2, 2]) }, adamw({ lr: 1e-3 }));
 * assert.equal(state.optState.count, 0);
 * assert.deepEqual(state.params.w.shape, [2, 2]);
 * ```
 */
export function createTrainState<P, S>(params: P, optimizer: Optimizer<S>): TrainState<P, S> {
  return { params, optState: optimizer.init(params), step: 0 };
}

/**
 * What a step returns: the new state and the loss before the update (a scalar tensor the caller
 * owns and disposes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { StepResult } from "./train_state.ts";
 * import { tensor, type Tensor } from "../mod.ts";
 * const r: StepResult<{ w: Tensor }, null> = {
 *   state: { params: { w: tensor([1]) }, optState: null, step: 1 },
 *   loss: tensor(0.5),
 * };
 * assert.equal(await r.loss.item(), 0.5);
 * ```
 */
export interface StepResult<P, S> {
  /** The state after the update. */
  state: TrainState<P, S>;
  /** The loss at the old parameters. */
  loss: Tensor;
}

/**
 * Makes a training step from a loss of the parameters and further arguments (batch, labels,
 * PRNG key …) and an optimizer: `step(state, ...args)` computes the loss and its gradient,
 * applies `optimizer.update`, frees the gradients, the old parameters and the old optimizer
 * state, and returns the new state and the loss. `args` are never disposed. Using a consumed
 * state again is a `TesseraError`. Results are those of the hand-written loop
 * `valueAndGrad` → `update` → `dispose`, bit for bit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createTrainState, trainStep } from "./train_state.ts";
 * import { sgd } from "./optim/mod.ts";
 * import { memoryStats, mul, sub, sum, tensor, type Tensor } from "../mod.ts";
 * const opt = sgd({ lr: 0.5 });
 * // minimise Σ (w − target)²
 * const step = trainStep((p: { w: Tensor }, target: Tensor) => {
 *   const d = sub(p.w, target);
 *   return sum(mul(d, d));
 * }, opt);
 * const target = tensor([1, -2]);
 * let state = createTrainState({ w: tensor([0, 0]) }, opt);
 * const before = memoryStats().cpu!.tensors;
 * for (let i = 0; i < 10; i++) {
 *   const out = step(state, target);
 *   state = out.state;
 *   out.loss.dispose();
 * }
 * assert.equal(memoryStats().cpu!.tensors, before); // nothing accumulates
 * assert.deepEqual(await state.params.w.toArray(), [1, -2]); // lr 0.5 lands on the minimum
 * assert.equal(state.step, 10);
 * ```
 */
export function trainStep<P, S, A extends unknown[]>(
  lossFn: (params: P, ...args: A) => Tensor,
  optimizer: Optimizer<S>,
): (state: TrainState<P, S>, ...args: A) => StepResult<P, S> {
  const vg = valueAndGrad<[P, ...A], Tensor, P>(lossFn);
  return (state, ...args) => stepWith("trainStep", vg, optimizer, state, args);
}

/**
 * {@link trainStep} for a loss that returns `[loss, aux]` (metrics, logits …): the step also
 * returns `aux` (not differentiated; its tensors are the caller's, like the loss).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createTrainState, trainStepWithAux } from "./train_state.ts";
 * import { sgd } from "./optim/mod.ts";
 * import { dispose, mean, mul, sub, tensor, type Tensor } from "../mod.ts";
 * const opt = sgd({ lr: 0.1 });
 * const step = trainStepWithAux((p: { w: Tensor }, x: Tensor) => {
 *   const err = sub(mul(p.w, x), 1);
 *   return [mean(mul(err, err)), { err }];
 * }, opt);
 * const x = tensor([1, 2]);
 * const { state, loss, aux } = step(createTrainState({ w: tensor([0]) }, opt), x);
 * assert.deepEqual(await aux.err.toArray(), [-1, -1]); // at the old parameters
 * assert.equal(await loss.item(), 1);
 * dispose([state.params, loss, aux, x]);
 * ```
 */
export function trainStepWithAux<P, S, A extends unknown[], X>(
  lossFn: (params: P, ...args: A) => [Tensor, X],
  optimizer: Optimizer<S>,
): (state: TrainState<P, S>, ...args: A) => StepResult<P, S> & { aux: X } {
  const vg = valueAndGrad<[P, ...A], [Tensor, X], P>(lossFn, { hasAux: true });
  return (state, ...args) => {
    const { loss: [loss, aux], ...rest } = stepWith("trainStepWithAux", vg, optimizer, state, args);
    return { ...rest, loss, aux };
  };
}

/** One step: value and gradient, update, then free the gradients and the replaced state. */
function stepWith<P, S, A extends unknown[], V>(
  op: string,
  vg: (params: P, ...args: A) => [V, P],
  optimizer: Optimizer<S>,
  state: TrainState<P, S>,
  args: A,
): { state: TrainState<P, S>; loss: V } {
  if (treeLeaves(state.params).some((t) => t.disposed)) {
    throw new TesseraError(
      op,
      `the state at step ${state.step} was already consumed by a step (or disposed); ` +
        "use the state that step returned",
    );
  }
  const out = scope(() => {
    const [loss, grads] = vg(state.params, ...args);
    const next = optimizer.update(grads, state.optState, state.params);
    return { loss, params: next.params, optState: next.state };
  });
  dispose([state.params, state.optState]);
  return {
    state: { params: out.params, optState: out.optState, step: state.step + 1 },
    loss: out.loss,
  };
}
