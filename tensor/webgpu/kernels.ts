/**
 * The webgpu kernel table: one entry per primitive, a mapped type over `Prim`, so a missing
 * kernel fails `deno check`. Implementations live in the neighbouring files by concern.
 * @module
 */
import type { Prim } from "../primitives.ts";
import { bitcastKernel, castKernel, ewKernel, type GpuKernel, whereKernel } from "./elementwise.ts";
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
  neg: ewKernel("neg"),
  abs: ewKernel("abs"),
  sign: ewKernel("sign"),
  exp: ewKernel("exp"),
  log: ewKernel("log"),
  log1p: ewKernel("log1p"),
  expm1: ewKernel("expm1"),
  sqrt: ewKernel("sqrt"),
  rsqrt: ewKernel("rsqrt"),
  reciprocal: ewKernel("reciprocal"),
  sin: ewKernel("sin"),
  cos: ewKernel("cos"),
  tanh: ewKernel("tanh"),
  erf: ewKernel("erf"),
  floor: ewKernel("floor"),
  ceil: ewKernel("ceil"),
  round: ewKernel("round"),
  logicalNot: ewKernel("logicalNot"),

  add: ewKernel("add"),
  sub: ewKernel("sub"),
  mul: ewKernel("mul"),
  div: ewKernel("div"),
  pow: ewKernel("pow"),
  maximum: ewKernel("maximum"),
  minimum: ewKernel("minimum"),

  equal: ewKernel("equal"),
  notEqual: ewKernel("notEqual"),
  less: ewKernel("less"),
  lessEqual: ewKernel("lessEqual"),
  greater: ewKernel("greater"),
  greaterEqual: ewKernel("greaterEqual"),

  logicalAnd: ewKernel("logicalAnd"),
  logicalOr: ewKernel("logicalOr"),
  logicalXor: ewKernel("logicalXor"),

  bitwiseAnd: ewKernel("bitwiseAnd"),
  bitwiseOr: ewKernel("bitwiseOr"),
  bitwiseXor: ewKernel("bitwiseXor"),
  shiftLeft: ewKernel("shiftLeft"),
  shiftRightLogical: ewKernel("shiftRightLogical"),

  sum: reduceKernel("sum"),
  max: reduceKernel("max"),
  min: reduceKernel("min"),
  argmax: argReduceKernel(true),
  argmin: argReduceKernel(false),
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
