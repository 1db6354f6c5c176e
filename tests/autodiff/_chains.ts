/**
 * Random elementwise chains for the fusion properties (tests/autodiff/jit_fuse_test.ts on the
 * CPU, tests/webgpu/fused_program_test.ts on the device): a list of ops over a growing pool of
 * values, run as one function of its inputs.
 * @module
 */
import type { Tensor } from "../../mod.ts";
import { bind } from "../../tensor/dispatch.ts";
import type { BinaryOp, UnaryOp } from "../../tensor/primitives.ts";

/** One step of a chain: each reads pool values by index (mod the pool's size). */
export type Op =
  | { kind: "unary"; op: UnaryOp; a: number }
  | { kind: "binary"; op: BinaryOp; a: number; b: number }
  | { kind: "external"; op: BinaryOp; a: number; shape: number; swap?: boolean }
  | { kind: "reduce"; op: "sum" | "max" | "min"; axes: number; a: number }
  | { kind: "broadcast"; a: number };

/**
 * The chain as a function of x (of shape `out`), a row statistic r and the external operands
 * (`ext[i]` for op i); `axes[k]` are the axes of a reduce op's `axes: k`. It returns the last
 * value and the pool values picked by `outputs`.
 */
export function chain(
  ops: readonly Op[],
  outputs: readonly number[],
  axes: readonly (readonly number[])[],
  out: readonly number[],
): (x: Tensor, r: Tensor, ext: Tensor[]) => Tensor[] {
  return (x, r, ext) => {
    const pool: Tensor[] = [x, r];
    const pick = (k: number) => pool[k % pool.length]!;
    ops.forEach((o, i) => {
      if (o.kind === "unary") pool.push(bind("unary", [pick(o.a)], { op: o.op }));
      else if (o.kind === "binary") pool.push(bind("binary", [pick(o.a), pick(o.b)], { op: o.op }));
      else if (o.kind === "reduce") {
        const v = pick(o.a), ax = axes[o.axes]!.filter((d) => d < v.shape.length);
        pool.push(bind("reduce", [v], { op: o.op, axes: ax }));
      } else if (o.kind === "broadcast") {
        pool.push(bind("broadcastTo", [pick(o.a)], { shape: out }));
      } else {
        const e = ext[i]!;
        pool.push(bind("binary", o.swap ? [e, pick(o.a)] : [pick(o.a), e], { op: o.op }));
      }
    });
    return [pool.at(-1)!, ...outputs.map((k) => pick(k + 2))];
  };
}
