/**
 * The webgpu kernel table: one entry per primitive, a mapped type over `Prim`, so a missing
 * kernel fails `deno check`; a family primitive (`unary`, `binary`, `compare`, …) has one
 * kernel that reads its `op` parameter. Implementations live in the neighbouring files by
 * concern.
 * @module
 */
import type { Prim } from "../primitives.ts";
import {
  bitcastKernel,
  castKernel,
  familyKernel,
  type GpuKernel,
  whereKernel,
} from "./elementwise.ts";
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
import { randomBitsKernel } from "./random.ts";
import { argReduceKernel, reduceKernel } from "./reduce.ts";
import { cumsumKernel } from "./scan.ts";
import { argsortKernel } from "./sort.ts";
import { visionWebgpuKernels } from "./vision_kernels.ts";

/** WebGPU kernel of every primitive. */
export const webgpuKernels: { [P in Prim]: GpuKernel<P> } = {
  unary: familyKernel,
  binary: familyKernel,
  compare: familyKernel,
  logical: familyKernel,
  bitwise: familyKernel,
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
  ...visionWebgpuKernels,
};
