/**
 * The CPU kernel table: one entry per primitive (a missing entry fails `deno check`).
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
  neg: unaryKernel("neg"),
  abs: unaryKernel("abs"),
  sign: unaryKernel("sign"),
  exp: unaryKernel("exp"),
  log: unaryKernel("log"),
  log1p: unaryKernel("log1p"),
  expm1: unaryKernel("expm1"),
  sqrt: unaryKernel("sqrt"),
  rsqrt: unaryKernel("rsqrt"),
  reciprocal: unaryKernel("reciprocal"),
  sin: unaryKernel("sin"),
  cos: unaryKernel("cos"),
  tanh: unaryKernel("tanh"),
  erf: unaryKernel("erf"),
  floor: unaryKernel("floor"),
  ceil: unaryKernel("ceil"),
  round: unaryKernel("round"),
  logicalNot: unaryKernel("logicalNot"),

  add: arithKernel("add"),
  sub: arithKernel("sub"),
  mul: arithKernel("mul"),
  div: arithKernel("div"),
  pow: arithKernel("pow"),
  maximum: arithKernel("maximum"),
  minimum: arithKernel("minimum"),

  equal: compareKernel("equal"),
  notEqual: compareKernel("notEqual"),
  less: compareKernel("less"),
  lessEqual: compareKernel("lessEqual"),
  greater: compareKernel("greater"),
  greaterEqual: compareKernel("greaterEqual"),

  logicalAnd: logicalKernel("logicalAnd"),
  logicalOr: logicalKernel("logicalOr"),
  logicalXor: logicalKernel("logicalXor"),

  bitwiseAnd: bitwiseKernel("bitwiseAnd"),
  bitwiseOr: bitwiseKernel("bitwiseOr"),
  bitwiseXor: bitwiseKernel("bitwiseXor"),
  shiftLeft: bitwiseKernel("shiftLeft"),
  shiftRightLogical: bitwiseKernel("shiftRightLogical"),

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
  ...visionCpuKernels,
};
