/**
 * The two autodiff interpreters. Tracers are Tensors whose `tracer` field holds the state:
 * a JVP tracer carries a tangent, a VJP tracer points at the tape node that produced it.
 * Levels order nested transformations (the innermost has the highest level), so grad of
 * grad and jvp of grad work without perturbation confusion (JAX/Autodidax design).
 * @module
 */
import { bind } from "../tensor/dispatch.ts";
import { isFloat } from "../tensor/dtype.ts";
import {
  beginScope,
  collectConcrete,
  endScope,
  freeIfScopeTemporary as freeTemporary,
  pin,
  unpin,
} from "../tensor/memory.ts";
import type { Prim, PrimParams } from "../tensor/primitives.ts";
import { Tensor, type Trace, type TracerState } from "../tensor/tensor.ts";
import { add } from "../tensor/ops/elementwise.ts";
import type { JvpRule, VjpRule } from "./rule_kit.ts";
import { jvpRules } from "./rules_jvp.ts";
import { vjpNeeds, vjpRules } from "./rules_vjp.ts";

let depth = 0;

/** Internal: allocates the level for a new transformation; pair with `exitLevel`. */
export function enterLevel(): number {
  return ++depth;
}

/** Internal: ends the innermost transformation level. */
export function exitLevel(): void {
  depth--;
}

/** The value of `t` one level below `trace` (its primal if it is a tracer of `trace`). */
export function lower(t: Tensor, trace: Trace): Tensor {
  return t.tracer?.trace === trace ? t.tracer.primal : t;
}

// ---------------------------------------------------------------------------------- JVP

class JvpTracer implements TracerState {
  constructor(readonly trace: JvpTrace, readonly primal: Tensor, readonly tangent: Tensor | null) {}
  children(): Tensor[] {
    return this.tangent ? [this.primal, this.tangent] : [this.primal];
  }
}

/** Forward-mode interpreter. */
export class JvpTrace implements Trace {
  readonly kind = "jvp" as const;
  /** @param level nesting level */
  constructor(readonly level: number) {}

  /** Wraps a primal with its tangent as a tracer of this level. */
  wrap(primal: Tensor, tangent: Tensor | null): Tensor {
    return new Tensor(
      primal.shape,
      primal.dtype,
      primal.backend,
      null,
      new JvpTracer(this, primal, tangent),
    );
  }

  /** The tangent carried by `t` at this level (null = zero). */
  tangentOf(t: Tensor): Tensor | null {
    return t.tracer?.trace === this ? (t.tracer as JvpTracer).tangent : null;
  }

  process<P extends Prim>(prim: P, inputs: readonly Tensor[], params: PrimParams[P]): Tensor {
    const primals = inputs.map((t) => lower(t, this));
    const tangents = inputs.map((t) => this.tangentOf(t));
    const out = bind(prim, primals, params);
    if (!isFloat(out.dtype) || tangents.every((t) => t === null)) return out;
    const tOut = (jvpRules[prim] as JvpRule<P>)(primals, tangents, out, params);
    return tOut ? this.wrap(out, tOut) : out;
  }
}

// ---------------------------------------------------------------------------------- VJP

/** One recorded application: its outputs' tracers and how to pull cotangents back. */
interface Node {
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly pullback: (cts: readonly (Tensor | null)[]) => readonly (Tensor | null)[];
}

class VjpTracer implements TracerState {
  constructor(readonly trace: VjpTrace, readonly primal: Tensor, readonly node: Node | null) {}
  children(): Tensor[] {
    return [this.primal];
  }
}

/** Reverse-mode interpreter: records a tape of nodes, then walks it backwards. */
export class VjpTrace implements Trace {
  readonly kind = "vjp" as const;
  readonly #nodes: Node[] = [];
  readonly #pinned: Tensor[] = [];
  /** @param level nesting level */
  constructor(readonly level: number) {}

  /** Wraps a primal as an input (leaf) tracer of this level. */
  leaf(primal: Tensor): Tensor {
    return new Tensor(
      primal.shape,
      primal.dtype,
      primal.backend,
      null,
      new VjpTracer(this, primal, null),
    );
  }

  /** True when `t` is a tracer of this trace. */
  owns(t: Tensor): boolean {
    return t.tracer?.trace === this;
  }

  process<P extends Prim>(prim: P, inputs: readonly Tensor[], params: PrimParams[P]): Tensor {
    const primals = inputs.map((t) => lower(t, this));
    const out = bind(prim, primals, params);
    const active = inputs.some((t) => this.owns(t) && isFloat(t.dtype));
    if (!isFloat(out.dtype) || !active) return out;
    const rule = vjpRules[prim] as VjpRule<P>;
    const needs = vjpNeeds(prim, params);
    const keep = needs === "nothing"
      ? []
      : needs === "out"
      ? [out]
      : needs === "inputs"
      ? [primals]
      : [primals, out];
    return this.record(inputs, [out], ([g]) => rule(g!, primals, out, params), keep)[0]!;
  }

  /**
   * Records a node with several outputs (used by customVjp); `keep` lists what the pullback
   * needs so it survives enclosing scopes until the tape is released.
   */
  record(
    inputs: readonly Tensor[],
    outs: readonly Tensor[],
    pullback: (cts: readonly (Tensor | null)[]) => readonly (Tensor | null)[],
    keep: unknown,
  ): Tensor[] {
    const node: { inputs: readonly Tensor[]; outputs: Tensor[]; pullback: Node["pullback"] } = {
      inputs,
      outputs: [],
      pullback,
    };
    node.outputs = outs.map((o) =>
      isFloat(o.dtype)
        ? new Tensor(o.shape, o.dtype, o.backend, null, new VjpTracer(this, o, node))
        : o
    );
    const kept = [...collectConcrete<Tensor>(keep)];
    pin(kept);
    this.#pinned.push(...kept);
    this.#nodes.push(node);
    return node.outputs;
  }

  /**
   * Propagates cotangents from `outputs` back to `leaves`; returns each leaf's cotangent
   * (null when nothing flowed to it).
   */
  backward(
    outputs: readonly Tensor[],
    cts: readonly Tensor[],
    leaves: readonly Tensor[],
  ): (Tensor | null)[] {
    // Cotangents die as soon as their node has pulled back (or they were summed into
    // another): free those this pass created, so the peak holds the tape plus the live
    // frontier rather than every cotangent. `uses` counts the accumulator slots holding each
    // cotangent (pullbacks may pass one tensor to several inputs).
    const acc = new Map<Tensor, Tensor>();
    const uses = new Map<Tensor, number>();
    const hold = (g: Tensor) => uses.set(g, (uses.get(g) ?? 0) + 1);
    const release = (g: Tensor) => {
      const n = (uses.get(g) ?? 0) - 1;
      if (n > 0) uses.set(g, n);
      else {
        uses.delete(g);
        freeTemporary(g);
      }
    };
    const accumulate = (t: Tensor, g: Tensor | null): void => {
      if (!g || !this.owns(t)) return;
      const prev = acc.get(t);
      const next = prev ? add(prev, g) : g;
      acc.set(t, next);
      hold(next);
      if (prev) release(prev);
    };
    beginScope(); // marks what this pass creates: only those may be freed early
    try {
      outputs.forEach((o, i) => accumulate(o, cts[i]!));
      for (let i = this.#nodes.length - 1; i >= 0; i--) {
        const node = this.#nodes[i]!;
        const gs = node.outputs.map((o) => acc.get(o) ?? null);
        if (gs.every((g) => g === null)) continue;
        node.outputs.forEach((o) => acc.delete(o));
        // Temporaries of the rule itself die with this scope (a tape recording the backward
        // pass pins what it needs, and that moves outward instead).
        beginScope();
        let inGrads: readonly (Tensor | null)[] = [];
        try {
          inGrads = node.pullback(gs);
        } finally {
          endScope(inGrads);
        }
        node.inputs.forEach((t, j) => accumulate(t, inGrads[j] ?? null));
        for (const g of gs) if (g) release(g);
        for (const g of inGrads) if (g && !uses.has(g)) freeTemporary(g);
      }
    } finally {
      endScope(leaves.map((l) => acc.get(l) ?? null));
    }
    return leaves.map((l) => acc.get(l) ?? null);
  }

  /** Releases the tape so scopes may free what it kept. */
  release(): void {
    unpin(this.#pinned);
    this.#pinned.length = 0;
    this.#nodes.length = 0;
  }
}
