/**
 * Output placement of a `jit` program: the values a grouped kernel reads (an optimizer's
 * gradients, produced one by one through the backward pass) are written by their producers
 * into views of one buffer, so the group binds that buffer once instead of copying each value
 * into a packed input (WebGPU binds at most ~8–32 buffers per kernel). The plan is static; the
 * replay allocates each buffer at its first producer (`Backend.allocViews`) and offers each
 * producer its views (`Backend.allocInto`).
 * @module
 */
import type { Aval } from "../tensor/aval.ts";
import { itemSize } from "../tensor/dtype.ts";
import { sizeOf } from "../tensor/shape.ts";
import { type Step, VIEWS } from "./jit_schedule.ts";

/** One buffer of placed values: its slots in view order, their bytes, its first producer. */
export interface PlacedBuffer {
  readonly slots: readonly number[];
  readonly bytes: readonly number[];
  /** The step before which the buffer is allocated (the first that writes one of its views). */
  readonly firstStep: number;
}

/** The placement plan: buffers, and for each step the slots it writes into them, in order. */
export interface Placement {
  readonly buffers: readonly PlacedBuffer[];
  /** Step index → its output slots that are placed (in the step's output order). */
  readonly byStep: ReadonlyMap<number, readonly number[]>;
  /** Step index → the buffers allocated just before it. */
  readonly allocAt: ReadonlyMap<number, readonly PlacedBuffer[]>;
}

/** The largest buffer placed (WebGPU's guaranteed `maxStorageBufferBindingSize`, 128 MiB). */
const MAX_BUFFER = 2 ** 27;
/** Alignment assumed when sizing buffers against {@link MAX_BUFFER} (WebGPU's largest). */
const ALIGN = 256;

/**
 * Plans where the inputs of each `fusedGroup` step are written: every input produced by a
 * kernel step of the program (or a view of one; not a program input or a constant; 4-byte dtypes),
 * placed for the first group that reads it, in the group's read order, in buffers of at most
 * 128 MiB.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planPlacement } from "./jit_place.ts";
 * import type { Step } from "./jit_schedule.ts";
 * const a = { shape: [2], dtype: "float32" } as const;
 * const program = {
 *   dtype: "float32", size: 2, inputs: [{ div: 1, mod: 2 }], outputs: [0],
 *   nodes: [{ prim: "unary", op: "exp", args: [{ input: 0 }] }],
 * } as const;
 * const exp = (i: number, o: number): Step => ({
 *   kind: "eqn", eqn: { prim: "unary", params: { op: "exp" }, inputs: [i], out: o, aval: a },
 *   inputs: [i], outs: [o],
 * });
 * const group: Step = {
 *   kind: "fusedGroup", programs: [program, program], inputsOf: [[1], [2]], outsOf: [[3], [4]],
 *   inputs: [1, 2], outs: [3, 4], outAvals: [a, a], members: 2,
 * };
 * const plan = planPlacement([exp(0, 1), exp(0, 2), group], () => a);
 * assert.deepEqual(plan.buffers, [{ slots: [1, 2], bytes: [8, 8], firstStep: 0 }]);
 * assert.deepEqual([...plan.byStep], [[0, [1]], [1, [2]]]);
 * ```
 */
export function planPlacement(
  steps: readonly Step[],
  avalOf: (slot: number) => Aval,
): Placement {
  const producer = new Map<number, number>();
  /** A view's slot → the slot whose storage it shares. */
  const viewOf = new Map<number, number>();
  steps.forEach((st, i) => {
    if (st.kind === "eqn" && VIEWS.has(st.eqn.prim)) {
      viewOf.set(st.outs[0]!, st.inputs[0]!);
      return;
    }
    // A group writes its outputs into a buffer of its own already.
    if (st.kind === "fusedGroup") return;
    for (const o of st.outs) producer.set(o, i);
  });
  const placed = new Set<number>();
  const buffers: PlacedBuffer[] = [];
  const byStep = new Map<number, number[]>();
  const root = (s: number) => {
    while (viewOf.has(s)) s = viewOf.get(s)!;
    return s;
  };
  /** The slots (roots) step i reads. */
  const reads = (i: number) => steps[i]!.inputs.map(root);
  steps.forEach((st) => {
    if (st.kind !== "fusedGroup") return;
    // The k-th placed output of a producer goes to lane k: no kernel then writes two views of
    // one buffer, nor reads one (a reduction's second pass reading its first output) while it
    // writes another — WebGPU forbids a buffer read-only and writable in one dispatch.
    const lanes: { slots: number[]; bytes: number[]; total: number }[] = [];
    const perProducer = new Map<number, number>();
    const close = (k: number) => {
      const { slots, bytes } = lanes[k]!;
      if (slots.length > 1) {
        buffers.push({ slots, bytes, firstStep: Math.min(...slots.map((s) => producer.get(s)!)) });
        for (const s of slots) {
          const p = producer.get(s)!;
          byStep.set(p, [...(byStep.get(p) ?? []), s]);
        }
      }
      lanes[k] = { slots: [], bytes: [], total: 0 };
    };
    for (let s of st.inputs) {
      // A reshaped gradient (a bias's sum) shares its storage: place the value it views.
      s = root(s);
      const p = producer.get(s);
      if (placed.has(s) || p === undefined) continue;
      const a = avalOf(s);
      if (itemSize(a.dtype) !== 4) continue;
      const b = sizeOf(a.shape) * 4;
      if (b === 0 || b > MAX_BUFFER) continue;
      const k = perProducer.get(p) ?? 0;
      const lane = lanes[k] ??= { slots: [], bytes: [], total: 0 };
      // Nor may a kernel read the buffer it writes: a value computed from another of this
      // buffer's values (a slice of a placed gradient) stays where it is.
      if (reads(p).some((r) => lane.slots.includes(r))) continue;
      if (lane.slots.some((t) => reads(producer.get(t)!).includes(s))) continue;
      const padded = Math.ceil(b / ALIGN) * ALIGN;
      if (lane.total + padded > MAX_BUFFER) close(k);
      const l = lanes[k]!;
      placed.add(s);
      perProducer.set(p, k + 1);
      l.slots.push(s), l.bytes.push(b), l.total += padded;
    }
    lanes.forEach((_, k) => close(k));
  });
  // Each step offers its placed outputs in its own output order (the order it allocates them).
  for (const [i, slots] of byStep) {
    const order = steps[i]!.outs;
    slots.sort((x, y) => order.indexOf(x) - order.indexOf(y));
  }
  const allocAt = new Map<number, PlacedBuffer[]>();
  for (const b of buffers) allocAt.set(b.firstStep, [...(allocAt.get(b.firstStep) ?? []), b]);
  return { buffers, byStep, allocAt };
}
