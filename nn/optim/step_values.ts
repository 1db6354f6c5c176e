/**
 * Per-step optimizer scalars (learning rate, weight decay, bias corrections, EMA momentum) as a
 * JS number or a scalar tensor. With a number `count` the arithmetic is the historical JS
 * double arithmetic (bit-identical eager results); with a tensor `count` — what a `jit`ted
 * step passes so a new step does not trace a new program — the same IEEE operations run as
 * scalar tensor ops in float64 where the backend has it (the same bits on the CPU) and are
 * rounded to the parameter's dtype where they meet a parameter, as a lifted JS number is.
 * @module
 */
import {
  add,
  cast,
  clip,
  div,
  type DType,
  gather,
  mul,
  pow,
  reshape,
  sqrt,
  sub,
  type Tensor,
  tensor,
  TesseraError,
} from "../../tensor/mod.ts";
import type { Schedule } from "./types.ts";

/** A per-step scalar: a JS number or a rank-0 tensor. */
export type StepValue = number | Tensor;

type Op = (a: StepValue, b: StepValue) => StepValue;
const lift = (
  num: (a: number, b: number) => number,
  ten: (a: Tensor | number, b: Tensor | number) => Tensor,
): Op =>
(a, b) => typeof a === "number" && typeof b === "number" ? num(a, b) : ten(a, b);

/**
 * Arithmetic on step values: JS arithmetic on two numbers, scalar tensor ops otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sv } from "./step_values.ts";
 * import { tensor } from "../../mod.ts";
 * assert.equal(sv.sub(1, sv.pow(0.9, 2)), 1 - 0.9 ** 2);
 * const t = sv.sub(1, sv.pow(0.9, tensor(2, { dtype: "float64" }))) as ReturnType<typeof tensor>;
 * assert.equal(await t.item(), 1 - 0.9 ** 2); // the same double
 * ```
 */
export const sv = {
  /** a + b */
  add: lift((a, b) => a + b, add),
  /** a − b */
  sub: lift((a, b) => a - b, sub),
  /** a · b */
  mul: lift((a, b) => a * b, mul),
  /** a / b */
  div: lift((a, b) => a / b, div),
  /** a ** b */
  pow: lift((a, b) => a ** b, pow),
  /** √a */
  sqrt: (a: StepValue): StepValue => typeof a === "number" ? Math.sqrt(a) : sqrt(a),
  /** The value where it meets a tensor of `dtype`: numbers stay numbers (lifted later). */
  as: (a: StepValue, dtype: DType): StepValue => typeof a === "number" ? a : cast(a, dtype),
};

/**
 * The step counter's views for one update: `step` (the index of this update) in the wide
 * dtype, `next` (the new count, in the count's own dtype) and `at(v)`, a constant or schedule
 * at this step.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stepValues } from "./step_values.ts";
 * import { tensor } from "../../mod.ts";
 * assert.equal(stepValues(4, "sgd").at((s) => s * 2), 8);
 * const traced = stepValues(tensor(4, { dtype: "int32" }), "sgd");
 * assert.equal(await (traced.next as ReturnType<typeof tensor>).item(), 5);
 * ```
 */
export function stepValues(count: number | Tensor, op: string): {
  step: StepValue;
  next: number | Tensor;
  at: (v: number | Schedule) => StepValue;
} {
  if (typeof count === "number") {
    return { step: count, next: count + 1, at: (v) => typeof v === "function" ? v(count) : v };
  }
  if (count.ndim !== 0) {
    throw new TesseraError(op, `a tensor step count must be a scalar, got shape [${count.shape}]`);
  }
  const wide: DType = count.backend.supportsDtype("float64") ? "float64" : "float32";
  const step = cast(count, wide);
  const at = (v: number | Schedule): StepValue => {
    if (typeof v === "number") return v;
    if (!v.table) {
      throw new TesseraError(
        op,
        "this schedule has no tensor form, so it cannot follow a tensor step count: use " +
          "cosineSchedule (a table) or keep the count a JS number",
      );
    }
    const n = v.table.length;
    const table = tensor([...v.table], { dtype: wide, backend: count.backend.name });
    const idx = clip(cast(count, "int32"), 0, n - 1);
    return reshape(gather(table, reshape(idx, [1]), 0), []);
  };
  return { step, next: add(count, 1), at };
}
