/**
 * Elementwise unary kernels. Inputs are contiguous and of the output's shape, so every op is
 * a single flat loop; float32 results are rounded by the Float32Array store.
 * @module
 */
import type { Kernel } from "../backend.ts";
import type { DType, TypedArray } from "../dtype.ts";
import { perOp, UNARY_OPS, type UnaryOp } from "../primitives.ts";
import { alloc, input, wrap } from "./iter.ts";
import { type Loop1, unaryLoop } from "./elementwise_loops.ts";

/** Integer variants (int32/uint32); results wrap like C (`|0`, then the typed-array store). */
const INT_LOOPS: Partial<Record<UnaryOp, Loop1>> = {
  neg: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = -x[i]! | 0;
  },
  abs: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.abs(x[i]!) | 0;
  },
  sign: (x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.sign(x[i]!);
  },
};

function logicalNotLoop(x: TypedArray, o: TypedArray, n: number): void {
  for (let i = 0; i < n; i++) o[i] = x[i]! ? 0 : 1;
}

/**
 * The kernel of one unary op: the loop generated for the output dtype
 * (./elementwise_loops.ts), the integer variant, or `logicalNot`'s. Which dtypes reach it is
 * decided by the shape rule: the transcendental/rounding ops see floats only, `logicalNot`
 * bool only, `neg`/`sign` no uint32.
 */
function unaryOpKernel(op: UnaryOp): Kernel<"unary"> {
  const intLoop = INT_LOOPS[op];
  const loops: Partial<Record<DType, Loop1>> = {};
  return (inputs, _params, out) => {
    const x = input(inputs, 0);
    const o = alloc(out);
    const isInt = out.dtype === "int32" || out.dtype === "uint32";
    const loop = op === "logicalNot"
      ? logicalNotLoop
      : isInt && intLoop
      ? intLoop
      : (loops[out.dtype] ??= unaryLoop(op, out.dtype));
    loop(x, o, o.length);
    return wrap(o);
  };
}

/** The kernel of each unary op, built once. */
const UNARY_KERNELS = perOp(UNARY_OPS, unaryOpKernel);

/** Kernel of the `unary` primitive: its `op` picks a specialised loop once per call. */
export const unaryKernel: Kernel<"unary"> = (inputs, params, out) =>
  UNARY_KERNELS[params.op](inputs, params, out);
