/**
 * `jit`: trace a pure function of pytrees once per input signature into a flat graph of
 * primitive equations, plan its buffers, and replay it. Because `grad`'s pullbacks are written
 * in primitives, `jit(step)` with step = `valueAndGrad` + optimizer update records forward,
 * backward and update as one graph (checkpoint/customVjp record their recompute).
 *
 * Trace → fuse → plan → replay:
 *
 * ```text
 *  args ──flatten──► signature ──cache miss──► trace (JitTrace level: eqns + avals)
 *                        │                        │ dead-code elimination
 *                        │                        ▼
 *                        │                     fuse: float unary/binary chains of one shape
 *                        │                        │ → one ElementwiseProgram step (jit_fuse.ts)
 *                        │ hit                    ▼
 *                        │                     plan: last use of every slot → free list
 *                        ▼                        │
 *                     replay: step by step on the backend (eager kernels, fused loops),
 *                     freeing each intermediate right after its last use ──► outputs
 * ```
 * @module
 */
import { TesseraError } from "../tensor/errors.ts";
import { unpin } from "../tensor/memory.ts";
import { Tensor } from "../tensor/tensor.ts";
import { enterLevel, exitLevel } from "./trace.ts";
import { type Equation, JitTrace } from "./jit_trace.ts";
import { fuseMatmulEpilogues } from "./jit_epilogue.ts";
import { fuseElementwise, type Step, unfused } from "./jit_fuse.ts";
import { groupFused } from "./jit_group.ts";
import { planPlacement } from "./jit_place.ts";
import { tilePads } from "./jit_tiles.ts";
import { foldViews } from "./jit_views.ts";
import { peakBytes, planFrees, VIEWS } from "./jit_plan.ts";
import { replay, type ReplayProgram } from "./jit_replay.ts";
import type { Aval } from "../tensor/aval.ts";
import type { Backend } from "../tensor/backend.ts";
import { flattenAll } from "./tree.ts";

/** What `jitStats` reports about a jitted function (the latest program it ran). */
export interface JitStats {
  /** Programs traced so far (one per distinct input signature). */
  compiles: number;
  /** Programs in the cache now. */
  programs: number;
  /** Equations of the latest program (after dead-code elimination). */
  equations: number;
  /** Kernel dispatches per replay of it (steps that are not storage-sharing views). */
  dispatches: number;
  /** Fused kernels among those steps (elementwise programs, matmul epilogues). */
  fusedKernels: number;
  /** The equations those fused kernels replace. */
  fusedEquations: number;
  /** Equations the trace recorded before dead-code elimination. */
  traced: number;
  /** Constants the program owns. */
  constants: number;
  /** Peak bytes of intermediates alive at once under the buffer plan. */
  peakBytes: number;
  /** Dispatches per replay by kind: a primitive's name, or `fused` for fused kernels. */
  dispatchesByKind: Readonly<Record<string, number>>;
}

/**
 * Options of {@link jit}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jit, jitStats } from "./jit.ts";
 * import { exp, mul, tensor, type Tensor } from "../tensor/mod.ts";
 * const f = (x: Tensor) => exp(mul(x, 2));
 * const fused = jit(f), plain = jit(f, { fuse: false });
 * assert.deepEqual(await fused(tensor([1])).toArray(), await plain(tensor([1])).toArray());
 * assert.deepEqual([jitStats(fused).dispatches, jitStats(plain).dispatches], [1, 2]);
 * fused.dispose();
 * plain.dispose();
 * ```
 */
export interface JitOptions {
  /**
   * Fuse chains of float elementwise equations into one kernel where the backend has
   * `fusedElementwise` (default true; bit-identical to eager on the CPU).
   */
  fuse?: boolean;
}

/** A compiled program: steps (equations or fused groups) with a free list after each. */
/** A compiled program and its statistics. */
interface Program extends ReplayProgram {
  readonly stats: Omit<JitStats, "compiles" | "programs">;
}

interface JitState {
  readonly cache: Map<string, Program>;
  compiles: number;
  last: Program | null;
}

const states = new WeakMap<object, JitState>();

/** A jitted function: the same signature as `f`, plus `dispose()` for its cached programs. */
export type Jitted<A extends unknown[], R> = ((...args: A) => R) & {
  /** Frees the constants of every cached program and empties the cache. */
  dispose(): void;
  /**
   * Compiles (or finds in the cache) the program for these arguments without running it and
   * returns its {@link jitStats}: tracing runs no kernel, so a full-size step is cheap to count.
   */
  lower(...args: A): JitStats;
};

/**
 * Compiles `f` (a pure, synchronous function of pytrees of tensors) on first call for each input
 * signature and replays the compiled program afterwards. The signature (the cache key) is the
 * pytree structure, every tensor leaf's shape, dtype and backend, and the value of every
 * non-tensor leaf: JS numbers, booleans, strings, null/undefined are **static** — a new value
 * traces a new program; pass a per-step value (learning rate, step) as a scalar tensor to have
 * it traced. JS side effects of `f` run at trace time only; reading a traced value
 * (`toArray`, `item`, `data`, `dataSync`) inside `f` throws. Under an enclosing `grad`/`jvp`
 * (tracer arguments) the jitted function simply runs `f`. On the CPU a replay is bit-identical
 * to calling `f` eagerly: it runs the same kernels in the same order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jit, jitStats } from "./jit.ts";
 * import { add, mul, tensor, type Tensor } from "../tensor/mod.ts";
 * const f = jit((x: Tensor, y: Tensor) => add(mul(x, y), 1));
 * assert.deepEqual(await f(tensor([2, 3]), tensor([4, 5])).toArray(), [9, 16]);
 * assert.deepEqual(await f(tensor([1, 1]), tensor([1, 2])).toArray(), [2, 3]); // replayed
 * assert.equal(jitStats(f).compiles, 1);
 * assert.equal(jitStats(f).equations, 2);
 * assert.equal(f.lower(tensor([1, 2, 3]), tensor([1, 2, 3])).compiles, 2); // traced, not run
 * f.dispose();
 * ```
 */
export function jit<A extends unknown[], R>(
  f: (...args: A) => R,
  options: JitOptions = {},
): Jitted<A, R> {
  if (typeof f !== "function") throw new TesseraError("jit", "expected a function");
  const state: JitState = { cache: new Map(), compiles: 0, last: null };
  const name = f.name || "f";
  const programFor = (args: A, tensors: Tensor[]): Program => {
    const key = signature(args, tensors);
    let program = state.cache.get(key);
    if (!program) {
      program = compile(f, name, flattenAll(args), options.fuse ?? true);
      state.cache.set(key, program);
      state.compiles++;
    }
    return state.last = program;
  };
  const jitted = ((...args: A): R => {
    const tensors: Tensor[] = [];
    signature(args, tensors);
    if (tensors.some((t) => t.tracer)) return f(...args); // under an outer transformation
    const program = programFor(args, tensors);
    // One batch per replay: on WebGPU the whole step is one submission.
    const backend = tensors[0]?.backend;
    const run = () => replay(program, tensors) as R;
    return backend?.batch ? backend.batch(run, program) : run();
  }) as Jitted<A, R>;
  jitted.lower = (...args: A): JitStats => {
    const tensors: Tensor[] = [];
    signature(args, tensors);
    if (tensors.some((t) => t.tracer)) {
      throw new TesseraError("jit", `lower(): jit(${name}) got tracers of an outer transformation`);
    }
    programFor(args, []);
    return jitStats(jitted);
  };
  jitted.dispose = () => {
    for (const p of state.cache.values()) {
      const owned = [...p.constants.values()];
      unpin(owned);
      for (const t of owned) t.dispose();
    }
    state.cache.clear();
    state.last = null;
  };
  states.set(jitted, state);
  return jitted;
}

/**
 * Statistics of a function made by `jit`: compile count and, for the program it ran last, its
 * equation count, dispatches per replay and planned peak bytes (a dispatch ratchet reads these).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jit, jitStats } from "./jit.ts";
 * import { exp, reshape, tensor, type Tensor } from "../tensor/mod.ts";
 * const f = jit((x: Tensor) => reshape(exp(x), [2, 1]));
 * f(tensor([0, 1]));
 * f(tensor([2, 3]));
 * const s = jitStats(f);
 * assert.equal(s.equations, 2); // exp, reshape
 * assert.equal(s.dispatches, 1); // reshape is a view
 * f.dispose();
 * ```
 */
export function jitStats(fn: object): JitStats {
  const state = states.get(fn);
  if (!state) throw new TesseraError("jitStats", "expected a function returned by jit()");
  const base = { compiles: state.compiles, programs: state.cache.size };
  const last = state.last?.stats ??
    {
      equations: 0,
      dispatches: 0,
      fusedKernels: 0,
      fusedEquations: 0,
      traced: 0,
      constants: 0,
      peakBytes: 0,
      dispatchesByKind: {},
    };
  return { ...base, ...last };
}

/** The cache key; collects the tensor leaves in order. */
function signature(x: unknown, tensors: Tensor[]): string {
  if (x instanceof Tensor) {
    if (x.disposed) {
      throw new TesseraError("jit", `argument tensor [${x.shape}] ${x.dtype} was disposed`);
    }
    tensors.push(x);
    return `T${x.dtype}@${x.backend.name}[${x.shape}]`;
  }
  if (Array.isArray(x)) return `[${x.map((v) => signature(v, tensors)).join(",")}]`;
  if (x === null || x === undefined) return String(x);
  switch (typeof x) {
    case "number":
      return Object.is(x, -0) ? "n-0" : `n${x}`;
    case "boolean":
      return `b${x}`;
    case "string":
      return `s${JSON.stringify(x)}`;
    case "object":
      if (Object.getPrototypeOf(x) === Object.prototype) {
        const parts = Object.entries(x).map(([k, v]) =>
          `${JSON.stringify(k)}:${signature(v, tensors)}`
        );
        return `{${parts.join(",")}}`;
      }
  }
  throw new TesseraError(
    "jit",
    `unsupported argument leaf ${typeof x === "object" ? x.constructor?.name : typeof x}: ` +
      `arguments are pytrees of tensors, numbers, booleans, strings, null and undefined`,
  );
}

function compile(
  f: (...args: never[]) => unknown,
  name: string,
  flat: { leaves: unknown[]; rebuild: (leaves: unknown[]) => unknown },
  fuse: boolean,
): Program {
  const trace = new JitTrace(enterLevel(), name);
  let out: unknown;
  try {
    let k = 0;
    const traced = flat.leaves.map((l) => l instanceof Tensor ? trace.input(l, `input ${k++}`) : l);
    out = f(...(flat.rebuild(traced) as never[]));
  } catch (e) {
    releaseConstants(trace);
    throw e;
  } finally {
    exitLevel();
    trace.close();
  }
  if (out instanceof Promise) {
    releaseConstants(trace);
    throw new TesseraError("jit", `jit(${name}): the function must be synchronous`);
  }
  const outFlat = flattenAll(out);
  const outSlots: number[] = [];
  const outLeaves = outFlat.leaves.map((l) => {
    if (!(l instanceof Tensor)) return { value: l };
    const slot = trace.slotOf(l, "jit");
    outSlots.push(slot);
    return { slot };
  });
  const backend = programBackend(flat.leaves, trace.constants);
  const rewritten = fuse && backend?.jitRewrites
    ? tilePads(trace.equations, outSlots)
    : trace.equations;
  const equations = eliminateDead(rewritten, outSlots);
  const avals = new Map<number, Aval>();
  flat.leaves.filter((l) => l instanceof Tensor).forEach((t, i) => avals.set(i, t as Tensor));
  for (const [slot, t] of trace.constants) avals.set(slot, t);
  for (const e of equations) avals.set(e.out, e.aval);
  let steps = fuse && backend?.fusedElementwise && backend.canFuseElementwise
    ? fuseElementwise(equations, (s) => avals.get(s)!, outSlots, backend.canFuseElementwise)
    : unfused(equations);
  if (fuse && backend?.matmulEpilogue && backend.canMatmulEpilogue) {
    const can = backend.canMatmulEpilogue.bind(backend);
    steps = fuseMatmulEpilogues(steps, outSlots, can);
  }
  if (fuse && backend?.matmulView) steps = foldViews(steps, (s) => avals.get(s)!, outSlots);
  if (fuse && backend?.fusedElementwiseGroup && backend.canGroupElementwise) {
    steps = groupFused(steps, backend.canGroupElementwise.bind(backend));
  }
  const frees = planFrees(steps, trace.constants, outSlots, trace.slots);
  const placement = fuse && backend?.allocViews && backend.allocInto
    ? planPlacement(steps, (s) => avals.get(s)!)
    : undefined;
  const fusedSteps = steps.filter((s) => s.kind !== "eqn");
  return {
    steps,
    frees,
    constants: trace.constants,
    nSlots: trace.slots,
    outLeaves,
    rebuild: outFlat.rebuild,
    placement,
    stats: {
      equations: equations.length,
      dispatches: Object.values(byKind(steps, backend)).reduce((a, b) => a + b, 0),
      fusedKernels: fusedSteps.length,
      fusedEquations: fusedSteps.reduce((a, s) => a + s.members, 0),
      traced: trace.equations.length,
      constants: trace.constants.size,
      peakBytes: peakBytes(steps, frees, avals),
      dispatchesByKind: byKind(steps, backend),
    },
  };
}

/** Dispatches per step kind (views are free; a fused step counts what the backend records). */
function byKind(steps: readonly Step[], backend: Backend | undefined): Record<string, number> {
  const n: Record<string, number> = {};
  for (const s of steps) {
    const k = s.kind === "eqn" ? s.eqn.prim : s.kind;
    if (s.kind === "eqn" && VIEWS.has(k)) continue;
    const d = s.kind === "fused" ? backend?.fusedDispatches?.(s.program) ?? 1 : 1;
    n[k] = (n[k] ?? 0) + d;
  }
  return n;
}

/** The backend of a program's tensors (the first argument's, else the first constant's). */
function programBackend(leaves: readonly unknown[], constants: ReadonlyMap<number, Tensor>) {
  const first = leaves.find((l) => l instanceof Tensor) as Tensor | undefined;
  return (first ?? constants.values().next().value)?.backend as Backend | undefined;
}

function releaseConstants(trace: JitTrace): void {
  const owned = [...trace.constants.values()];
  unpin(owned);
  for (const t of owned) t.dispose();
}

/** Drops equations whose outputs no output depends on (every primitive is pure). */
function eliminateDead(eqns: readonly Equation[], outSlots: readonly number[]): Equation[] {
  const needed = new Set(outSlots);
  const kept: Equation[] = [];
  for (let i = eqns.length - 1; i >= 0; i--) {
    const e = eqns[i]!;
    if (!needed.has(e.out)) continue;
    kept.push(e);
    for (const s of e.inputs) needed.add(s);
  }
  return kept.reverse();
}
