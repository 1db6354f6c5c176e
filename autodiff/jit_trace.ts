/**
 * The jit interpreter: a trace level whose tracers carry only an aval (shape, dtype, backend)
 * and a slot number. Every primitive applied to them is appended to a flat list of equations,
 * its output aval given by the primitive's shape rule, so a function runs once per input
 * signature and yields a graph that `jit` replays (see jit.ts).
 * @module
 */
import type { Aval } from "../tensor/aval.ts";
import { TesseraError } from "../tensor/errors.ts";
import { pin } from "../tensor/memory.ts";
import { opName, type Prim, type PrimParams } from "../tensor/primitives.ts";
import { abstractEval } from "../tensor/shape_rules.ts";
import { liftedScalarKey } from "../tensor/ops/_util.ts";
import { checkNumel } from "../tensor/shape.ts";
import { Tensor, type Trace, type TracerState } from "../tensor/tensor.ts";

/** One primitive application of a traced graph: slots in, one slot out. */
export interface Equation {
  /** The primitive. */
  readonly prim: Prim;
  /** Its static parameters. */
  readonly params: PrimParams[Prim];
  /** Input slots. */
  readonly inputs: readonly number[];
  /** Output slot. */
  readonly out: number;
  /** The output's static aval (from the shape rule). */
  readonly aval: Aval;
}

class JitTracer implements TracerState {
  constructor(readonly trace: JitTrace, readonly slot: number, readonly abstract: string) {}
  get primal(): Tensor {
    throw new TesseraError(
      "jit",
      `a value traced by jit (${this.abstract}) has no concrete value during tracing`,
    );
  }
  children(): Tensor[] {
    return [];
  }
}

/**
 * Records primitives applied to its tracers. Slots `0 … nInputs-1` are the inputs; constants
 * (concrete tensors the function closes over or creates) get the next slots as they are met,
 * each held by a program-owned, pinned reference to its storage; equation outputs follow.
 */
export class JitTrace implements Trace {
  readonly kind = "jit" as const;
  /** The recorded equations, in execution order. */
  readonly equations: Equation[] = [];
  /** Constant slots and their program-owned tensors. */
  readonly constants = new Map<number, Tensor>();
  readonly #constSlot = new Map<Tensor, number>();
  /** Slots of scalars lifted from JS numbers, by value (one slot per dtype, backend, value). */
  readonly #byValue = new Map<string, number>();
  #next = 0;
  #active = true;
  /** @param level nesting level @param name the function's name, for messages */
  constructor(readonly level: number, readonly name: string) {}

  /** A tracer for the next input slot with the aval of `like`. */
  input(like: Tensor, where: string): Tensor {
    const slot = this.#next++;
    return new Tensor(
      like.shape,
      like.dtype,
      like.backend,
      null,
      new JitTracer(this, slot, `${where} of jit(${this.name})`),
    );
  }

  /** Stops recording: a tracer used afterwards has escaped its trace. */
  close(): void {
    this.#active = false;
  }

  /**
   * The slot of `t`: its tracer's, or a constant slot for a concrete tensor (new, or shared with
   * an earlier lifted scalar of the same value).
   */
  slotOf(t: Tensor, op: string): number {
    if (t.tracer?.trace === this) return (t.tracer as JitTracer).slot;
    if (t.tracer) {
      throw new TesseraError(
        op,
        `jit(${this.name}) uses a ${t.tracer.trace.kind} tracer of an enclosing transformation ` +
          `it does not receive as an argument; pass that value to the jitted function`,
      );
    }
    let slot = this.#constSlot.get(t);
    const key = slot === undefined ? liftedScalarKey(t) : undefined;
    if (key !== undefined) slot = this.#byValue.get(key);
    if (slot === undefined) {
      slot = this.#next++;
      this.#constSlot.set(t, slot);
      if (key !== undefined) this.#byValue.set(key, slot);
      // A new reference to the same storage, pinned so no scope frees it: the program owns it.
      const own = new Tensor(t.shape, t.dtype, t.backend, t.storage);
      pin([own]);
      this.constants.set(slot, own);
    }
    return slot;
  }

  process<P extends Prim>(prim: P, inputs: readonly Tensor[], params: PrimParams[P]): Tensor {
    const op = opName(prim, params);
    if (!this.#active) {
      throw new TesseraError(
        op,
        `a tracer of jit(${this.name}) escaped its trace (kept in a closure or a global?)`,
      );
    }
    const backend = inputs[0]!.backend;
    for (const t of inputs) {
      if (t.backend !== backend) {
        throw new TesseraError(
          op,
          `inputs live on different backends (${backend.name} and ${t.backend.name}); use toBackend()`,
        );
      }
    }
    const aval = abstractEval(prim, inputs, params);
    checkNumel(op, aval.shape, aval.dtype);
    const slots = inputs.map((t) => this.slotOf(t, op));
    const out = this.#next++;
    this.equations.push({ prim, params, inputs: slots, out, aval });
    return new Tensor(
      aval.shape,
      aval.dtype,
      backend,
      null,
      new JitTracer(this, out, `the output of ${op} in jit(${this.name})`),
    );
  }

  /** Number of slots allocated so far. */
  get slots(): number {
    return this.#next;
  }
}
