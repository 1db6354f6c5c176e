/**
 * The CPU kernel table: one entry per primitive (a missing entry fails `deno check`); a
 * family primitive (`unary`, `binary`, `compare`, `reduce`, …) has one kernel that reads its
 * `op` parameter once per call and runs that op's specialised loop.
 * The implementations live in the neighbouring files, split by concern.
 * @module
 */
import type { Kernel } from "../backend.ts";
import type { Prim } from "../primitives.ts";
import { arithKernel, bitwiseKernel, compareKernel, logicalKernel, whereKernel } from "./binary.ts";
import { bitcastKernel, castKernel, randomBitsKernel } from "./convert.ts";
import { gatherKernel, scatterAddKernel } from "./indexing.ts";
import {
  broadcastToKernel,
  concatKernel,
  copyKernel,
  flipKernel,
  padKernel,
  permuteKernel,
  sliceKernel,
} from "./layout.ts";
import { matmulKernel } from "./matmul.ts";
import { argReduceKernel, cumsumKernel, reduceKernel } from "./reduce.ts";
import { argsortKernel } from "./sort.ts";
import { unaryKernel } from "./unary.ts";
import { visionCpuKernels } from "./vision_kernels.ts";

/** CPU kernel of every primitive. */
export const cpuKernels: { [P in Prim]: Kernel<P> } = {
  unary: unaryKernel,
  binary: arithKernel,
  compare: compareKernel,
  logical: logicalKernel,
  bitwise: bitwiseKernel,
  reduce: reduceKernel,
  argReduce: argReduceKernel,
  cumsum: cumsumKernel,

  where: whereKernel,
  matmul: matmulKernel,
  reshape: copyKernel<"reshape">(),
  permute: permuteKernel,
  broadcastTo: broadcastToKernel,
  slice: sliceKernel,
  flip: flipKernel,
  pad: padKernel,
  concat: concatKernel,
  gather: gatherKernel,
  scatterAdd: scatterAddKernel,
  cast: castKernel,
  bitcast: bitcastKernel,
  argsort: argsortKernel,
  randomBits: randomBitsKernel,
  stopGradient: copyKernel<"stopGradient">(),
  ...visionCpuKernels,
};
