/**
 * Replaying a compiled `jit` program (autodiff/jit.ts): its steps in order — an equation through
 * the eager kernels, a fused program through `Backend.fusedElementwise`, a matmul with its
 * epilogue through `Backend.matmulEpilogue` — freeing each intermediate after its last use, and
 * disposing what it made if a step throws.
 * @module
 */
import { evalEager } from "../tensor/dispatch.ts";
import { TesseraError } from "../tensor/errors.ts";
import { Tensor } from "../tensor/tensor.ts";
import type { Storage } from "../tensor/backend.ts";
import type { PrimParams } from "../tensor/primitives.ts";
import type { Step } from "./jit_schedule.ts";
import type { Placement } from "./jit_place.ts";

/** What replay needs of a compiled program: steps, frees, constants, how to rebuild its output. */
export interface ReplayProgram {
  readonly steps: readonly Step[];
  /** Slots to free right after step i (their last use). */
  readonly frees: readonly (readonly number[])[];
  readonly constants: ReadonlyMap<number, Tensor>;
  readonly nSlots: number;
  /** Output leaves: a slot, or a static value. */
  readonly outLeaves: readonly ({ slot: number } | { value: unknown })[];
  readonly rebuild: (leaves: unknown[]) => unknown;
  /** Where producers write the inputs of grouped kernels (backends with `allocInto`). */
  readonly placement?: Placement;
}

/** Runs one step on concrete tensors; returns its output tensors. */
function runStep(st: Step, env: readonly (Tensor | undefined)[]): Tensor[] {
  if (st.kind === "eqn") {
    return [evalEager(st.eqn.prim, st.inputs.map((s) => env[s]!), st.eqn.params)];
  }
  const ins = st.inputs.map((s) => env[s]!), backend = ins[0]!.backend;
  const wrap = (storages: Storage[]) =>
    storages.map((s, j) => {
      const a = st.outAvals[j]!;
      return new Tensor(a.shape, a.dtype, backend, s);
    });
  for (const t of ins) {
    if (t.backend !== backend) {
      throw new TesseraError(
        "jit",
        `a fused kernel's inputs live on different backends (${backend.name} and ${t.backend.name})`,
      );
    }
  }
  if (st.kind === "fusedGroup") {
    const storages = backend.fusedElementwiseGroup!(
      st.programs,
      st.inputsOf.map((slots) => slots.map((s) => env[s]!.storage)),
    );
    return wrap(storages.flat());
  }
  if (st.kind === "matmulView") {
    const { a, b, c } = st.views;
    const operand = (
      t: Tensor,
      v: typeof a,
    ) => (v ? { ...v, storage: t.storage, dtype: t.dtype } : t);
    return wrap([backend.matmulView!(
      operand(ins[0]!, a),
      operand(ins[1]!, b),
      st.eqn.params as PrimParams["matmul"],
      st.eqn.aval,
      { a, b, c },
    )]);
  }
  if (st.kind === "matmulFused") {
    const [a, b, ...others] = ins;
    const params = st.eqn.params as PrimParams["matmul"];
    return wrap(backend.matmulEpilogue!(
      a!,
      b!,
      params,
      st.eqn.aval,
      st.program,
      st.fromMatmul,
      others.map((t) => t.storage),
      st.storeProduct,
    ));
  }
  return wrap(backend.fusedElementwise!(st.program, ins.map((t) => t.storage)));
}

/**
 * Runs program `p` on `inputs` (its tensor arguments, in signature order); returns the output
 * pytree.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jit } from "./jit.ts";
 * import { exp, tensor } from "../tensor/mod.ts";
 * // jit(f)(x) replays the compiled program of f through this function.
 * const f = jit((x: ReturnType<typeof tensor>) => exp(x));
 * assert.deepEqual(await f(tensor([0])).toArray(), [1]);
 * f.dispose();
 * ```
 */
export function replay(p: ReplayProgram, inputs: readonly Tensor[]): unknown {
  const env = new Array<Tensor | undefined>(p.nSlots);
  inputs.forEach((t, i) => (env[i] = t));
  for (const [s, t] of p.constants) env[s] = t;
  const made: Tensor[] = [];
  const backend = inputs[0]?.backend ?? p.constants.values().next().value?.backend;
  const place = p.placement && backend?.allocViews && backend.allocInto ? p.placement : null;
  /** Views allocated for placed slots whose producer has not run yet. */
  const views = new Map<number, Storage>();
  const take = (s: number) => {
    const v = views.get(s)!;
    views.delete(s);
    return v;
  };
  try {
    p.steps.forEach((st, i) => {
      for (const b of place?.allocAt.get(i) ?? []) {
        const vs = backend!.allocViews!(b.bytes);
        b.slots.forEach((s, k) => views.set(s, vs[k]!));
      }
      const placed = place?.byStep.get(i);
      const outs = placed
        ? backend!.allocInto!(placed.map(take), () => runStep(st, env))
        : runStep(st, env);
      st.outs.forEach((o, j) => (env[o] = outs[j]!));
      made.push(...outs);
      for (const s of p.frees[i]!) env[s]!.dispose();
    });
  } catch (e) {
    for (const t of made) if (!t.disposed) t.dispose();
    for (const v of views.values()) backend!.free(v);
    throw e;
  }
  const leaves = p.outLeaves.map((l) => {
    if (!("slot" in l)) return l.value;
    const t = env[l.slot]!;
    // A constant output gets its own reference, so the caller may dispose it.
    return p.constants.has(l.slot) ? new Tensor(t.shape, t.dtype, t.backend, t.storage) : t;
  });
  return p.rebuild(leaves);
}
